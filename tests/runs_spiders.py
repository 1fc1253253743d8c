"""Spiders for run tests (lock, progress, report, exit status); they fetch nothing.

Run with ``scrapy crawl <name> -s SPIDER_MODULES=tests.runs_spiders`` from the repo root.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import scrapy
from scrapy.exceptions import CloseSpider
from scrapy.http import Response

from tazarchive import stats
from tazarchive.items import Article, Author, Block, Link, LinkSpan

BERLIN_SUMMER = timezone(timedelta(hours=2))


def invented_article(number: int) -> Article:
    """An article with every kind of field filled, text invented for tests."""
    return Article(
        id=str(7000000 + number),
        url=f"https://taz.de/!{7000000 + number}/",
        title=f"Probelauf Nummer {number}: Grüße aus dem Testlabor",
        topline="Testreihe",
        teaser="Ein erfundener Vorspann mit Umlauten: äöü ß \u2013 und «Zeichen».",
        authors=[Author(name="Erika Beispiel", id="1000", url="/!a1000/")],
        published=datetime(2025, 6, 1, 9, 30, number % 60, tzinfo=BERLIN_SUMMER),
        body=[
            Block(
                text="Erster Absatz mit einem Link.\u2028Und ein Zeilentrenner darin.",
                links=[LinkSpan(start=17, end=21, n=1)],
            ),
            Block(text="Zwischentitel", kind="subheading"),
            Block(text="Letzter Absatz."),
        ],
        links=[Link(text="Link", href="https://example.org/a?b=1&c=2")],
        layout="2024",
        parser_version="test",
        fetched=datetime(2025, 6, 2, 0, 0, tzinfo=UTC),
        body_mismatch="",
    )


class RunsArticlesSpider(scrapy.Spider):
    """Yields ``n`` invented articles, ``delay`` seconds apart; sets expected_articles."""

    name = "runs_articles"

    def __init__(self, n: str = "2", delay: str = "0", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.n = int(n)
        self.delay = float(delay)

    async def start(self) -> AsyncIterator[Any]:
        self.crawler.stats.set_value(stats.EXPECTED_ARTICLES, self.n)
        for number in range(1, self.n + 1):
            if self.delay:
                await asyncio.sleep(self.delay)
            self.crawler.stats.inc_value(stats.ARTICLES_NEW)
            yield invented_article(number)


class RunsFailingSpider(scrapy.Spider):
    """Decides the run failed, the run-protocol way: failure stat + a closing reason."""

    name = "runs_failing"

    async def start(self) -> AsyncIterator[Any]:
        yield scrapy.Request("data:,hello", callback=self.parse)

    def parse(self, response: Response) -> Any:
        self.crawler.stats.set_value(
            stats.FAILURE, "cannot reach http://127.0.0.1:9: connection refused"
        )
        raise CloseSpider("site_unreachable")
