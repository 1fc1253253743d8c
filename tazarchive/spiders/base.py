"""What every tazarchive spider shares: the site, article identity, listings.

Spiders only decide what to fetch. Every article request goes to
``urls.article_url(base, id)`` with ``meta["taz_article_id"] = id``, so the
link variants of one article (slug or none, ``%21``, ``&s=…``, ``www.``) are
one request to Scrapy's dupefilter and one item. Every URL is mapped onto
the configured base URL (``urls.on_site``); links that leave it are dropped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from scrapy import Request, Spider

from tazarchive import urls
from tazarchive.extract import extract_article, extract_listing
from tazarchive.middlewares import fail_run

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from tazarchive.items import Article, Listing

ARTICLE_ID_META = "taz_article_id"
PAGE_SIZE = 20  # teasers per taz listing page

STAT_EXPECTED = "tazarchive/expected_articles"
STAT_NOT_ARTICLE = "tazarchive/extract/not_article"
STAT_NOT_LISTING = "tazarchive/extract/not_listing"

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


class SpiderArgumentError(ValueError):
    """A spider argument (``-a name=value``) that cannot be used."""


def parse_bool(value: str | bool | None, name: str) -> bool:
    """``-a name=1`` style flags: 1/0, true/false, yes/no, on/off."""
    if isinstance(value, bool) or value is None:
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise SpiderArgumentError(f"-a {name}={value!r}: expected 1/0, true/false, yes/no or on/off")


def split_list(value: str | None) -> list[str]:
    """Comma-separated spider argument → its non-empty stripped parts."""
    return [part.strip() for part in (value or "").split(",") if part.strip()]


class TazBaseSpider(Spider):
    """Base of all tazarchive spiders: base URL, article requests, listings.

    Settings: TAZARCHIVE_BASE_URL. Arguments: ``-a refresh=1`` (re-fetch
    articles the archive already holds; read by the archive's middleware).
    """

    base_url: str = urls.DEFAULT_BASE_URL
    refresh: bool = False
    # Why the arguments or settings cannot be used; start() then ends the run
    # with this one line (run protocol) instead of a traceback at construction.
    argument_error: str | None = None

    def __init__(self, *args: Any, refresh: str | bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._expected_ids: set[str] = set()
        self._requested: set[str] = set()  # article ids and listing URLs asked for
        with self.reading_arguments():
            self.refresh = parse_bool(refresh, "refresh")

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        try:
            spider.base_url = urls.normalise_base(str(crawler.settings.get("TAZARCHIVE_BASE_URL")))
        except ValueError as error:
            spider.argument_error = spider.argument_error or f"TAZARCHIVE_BASE_URL: {error}"
        return spider

    @contextmanager
    def reading_arguments(self) -> Iterator[None]:
        """Record the first SpiderArgumentError raised inside as ``argument_error``."""
        try:
            yield
        except SpiderArgumentError as error:
            self.argument_error = self.argument_error or str(error)

    async def start(self) -> AsyncIterator[Any]:
        if self.argument_error is not None:
            fail_run(self.crawler, "bad_arguments", f"spider {self.name}: {self.argument_error}")
            return
        for request in self.initial_requests():
            yield request

    def initial_requests(self) -> Iterable[Request]:
        """The spider's first requests (its arguments are valid by now)."""
        return ()

    # --- URLs -----------------------------------------------------------------

    def site_url(self, path: str) -> str:
        """An absolute URL on the configured site for a site path like ``/!p4608;rss/``."""
        return f"{self.base_url}/{path.lstrip('/')}"

    def on_site(self, href: str, page_url: str) -> str | None:
        return urls.on_site(href, page_url, self.base_url)

    def listing_url(self, href: str, page_url: str) -> str | None:
        """The one URL fetched for an author/tag/section listing page, or None.

        Authors and tags lose their slug (``/!a144060/``); all keep only the
        ``search_page`` of the query, so variants of one page are one request.
        """
        url = self.on_site(href, page_url)
        obj = urls.classify(url) if url is not None else None
        if url is None or obj is None or obj.channel or obj.kind in ("article", "other"):
            return None
        if obj.kind == "author":
            first = urls.author_url(self.base_url, obj.id)
        elif obj.kind == "tag":
            first = urls.tag_url(self.base_url, obj.id)
        else:
            parts = urlsplit(url)
            first = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        page = dict(parse_qsl(urlsplit(url).query)).get("search_page")
        return urls.with_page(first, int(page)) if page and page.isdigit() else first

    # --- requests -------------------------------------------------------------

    def article_request(self, id_: str) -> Request:
        return Request(
            urls.article_url(self.base_url, id_),
            callback=self.parse_article,
            meta={ARTICLE_ID_META: id_},
        )

    def article_request_for(self, href: str, page_url: str) -> Request | None:
        """The article request for a link on a page, or None if it is no article on the site."""
        url = self.on_site(href, page_url)
        id_ = urls.article_id(url) if url is not None else None
        return self.article_request(id_) if id_ is not None else None

    def listing_request(self, url: str) -> Request:
        return Request(url, callback=self.parse_listing)

    # Scrapy's dupefilter drops repeats anyway; these skip even building them,
    # which matters on link-rich pages (every listing links the same sections).

    def article_request_once(self, id_: str) -> Request | None:
        """``article_request(id_)``, or None when this spider already asked for it."""
        if id_ in self._requested:
            return None
        self._requested.add(id_)
        return self.article_request(id_)

    def listing_request_once(self, url: str) -> Request | None:
        """``listing_request(url)``, or None when this spider already asked for it."""
        if url in self._requested:
            return None
        self._requested.add(url)
        return self.listing_request(url)

    # --- callbacks --------------------------------------------------------------

    async def parse_article(self, response: Response) -> AsyncIterator[Article | Request]:
        article = extract_article(response.body, response.url, fetched=datetime.now(UTC))
        if article is None:
            self._inc_stat(STAT_NOT_ARTICLE)
            self.logger.warning("Not an article: %s", response.url)
            return
        yield article
        for request in self.follow_from_article(article, response):
            yield request

    async def parse_listing(self, response: Response) -> AsyncIterator[Request]:
        listing = extract_listing(response.body, response.url)
        if listing is None:
            self._inc_stat(STAT_NOT_LISTING)
            self.logger.warning("Not a listing page: %s", response.url)
            return
        for teaser in listing.teasers:
            if (request := self.article_request_once(teaser.id)) is not None:
                yield request
        self.listing_seen(listing)
        next_url = self.listing_url(listing.next_url, response.url) if listing.next_url else None
        if next_url is not None and (request := self.listing_request_once(next_url)) is not None:
            yield request
        for request in self.follow_from_listing(listing, response):
            yield request

    # --- hooks for subclasses ---------------------------------------------------

    def follow_from_article(self, article: Article, response: Response) -> Iterable[Request]:
        """Further requests from an article page; only the ``taz`` spider follows any."""
        return ()

    def follow_from_listing(self, listing: Listing, response: Response) -> Iterable[Request]:
        """Further requests from a listing page besides teasers and the next page."""
        return ()

    def listing_seen(self, listing: Listing) -> None:
        """Called once per parsed listing page (for counting)."""

    # --- stats --------------------------------------------------------------------

    def _inc_stat(self, key: str, count: int = 1) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(key, count)

    def set_expected(self, count: int) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.set_value(STAT_EXPECTED, count)

    def expect_article(self, request: Request) -> Request:
        """Count an article request toward ``tazarchive/expected_articles`` (each id once)."""
        id_ = request.meta[ARTICLE_ID_META]
        if id_ not in self._expected_ids:
            self._expected_ids.add(id_)
            self.set_expected(len(self._expected_ids))
        return request


# Per listing spider argument: how its id is read, and its listing's URL.
_LISTINGS: dict[str, tuple[Callable[[str], str | None], Callable[[str, str], str]]] = {
    "author": (urls.author_id, urls.author_url),
    "tag": (urls.tag_id, urls.tag_url),
}


class ListingSpider(TazBaseSpider):
    """Every article of one author or tag: all pages of its listing.

    Subclasses name the argument: ``author`` or ``tag``.
    Sets ``tazarchive/expected_articles``: page count x 20 from the first
    page when the page says, then the exact number once the last page is read.
    """

    argument: ClassVar[str]

    object_id: str = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        value = kwargs.pop(self.argument, None)
        super().__init__(*args, **kwargs)
        with self.reading_arguments():
            if not value:
                raise SpiderArgumentError(f"needs -a {self.argument}=<id or URL>")
            id_ = self.id_of(str(value))
            if id_ is None:
                raise SpiderArgumentError(
                    f"-a {self.argument}={value!r}: not a taz {self.argument}"
                )
            self.object_id = id_

    def id_of(self, value: str) -> str | None:
        return _LISTINGS[self.argument][0](value)

    def initial_requests(self) -> Iterable[Request]:
        yield self.listing_request(_LISTINGS[self.argument][1](self.base_url, self.object_id))

    def listing_seen(self, listing: Listing) -> None:
        if not self._expected_ids and listing.page_count:
            self.set_expected(listing.page_count * PAGE_SIZE)
        self._expected_ids.update(teaser.id for teaser in listing.teasers)
        if not listing.next_url:
            self.set_expected(len(self._expected_ids))
