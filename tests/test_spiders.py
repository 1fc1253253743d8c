"""Spider logic on responses built in the test: what gets fetched, under which identity.

Pages here are written for these tests in taz's current markup, with invented text.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request, Spider
from scrapy.http import HtmlResponse, XmlResponse
from scrapy.utils.request import RequestFingerprinter
from scrapy.utils.test import get_crawler

from tazarchive import stats
from tazarchive.extract.errors import PageRejected
from tazarchive.items import Article
from tazarchive.spiders.articles import ArticlesSpider, article_id_of
from tazarchive.spiders.author import AuthorSpider
from tazarchive.spiders.base import (
    ARTICLE_ID_META,
    PROBE_META,
    SpiderArgumentError,
    TazBaseSpider,
    parse_bool,
)
from tazarchive.spiders.feed import FeedSpider, feed_href, feed_links
from tazarchive.spiders.sitemap import SitemapEntry, SitemapSpider, parse_sitemap, sitemap_wanted
from tazarchive.spiders.tag import TagSpider
from tazarchive.spiders.taz import TazSpider

BASE = "http://127.0.0.1:8123"


def make_spider(cls: type[Spider], base: str = BASE, **kwargs: Any) -> Any:
    crawler = get_crawler(cls, {"TAZARCHIVE_BASE_URL": base})
    spider = cls.from_crawler(crawler, **kwargs)
    crawler.spider = spider
    return spider


def html_response(
    url: str, body: str, request: Request | None = None, status: int = 200
) -> HtmlResponse:
    """A response as Scrapy hands it to a callback: tied to its request (meta)."""
    request = request or Request(url)
    return HtmlResponse(url, body=body.encode(), encoding="utf-8", request=request, status=status)


def article_page(id_: str, *, author: str = "900001", tag: str = "900100") -> str:
    return f"""<!DOCTYPE html><html><head>
<link rel="canonical" href="https://taz.de/Erfundener-Titel/!{id_}/">
<meta name="taz:title" data-id="{id_}" content="Erfunden: Ein Titel\u200b">
<meta name="taz:tag" content="Erfundenes" data-tag-id="{tag}" data-tag-category="x">
</head><body>
<article class="module-article article-type-report">
<h1><span class="typo-r-topline-detail">Erfunden</span><span class="is-hidden">: </span>
<span>Ein Titel</span></h1>
<div class="author-container">Von <a href="/Erika-Beispiel/!a{author}/">Erika Beispiel</a></div>
<div class="main-article-corpus"><p class="bodytext paragraph">Ein erfundener Absatz mit
<a class="link in-text-link" href="/Anderes/%217000002&amp;s=x/">Link</a> und
<a class="link in-text-link" href="https://example.org/!7000009/">fremd</a>.</p></div>
<div class="tags-bottom-container"><a href="/Erfundenes/!t{tag}/">#Erfundenes</a></div>
<section id="articleTeaser"><article class="article-teaser">
<a class="teaser-link" href="http://www.taz.de/Verwandt/!7000003"><p class="headline">V</p></a>
</article></section>
</article></body></html>"""


def listing_page(ids: list[str], *, next_href: str | None, pages: int | None = None) -> str:
    teasers = "".join(
        f'<article class="article-teaser"><a class="teaser-link" href="{href}">'
        f'<p class="headline">Teaser {n}</p></a></article>'
        for n, href in enumerate(ids)
    )
    nav = ""
    if next_href is not None or pages:
        numbers = "".join(f'<a href="?search_page={n}">{n}</a>' for n in range(2, (pages or 1) + 1))
        nxt = f'<a class="pagination-next" href="{next_href}">weiter</a>' if next_href else ""
        nav = f'<nav aria-label="pagination"><span aria-current="page">1</span>{numbers}{nxt}</nav>'
    return f"""<!DOCTYPE html><html><head><title>Liste - taz.de</title></head><body>
<h1>Liste</h1>{teasers}
<a href="/Politik/!p4615/">Politik</a> <a href="https://taz.de/Thema/!t900200/">Thema</a>
<a href="/Erika-Beispiel/!a900001/">Erika</a> <a href="https://example.org/Fremd/!t1/">fremd</a>
<a href="/!p4608;rss/">RSS</a>
{nav}</body></html>"""


def started(spider: Spider) -> list[Request]:
    """What the spider's async start() yields."""
    return callback_output(spider.start())


