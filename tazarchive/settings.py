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
DOWNLOAD_TIMEOUT = 30  # taz pages come in well under a second; a dead host fails sooner
# A page yields one article or a few dozen requests; Scrapy starts 1 + this
# many asyncio tasks for every response, even one whose callback yields
# nothing, so its default of 100 cost more than a fast crawl's fetching
# (bench/crawl.py: the bare crawl about halved its time with 4).
CONCURRENT_ITEMS = 4

# --- components ------------------------------------------------------------
# (spiders / issue 4)
DOWNLOADER_MIDDLEWARES: dict[str, int | None] = {
    # Retries that pause the site's slot (Retry-After, backoff) replace Scrapy's.
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "tazarchive.middlewares.RetryAfterMiddleware": 550,
    # Below retries: a connection failure counts only once retries gave up.
    "tazarchive.middlewares.SiteFailureMiddleware": 540,
    # Before Scrapy's OffsiteMiddleware (50) and RobotsTxtMiddleware (100): an
    # off-site request, redirect target included, is dropped before robots.txt
    # of its host is fetched.
    "tazarchive.middlewares.SiteBoundaryMiddleware": 40,
    # Scrapy's decompression, counting a body it cannot decompress as lost (no traceback).
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "tazarchive.middlewares.DecompressionGuardMiddleware": 590,
    # Between RedirectMiddleware (600) and Cookies (700): sees a 3xx before it is followed.
    "tazarchive.middlewares.RedirectGuardMiddleware": 650,
    # After RobotsTxtMiddleware (100), so robots.txt is parsed when it runs.
    "tazarchive.middlewares.CrawlDelayMiddleware": 110,
}

# (archive / issue 5)
ITEM_PIPELINES: dict[str, int] = {
    "tazarchive.pipelines.NormalisePipeline": 100,
    "tazarchive.pipelines.ValidatePipeline": 200,
    # Archive.store: dedup, dump, the archive's JSONL line, ledger (in that order).
    "tazarchive.pipelines.StorePipeline": 300,
}
SPIDER_MIDDLEWARES: dict[str, int] = {
    # Late (near the spider's side), so every request the spider yields passes it.
    "tazarchive.archive.crawl.KnownArticlesMiddleware": 950,
    # Nearest the spider: a PageRejected from a callback is recorded before
    # any other middleware sees it as an error.
    "tazarchive.archive.rejects.RejectedPagesMiddleware": 990,
}
EXTENSIONS: dict[str, int | None] = {
    # First of all: a second run on a busy archive stops before anything opens a file.
    "tazarchive.extensions.ArchiveLock": -1000,
    # One progress line: ours replaces Scrapy's LogStats.
    "scrapy.extensions.logstats.LogStats": None,
    "tazarchive.extensions.Progress": 500,
    "tazarchive.extensions.ItemErrors": 500,
    "tazarchive.extensions.RunReport": 1000,
}
FEED_EXPORTERS: dict[str, str] = {
    "jsonl": "tazarchive.exporters.ArticleJsonLinesExporter",
    "jsonlines": "tazarchive.exporters.ArticleJsonLinesExporter",
    "jl": "tazarchive.exporters.ArticleJsonLinesExporter",
    "tazdump": "tazarchive.exporters.TazDumpExporter",
    "csv": "tazarchive.exporters.ArticleCsvExporter",
}
# Unbuffered local files: a killed run never leaves half a JSON line.
FEED_STORAGES: dict[str, str] = {
    "": "tazarchive.exporters.LineSafeFileFeedStorage",
    "file": "tazarchive.exporters.LineSafeFileFeedStorage",
}
# The archive's own JSONL (<TAZARCHIVE_OUTPUT_DIR>/jsonl/<spider>-<time>.jsonl)
# is written by Archive.store, line by line before the ledger records the
# article, not by a feed: -o/-O feeds are the user's, beside it.
FEEDS: dict[str, dict[str, object]] = {}

# (WARC / issue 6)
# Nearest the downloader (after HttpCompression 590, Cookies 700, HttpCache 900):
# it sees the body still content-encoded and the request headers as sent.
DOWNLOADER_MIDDLEWARES["tazarchive.warc.WarcCaptureMiddleware"] = 950

FEED_EXPORT_ENCODING = "utf-8"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
LOG_LEVEL = "INFO"
# A scraped article is logged as one line (its id and URL), and not at all above DEBUG.
LOG_FORMATTER = "tazarchive.logformatter.ArchiveLogFormatter"
# Unattended runs open no listening ports (telnet console, remote control).
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

# --- tazarchive settings: every default in one place -----------------------
# Site
TAZARCHIVE_BASE_URL = "https://taz.de"  # the site every spider crawls; taz.de links map onto it

