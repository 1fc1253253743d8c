"""Golden tests: our own fixture pages (taz markup, invented text) against hand-written JSON.

Each ``tests/data/extract/<name>.html`` has ``<name>.expected.json``, written
by reading the page. Block links are written as ``[n, linked text]`` pairs,
so no offsets had to be counted by hand.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tazarchive.extract import PARSER_VERSION, extract_article, extract_listing
from tazarchive.items import Article, Listing

from .conftest import DATA

FIXTURES = DATA / "extract"
ARTICLE_PAGES = sorted(FIXTURES.glob("article-*.html"))
LISTING_PAGES = sorted(FIXTURES.glob("listing-*.html"))
FETCHED = datetime.fromisoformat("2026-01-02T03:04:05+00:00")


def expected_for(page: Path) -> dict[str, Any]:
    return json.loads(page.with_name(page.stem + ".expected.json").read_text("utf-8"))


def article_fields(article: Article) -> dict[str, Any]:
    """The article in the expected files' shape."""
    return {
        "id": article.id,
        "url": article.url,
        "topline": article.topline,
        "title": article.title,
        "teaser": article.teaser,
        "authors": [{"name": a.name, "id": a.id, "url": a.url} for a in article.authors],
        "published": article.published.isoformat() if article.published else None,
        "picture": (
            {
                "caption": article.picture.caption,
                "credit": article.picture.credit,
                "url": article.picture.url,
            }
            if article.picture
            else None
        ),
        "body": [
            {
                "kind": b.kind,
                "text": b.text,
                "links": [[s.n, b.text[s.start : s.end]] for s in b.links],
            }
            for b in article.body
        ],
        "links": [{"text": link.text, "href": link.href} for link in article.links],
        "tags": [{"name": t.name, "id": t.id, "category": t.category} for t in article.tags],
        "related": [
            {"id": r.id, "url": r.url, "topline": r.topline, "title": r.title, "teaser": r.teaser}
            for r in article.related
        ],
        "genre": article.genre,
        "layout": article.layout,
        "body_mismatch": article.body_mismatch,
    }


def page_url(page: Path) -> str:
    """The URL the page was fetched under: ``_page_url`` in its expected file, else home."""
    return str(expected_for(page).get("_page_url", "https://taz.de/"))


@pytest.mark.parametrize("page", ARTICLE_PAGES, ids=lambda p: p.stem)
def test_fixture_article_matches_expected_fields(page: Path) -> None:
    article = extract_article(page.read_bytes(), page_url(page), fetched=FETCHED)
    assert article is not None, f"{page.name}: not extracted"
    got = article_fields(article)
    for name, want in expected_for(page).items():
        if name.startswith("_"):
            continue
        if isinstance(want, dict) and "contains" in want:
            assert want["contains"] in (got[name] or ""), f"{page.name}: field {name}"
        else:
            assert got[name] == want, f"{page.name}: field {name}"


@pytest.mark.parametrize("page", ARTICLE_PAGES, ids=lambda p: p.stem)
def test_fixture_article_is_stamped_with_parser_version_and_fetch_time(page: Path) -> None:
    article = extract_article(page.read_bytes(), "https://taz.de/", fetched=FETCHED)
    assert article is not None
    assert article.parser_version == PARSER_VERSION
    assert article.fetched == FETCHED
    assert article.published is None or article.published.tzinfo is not None


def listing_fields(listing: Listing) -> dict[str, Any]:
    return {
        "url": listing.url,
        "kind": listing.kind,
        "name": listing.name,
        "teasers": [
            {
                "id": t.id,
                "url": t.url,
                "topline": t.topline,
                "title": t.title,
                "teaser": t.teaser,
                "author": t.author,
                "date": t.date,
            }
            for t in listing.teasers
        ],
        "next_url": listing.next_url,
        "page": listing.page,
        "page_count": listing.page_count,
        "links": listing.links,
    }


@pytest.mark.parametrize("page", LISTING_PAGES, ids=lambda p: p.stem)
def test_fixture_listing_matches_expected_fields(page: Path) -> None:
    expected = expected_for(page)
    listing = extract_listing(page.read_bytes(), expected["url"])
    assert listing is not None, f"{page.name}: not read as a listing"
    got = listing_fields(listing)
    for name, want in expected.items():
        assert got[name] == want, f"{page.name}: field {name}"


@pytest.mark.parametrize("page", LISTING_PAGES, ids=lambda p: p.stem)
def test_listing_page_is_not_an_article(page: Path) -> None:
    assert extract_article(page.read_bytes(), expected_for(page)["url"]) is None


@pytest.mark.parametrize("page", ARTICLE_PAGES, ids=lambda p: p.stem)
def test_article_page_is_not_a_listing(page: Path) -> None:
    assert extract_listing(page.read_bytes(), "https://taz.de/") is None


def test_fixtures_cover_every_listing_kind() -> None:
    kinds = {expected_for(page)["kind"] for page in LISTING_PAGES}
    assert kinds >= {"home", "section", "tag", "author", "search"}


def test_previous_design_listing_is_read_from_objlink_items() -> None:
    page = (
        "<html><head><title>Kultur - taz.de</title></head><body><ul class='directory'>"
        "<li><a href='/Neue-Oper/!5700001/' class='objlink'><h4>Neue Oper</h4>"
        "<h3>Laut und leise</h3><p>Eine erfundene Kritik. <span class='author'>Ina Test</span>"
        "</p></a></li>"
        "<li><a href='/Kultur/!p4639/' class='objlink'><h3>Kultur</h3></a></li>"
        "</ul></body></html>"
    )
    listing = extract_listing(page, "https://taz.de/Kultur/!p4639/")
    assert listing is not None
    assert (listing.kind, listing.name) == ("section", "Kultur")
    assert [(t.id, t.topline, t.title, t.teaser, t.author) for t in listing.teasers] == [
        ("5700001", "Neue Oper", "Laut und leise", "Eine erfundene Kritik.", "Ina Test")
    ]