def requests_of(results: Any) -> list[Request]:
    return [r for r in results if isinstance(r, Request)]


def callback_output(results: AsyncIterator[Any]) -> list[Any]:
    """Everything an async generator (a spider callback, start()) yields, in order."""

    async def collect() -> list[Any]:
        return [result async for result in results]

    return asyncio.run(collect())


# --- identity -------------------------------------------------------------------

VARIANTS = [
    "/Tagebuch-aus-Kasachstan/!7000001/",
    "/Tagebuch-aus-Kasachstan/!7000001",
    "/!7000001/",
    "/!7000001",
    "/Anderer-Slug/%217000001/",
    "/Tagebuch/!7000001&s=Suche%2BWort/",
    "/Tagebuch/!7000001&s=x&SuchRahmen=Print/",
    "http://www.taz.de/Tagebuch/!7000001/",
    "https://taz.de/!7000001/",
    "https://m.taz.de/Tagebuch/!7000001/#matomo:x",
    f"{BASE}/Tagebuch/!7000001/",
]


def test_every_variant_of_an_article_link_becomes_one_request() -> None:
    spider = make_spider(TazSpider)
    requests = [spider.article_request_for(href, f"{BASE}/Politik/!p4615/") for href in VARIANTS]
    assert all(r is not None for r in requests)
    assert {r.url for r in requests} == {f"{BASE}/!7000001/"}
    assert {r.meta[ARTICLE_ID_META] for r in requests} == {"7000001"}
    fingerprinter = RequestFingerprinter()
    assert len({fingerprinter.fingerprint(r) for r in requests}) == 1


@pytest.mark.parametrize(
    "href",
    ["https://example.org/Slug/!7000001/", "mailto:x@taz.de", "/Politik/!p4615/", "/!a900001/"],
)
def test_links_that_are_not_site_articles_make_no_article_request(href: str) -> None:
    assert make_spider(TazSpider).article_request_for(href, f"{BASE}/") is None


def test_listing_variants_share_one_url_and_keep_only_the_page() -> None:
    spider = make_spider(TazSpider)
    page = f"{BASE}/"
    assert spider.listing_url("/Erika-Beispiel/!a900001/", page) == f"{BASE}/!a900001/"
    assert spider.listing_url("http://www.taz.de/!a900001", page) == f"{BASE}/!a900001/"
    assert (
        spider.listing_url("/Thema/!t900200/?search_page=3&x=1", page)
        == f"{BASE}/!t900200/?search_page=3"
    )
    assert spider.listing_url("/Politik/!p4615/?foo=1", page) == f"{BASE}/Politik/!p4615/"
    assert spider.listing_url("/!p4608;rss/", page) is None
    assert spider.listing_url("https://example.org/!t1/", page) is None


# --- callbacks -------------------------------------------------------------------


def article_response(spider: Any, id_: str, body: str) -> HtmlResponse:
    """The response to the spider's own request for article ``id_`` (its meta included)."""
    request = spider.article_request(id_)
    return html_response(request.url, body, request)


def test_parse_article_yields_the_article_then_the_taz_spider_follows_its_links() -> None:
    spider = make_spider(TazSpider)
    results = callback_output(
        spider.parse_article(article_response(spider, "7000001", article_page("7000001")))
    )
    assert isinstance(results[0], Article)
    assert results[0].id == "7000001"
    assert {r.url for r in requests_of(results)} == {
        f"{BASE}/!a900001/",
        f"{BASE}/!t900100/",
        f"{BASE}/!7000003/",  # related, written with http://www.taz.de
        f"{BASE}/!7000002/",  # in-text link with %21 and &s=
    }


@pytest.mark.parametrize("cls", [AuthorSpider, TagSpider])
def test_listing_spiders_follow_nothing_from_article_pages(cls: type[Spider]) -> None:
    spider = make_spider(cls, **{cls.argument: "1"})  # type: ignore[attr-defined]
    response = article_response(spider, "7000001", article_page("7000001"))
    assert [type(r) for r in callback_output(spider.parse_article(response))] == [Article]


def test_an_article_request_answered_by_a_page_of_no_known_design_is_rejected() -> None:
    spider = make_spider(TazSpider)
    response = article_response(spider, "7000001", "<html><body>Fehler</body></html>")
    with pytest.raises(PageRejected) as raised:  # for the archive's middleware to count
        callback_output(spider.parse_article(response))
    assert raised.value.reason == "unknown_design"


