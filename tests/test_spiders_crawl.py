"""End-to-end: ``scrapy crawl <spider>`` as users run it, against a 500-article replica.

Each test runs the real command in a subprocess (``-O out.jsonl``) with the
archive's pipelines and WARC off (not the point here) and a test middleware
that logs every URL reaching the downloader, so the tests can assert that no
request leaves 127.0.0.1. The expected sets come from the replica's truth.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from scrapy.utils.project import get_project_settings

from tazarchive.replica import ReplicaServer, Site
from tests.conftest import REPO

N_ARTICLES = 500


@dataclass
class Crawl:
    returncode: int
    ids: list[str]
    urls: list[str]  # every URL on its way to the downloader
    responses: list[tuple[float, int, str]]  # (time.time(), status, url)
    stderr: str
    seconds: float


@pytest.fixture(scope="module")
def replica() -> Iterator[ReplicaServer]:
    with ReplicaServer(Site(N_ARTICLES)) as server:
        yield server


def _downloader_middlewares() -> str:
    middlewares = dict(get_project_settings().getdict("DOWNLOADER_MIDDLEWARES"))
    middlewares["tests.spiders_probe.UrlLogMiddleware"] = 999  # last before the download
    return json.dumps(middlewares)


def crawl(
    base_url: str, tmp_path: Path, spider: str, *args: str, timeout: float = 120, **settings: str
) -> Crawl:
    out = tmp_path / f"{spider}.jsonl"
    url_log = tmp_path / f"{spider}.urls"
    values = {
        "TAZARCHIVE_BASE_URL": base_url,
        "TAZARCHIVE_OUTPUT_DIR": str(tmp_path / "output"),
        "TAZARCHIVE_WARC_ENABLED": "0",
        "TAZARCHIVE_TEST_URL_LOG": str(url_log),
        "ITEM_PIPELINES": "{}",
        "SPIDER_MIDDLEWARES": "{}",
        "DOWNLOADER_MIDDLEWARES": _downloader_middlewares(),
        "DOWNLOAD_DELAY": "0",
        "AUTOTHROTTLE_ENABLED": "0",
        "CONCURRENT_REQUESTS": "16",
        "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
        "TELNETCONSOLE_ENABLED": "0",
        "LOG_LEVEL": "INFO",
        **settings,
    }
    command = [sys.executable, "-m", "scrapy", "crawl", spider, "-O", str(out)]
    for arg in args:
        command += ["-a", arg]
    for name, value in values.items():
        command += ["-s", f"{name}={value}"]
    started = time.monotonic()
    done = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False
    )
    seconds = time.monotonic() - started
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()] if out.exists() else []
    lines = url_log.read_text().splitlines() if url_log.exists() else []
    urls = [line[2:] for line in lines if line.startswith("Q ")]
    responses = [
        (float(when), int(status), url)
        for when, status, url in (line[2:].split(" ", 2) for line in lines if line.startswith("A "))
    ]
    return Crawl(done.returncode, ids, urls, responses, done.stderr, seconds)


def assert_stayed_local(result: Crawl) -> None:
    assert result.urls, "the URL log is empty: the probe middleware did not run"
    assert {urlsplit(url).hostname for url in result.urls} == {"127.0.0.1"}


def assert_once_each(result: Crawl, expected: set[str]) -> None:
    assert result.returncode == 0, result.stderr[-2000:]
    duplicates = [id_ for id_, n in Counter(result.ids).items() if n > 1]
    assert duplicates == []
    assert set(result.ids) == expected


def test_taz_spider_yields_every_article_exactly_once(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    result = crawl(replica.base_url, tmp_path, "taz")
    assert_once_each(result, set(replica.site.article_ids()))
    assert len(result.ids) == N_ARTICLES
    assert_stayed_local(result)
    # Link variants (slugs, %21, &s=, www.) never cost a second fetch of a page.
    assert Counter(result.urls).most_common(1)[0][1] == 1


@pytest.mark.parametrize(
    ("kind", "argument"),
    [("author", "author=/Some-Name/!a{id}/"), ("tag", "tag={id}")],
)
def test_listing_spiders_yield_all_articles_of_their_listing_across_pages(
    replica: ReplicaServer, tmp_path: Path, kind: str, argument: str
) -> None:
    site = replica.site
    ids = site.author_ids() if kind == "author" else site.tag_ids()
    busiest = max(ids, key=lambda id_: site.listing_pages(kind, id_))
    assert site.listing_pages(kind, busiest) >= 3  # the replica puts some on page 3+
    expected = (
        site.articles_of_author(busiest) if kind == "author" else site.articles_of_tag(busiest)
    )
    result = crawl(replica.base_url, tmp_path, kind, argument.format(id=busiest))
    assert_once_each(result, set(expected))
    assert_stayed_local(result)


def test_articles_spider_fetches_exactly_the_given_articles(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    ids = list(replica.site.article_ids())
    wanted = [ids[3], ids[250], ids[499]]
    id_file = tmp_path / "list.txt"
    id_file.write_text(
        f"# from a test\nhttps://www.taz.de/Some-Slug/!{ids[7]}/\n", encoding="utf-8"
    )
    result = crawl(
        replica.base_url,
        tmp_path,
        "articles",
        f"ids={wanted[0]},{wanted[1]}",
        f"urls=http://www.taz.de/X/%21{wanted[2]}&s=suche/",
        f"file={id_file}",
    )
    assert_once_each(result, {*wanted, ids[7]})
    fetched = [url for url in result.urls if not url.endswith("/robots.txt")]
    assert sorted(fetched) == sorted(f"{replica.base_url}/!{id_}/" for id_ in {*wanted, ids[7]})
    assert_stayed_local(result)


def test_feed_spider_yields_the_articles_of_the_feed(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    result = crawl(replica.base_url, tmp_path, "feed")
    assert_once_each(result, set(replica.site.feed_ids()))
    assert_stayed_local(result)


def test_sitemap_spider_since_yields_the_sitemaps_articles_from_that_day(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    site = replica.site
    newest = max(site.published(i) for i in range(N_ARTICLES)).date()
    since = newest - timedelta(days=20)
    expected = set(site.sitemap_ids(since)) | set(site.news_sitemap_ids())
    assert 0 < len(expected) < N_ARTICLES
    result = crawl(replica.base_url, tmp_path, "sitemap", f"since={since.isoformat()}")
    assert_once_each(result, expected)
    # Monthly sitemaps ending before ``since`` are not even fetched.
    months = [url for url in result.urls if "sitemap-article-online" in url]
    assert months
    assert all(date.fromisoformat(url[-14:-4]) >= since for url in months)
    assert_stayed_local(result)


# --- listing markup no extractor knows: discovery by link pattern ------------------------


@pytest.fixture
def plain_replica(replica: ReplicaServer) -> Iterator[ReplicaServer]:
    """The module's replica serving home, section, tag and author pages in plain markup."""
    replica.configure(listing_markup="plain")
    yield replica
    replica.clear_faults()