# Politeness (issue 4): pauses of a site's download slot before a retry
TAZARCHIVE_RETRY_AFTER_MAX = 600.0  # seconds; longer Retry-After values are capped
TAZARCHIVE_RETRY_BACKOFF = 1.0  # seconds before the first retry without Retry-After, doubling
TAZARCHIVE_RETRY_BACKOFF_MAX = 60.0  # seconds

# Dump renderings (issue 2)
TAZARCHIVE_DUMP_FORMAT = "seed"  # dump files and tazdump feed: seed, text, gophermap
TAZARCHIVE_GOPHER_HOST = "taz.de"  # host field of gophermap rows
TAZARCHIVE_GOPHER_PORT = 70  # port field of gophermap rows
TAZARCHIVE_GOPHER_SELECTOR_PREFIX = ""  # put before every taz selector in gophermaps

# Archive (issue 5)
TAZARCHIVE_OUTPUT_DIR = "output"  # the archive folder: dumps, JSONL, WARC, ledger, reports, lock
TAZARCHIVE_LOCK_ENABLED = True  # one run per archive: <output>/.lock
TAZARCHIVE_PROGRESS_INTERVAL = 10.0  # seconds between progress lines; 0: none
TAZARCHIVE_RUN_REPORT_ENABLED = True  # <output>/runs/<spider>-<start>.json
TAZARCHIVE_SPIDER_ARGS: dict[str, str] = {}  # set by `scrapy crawl` from -a, for the report
TAZARCHIVE_LEDGER_ENABLED = True  # off: no dedup, no known-article skipping
TAZARCHIVE_LEDGER_PATH = ""  # empty: <TAZARCHIVE_OUTPUT_DIR>/ledger.sqlite3
TAZARCHIVE_STORE_DUMPS = True  # off: no dump files (JSONL/WARC only)
TAZARCHIVE_REJECTS_PATH = ""  # empty: <TAZARCHIVE_OUTPUT_DIR>/rejects.jsonl
TAZARCHIVE_ALLOW_OTHER_SITE = False  # write into an archive made for another base URL

# WARC (issue 6)
TAZARCHIVE_WARC_ENABLED = True  # every response (+ its request) to WARC
TAZARCHIVE_WARC_DIR = ""  # empty: <TAZARCHIVE_OUTPUT_DIR>/warc
TAZARCHIVE_WARC_MAX_SIZE = 1_000_000_000  # bytes per .warc.gz before the next file starts
TAZARCHIVE_WARC_LISTINGS = True  # off: article pages only (no listings, robots.txt, feeds)

# Gopher (issue 14): taz's gopher service, the gopher spider, verify, serve-gopher
DOWNLOAD_HANDLERS: dict[str, str | None] = {
    "gopher": "tazarchive.gopher.handler.GopherDownloadHandler"
}
TAZARCHIVE_GOPHER_URL = (
    "gopher://taz.de/1/"  # the gopher spider's and verify's start; articles at /!<id>
)
TAZARCHIVE_GOPHER_MAXSIZE = (
    4_000_000  # bytes per gopher answer (0: DOWNLOAD_MAXSIZE); articles are ~20 KB
)
TAZARCHIVE_GOPHER_LASTLINE = True  # a menu must end with its "." line, else it is data loss
TAZARCHIVE_GOPHER_SERVE_PORT = 7070  # scrapy serve-gopher: port on 127.0.0.1 (--port overrides)
TAZARCHIVE_VERIFY_SAMPLE = 20  # scrapy verify without ids: this many archived articles at random
TAZARCHIVE_VERIFY_MIN_LINES = 0.99  # scrapy verify exits 1 when fewer lines than this ratio agree

# Reparse (issue 13.5)
TAZARCHIVE_REPARSE_WORKERS = 0  # extraction processes of `scrapy reparse`; 0: one per core
TAZARCHIVE_REPARSE_BATCH = 64  # `scrapy reparse`: articles written durably, then recorded, at once

# Run verdict (issue 10): see docs/verdicts.md
TAZARCHIVE_MAX_LOST_RATIO = 0.01  # pages lost after retries, of all pages: above it, fail
TAZARCHIVE_MAX_REJECTED_RATIO = 0.01  # article pages rejected (garbled, cut, …): above it, fail
TAZARCHIVE_MAX_UNKNOWN_DESIGN_RATIO = 0.02  # article pages of no known design: above it, fail
TAZARCHIVE_MAX_BODY_MISMATCH_RATIO = 0.02  # article pages losing JSON-LD body text: above it, fail
TAZARCHIVE_REFUSAL_STREAK = 10  # final 403/429/5xx responses in a row that stop the run; 0: never