def test_an_article_page_claiming_another_id_is_rejected() -> None:
    spider = make_spider(TazSpider)
    response = article_response(spider, "7000001", article_page("7000009"))
    with pytest.raises(PageRejected) as raised:
        callback_output(spider.parse_article(response))
    assert raised.value.reason == "id_mismatch"


def test_parse_listing_requests_teasers_by_id_and_the_listings_own_pages() -> None:
    spider = make_spider(AuthorSpider, author="900001")
    started(spider)
    url = f"{BASE}/!a900001/"
    body = listing_page(
        ["/Eins/!7000011/", "/!7000012", "http://www.taz.de/Drei/%217000013/"],
        next_href="/Erika-Beispiel/!a900001/?search_page=2",
        pages=3,
    )
    requests = requests_of(callback_output(spider.parse_listing(html_response(url, body))))
    articles = [r for r in requests if ARTICLE_ID_META in r.meta]
    assert [r.url for r in articles] == [
        f"{BASE}/!7000011/",
        f"{BASE}/!7000012/",
        f"{BASE}/!7000013/",
    ]
    assert all(r.callback == spider.parse_article for r in articles)
    # The author spider follows only its own pages, canonical (no slug), each once.
    assert [r.url for r in requests if r not in articles] == [
        f"{BASE}/!a900001/?search_page=2",
        f"{BASE}/!a900001/?search_page=3",
    ]


def test_the_taz_spider_also_follows_sections_tags_and_authors_on_listings() -> None:
    spider = make_spider(TazSpider)
    body = listing_page(["/Eins/!7000011/"], next_href=None)
    requests = requests_of(callback_output(spider.parse_listing(html_response(f"{BASE}/", body))))
    assert {r.url for r in requests} == {
        f"{BASE}/!7000011/",
        f"{BASE}/Politik/!p4615/",
        f"{BASE}/!t900200/",
        f"{BASE}/!a900001/",
    }


def test_author_spider_sets_expected_articles_from_page_count_then_exactly() -> None:
    spider = make_spider(AuthorSpider, author="https://taz.de/Erika-Beispiel/!a900001/")
    (start,) = started(spider)
    collected = spider.crawler.stats
    first = listing_page(
        [f"/!70000{n:02d}/" for n in range(20)], next_href="?search_page=2", pages=3
    )
    callback_output(spider.parse_listing(html_response(start.url, first, start)))
    assert collected.get_value(stats.EXPECTED_ARTICLES) == 60  # 3 pages x 20
    # The last page (it links no later one) makes the count exact: 20 + 2 new ones.
    last = listing_page(["/!7000100/", "/!7000101/", "/!7000001/"], next_href=None, pages=3)
    callback_output(spider.parse_listing(html_response(f"{BASE}/!a900001/?search_page=3", last)))
    assert collected.get_value(stats.EXPECTED_ARTICLES) == 22


def test_author_and_tag_spiders_start_at_the_canonical_listing() -> None:
    author = make_spider(AuthorSpider, author="/Erika-Beispiel/!a900001/")
    tag = make_spider(TagSpider, tag="t900100")
    assert [r.url for r in started(author)] == [f"{BASE}/!a900001/"]
    assert [r.url for r in started(tag)] == [f"{BASE}/!t900100/"]


@pytest.mark.parametrize(
    ("cls", "kwargs", "message"),
    [
        (AuthorSpider, {}, "needs -a author="),
        (AuthorSpider, {"author": "/Politik/!p4615/"}, "not a taz author"),
        (TagSpider, {"tag": "abc"}, "not a taz tag"),
        (ArticlesSpider, {}, "needs -a ids="),
        (ArticlesSpider, {"ids": "7000001,hallo"}, "-a ids: not a taz article id or URL: 'hallo'"),
        (SitemapSpider, {"since": "2024-13-01"}, "-a since='2024-13-01'"),
        (FeedSpider, {"feeds": "https://example.org/!p1;rss/"}, "not a taz section or feed"),
        (TazSpider, {"refresh": "vielleicht"}, "-a refresh='vielleicht'"),
    ],
)
def test_bad_arguments_are_one_clear_line(
    cls: type[Spider], kwargs: dict[str, str], message: str
) -> None:
    spider = make_spider(cls, **kwargs)
    assert spider.argument_error is not None
    assert message in spider.argument_error
    assert "\n" not in spider.argument_error


