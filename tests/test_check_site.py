"""``scrapy check-site``: what it recognises on a page, and the command against the replica."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tazarchive.cli.check_site import PageCheck, check_article, check_listing
from tazarchive.replica import ReplicaServer, Site
from tests.conftest import REPO

BASE = "http://127.0.0.1:8123"


def teaser_listing(hrefs: list[str]) -> str:
    teasers = "".join(
        f'<article class="article-teaser"><a class="teaser-link" href="{h}">'
        f'<p class="headline">T</p></a></article>'
        for h in hrefs
    )
    return f"<html><body>{teasers}<a href='?search_page=1'>2</a></body></html>"


def plain_listing(hrefs: list[str]) -> str:
    links = "".join(f'<div><span><a href="{h}">T</a></span></div>' for h in hrefs)
    return f"<html><body>{links}</body></html>"


def test_a_listing_in_known_markup_is_recognised() -> None:
    check, links = check_listing(
        "tag", teaser_listing(["/A/!7000001/", "/B/!7000002/"]), f"{BASE}/!t900100/", BASE
    )
    assert check.problems == []
    assert links.articles == ["7000001", "7000002"]
    assert "teasers=2" in check.facts
    assert "page-links=1" in check.facts


def test_a_listing_in_unknown_markup_is_named_though_its_links_are_found() -> None:
    check, links = check_listing(
        "section", plain_listing(["/A/!7000001/"]), f"{BASE}/Politik/!p4615/", BASE
    )
    assert links.articles == ["7000001"]
    assert check.problems == ["listing markup unknown: 1 article links, 0 teasers"]
    assert "NOT RECOGNISED" in check.line()


def test_a_listing_without_article_links_is_not_recognised() -> None:
    check, _ = check_listing("home", plain_listing(["/Politik/!p4615/"]), f"{BASE}/", BASE)
    assert "no article link" in check.problems


def test_an_article_of_no_known_design_is_not_recognised() -> None:
    page = (
        "<html><head><title>x</title></head><body><div class='neu'><p>Text</p></div></body></html>"
    )
    check = check_article(page, f"{BASE}/!7000001/", "7000001")
    assert check.problems
    assert check.line().startswith("article ")


def test_page_check_line_says_ok_only_without_problems() -> None:
    assert PageCheck("feed", "u", ["article-links=3"]).line() == "feed     u article-links=3 ok"
    assert PageCheck("feed", "u", problems=["HTTP 404"]).line().endswith("NOT RECOGNISED: HTTP 404")


def run_check_site(
    base_url: str, tmp_path: Path, *options: str
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "scrapy", "check-site", *options]
    for name, value in {
        "TAZARCHIVE_BASE_URL": base_url,
        "TAZARCHIVE_OUTPUT_DIR": str(tmp_path / "output"),
        "DOWNLOAD_DELAY": "0",
        "AUTOTHROTTLE_ENABLED": "0",
        "LOG_LEVEL": "WARNING",
    }.items():
        command += ["-s", f"{name}={value}"]
    return subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )


def test_check_site_exits_0_against_the_replica_in_few_requests(tmp_path: Path) -> None:
    with ReplicaServer(Site(200)) as server:
        done = run_check_site(server.base_url, tmp_path)
        served = server.request_log
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [
        "home",
        "section",
        "tag",
        "author",
        "feed",
        "sitemap",
        "article",
        "article",
        "article",
    ]
    assert all(line.endswith(" ok") for line in lines)
    assert served[0] == "/robots.txt"
    assert len(served) <= 15
    assert not (tmp_path / "output").exists()  # it stores nothing


def test_check_site_exits_1_naming_a_page_that_is_missing(tmp_path: Path) -> None:
    with ReplicaServer(Site(200)) as server:
        done = run_check_site(server.base_url, tmp_path, "--tag", "999999999", "--articles", "1")
    assert done.returncode == 1
    assert any(line.startswith("tag ") and "HTTP 404" in line for line in done.stdout.splitlines())
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("tazarchive: check-site: not recognised: tag ")


def test_check_site_refuses_a_bad_option_before_fetching(tmp_path: Path) -> None:
    done = run_check_site("http://127.0.0.1:9", tmp_path, "--articles", "99")
    assert done.returncode == 2
    assert "--articles '99': expected 1 to 5" in done.stderr


def test_check_site_exits_1_naming_listing_markup_it_does_not_know(tmp_path: Path) -> None:
    with ReplicaServer(Site(200, listing_markup="plain")) as server:
        done = run_check_site(server.base_url, tmp_path, "--articles", "1")
    assert done.returncode == 1
    unknown = [line for line in done.stdout.splitlines() if "listing markup unknown" in line]
    assert [line.split()[0] for line in unknown] == ["home", "section", "tag", "author"]
    assert "listing markup unknown" in done.stderr.strip().splitlines()[-1]


def test_check_site_exits_1_naming_articles_of_an_unknown_design(tmp_path: Path) -> None:
    with ReplicaServer(Site(200, unknown_design=1.0)) as server:
        done = run_check_site(server.base_url, tmp_path, "--articles", "2")
    assert done.returncode == 1
    articles = [line for line in done.stdout.splitlines() if line.startswith("article ")]
    assert len(articles) == 2
    assert all("NOT RECOGNISED" in line for line in articles)
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .startswith("tazarchive: check-site: not recognised: article ")
    )
