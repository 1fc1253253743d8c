"""taz URL patterns: every variant of a link maps to one identity."""

from __future__ import annotations

import pytest

from tazarchive import urls


@pytest.mark.parametrize(
    "href",
    [
        "/Entwurf-eines-Gesetzes/!5928990/",
        "/Entwurf-eines-Gesetzes/!5928990",
        "/!5928990/",
        "/!5928990",
        "/Entwurf-eines-Gesetzes/%215928990/",
        "/Entwurf-eines-Gesetzes/!5928990&s=Gesetz%2BEntwurf/",
        "/Entwurf-eines-Gesetzes/!5928990&s=Gesetz&SuchRahmen=Print/",
        "http://www.taz.de/Entwurf-eines-Gesetzes/!5928990/",
        "https://taz.de/!5928990/?x=1#matomo:campaign",
    ],
)
def test_article_link_variants_share_one_id(href: str) -> None:
    assert urls.article_id(href) == "5928990"


@pytest.mark.parametrize(
    ("href", "kind", "id_"),
    [
        ("/Erika-Musterfrau/!a144060/", "author", "144060"),
        ("/Schwerpunkt-Beispiel/!t5008150", "tag", "5008150"),
        ("/Politik/Deutschland/!p4616/", "section", "4616"),
        ("/!173359/", "article", "173359"),
    ],
)
def test_classify_names_kind_and_id(href: str, kind: str, id_: str) -> None:
    obj = urls.classify(href)
    assert obj is not None
    assert (obj.kind, obj.id) == (kind, id_)


def test_feed_suffix_is_a_channel_of_the_section() -> None:
    assert urls.classify("/Politik/!p4615;rss/") == urls.TazObject("section", "4615", "rss")


@pytest.mark.parametrize(
    "href",
    [
        "/!ku12345/",  # reader profile
        "/taz-Stiftung/!v=e4eb8635-98d1-4a5d-b035-a82efb835967/",  # static page
        "/!s=Wahl/",  # search
        "/",
        "/Politik/",
        "/Slug-mit-!123-mittendrin/",
    ],
)
def test_non_object_links_are_not_classified(href: str) -> None:
    assert urls.classify(href) is None


@pytest.mark.parametrize("value", ["144060", "a144060", "!a144060", "/Erika-Musterfrau/!a144060/"])
def test_author_id_accepts_id_or_url(value: str) -> None:
    assert urls.author_id(value) == "144060"


def test_author_id_rejects_a_tag_url() -> None:
    assert urls.author_id("/Tag/!t5008150/") is None


@pytest.mark.parametrize("value", ["5008150", "t5008150", "https://taz.de/Tag/!t5008150/"])
def test_tag_id_accepts_id_or_url(value: str) -> None:
    assert urls.tag_id(value) == "5008150"


def test_on_site_maps_taz_hosts_onto_the_base_url() -> None:
    base = "http://127.0.0.1:8000"
    assert urls.on_site("http://www.taz.de/!1/", f"{base}/x/", base) == f"{base}/!1/"
    assert urls.on_site("https://taz.de/A/!a2/", f"{base}/x/", base) == f"{base}/A/!a2/"
    assert urls.on_site("/B/!t3/?search_page=2", f"{base}/x/", base) == (
        f"{base}/B/!t3/?search_page=2"
    )


@pytest.mark.parametrize(
    "href", ["https://example.org/!123/", "mailto:leserbriefe@example.org", "ftp://taz.de/!1/"]
)
def test_on_site_drops_links_that_leave_the_site(href: str) -> None:
    assert urls.on_site(href, "https://taz.de/", "https://taz.de") is None


def test_article_url_is_the_bare_id_form() -> None:
    assert (
        urls.article_url("http://127.0.0.1:8000/", "5928990") == "http://127.0.0.1:8000/!5928990/"
    )


def test_with_page_replaces_the_page_number() -> None:
    assert urls.with_page("https://taz.de/!a1/?search_page=2", 3) == (
        "https://taz.de/!a1/?search_page=3"
    )
    assert urls.with_page("https://taz.de/!t1/", 1) == "https://taz.de/!t1/?search_page=1"


@pytest.mark.parametrize("bad", ["taz.de", "ftp://taz.de", "", "http://"])
def test_normalise_base_rejects_non_http_urls(bad: str) -> None:
    with pytest.raises(ValueError, match="base URL"):
        urls.normalise_base(bad)


def test_normalise_base_strips_the_trailing_slash() -> None:
    assert urls.normalise_base("https://taz.de/") == "https://taz.de"


def test_page_links_finds_articles_and_listings_by_pattern_each_once() -> None:
    base = "http://127.0.0.1:8123"
    page = f"{base}/Politik/!p4615/"
    hrefs = [
        "/Eins/!7000011/",
        "http://www.taz.de/Eins/%217000011&s=x/",  # the same article again
        "https://example.org/Fremd/!7000099/",  # off the site
        "//example.org/Fremd/!7000098/",
        "/Name/!a900001/",
        "/Anders/!a900001/?search_page=2&x=1",
        "?search_page=3",  # the page's own pagination, relative
        "/!p4608;rss/",  # a feed, not a listing
        "/!ku77/",
        "/!s=suche/",
        "mailto:x@taz.de",
    ]
    found = urls.page_links(hrefs, page, base)
    assert found.articles == ["7000011"]
    assert found.listings == [
        f"{base}/!a900001/",
        f"{base}/!a900001/?search_page=2",
        f"{base}/Politik/!p4615/?search_page=3",
    ]


def test_search_page_and_listing_key_read_a_listing_url() -> None:
    assert urls.search_page("https://taz.de/!t1/?search_page=4") == 4
    assert urls.search_page("https://taz.de/!t1/") is None
    assert urls.search_page("https://taz.de/!t1/?search_page=x") is None
    assert urls.listing_key("https://taz.de/Politik/!p4615/?search_page=2") == ("section", "4615")
    assert urls.listing_key("/Name/!a7/") == ("author", "7")
    assert urls.listing_key("/!p4608;rss/") is None
    assert urls.listing_key("/Slug/!7000001/") is None
