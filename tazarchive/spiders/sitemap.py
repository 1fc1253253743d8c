"""``scrapy crawl sitemap``: back-fills from taz's sitemaps.

Reads ``/sitemap-index.xml``, then the google-news sitemap and the monthly
``sitemap-article-online-<from>-<to>.xml`` sitemaps it lists.
``-a since=YYYY-MM-DD`` skips monthly sitemaps that end before that day and
entries dated before it (entries without a date are kept).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from parsel import Selector
from scrapy import Request

from tazarchive.spiders.base import START_META, SpiderArgumentError, TazBaseSpider

if TYPE_CHECKING:
    from scrapy.http import Response

INDEX_PATH = "/sitemap-index.xml"

_MONTHLY_RE = re.compile(r"sitemap-article-online-(\d{4}-\d{2}-\d{2})-(\d{4}-\d{2}-\d{2})\.xml")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class SitemapEntry:
    loc: str
    day: date | None = None  # publication date or lastmod, where given


@dataclass(frozen=True, slots=True)
class Sitemap:
    is_index: bool
    entries: list[SitemapEntry]


def _day(text: str | None) -> date | None:
    match = _DATE_RE.match((text or "").strip())
    if match is None:
        return None
    try:
        return date.fromisoformat(match.group())
    except ValueError:
        return None


def parse_sitemap(xml: bytes) -> Sitemap:
    """Entries of a sitemap index or urlset, with the date each one gives."""
    sel = Selector(body=xml, type="xml")
    sel.remove_namespaces()
    is_index = bool(sel.xpath("/sitemapindex"))
    entries = [
        SitemapEntry(
            loc=loc.strip(),
            day=_day(
                node.xpath("string(news/publication_date)").get()
                or node.xpath("string(lastmod)").get()
            ),
        )
        for node in sel.xpath("/sitemapindex/sitemap | /urlset/url")
        if (loc := node.xpath("string(loc)").get())
    ]
    return Sitemap(is_index=is_index, entries=entries)


def sitemap_wanted(entry: SitemapEntry, since: date | None) -> bool:
    """Whether a sitemap listed in the index may hold articles from ``since`` on."""
    if since is None:
        return True
    monthly = _MONTHLY_RE.search(entry.loc)
    if monthly is not None:
        return date.fromisoformat(monthly.group(2)) >= since
    return entry.day is None or entry.day >= since


def parse_since(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise SpiderArgumentError(f"-a since={value!r}: expected a date YYYY-MM-DD") from None


class SitemapSpider(TazBaseSpider):
    """Articles of taz's sitemaps. An empty sitemap index is DISCOVERY_START_EMPTY."""

    name = "sitemap"
    ARGUMENTS: ClassVar[dict[str, str]] = {
        **TazBaseSpider.ARGUMENTS,
        "since": "YYYY-MM-DD: only articles (and monthly sitemaps) from that day on",
    }

    since: date | None = None

    @classmethod
    def parse_arguments(cls, args: Mapping[str, Any]) -> dict[str, Any]:
        return super().parse_arguments(args) | {"since": parse_since(args.get("since"))}

    def initial_requests(self) -> Iterable[Request]:
        yield Request(
            self.site_url(INDEX_PATH), callback=self.parse_sitemap, meta={START_META: "index"}
        )

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        sitemap = parse_sitemap(response.body)
        if not sitemap.entries and START_META in response.meta:
            self.start_empty(response, "the sitemap index")
        for entry in sitemap.entries:
            if sitemap.is_index:
                url = self.on_site(entry.loc, response.url)
                if url is not None and sitemap_wanted(entry, self.since):
                    yield Request(url, callback=self.parse_sitemap)
                continue
            if self.since is not None and entry.day is not None and entry.day < self.since:
                continue
            request = self.article_request_for(entry.loc, response.url)
            if request is not None:
                yield self.expect_article(request)
