"""Test-only downloader middleware: logs every request and response to a file.

Enabled by the crawl tests (tests/test_spiders_crawl.py) with
``-s TAZARCHIVE_TEST_URL_LOG=<path>``, to assert that a crawl never leaves
127.0.0.1 and when responses arrived. Lines: ``Q <url>`` for a request on
its way to the downloader, ``A <time.time()> <status> <url>`` for a response.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from scrapy.exceptions import NotConfigured

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response


class UrlLogMiddleware:
    def __init__(self, path: str) -> None:
        self.path = path

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        path = crawler.settings.get("TAZARCHIVE_TEST_URL_LOG")
        if not path:
            raise NotConfigured
        return cls(path)

    def _write(self, line: str) -> None:
        with open(self.path, "a", encoding="utf-8") as log:
            log.write(line + "\n")

    def process_request(self, request: Request) -> None:
        self._write(f"Q {request.url}")

    def process_response(self, request: Request, response: Response) -> Response:
        self._write(f"A {time.time():.3f} {response.status} {response.url}")
        return response