def test_a_bad_base_url_is_reported_like_a_bad_argument() -> None:
    spider = make_spider(TazSpider, base="ftp://taz.de")
    assert "TAZARCHIVE_BASE_URL" in (spider.argument_error or "")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("yes", True), ("True", True), ("0", False), ("", False), (None, False)],
)
def test_refresh_flag_is_normalised_to_bool(value: str | None, expected: bool) -> None:
    assert parse_bool(value, "refresh") is expected
    assert make_spider(TazSpider, refresh=value).refresh is expected


# --- articles spider ---------------------------------------------------------------


def test_article_ids_come_from_ids_urls_and_file_each_once(tmp_path: Path) -> None:
    listing = tmp_path / "list.txt"
    listing.write_text(
        "# comment\n7000003\n\nhttps://taz.de/Slug/!7000004/\n  /!7000001  \n", encoding="utf-8"
    )
    spider = make_spider(
        ArticlesSpider,
        ids="7000001, !7000002",
        urls="http://www.taz.de/A/%217000002&s=x/,https://taz.de/B/!7000005",
        file=str(listing),
    )
    assert spider.argument_error is None
    assert spider.article_ids == ["7000001", "7000002", "7000005", "7000003", "7000004"]


def test_articles_spider_requests_exactly_its_ids_and_expects_them() -> None:
    spider = make_spider(ArticlesSpider, ids="7000001,7000002")
    requests = started(spider)
    assert [(r.url, r.meta[ARTICLE_ID_META]) for r in requests] == [
        (f"{BASE}/!7000001/", "7000001"),
        (f"{BASE}/!7000002/", "7000002"),
    ]
    assert spider.crawler.stats.get_value(stats.EXPECTED_ARTICLES) == 2


def test_a_bad_line_in_the_id_file_names_file_and_line(tmp_path: Path) -> None:
    listing = tmp_path / "list.txt"
    listing.write_text("7000001\n/Politik/!p4615/\n", encoding="utf-8")
    spider = make_spider(ArticlesSpider, file=str(listing))
    assert (
        spider.argument_error
        == f"{listing} line 2: not a taz article id or URL: '/Politik/!p4615/'"
    )


def test_a_missing_id_file_is_a_clear_error(tmp_path: Path) -> None:
    spider = make_spider(ArticlesSpider, file=str(tmp_path / "nope.txt"))
    assert (spider.argument_error or "").startswith(
        f"-a file='{tmp_path / 'nope.txt'}': cannot read"
    )


def test_article_id_of_accepts_ids_and_article_urls_only() -> None:
    assert article_id_of("173359") == "173359"
    assert article_id_of("!6110749") == "6110749"
    assert article_id_of("https://taz.de/Slug/!6110749/") == "6110749"
    assert article_id_of("/Name/!a144060/") is None


# --- feed --------------------------------------------------------------------------

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>taz</title>
<link>https://taz.de/</link>
<item><title>Eins</title><link>https://taz.de/Eins/!7000021/</link></item>
<item><title>Zwei</title><link>http://www.taz.de/!7000022</link></item>
<item><title>Zwei nochmal</title><link>https://taz.de/Zwei/%217000022&amp;s=x/</link></item>
<item><title>Nur guid</title><guid>https://taz.de/Drei/!7000023/</guid></item>
<item><title>Fremd</title><link>https://example.org/!7000024/</link></item>
</channel></rss>"""


def test_feed_links_reads_item_links_and_guids_in_order() -> None:
    assert feed_links(RSS) == [
        "https://taz.de/Eins/!7000021/",
        "http://www.taz.de/!7000022",
        "https://taz.de/Zwei/%217000022&s=x/",
        "https://taz.de/Drei/!7000023/",
        "https://example.org/!7000024/",
    ]


def test_feed_spider_requests_feed_articles_on_site_and_counts_each_once() -> None:
    spider = make_spider(FeedSpider)
    response = XmlResponse(f"{BASE}/!p4608;rss/", body=RSS)
    requests = list(spider.parse_feed(response))
    assert [r.url for r in requests] == [
        f"{BASE}/!7000021/",
        f"{BASE}/!7000022/",
        f"{BASE}/!7000022/",  # the dupefilter drops it; the count does not double
        f"{BASE}/!7000023/",
    ]
    assert spider.crawler.stats.get_value(stats.EXPECTED_ARTICLES) == 3


def test_feed_spider_reads_the_overall_feed_or_the_given_sections() -> None:
    assert [r.url for r in started(make_spider(FeedSpider))] == [f"{BASE}/!p4608;rss/"]
    spider = make_spider(FeedSpider, feeds="4615,https://taz.de/Politik/Deutschland/!p4616/")
    assert [r.url for r in started(spider)] == [
        f"{BASE}/!p4615;rss/",
        f"{BASE}/Politik/Deutschland/!p4616;rss/",
    ]
    assert feed_href("/Politik/!p4615;rss/") == "/Politik/!p4615;rss/"


# --- sitemap -----------------------------------------------------------------------

INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://taz.de/sitemap-google-news.xml</loc></sitemap>
<sitemap><loc>https://taz.de/sitemap-article-online-2024-09-01-2024-09-30.xml</loc></sitemap>
<sitemap><loc>https://taz.de/sitemap-article-online-2024-10-01-2024-10-31.xml</loc>
<lastmod>2024-10-31</lastmod></sitemap>
<sitemap><loc>https://example.org/sitemap-elsewhere.xml</loc></sitemap>
</sitemapindex>"""

