"""Extraction against pages of the local replica (127.0.0.1 only): the site's truth is known."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import pytest

from tazarchive.extract import extract_article, extract_listing

replica = pytest.importorskip("tazarchive.replica")


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[object, str]]:
    site = replica.Site(60, seed=3)
    with replica.ReplicaServer(site) as server:
        yield site, server.base_url


def fetch(url: str) -> bytes:
    assert url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def test_replica_articles_extract_completely(served: tuple[object, str]) -> None:
    site, base = served
    layouts = set()
    for article_id in list(site.article_ids())[:40]:  # type: ignore[attr-defined]
        url = f"{base}/!{article_id}/"
        article = extract_article(fetch(url), url)
        assert article is not None, url
        assert article.id == article_id
        assert article.title and article.body
        # Pages in the previous design carry no JSON-LD body to check against.
        expected = "" if article.layout == "2024" else None
        assert article.body_mismatch == expected, (url, article.layout, article.body_mismatch)
        assert article.published is not None and article.published.tzinfo is not None
        layouts.add(article.layout)
    assert layouts == {"2024", "2019"}


def test_author_listing_pages_lead_to_all_of_the_authors_articles(
    served: tuple[object, str],
) -> None:
    site, base = served
    author = site.author_ids()[0]  # type: ignore[attr-defined]
    url: str | None = f"{base}/!a{author}/"
    seen: list[str] = []
    pages = 0
    while url is not None and pages < 50:
        listing = extract_listing(fetch(url), url)
        assert listing is not None and listing.kind == "author"
        seen.extend(t.id for t in listing.teasers)
        pages += 1
        assert listing.page == pages
        url = listing.next_url
    assert listing.page_count == pages
    assert sorted(seen) == sorted(site.articles_of_author(author))  # type: ignore[attr-defined]


def test_home_listing_links_reach_sections_and_tags(served: tuple[object, str]) -> None:
    _site, base = served
    listing = extract_listing(fetch(f"{base}/"), f"{base}/")
    assert listing is not None and listing.kind == "home"
    assert listing.teasers
    assert any("!p" in link for link in listing.links)
    assert any("!t" in link for link in listing.links)


@pytest.mark.parametrize(
    "options", [{"unknown_design": 1.0}, {"faults": "challenge"}], ids=["unknown", "challenge"]
)
def test_unknown_design_and_consent_pages_are_not_articles(options: dict[str, object]) -> None:
    if options.get("faults"):
        options = {"faults": replica.Faults(challenge=1.0)}
    site = replica.Site(60, seed=3, **options)
    with replica.ReplicaServer(site) as server:
        for index in (12, 17):  # the page would be of the current / previous design
            url = f"{server.base_url}/!{site.id_of(index)}/"
            assert extract_article(fetch(url), url) is None, url
        site.configure(unknown_design=0.0, faults=replica.Faults())
        url = f"{server.base_url}/!{site.id_of(12)}/"
        assert extract_article(fetch(url), url) is not None  # the same id, served normally
