"""A spider for the rejects middleware: ``scrapy runspider tests/reject_spiders.py``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import scrapy

from tazarchive.extract.errors import PageRejected


class RejectingSpider(scrapy.Spider):
    """Fetches ``n`` data: pages (no network) whose extraction rejects every one."""

    name = "rejecting"

    def __init__(self, n: str = "3", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.n = int(n)

    async def start(self) -> AsyncIterator[Any]:
        for number in range(self.n):
            yield scrapy.Request(f"data:text/html,<p>{number}</p>", callback=self.parse)

    def parse(self, response: Any) -> Any:
        yield from ()
        raise PageRejected("challenge", "a consent wall", f"https://taz.de/!{response.text}/")