URLSET = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
 xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>https://taz.de/Alt/!7000031/</loc><lastmod>2024-10-02T08:00:00+02:00</lastmod></url>
<url><loc>https://taz.de/Neu/!7000032/</loc>
<news:news><news:publication_date>2024-10-20T10:00:00+02:00</news:publication_date></news:news>
</url>
<url><loc>https://taz.de/Ohne-Datum/!7000033/</loc></url>
<url><loc>https://taz.de/Politik/!p4615/</loc><lastmod>2024-10-25</lastmod></url>
</urlset>"""


def test_parse_sitemap_reads_index_and_urlset_with_dates() -> None:
    index = parse_sitemap(INDEX)
    assert index.is_index
    assert [e.loc.rsplit("/", 1)[1] for e in index.entries] == [
        "sitemap-google-news.xml",
        "sitemap-article-online-2024-09-01-2024-09-30.xml",
        "sitemap-article-online-2024-10-01-2024-10-31.xml",
        "sitemap-elsewhere.xml",
    ]
    urlset = parse_sitemap(URLSET)
    assert not urlset.is_index
    assert [e.day for e in urlset.entries] == [
        date(2024, 10, 2),
        date(2024, 10, 20),
        None,
        date(2024, 10, 25),
    ]


def test_since_skips_monthly_sitemaps_that_end_before_it() -> None:
    since = date(2024, 10, 15)
    monthly = "https://taz.de/sitemap-article-online-2024-09-01-2024-09-30.xml"
    assert not sitemap_wanted(SitemapEntry(monthly), since)
    assert sitemap_wanted(SitemapEntry(monthly), None)
    assert sitemap_wanted(SitemapEntry("https://taz.de/sitemap-google-news.xml"), since)


def test_sitemap_spider_follows_wanted_sitemaps_on_site_only() -> None:
    spider = make_spider(SitemapSpider, since="2024-10-15")
    response = XmlResponse(f"{BASE}/sitemap-index.xml", body=INDEX)
    assert [r.url for r in spider.parse_sitemap(response)] == [
        f"{BASE}/sitemap-google-news.xml",
        f"{BASE}/sitemap-article-online-2024-10-01-2024-10-31.xml",
    ]


def test_sitemap_spider_keeps_entries_from_since_on_and_undated_ones() -> None:
    spider = make_spider(SitemapSpider, since="2024-10-15")
    response = XmlResponse(f"{BASE}/sitemap-google-news.xml", body=URLSET)
    assert [r.meta[ARTICLE_ID_META] for r in spider.parse_sitemap(response)] == [
        "7000032",
        "7000033",
    ]
    everything = make_spider(SitemapSpider)
    ids = [r.meta[ARTICLE_ID_META] for r in everything.parse_sitemap(response)]
    assert ids == ["7000031", "7000032", "7000033"]
    assert everything.crawler.stats.get_value(stats.EXPECTED_ARTICLES) == 3


def test_the_taz_spider_asks_for_each_article_and_listing_once() -> None:
    spider = make_spider(TazSpider)
    body = listing_page(["/Eins/!7000011/", "/!7000011"], next_href="?search_page=2")
    first = requests_of(
        callback_output(spider.parse_listing(html_response(f"{BASE}/Politik/!p4615/", body)))
    )
    again = requests_of(
        callback_output(spider.parse_listing(html_response(f"{BASE}/Politik/!p4616/", body)))
    )
    # A listing's link to itself is not among its links.
    assert sorted(r.url for r in first) == sorted(
        [
            f"{BASE}/!7000011/",
            f"{BASE}/Politik/!p4615/?search_page=2",
            f"{BASE}/!t900200/",
            f"{BASE}/!a900001/",
        ]
    )
    # Same links on another page: only its own next page is new (!p4615 was fetched).
    assert [r.url for r in again] == [f"{BASE}/Politik/!p4616/?search_page=2"]


# --- discovery by link pattern, whatever the markup ----------------------------------


def plain_listing(hrefs: list[str], *, extra: str = "") -> str:
    """A listing in markup no extractor knows: links in plain div/span elements."""
    items = "".join(
        f'<div><span><a href="{href}">Text {n}</a></span></div>' for n, href in enumerate(hrefs)
    )
    return f"<!DOCTYPE html><html><body><main>{items}{extra}</main></body></html>"


def probes(requests: list[Request]) -> list[str]:
    return [r.url for r in requests if PROBE_META in r.meta]


def test_the_author_spider_follows_article_and_page_links_in_plain_markup() -> None:
    spider = make_spider(AuthorSpider, author="900001")
    (start,) = started(spider)
    body = plain_listing(
        [
            "/Eins/!7000011/",
            "https://taz.de/!7000012",
            "/Erika/!a900001/?search_page=1",
            "/Erika/!a900001/?search_page=4",
            "/Anders/!a900002/",
            "/Politik/!p4615/",
        ]
    )
    requests = requests_of(
        callback_output(spider.parse_listing(html_response(start.url, body, start)))
    )
    assert [r.url for r in requests] == [
        f"{BASE}/!7000011/",
        f"{BASE}/!7000012/",
        f"{BASE}/!a900001/?search_page=1",
        f"{BASE}/!a900001/?search_page=4",
    ]
    assert probes(requests) == []  # pagination links are there: no page is guessed
    assert spider.crawler.stats.get_value(stats.LISTING_PAGES) == 1


def full_page(first: int) -> list[str]:
    """A full listing page's article links (20), ids counting up from ``first``."""
    return [f"/Slug/!{first + n}/" for n in range(20)]