def test_with_unknown_listing_markup_the_taz_spider_still_yields_every_article(
    plain_replica: ReplicaServer, tmp_path: Path
) -> None:
    result = crawl(plain_replica.base_url, tmp_path, "taz")
    assert_once_each(result, set(plain_replica.site.article_ids()))
    assert_stayed_local(result)


@pytest.mark.parametrize("kind", ["author", "tag"])
def test_with_unknown_listing_markup_listing_spiders_yield_their_listing_to_page_3_and_on(
    plain_replica: ReplicaServer, tmp_path: Path, kind: str
) -> None:
    site = plain_replica.site
    ids = site.author_ids() if kind == "author" else site.tag_ids()
    busiest = max(ids, key=lambda id_: site.listing_pages(kind, id_))
    assert site.listing_pages(kind, busiest) >= 3
    expected = (
        site.articles_of_author(busiest) if kind == "author" else site.articles_of_tag(busiest)
    )
    result = crawl(plain_replica.base_url, tmp_path, kind, f"{kind}={busiest}")
    assert_once_each(result, set(expected))
    assert set(expected[2 * 20 :]) <= set(result.ids)  # those only page 3 and later link
    assert_stayed_local(result)


# --- failure is loud ------------------------------------------------------------------


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again: nothing listens there


def test_an_unreachable_site_fails_fast_with_one_line(tmp_path: Path) -> None:
    base = f"http://127.0.0.1:{_closed_port()}"
    result = crawl(base, tmp_path, "taz", timeout=60)
    assert result.returncode != 0
    assert result.seconds < 60
    assert f"tazarchive: cannot reach {base}: connection refused" in result.stderr.splitlines()
    assert "Traceback" not in result.stderr
    assert result.ids == []


