"""Scrapy settings for tazarchive.

Scrapy's own settings first, then every ``TAZARCHIVE_*`` setting with its
default, in one place at the end. README.md documents each of them.
Override per run with ``-s NAME=VALUE``.
"""

BOT_NAME = "tazarchive"
SPIDER_MODULES = ["tazarchive.spiders"]
NEWSPIDER_MODULE = "tazarchive.spiders"
COMMANDS_MODULE = "tazarchive.commands"

# --- politeness towards the real site (tests against the replica override) --
USER_AGENT = "tazarchive/0.1 (archive crawler for taz.de; Scrapy)"
ROBOTSTXT_OBEY = True
DOWNLOAD_DELAY = 1.0
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]

# --- components ------------------------------------------------------------
# (spiders / issue 4)
DOWNLOADER_MIDDLEWARES: dict[str, int] = {}

# (archive / issue 5)
ITEM_PIPELINES: dict[str, int] = {}
EXTENSIONS: dict[str, int] = {}
FEED_EXPORTERS: dict[str, str] = {}
FEEDS: dict[str, dict[str, object]] = {}

# (WARC / issue 6)

FEED_EXPORT_ENCODING = "utf-8"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
LOG_LEVEL = "INFO"

# --- tazarchive settings: every default in one place -----------------------
# Site
TAZARCHIVE_BASE_URL = "https://taz.de"

# Dump renderings (issue 2)
TAZARCHIVE_DUMP_FORMAT = "seed"  # seed | text | gophermap
TAZARCHIVE_GOPHER_HOST = "taz.de"
TAZARCHIVE_GOPHER_PORT = 70
TAZARCHIVE_GOPHER_SELECTOR_PREFIX = ""

# Archive (issue 5)
TAZARCHIVE_OUTPUT_DIR = "output"

# WARC (issue 6)
