"""``scrapy reparse PATH...``: archived article pages through today's extraction.

Reads the response records of WARC files (or of every WARC file below a
folder), runs each archived article page through
:func:`tazarchive.extract.extract_article` (``fetched`` = the record's
WARC-Date) and yields the articles into a normal run of the project: the item
pipelines (ledger, revisions, dumps), the JSONL feed, progress and the run
report all apply as in a crawl. An unchanged article counts as known, a
changed one becomes a revision.

Nothing is downloaded: the internal spider ``reparse`` makes no requests, and
robots.txt, the telnet console and WARC capture are off for it, so the run
opens no network socket. Exit status as for ``scrapy crawl``.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from scrapy import Spider
from scrapy.commands import BaseRunSpiderCommand
from scrapy.exceptions import UsageError

from tazarchive import urls
from tazarchive.commands.crawl import run_crawler
from tazarchive.extract import extract_article
from tazarchive.warc import count_responses, iter_responses, warc_files

if TYPE_CHECKING:
    import argparse

    from tazarchive.items import Article


class ReparseSpider(Spider):
    """Yields the articles extracted from archived pages; fetches nothing.

    Stats: tazarchive/reparse/{responses,pages,skipped,unreadable},
    tazarchive/extract/not_article, tazarchive/expected_articles (article pages found).
    """

    name = "reparse"
    custom_settings: dict[str, Any] | None = {  # noqa: RUF012  (Scrapy declares it so)
        "ROBOTSTXT_OBEY": False,  # would fetch robots.txt
        "TELNETCONSOLE_ENABLED": False,  # would listen on a port
        "REMOTE_CONTROL_ENABLED": False,  # Scrapy >= 2.19: would listen on a port too
        "TAZARCHIVE_WARC_ENABLED": False,  # nothing is fetched, nothing to capture
        "TAZARCHIVE_ALLOW_OTHER_SITE": True,  # nothing is fetched from TAZARCHIVE_BASE_URL
        # Nothing is downloaded, so no downloader middleware is needed; and
        # CookiesMiddleware imports urllib3 (via tldextract, requests), which
        # opens an IPv6 socket at import to probe for IPv6 support.
        "DOWNLOADER_MIDDLEWARES_BASE": {},
        "DOWNLOADER_MIDDLEWARES": {},
    }

    def __init__(self, paths: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.paths = list(paths or [])

    async def start(self) -> AsyncIterator[Article]:
        stats = self.crawler.stats
        assert stats is not None
        # The total, for the progress line's ETA: a quick pass over the record headers.
        found = count_responses(self.paths)
        expected = sum(n for url, n in found.items() if urls.article_id(url) is not None)
        stats.set_value("tazarchive/expected_articles", expected)
        errors: list[str] = []
        for page in iter_responses(self.paths, errors=errors):
            stats.inc_value("tazarchive/reparse/responses")
            if page.status != 200 or urls.article_id(page.url) is None:
                stats.inc_value("tazarchive/reparse/skipped")  # listings, redirects, errors
                continue
            stats.inc_value("tazarchive/reparse/pages")
            article = extract_article(page.body, page.url, fetched=page.date)
            if article is None:
                stats.inc_value("tazarchive/extract/not_article")
                self.logger.info("not an article: %s (%s @%d)", page.url, page.path, page.offset)
                continue
            yield article
        if errors:  # damaged file tails, undecodable bodies (each logged already)
            stats.set_value("tazarchive/reparse/unreadable", len(errors))


class Command(BaseRunSpiderCommand):
    requires_project = True

    def syntax(self) -> str:
        return "[options] PATH..."

    def short_desc(self) -> str:
        return "Re-extract archived article pages from WARC files (no network)"

    def long_desc(self) -> str:
        return (
            "Run every archived article page in the WARC files (or folders of them) PATH... "
            "through today's extraction and the normal pipelines and feeds: an unchanged "
            "article is known, a changed one a new revision. Downloads nothing."
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if not args:
            raise UsageError("name at least one WARC file or folder")
        try:
            files = warc_files(args)
        except FileNotFoundError as exc:
            print(f"tazarchive: {exc}", file=sys.stderr, flush=True)
            self.exitcode = 1
            return
        if not files:
            print(f"tazarchive: no WARC files in {' '.join(args)}", file=sys.stderr, flush=True)
            self.exitcode = 1
            return
        assert self.crawler_process is not None
        crawler = self._create_crawler(ReparseSpider)
        # The paths as given (not the file list): they go to the run report.
        self.exitcode = run_crawler(self.crawler_process, crawler, **opts.spargs, paths=list(args))