def test_a_listing_without_page_links_is_probed_while_pages_are_full() -> None:
    spider = make_spider(TagSpider, tag="900100")
    (start,) = started(spider)
    page1 = plain_listing([*full_page(7000100), "/Thema/!t900100/"])
    requests = requests_of(
        callback_output(spider.parse_listing(html_response(start.url, page1, start)))
    )
    assert probes(requests) == [f"{BASE}/!t900100/?search_page=1"]
    (probe,) = [r for r in requests if PROBE_META in r.meta]
    assert 404 in probe.meta["handle_httpstatus_list"]  # past the end may be a 404
    page2 = plain_listing(full_page(7000120))
    requests = requests_of(
        callback_output(spider.parse_listing(html_response(probe.url, page2, probe)))
    )
    assert len([r for r in requests if ARTICLE_ID_META in r.meta]) == 20
    assert probes(requests) == [f"{BASE}/!t900100/?search_page=2"]
    (probe,) = [r for r in requests if PROBE_META in r.meta]
    # Only links already seen on this listing: past the end, and no empty-listing alarm.
    page3 = plain_listing(full_page(7000120)[:5])
    assert (
        requests_of(callback_output(spider.parse_listing(html_response(probe.url, page3, probe))))
        == []
    )
    collected = spider.crawler.stats
    assert collected.get_value(stats.LISTING_PAGES_PROBED) == 2
    assert collected.get_value(stats.LISTINGS_WITHOUT_ARTICLES) is None
    assert collected.get_value(stats.EXPECTED_ARTICLES) == 40


def test_a_short_listing_page_without_page_links_is_its_last() -> None:
    spider = make_spider(TagSpider, tag="900100")
    (start,) = started(spider)
    body = plain_listing(full_page(7000100)[:9])
    requests = requests_of(
        callback_output(spider.parse_listing(html_response(start.url, body, start)))
    )
    assert probes(requests) == []
    assert spider.crawler.stats.get_value(stats.EXPECTED_ARTICLES) == 9