def test_a_robots_txt_that_forbids_everything_fails_with_one_line(tmp_path: Path) -> None:
    with ReplicaServer(Site(10, disallow_all=True)) as server:
        result = crawl(server.base_url, tmp_path, "taz", timeout=60)
        served = server.request_log
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.startswith("tazarchive: ")]
    user_agent = get_project_settings()["USER_AGENT"]
    assert lines == [
        f"tazarchive: robots.txt of {server.base_url} forbids crawling the site "
        f"(user agent {user_agent!r})"
    ]
    assert "Traceback" not in result.stderr
    assert served == ["/robots.txt"]


def test_bad_spider_arguments_fail_with_one_line(replica: ReplicaServer, tmp_path: Path) -> None:
    result = crawl(replica.base_url, tmp_path, "articles", "ids=12,hallo")
    assert result.returncode != 0
    assert (
        "tazarchive: spider articles: -a ids: not a taz article id or URL: 'hallo'"
        in result.stderr.splitlines()
    )
    assert "Traceback" not in result.stderr
    assert [url for url in result.urls if not url.endswith("/robots.txt")] == []


# --- politeness ----------------------------------------------------------------------


def _article_responses(result: Crawl) -> list[tuple[float, int, str]]:
    return [r for r in result.responses if not r[2].endswith("/robots.txt")]


def test_robots_crawl_delay_spaces_requests_even_with_no_download_delay(tmp_path: Path) -> None:
    with ReplicaServer(Site(10, crawl_delay=1)) as server:
        ids = list(server.site.article_ids())[:3]
        result = crawl(server.base_url, tmp_path, "articles", f"ids={','.join(ids)}")
    assert_once_each(result, set(ids))
    times = [when for when, _, _ in _article_responses(result)]
    assert len(times) == 3
    gaps = [later - earlier for earlier, later in pairwise(times)]
    # Downloads start >= 1 s apart; arrival times add some latency noise.
    assert min(gaps) >= 0.8


@pytest.mark.parametrize(
    ("retry_after", "cap", "least", "most"),
    [(2, "600", 1.9, 10.0), (30, "1", 0.9, 5.0)],
    ids=["honoured", "capped"],
)
def test_retry_after_pauses_before_the_retry(
    tmp_path: Path, retry_after: int, cap: str, least: float, most: float
) -> None:
    with ReplicaServer(Site(10)) as server:
        article = next(server.site.article_ids())
        server.fail(f"/!{article}/", status=503, times=1, retry_after=retry_after)
        result = crawl(
            server.base_url,
            tmp_path,
            "articles",
            f"ids={article}",
            TAZARCHIVE_RETRY_AFTER_MAX=cap,
            TAZARCHIVE_RETRY_BACKOFF="0",
        )
    assert_once_each(result, {article})
    (failed_at, failed, _), (served_at, served, _) = _article_responses(result)
    assert (failed, served) == (503, 200)
    assert least <= served_at - failed_at <= most
