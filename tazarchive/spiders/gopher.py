"""``scrapy crawl gopher``: taz's own gopher service into the same archive.

Starts from TAZARCHIVE_GOPHER_URL (default ``gopher://taz.de/1/``); an
article is the menu ``/!<id>`` below it, an author ``/!a<id>``, a tag
``/!t<id>``. ``-a ids=…`` fetches those articles, ``-a author=…`` and
``-a tag=…`` every article their menu lists; without arguments the root
menu's sections are walked. Articles leave as ``Article`` items (layout
"gopher", URL the gopher URL they were read from) through the normal
pipelines; the archive decides what a gopher revision may replace
(docs/gopher.md).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from scrapy import Request

from tazarchive import stats, urls
from tazarchive.dump import GopherOptions, NotADump
from tazarchive.extract.errors import PageRejected
from tazarchive.gopher import urls as gopher_urls
from tazarchive.gopher.menus import read_article, read_listing
from tazarchive.spiders.articles import read_article_ids
from tazarchive.spiders.base import (
    ARTICLE_ID_META,
    SpiderArgumentError,
    TazBaseSpider,
    split_list,
)

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from tazarchive.items import Article

LISTING_KIND_META = "taz_gopher_listing"
DATALOSS_FLAG = "dataloss"  # set by the handler when DOWNLOAD_FAIL_ON_DATALOSS is off


class GopherSpider(TazBaseSpider):
    name = "gopher"

    ARGUMENTS: ClassVar[dict[str, str]] = {
        **TazBaseSpider.ARGUMENTS,
        "ids": "article ids or URLs, comma-separated: fetch these articles' gopher menus",
        "author": "taz author id or URL: every article the author's gopher menu lists",
        "tag": "taz tag id or URL: every article the tag's gopher menu lists",
    }

    gopher_url: str = gopher_urls.DEFAULT_URL
    gopher: GopherOptions = GopherOptions()
    article_ids: list[str]
    author_id: str | None
    tag_id: str | None

    @classmethod
    def parse_arguments(cls, args: Mapping[str, Any]) -> dict[str, Any]:
        """The spider's attributes from its ``-a`` arguments; raises SpiderArgumentError."""
        values: dict[str, Any] = super().parse_arguments(args)
        given = [name for name in ("ids", "author", "tag") if args.get(name)]
        if len(given) > 1:
            raise SpiderArgumentError(f"-a {given[0]} and -a {given[1]} exclude each other")
        values["article_ids"] = read_article_ids(
            ("-a ids", entry) for entry in split_list(args.get("ids"))
        )
        for name, reader in (("author", urls.author_id), ("tag", urls.tag_id)):
            value = args.get(name)
            found = reader(str(value)) if value else None
            if value and found is None:
                raise SpiderArgumentError(f"-a {name}={value!r}: not a taz {name}")
            values[f"{name}_id"] = found
        return values

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.gopher = GopherOptions.from_settings(crawler.settings)
        url = str(crawler.settings.get("TAZARCHIVE_GOPHER_URL") or gopher_urls.DEFAULT_URL)
        try:
            gopher_urls.parse_gopher_url(url)
        except ValueError as error:
            spider.argument_error = spider.argument_error or f"TAZARCHIVE_GOPHER_URL: {error}"
        spider.gopher_url = url
        return spider

    # --- requests -------------------------------------------------------------

    def initial_requests(self) -> Iterable[Request]:
        if self.article_ids:
            self.set_expected(len(self.article_ids))
            yield from (
                self.article_request(id_, target=f"article {id_}") for id_ in self.article_ids
            )
        elif self.author_id:
            yield self.menu_request(
                gopher_urls.author_url(self.gopher_url, self.author_id), "author"
            )
        elif self.tag_id:
            yield self.menu_request(gopher_urls.tag_url(self.gopher_url, self.tag_id), "tag")
        else:
            yield self.menu_request(self.gopher_url, "root")

    def article_request(self, id_: str, target: str | None = None) -> Request:
        request = super().article_request(id_, target)
        return request.replace(url=gopher_urls.article_url(self.gopher_url, id_))

    def menu_request(self, url: str, kind: str) -> Request:
        return Request(url, callback=self.parse_menu, meta={LISTING_KIND_META: kind})

    # --- callbacks --------------------------------------------------------------

    async def parse_article(self, response: Response) -> AsyncIterator[Article | Request]:
        if response.status == 404:  # the handler's answer to a gopher error item
            self.target_missing(response)
            return
        id_ = str(response.meta[ARTICLE_ID_META])
        text = _menu_text(response)
        try:
            # The gopher URL marks where the revision came from: the archive
            # never lets it replace one read from HTML (docs/gopher.md).
            article = read_article(text, id_, gopher=self.gopher, url=response.url)
        except NotADump as exc:
            raise PageRejected("unknown_design", f"gopher menu: {exc}", response.url) from None
        article.fetched = datetime.now(UTC)
        yield article

    async def parse_menu(self, response: Response) -> AsyncIterator[Request]:
        kind = str(response.meta.get(LISTING_KIND_META, ""))
        try:
            listing = read_listing(_menu_text(response), response.url, kind, gopher=self.gopher)
        except NotADump as exc:
            self._inc_stat(stats.EXTRACT_NOT_LISTING)
            self.logger.warning("Not a gopher listing menu: %s (%s)", response.url, exc)
            return
        self._inc_stat(stats.LISTING_PAGES)
        if not listing.teasers and kind != "root":
            self._inc_stat(stats.LISTINGS_WITHOUT_ARTICLES)
        for teaser in listing.teasers:
            if (request := self.article_request_once(teaser.id)) is not None:
                yield self.expect_article(request)
        if kind == "root":  # the sections of the root menu; their menus list articles
            for selector in listing.links:
                target = urls.classify(selector)
                if target is not None and target.kind == "section":
                    yield self.menu_request(
                        gopher_urls.under(self.gopher_url, f"!p{target.id}"), "section"
                    )


def _menu_text(response: Response) -> str:
    """The menu's text; garbled or cut menus are rejected as HTML pages are."""
    text: str = response.text
    if "\ufffd" in text:
        raise PageRejected("undecodable", "gopher menu is not UTF-8", response.url)
    if DATALOSS_FLAG in response.flags:
        raise PageRejected("truncated", "gopher menu ended without its '.' line", response.url)
    return text