def test_a_probe_answered_404_ends_the_listing_quietly() -> None:
    spider = make_spider(TagSpider, tag="900100")
    (start,) = started(spider)
    body = plain_listing(full_page(7000100))
    requests = requests_of(
        callback_output(spider.parse_listing(html_response(start.url, body, start)))
    )
    (probe,) = [r for r in requests if PROBE_META in r.meta]
    gone = html_response(probe.url, "<html><body>weg</body></html>", probe, status=404)
    assert callback_output(spider.parse_listing(gone)) == []
    assert spider.crawler.stats.get_value(stats.DISCOVERY_TARGET_MISSING) is None


def test_pages_counted_from_one_are_probed_past_the_repeated_first_page() -> None:
    spider = make_spider(TagSpider, tag="900100")
    (start,) = started(spider)
    page1 = plain_listing(full_page(7000100))
    requests = requests_of(
        callback_output(spider.parse_listing(html_response(start.url, page1, start)))
    )
    (probe,) = [r for r in requests if PROBE_META in r.meta]
    # search_page=1 shows the first page again where pages count from 1 ...
    requests = requests_of(
        callback_output(spider.parse_listing(html_response(probe.url, page1, probe)))
    )
    # ... so search_page=2 is tried before giving up.
    assert probes(requests) == [f"{BASE}/!t900100/?search_page=2"]


def test_the_last_page_of_shown_pagination_is_not_probed_past() -> None:
    spider = make_spider(TagSpider, tag="900100")
    started(spider)
    body = plain_listing(["/A/!7000011/", "?search_page=1", "?search_page=3"])
    url = f"{BASE}/!t900100/?search_page=3"
    assert (
        probes(requests_of(callback_output(spider.parse_listing(html_response(url, body))))) == []
    )


def test_the_taz_spider_follows_every_pattern_link_on_a_page_of_unknown_kind() -> None:
    spider = make_spider(TazSpider)
    body = plain_listing(
        [
            "/Eins/!7000011/",
            "/Thema/!t900200/",
            "/Name/!a900001/",
            "/Kultur/!p4639/?search_page=2",
            "/!ku123/",
            "/!v=abc/",
            "/!s=suche/",
            "/!p4608;rss/",
            "https://example.org/X/!7000099/",
        ]
    )
    requests = requests_of(
        callback_output(spider.parse_listing(html_response(f"{BASE}/1/debatte", body)))
    )
    assert [r.url for r in requests] == [
        f"{BASE}/!7000011/",
        f"{BASE}/!t900200/",
        f"{BASE}/!a900001/",
        f"{BASE}/Kultur/!p4639/?search_page=2",
    ]


def test_the_taz_spider_follows_links_from_an_article_in_any_markup() -> None:
    spider = make_spider(TazSpider)
    links = '<div><span><a href="/Zwei/!7000005/">x</a><a href="/Kultur/!p4639/">y</a></span></div>'
    body = article_page("7000001").replace("</body>", f"{links}</body>")
    results = callback_output(spider.parse_article(article_response(spider, "7000001", body)))
    assert {f"{BASE}/!7000005/", f"{BASE}/Kultur/!p4639/"} <= {r.url for r in requests_of(results)}


# --- alarms ---------------------------------------------------------------------------


def test_a_listing_page_without_article_links_is_counted() -> None:
    spider = make_spider(TazSpider)
    body = plain_listing(["/Politik/!p4615/"])
    callback_output(spider.parse_listing(html_response(f"{BASE}/Kultur/!p4639/", body)))
    assert spider.crawler.stats.get_value(stats.LISTINGS_WITHOUT_ARTICLES) == 1
    assert spider.crawler.stats.get_value(stats.DISCOVERY_START_EMPTY) is None


def test_a_home_page_without_article_links_is_an_empty_start() -> None:
    spider = make_spider(TazSpider)
    (home,) = started(spider)
    body = plain_listing(["/Politik/!p4615/"])
    callback_output(spider.parse_listing(html_response(home.url, body, home)))
    assert spider.crawler.stats.get_value(stats.DISCOVERY_START_EMPTY) == 1
    assert spider.crawler.stats.get_value(stats.LISTINGS_WITHOUT_ARTICLES) is None


def test_a_feed_without_articles_is_an_empty_start() -> None:
    spider = make_spider(FeedSpider)
    (feed,) = started(spider)
    empty = XmlResponse(
        feed.url, body=b"<rss><channel><title>t</title></channel></rss>", request=feed
    )
    assert list(spider.parse_feed(empty)) == []
    assert spider.crawler.stats.get_value(stats.DISCOVERY_START_EMPTY) == 1


