"""Politeness and failure middlewares, built with plain arguments."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from scrapy import Request
from scrapy.core.downloader import Slot
from scrapy.exceptions import CannotResolveHostError, DownloadConnectionRefusedError, IgnoreRequest
from scrapy.http import Response
from scrapy.robotstxt import ProtegoRobotParser
from scrapy.utils.test import get_crawler

from tazarchive import stats as keys
from tazarchive.middlewares import (
    CrawlDelayMiddleware,
    RetryAfterMiddleware,
    SiteFailureMiddleware,
    retry_after_seconds,
)

BASE = "http://127.0.0.1:8123"
UA = "tazarchive-test/1"


def robots(text: str) -> ProtegoRobotParser:
    return ProtegoRobotParser(text.encode(), None)


class FakeDownloader:
    """The part of Scrapy's Downloader the middlewares use."""

    def __init__(self) -> None:
        self.slots: dict[str, Slot] = {}
        self.per_slot_settings: dict[str, dict[str, Any]] = {}

    def get_slot_key(self, request: Request) -> str:
        return "127.0.0.1"


# --- Retry-After ------------------------------------------------------------------


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds(b"120") == 120.0
    assert retry_after_seconds("Wed, 01 Jan 2025 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds("Wed, 01 Jan 2025 11:00:00 GMT", now) == 0.0
    assert retry_after_seconds(b"bald") is None
    assert retry_after_seconds(None) is None


def test_retries_without_retry_after_back_off_exponentially_up_to_the_cap() -> None:
    crawler = get_crawler(
        settings_dict={"TAZARCHIVE_RETRY_BACKOFF": 2, "TAZARCHIVE_RETRY_BACKOFF_MAX": 5}
    )
    mw = RetryAfterMiddleware.from_crawler(crawler)
    waits = [mw._backoff(Request(BASE, meta={"retry_times": n})) for n in (1, 2, 3)]
    assert waits == [2.0, 4.0, 5.0]


# --- Crawl-delay ---------------------------------------------------------------------


def test_crawl_delay_is_a_floor_under_the_slot_delay_including_jitter() -> None:
    downloader = FakeDownloader()
    mw = CrawlDelayMiddleware(UA, lambda: downloader)
    request = Request(f"{BASE}/!1/")
    mw.robots_parsed(robots("User-agent: *\nCrawl-delay: 3\n"), request)
    assert mw.delays == {"127.0.0.1": 3.0}

    mw.process_request(request)  # no slot yet: new slots will start with it
    assert downloader.per_slot_settings["127.0.0.1"]["delay"] == 3.0

    downloader.slots["127.0.0.1"] = Slot(concurrency=8, delay=0.5, jitter=0.5)
    mw.process_response(request, Response(request.url, request=request))
    slot = downloader.slots["127.0.0.1"]
    assert slot.delay * (1 - slot.jitter) >= 3.0  # the shortest randomised wait


def test_a_slower_slot_is_left_alone_and_other_hosts_are_not_touched() -> None:
    downloader = FakeDownloader()
    downloader.slots["127.0.0.1"] = Slot(concurrency=8, delay=10.0, jitter=0.0)
    mw = CrawlDelayMiddleware(UA, lambda: downloader)
    mw.robots_parsed(robots("User-agent: *\nCrawl-delay: 3\n"), Request(f"{BASE}/robots.txt"))
    mw.process_request(Request(f"{BASE}/!1/"))
    assert downloader.slots["127.0.0.1"].delay == 10.0
    mw.robots_parsed(robots("User-agent: *\nDisallow:\n"), Request("http://example.org/"))
    assert "example.org" not in mw.delays


# --- failure ------------------------------------------------------------------------------


class Failures:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def __call__(self, reason: str, line: str) -> None:
        self.calls.append((reason, line))


@pytest.mark.parametrize(
    ("exception", "why"),
    [
        (DownloadConnectionRefusedError("refused"), "connection refused"),
        (CannotResolveHostError("nx"), "DNS lookup of 127.0.0.1 failed"),
    ],
)
def test_a_site_that_never_answered_fails_the_run_once_and_quietly(
    exception: Exception, why: str
) -> None:
    failures = Failures()
    mw = SiteFailureMiddleware(BASE, UA, failures)
    with pytest.raises(IgnoreRequest):
        mw.process_exception(Request(f"{BASE}/robots.txt"), exception)
    with pytest.raises(IgnoreRequest):  # later requests are dropped, not logged again
        mw.process_request(Request(f"{BASE}/"))
    with pytest.raises(IgnoreRequest):
        mw.process_exception(Request(f"{BASE}/"), exception)
    assert failures.calls == [("site_unreachable", f"cannot reach {BASE}: {why}")]


def test_connection_errors_after_the_site_answered_are_left_to_scrapy() -> None:
    failures = Failures()
    mw = SiteFailureMiddleware(BASE, UA, failures)
    request = Request(f"{BASE}/")
    mw.process_response(request, Response(request.url, request=request))
    assert mw.process_exception(Request(f"{BASE}/!1/"), DownloadConnectionRefusedError()) is None
    assert (
        mw.process_exception(Request("http://example.org/"), DownloadConnectionRefusedError())
        is None
    )
    assert failures.calls == []


def test_robots_txt_forbidding_everything_fails_but_partial_rules_do_not() -> None:
    failures = Failures()
    mw = SiteFailureMiddleware(BASE, UA, failures)
    request = Request(f"{BASE}/")
    mw.robots_parsed(robots("User-agent: *\nDisallow: /kommune/\n"), request)
    mw.robots_parsed(robots("User-agent: other\nDisallow: /\n"), request)
    assert failures.calls == []
    mw.robots_parsed(robots("User-agent: *\nDisallow: /\n"), request)
    assert failures.calls == [
        ("robots_forbidden", f"robots.txt of {BASE} forbids crawling the site (user agent {UA!r})")
    ]


def test_failure_goes_to_stats_and_closes_the_spider_through_the_crawler() -> None:
    closed: list[str] = []

    async def close_spider_async(*, reason: str) -> None:
        closed.append(reason)

    crawler = get_crawler(settings_dict={"TAZARCHIVE_BASE_URL": BASE, "USER_AGENT": UA})
    crawler.engine = SimpleNamespace(close_spider_async=close_spider_async)  # type: ignore[assignment]
    crawler.stats.open_spider()
    mw = SiteFailureMiddleware.from_crawler(crawler)

    async def run() -> None:
        with pytest.raises(IgnoreRequest):
            mw.process_exception(Request(f"{BASE}/"), DownloadConnectionRefusedError())
        await asyncio.sleep(0)  # the close is scheduled as a task

    asyncio.run(run())
    assert crawler.stats.get_value(keys.FAILURE) == f"cannot reach {BASE}: connection refused"
    assert closed == ["site_unreachable"]
