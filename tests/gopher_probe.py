"""Run a real crawl over gopher URLs and print what came back (for tests/test_gopher_*.py).

``python -m tests.gopher_probe '{"urls": [...], "settings": {...}}'`` prints one
JSON object: per URL its status, flags, content type, body (latin-1 text) or
the exception class that ended it; and the crawl's stats.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response
from scrapy.utils.project import get_project_settings
from twisted.python.failure import Failure

RESULTS: dict[str, dict[str, Any]] = {}


class GopherProbeSpider(Spider):
    name = "gopher_probe"

    def __init__(self, urls: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = urls

    async def start(self) -> AsyncIterator[Any]:
        for url in self.urls:
            yield Request(url, callback=self.parse, errback=self.failed, dont_filter=True)

    def parse(self, response: Response) -> None:
        RESULTS[response.url] = {
            "status": response.status,
            "flags": response.flags,
            "class": type(response).__name__,
            "content_type": (response.headers.get("Content-Type") or b"").decode(),
            "body": response.body.decode("latin-1"),
            "protocol": response.protocol,
            "ip_address": str(response.ip_address),
        }

    def failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        RESULTS[request.url] = {"error": type(failure.value).__name__, "text": str(failure.value)}


def main() -> None:
    spec = json.loads(sys.argv[1])
    settings = get_project_settings()
    # The probe checks the handler on servers of many ports; the site boundary
    # (which would drop all but TAZARCHIVE_GOPHER_URL's port) is tested elsewhere.
    settings["DOWNLOADER_MIDDLEWARES"]["tazarchive.middlewares.SiteBoundaryMiddleware"] = None
    settings.setdict(
        {
            "LOG_LEVEL": "WARNING",
            "HTTPERROR_ALLOW_ALL": True,
            "TAZARCHIVE_WARC_ENABLED": False,
            "TAZARCHIVE_LOCK_ENABLED": False,
            "TAZARCHIVE_RUN_REPORT_ENABLED": False,
            "TAZARCHIVE_PROGRESS_INTERVAL": 0,
            "TAZARCHIVE_LEDGER_ENABLED": False,
            "TAZARCHIVE_RETRY_BACKOFF": 0,
            "ROBOTSTXT_OBEY": False,
            "DOWNLOAD_DELAY": 0,
            "AUTOTHROTTLE_ENABLED": False,
            **spec.get("settings", {}),
        },
        priority="cmdline",
    )
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(GopherProbeSpider)
    process.crawl(crawler, urls=spec["urls"])
    process.start()
    assert crawler.stats is not None
    stats = {k: v for k, v in crawler.stats.get_stats().items() if isinstance(v, int | float | str)}
    print(json.dumps({"results": RESULTS, "stats": stats}))


if __name__ == "__main__":
    main()