@pytest.mark.parametrize(
    ("cls", "kwargs"),
    [(AuthorSpider, {"author": "999999999"}), (TagSpider, {"tag": "999999999"})],
)
def test_a_404_for_the_author_or_tag_asked_for_is_counted(
    cls: type[Spider], kwargs: dict[str, str]
) -> None:
    spider = make_spider(cls, **kwargs)
    (start,) = started(spider)
    assert 404 in start.meta["handle_httpstatus_list"]
    missing = html_response(start.url, "<html><body>404</body></html>", start, status=404)
    assert callback_output(spider.parse_listing(missing)) == []
    assert spider.crawler.stats.get_value(stats.DISCOVERY_TARGET_MISSING) == 1
    assert spider.crawler.stats.get_value(stats.LISTINGS_WITHOUT_ARTICLES) is None


def test_a_404_for_an_article_asked_for_is_counted() -> None:
    spider = make_spider(ArticlesSpider, ids="7000001")
    (request,) = started(spider)
    missing = html_response(request.url, "<html></html>", request, status=404)
    assert callback_output(spider.parse_article(missing)) == []
    assert spider.crawler.stats.get_value(stats.DISCOVERY_TARGET_MISSING) == 1


def test_a_404_for_a_feed_asked_for_is_counted() -> None:
    spider = make_spider(FeedSpider, feeds="4615")
    (feed,) = started(spider)
    missing = XmlResponse(feed.url, body=b"", request=feed, status=404)
    assert list(spider.parse_feed(missing)) == []
    assert spider.crawler.stats.get_value(stats.DISCOVERY_TARGET_MISSING) == 1


# --- arguments ------------------------------------------------------------------------

SPIDERS = [TazSpider, ArticlesSpider, AuthorSpider, TagSpider, FeedSpider, SitemapSpider]


def test_every_spider_declares_its_arguments_with_help() -> None:
    declared = {cls.name: set(cls.ARGUMENTS) for cls in SPIDERS}
    assert declared == {
        "taz": {"refresh"},
        "articles": {"refresh", "ids", "urls", "file"},
        "author": {"refresh", "author"},
        "tag": {"refresh", "tag"},
        "feed": {"refresh", "feeds"},
        "sitemap": {"refresh", "since"},
    }
    assert all(help_ and "\n" not in help_ for cls in SPIDERS for help_ in cls.ARGUMENTS.values())


@pytest.mark.parametrize(
    ("cls", "args", "message"),
    [
        (TazSpider, {"tag": "1"}, "spider taz: unknown argument -a tag (takes: refresh)"),
        (AuthorSpider, {"autor": "1"}, "spider author: unknown argument -a autor"),
        (AuthorSpider, {}, "spider author: needs -a author="),
        (SitemapSpider, {"since": "gestern"}, "spider sitemap: -a since='gestern'"),
        (TazSpider, {"refresh": "vielleicht"}, "spider taz: -a refresh='vielleicht'"),
        (ArticlesSpider, {"ids": "1,x"}, "spider articles: -a ids: not a taz article id"),
    ],
)
def test_check_arguments_refuses_unknown_names_and_bad_values_in_one_line(
    cls: type[TazBaseSpider], args: dict[str, str], message: str
) -> None:
    with pytest.raises(SpiderArgumentError) as raised:
        cls.check_arguments(args)
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("cls", "args"),
    [
        (TazSpider, {}),
        (TazSpider, {"refresh": "1", "_job": "abc"}),  # scrapyd adds _job
        (TagSpider, {"tag": "t900100"}),
        (SitemapSpider, {"since": "2024-10-01"}),
        (FeedSpider, {"feeds": "4615"}),
        (ArticlesSpider, {"urls": "https://taz.de/!7000001/"}),
    ],
)
def test_check_arguments_accepts_what_the_spider_takes(
    cls: type[TazBaseSpider], args: dict[str, str]
) -> None:
    cls.check_arguments(args)
    assert make_spider(cls, **args).argument_error is None


def test_an_unknown_argument_given_to_the_spider_itself_is_refused() -> None:
    spider = make_spider(TazSpider, tag="1")
    assert spider.argument_error == "unknown argument -a tag (takes: refresh)"
