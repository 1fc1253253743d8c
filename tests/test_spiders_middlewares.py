"""Politeness and failure middlewares, built with plain arguments."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
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
    DecompressionGuardMiddleware,
    RedirectGuardMiddleware,
    RetryAfterMiddleware,
    SiteBoundaryMiddleware,
    SiteFailureMiddleware,
    retry_after_seconds,
)
from tests.conftest import REPO

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


# --- the site boundary ----------------------------------------------------------------


def boundary_crawler(**settings: Any) -> Any:
    crawler = get_crawler(settings_dict={"TAZARCHIVE_BASE_URL": BASE, **settings})
    crawler.stats.open_spider()
    return crawler


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://example.org/!1/", "request"),
        ("https://127.0.0.1:8123/!1/", "request"),  # another scheme
        ("http://127.0.0.1:8124/!1/", "request"),  # another port
        ("ftp://127.0.0.1:8123/x", "request"),
    ],
)
def test_requests_off_the_base_urls_origin_are_dropped_and_counted(url: str, kind: str) -> None:
    crawler = boundary_crawler()
    mw = SiteBoundaryMiddleware.from_crawler(crawler)
    assert mw.process_request(Request(f"{BASE}/!1/")) is None
    assert mw.process_request(Request(f"{BASE}:80/x".replace(":8123:80", ":8123"))) is None
    with pytest.raises(IgnoreRequest):
        mw.process_request(Request(url, dont_filter=True))
    assert crawler.stats.get_value(keys.offsite(kind)) == 1


def test_redirected_and_robots_requests_are_counted_by_kind() -> None:
    crawler = boundary_crawler()
    mw = SiteBoundaryMiddleware.from_crawler(crawler)
    redirected = Request(
        "http://other.test/a", meta={"redirect_urls": [f"{BASE}/!1/"], "taz_article_id": "1"}
    )
    robots_request = Request("http://other.test/robots.txt", meta={"dont_obey_robotstxt": True})
    for request in (redirected, robots_request):
        with pytest.raises(IgnoreRequest):
            mw.process_request(request)
    get = crawler.stats.get_value
    assert (get(keys.offsite("redirect")), get(keys.offsite("robots"))) == (1, 1)
    assert (get(keys.ARTICLES_LOST), get(keys.REQUESTS_LOST)) == (1, 1)


def test_gopher_requests_to_the_gopher_url_are_allowed() -> None:
    crawler = boundary_crawler(TAZARCHIVE_GOPHER_URL="gopher://127.0.0.1:7070")
    mw = SiteBoundaryMiddleware.from_crawler(crawler)
    assert mw.process_request(Request("gopher://127.0.0.1:7070/0/x")) is None
    with pytest.raises(IgnoreRequest):
        mw.process_request(Request("gopher://127.0.0.1:70/0/x"))


def test_redirect_to_another_host_is_dropped_before_it_is_followed() -> None:
    crawler = boundary_crawler()
    mw = RedirectGuardMiddleware.from_crawler(crawler)
    request = Request(f"{BASE}/!1/", meta={"taz_article_id": "1"})
    same_site = Response(request.url, status=301, headers={"Location": "/!1/slug/"})
    assert mw.process_response(request, same_site) is same_site
    away = Response(request.url, status=302, headers={"Location": "https://other.test/x"})
    with pytest.raises(IgnoreRequest):
        mw.process_response(request, away)
    assert crawler.stats.get_value(keys.offsite("redirect")) == 1
    assert crawler.stats.get_value(keys.ARTICLES_LOST) == 1


def test_a_redirect_loop_scrapy_gives_up_on_counts_as_lost() -> None:
    crawler = boundary_crawler(REDIRECT_MAX_TIMES=3)
    mw = RedirectGuardMiddleware.from_crawler(crawler)
    loop = Response(f"{BASE}/!1/", status=302, headers={"Location": "/!1/"})
    mw.process_response(Request(f"{BASE}/!1/", meta={"redirect_times": 2}), loop)
    assert crawler.stats.get_value(keys.REQUESTS_LOST) is None
    mw.process_response(
        Request(f"{BASE}/!1/", meta={"redirect_times": 3, "taz_article_id": "1"}), loop
    )
    assert crawler.stats.get_value(keys.REQUESTS_LOST) == 1
    assert crawler.stats.get_value(keys.ARTICLES_LOST) == 1


# --- refusals -------------------------------------------------------------------------


def test_a_streak_of_refusals_stops_the_run_and_any_good_page_resets_it() -> None:
    crawler = boundary_crawler()
    stopped: list[str] = []
    mw = SiteFailureMiddleware(
        BASE, UA, Failures(), crawler.stats, refusal_streak=3, stop=stopped.append
    )

    def answer(status: int, id_: str = "1") -> None:
        request = Request(f"{BASE}/!{id_}/", meta={"taz_article_id": id_})
        mw.process_response(request, Response(request.url, status=status, request=request))

    for status in (403, 503, 200, 429, 404):  # a 200 and a 404 break the streak
        answer(status)
    assert stopped == []
    for status in (403, 403, 403):
        answer(status)
    assert stopped == ["site_refused"]
    assert crawler.stats.get_value(keys.SITE_REFUSED) == 3
    assert crawler.stats.get_value(keys.ARTICLES_LOST) == 6
    with pytest.raises(IgnoreRequest):  # the rest is dropped quietly
        mw.process_request(Request(f"{BASE}/!9/"))


def test_download_errors_after_retries_count_as_lost() -> None:
    crawler = boundary_crawler()
    mw = SiteFailureMiddleware(BASE, UA, Failures(), crawler.stats)
    first = Request(f"{BASE}/")
    mw.process_response(first, Response(first.url, request=first))
    mw.process_exception(Request(f"{BASE}/!1/", meta={"taz_article_id": "1"}), TimeoutError())
    mw.process_exception(Request(f"{BASE}/listing/"), TimeoutError())
    assert crawler.stats.get_value(keys.REQUESTS_LOST) == 2
    assert crawler.stats.get_value(keys.ARTICLES_LOST) == 1


# --- end to end: a redirect to another host -----------------------------------------------


class Recorder(BaseHTTPRequestHandler):
    """A tiny site: robots.txt, and every article redirecting to ``self.server.target``."""

    def do_GET(self) -> None:
        self.server.paths.append(self.path)  # type: ignore[attr-defined]
        if self.path == "/robots.txt":
            body = b"User-agent: *\nAllow: /\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(302)
        self.send_header("Location", self.server.target + self.path)  # type: ignore[attr-defined]
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve(target: str) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.paths = []  # type: ignore[attr-defined]
    server.target = target  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_a_redirect_to_another_host_never_reaches_it_nor_its_robots_txt(tmp_path: Path) -> None:
    other = serve("http://127.0.0.1:1")  # the foreign host: must see no request
    other_url = f"http://127.0.0.1:{other.server_address[1]}"
    site = serve(other_url)
    base = f"http://127.0.0.1:{site.server_address[1]}"
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "scrapy",
                "crawl",
                "articles",
                "-a",
                "ids=1,2",
                "-s",
                f"TAZARCHIVE_BASE_URL={base}",
                "-s",
                f"TAZARCHIVE_OUTPUT_DIR={tmp_path}",
                "-s",
                "TAZARCHIVE_WARC_ENABLED=0",
                "-s",
                "DOWNLOAD_DELAY=0",
                "-s",
                "AUTOTHROTTLE_ENABLED=0",
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        for server in (site, other):
            server.shutdown()
            server.server_close()
    assert other.paths == []  # type: ignore[attr-defined]
    assert sorted(site.paths) == ["/!1/", "/!2/", "/robots.txt"]  # type: ignore[attr-defined]
    assert done.returncode == 1, done.stderr
    (report_path,) = (tmp_path / "runs").glob("*.json")
    report = json.loads(report_path.read_text())
    assert report["tazarchive"]["offsite/redirect"] == 2
    assert report["counts"]["lost"] == 2
    assert [r["code"] for r in report["verdict"]["reasons"]] == ["lost"]
    assert done.stderr.splitlines()[-1] == "tazarchive: " + report["failure"]
    assert not list(tmp_path.glob("dumps/**/*.txt"))


def test_a_body_that_cannot_be_decompressed_is_one_lost_page_without_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import gzip

    crawler = boundary_crawler()
    mw = DecompressionGuardMiddleware.from_crawler(crawler)
    request = Request(f"{BASE}/!1/", meta={"taz_article_id": "1"})
    whole = gzip.compress(b"<html><body>text</body></html>" * 50)
    good = Response(request.url, body=whole, headers={"Content-Encoding": "gzip"})
    assert b"text" in mw.process_response(request, good).body
    damaged = whole[:20] + bytes(b ^ 0xFF for b in whole[20:40]) + whole[40:]
    bad = Response(request.url, body=damaged, headers={"Content-Encoding": "gzip"})
    with pytest.raises(IgnoreRequest, match="cannot decompress"):
        mw.process_response(request, bad)
    assert crawler.stats.get_value(keys.ARTICLES_LOST) == 1
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert caplog.records[0].exc_info is None
