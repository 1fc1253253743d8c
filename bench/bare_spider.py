"""The bench's baseline: fetch a list of URLs and do nothing with them.

    scrapy runspider bench/bare_spider.py -a urls=<file with one URL per line>

Used by bench/crawl.py to fetch exactly the pages the full crawl fetched,
with no extraction, items, pipelines or feeds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import scrapy
from scrapy.http import Response


class BareSpider(scrapy.Spider):
    name = "bare"

    def __init__(self, *args: Any, urls: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.url_file = Path(urls)

    async def start(self) -> AsyncIterator[Any]:
        for line in self.url_file.read_text(encoding="utf-8").splitlines():
            if line.strip():
                yield scrapy.Request(line.strip(), callback=self.parse)

    def parse(self, response: Response) -> None:
        return None
