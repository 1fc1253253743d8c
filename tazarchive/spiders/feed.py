"""``scrapy crawl feed``: the articles in taz's RSS feeds, for cheap frequent runs.

Default: the overall feed ``/!p4608;rss/``. ``-a feeds=4615,/Politik/!p4615;rss/``
adds or replaces it with section feeds (a section id, a section URL or a feed URL).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

from parsel import Selector
from scrapy import Request

from tazarchive import urls
from tazarchive.spiders.base import SpiderArgumentError, TazBaseSpider, split_list

if TYPE_CHECKING:
    from scrapy.http import Response

DEFAULT_FEED = "/!p4608;rss/"


def feed_links(xml: bytes) -> list[str]:
    """Article links of an RSS 2.0 or Atom feed, in feed order (``link``, else ``guid``)."""
    sel = Selector(body=xml, type="xml")
    sel.remove_namespaces()
    links: list[str] = []
    for entry in sel.xpath("//item | //entry"):
        link = (
            entry.xpath("normalize-space(link[not(@href)])").get()
            or entry.xpath("string(link[@rel='alternate' or not(@rel)]/@href)").get()
            or entry.xpath("normalize-space(guid)").get()
        )
        if link:
            links.append(link.strip())
    return links


def feed_href(value: str) -> str | None:
    """Feed link for a ``-a feeds`` entry: a section id, a section URL or a feed URL."""
    text = value.strip()
    bare = text.removeprefix("!").removeprefix("p")
    if bare.isdigit():
        return f"/!p{bare};rss/"
    obj = urls.classify(text)
    if obj is None or obj.kind != "section":
        return None
    if obj.channel == "rss":
        return text
    parts = urlsplit(text)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + ";rss/", "", ""))


class FeedSpider(TazBaseSpider):
    """Articles of taz's feeds. A feed without article links is DISCOVERY_START_EMPTY;
    a 404 for a feed given with ``-a feeds`` is DISCOVERY_TARGET_MISSING."""

    name = "feed"
    ARGUMENTS: ClassVar[dict[str, str]] = {
        **TazBaseSpider.ARGUMENTS,
        "feeds": "section ids, section URLs or feed URLs, comma-separated (default: /!p4608;rss/)",
    }

    feed_hrefs: list[str]
    feeds_given: bool = False

    @classmethod
    def parse_arguments(cls, args: Mapping[str, Any]) -> dict[str, Any]:
        values = super().parse_arguments(args)
        given = split_list(args.get("feeds"))
        hrefs = []
        taz = urls.DEFAULT_BASE_URL
        for value in given or [DEFAULT_FEED]:
            href = feed_href(value)
            # Checked against taz.de here; requests map it onto the configured site.
            if href is None or urls.on_site(href, taz, taz) is None:
                raise SpiderArgumentError(f"-a feeds: not a taz section or feed: {value!r}")
            hrefs.append(href)
        return values | {"feed_hrefs": hrefs, "feeds_given": bool(given)}

    def initial_requests(self) -> Iterable[Request]:
        for href in self.feed_hrefs:
            url = self.on_site(href, self.base_url + "/")
            if url is not None:
                # The default feed missing is no user error: the site brought nothing.
                what = f"feed {href}" if self.feeds_given else "missing feed"
                yield self.target_request(url, what, self.parse_feed)

    def parse_feed(self, response: Response) -> Iterator[Request]:
        if response.status == 404:
            if self.feeds_given:
                self.target_missing(response)
            else:
                self.start_empty(response, "the feed (404)")
            return
        found = False
        for link in feed_links(response.body):
            request = self.article_request_for(link, response.url)
            if request is not None:
                found = True
                yield self.expect_article(request)
        if not found:
            self.start_empty(response, "the feed")
