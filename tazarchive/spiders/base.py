"""What every tazarchive spider shares: the site, article identity, discovery, arguments.

Spiders only decide what to fetch. Every article request goes to
``urls.article_url(base, id)`` with ``meta["taz_article_id"] = id``, so the
link variants of one article (slug or none, ``%21``, ``&s=…``, ``www.``) are
one request to Scrapy's dupefilter and one item. Every URL is mapped onto
the configured base URL (``urls.on_site``); links that leave it are dropped.

What is followed is found by taz's URL patterns in every ``a[href]`` of a
page (``urls.page_links``), never by the markup around the links: no real
listing page has been seen, and taz changes designs without notice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from scrapy import Request, Spider

from tazarchive import stats, urls
from tazarchive.extract import extract_article, extract_listing
from tazarchive.extract.errors import PageRejected
from tazarchive.extract.listing import page_hrefs
from tazarchive.middlewares import fail_run

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from tazarchive.items import Article

ARTICLE_ID_META = "taz_article_id"
# On a request for what the user asked for ("author 144060"): a 404 there is
# counted as DISCOVERY_TARGET_MISSING instead of being ignored.
TARGET_META = "taz_target"
# On a request for a listing page tried without a link to it (see TazBaseSpider).
PROBE_META = "taz_probe"
# On the request for a page the whole run starts from ("home page"): nothing there is an alarm.
START_META = "taz_start"
PAGE_SIZE = 20  # teasers per taz listing page
# Pages tried without a link, per listing, at most: a site that answered every
# page number with fresh links would otherwise be walked for ever.
MAX_PROBED_PAGES = 2000
# A page with fewer new article links than this is a listing's last page: a
# full page holds PAGE_SIZE; half of it still probes should taz halve its pages.
PROBE_MIN_NEW = PAGE_SIZE // 2
# Passed by schedulers, not by users (scrapyd adds ``_job``).
SCHEDULER_ARGUMENTS = frozenset({"_job"})

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


class SpiderArgumentError(ValueError):
    """A spider argument (``-a name=value``) that cannot be used; the message is one line."""


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
    """Base of all tazarchive spiders: base URL, arguments, article requests, discovery.

    Settings: TAZARCHIVE_BASE_URL. Arguments: see ``ARGUMENTS``.

    Listing pages (home, sections, tags, authors) are walked by pattern:
    every article link on them is requested, and their pagination is every
    ``?search_page=N`` link to the same listing, in any markup. A listing
    page that shows new article links but no link to any other page of its
    listing is followed by a request for the next page number anyway
    (``PROBE_META``), page after page, until a page brings fewer than
    ``PROBE_MIN_NEW`` article links new to its listing (a short page is the
    last; one with none is past the end), or ``MAX_PROBED_PAGES``. Cost per
    listing without pagination links: one request past the last page when
    that page is full (one more when, from the first page, ``search_page=1``
    shows its articles again: pages count from 1, and ``search_page=2`` is
    tried); none when the last page is short. With pagination links there
    is no probe, except past a full last page that links no other numbered
    page (page 2 of 2 links page 1 without a number): one request.

    Stats (``tazarchive.stats``): LISTING_PAGES, LISTING_PAGES_PROBED,
    LISTINGS_WITHOUT_ARTICLES (a listing page, not a probe, without any article
    link), DISCOVERY_START_EMPTY, DISCOVERY_TARGET_MISSING, EXPECTED_ARTICLES.
    """

    # Name -> one line of help, for ``scrapy spiders`` and check_arguments.
    ARGUMENTS: ClassVar[dict[str, str]] = {
        "refresh": "1 to fetch articles the archive already holds again (default 0)",
    }

    base_url: str = urls.DEFAULT_BASE_URL
    refresh: bool = False
    # Why the arguments or settings cannot be used; start() then ends the run
    # with this one line (run protocol) instead of a traceback at construction.
    argument_error: str | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        given = {name: kwargs.pop(name) for name in list(kwargs) if name in self.ARGUMENTS}
        for name in SCHEDULER_ARGUMENTS & kwargs.keys():
            given[name] = kwargs.pop(name)
        unknown = sorted(name for name in kwargs if name != "name")
        super().__init__(*args, **{k: v for k, v in kwargs.items() if k == "name"})
        self._expected_ids: set[str] = set()
        self._requested: set[str] = set()  # article ids and listing URLs asked for
        self._listing_ids: dict[tuple[str, str], set[str]] = {}  # article ids per listing
        self._probed: dict[tuple[str, str], int] = {}
        with self.reading_arguments():
            if unknown:
                raise SpiderArgumentError(self._unknown_message(unknown[0]))
            for name, value in self.parse_arguments(given).items():
                setattr(self, name, value)

    @classmethod
    def check_arguments(cls, args: Mapping[str, str]) -> None:
        """Raise SpiderArgumentError (one line) for an unknown argument or a bad value."""
        unknown = sorted(set(args) - cls.ARGUMENTS.keys() - SCHEDULER_ARGUMENTS)
        try:
            if unknown:
                raise SpiderArgumentError(cls._unknown_message(unknown[0]))
            cls.parse_arguments(args)
        except SpiderArgumentError as error:
            raise SpiderArgumentError(f"spider {cls.name}: {error}") from None

    @classmethod
    def _unknown_message(cls, name: str) -> str:
        return f"unknown argument -a {name} (takes: {', '.join(sorted(cls.ARGUMENTS))})"

    @classmethod
    def parse_arguments(cls, args: Mapping[str, Any]) -> dict[str, Any]:
        """The spider's attributes from its ``-a`` arguments; raises SpiderArgumentError.

        Subclasses extend the result of ``super().parse_arguments(args)``.
        """
        return {"refresh": parse_bool(args.get("refresh"), "refresh")}

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
        """The one URL fetched for an author/tag/section listing page (``urls.listing_url``)."""
        return urls.listing_url(href, page_url, self.base_url)

    def page_links(self, response: Response) -> urls.PageLinks:
        """Article ids and listing URLs a page links to, by pattern, whatever its markup."""
        hrefs = page_hrefs(response.text, response.url)
        return urls.page_links(hrefs, response.url, self.base_url)

    # --- requests -------------------------------------------------------------

    def article_request(self, id_: str, target: str | None = None) -> Request:
        """The request for an article; ``target``: the user asked for it (404 is counted)."""
        meta: dict[str, Any] = {ARTICLE_ID_META: id_}
        if target is not None:
            meta |= {TARGET_META: target, "handle_httpstatus_list": [404]}
        return Request(urls.article_url(self.base_url, id_), callback=self.parse_article, meta=meta)

    def article_request_for(self, href: str, page_url: str) -> Request | None:
        """The article request for a link on a page, or None if it is no article on the site."""
        url = self.on_site(href, page_url)
        id_ = urls.article_id(url) if url is not None else None
        return self.article_request(id_) if id_ is not None else None

    def listing_request(self, url: str, meta: dict[str, Any] | None = None) -> Request:
        return Request(url, callback=self.parse_listing, meta=meta or {})

    def target_request(self, url: str, target: str, callback: Callable[..., Any]) -> Request:
        """A start request for what the user asked for: its 404 reaches the callback."""
        return Request(
            url, callback=callback, meta={TARGET_META: target, "handle_httpstatus_list": [404]}
        )

    # Scrapy's dupefilter drops repeats anyway; these skip even building them,
    # which matters on link-rich pages (every listing links the same sections).

    def article_request_once(self, id_: str) -> Request | None:
        """``article_request(id_)``, or None when this spider already asked for it."""
        if id_ in self._requested:
            return None
        self._requested.add(id_)
        return self.article_request(id_)

    def listing_request_once(self, url: str, meta: dict[str, Any] | None = None) -> Request | None:
        """``listing_request(url)``, or None when this spider already asked for it."""
        if url in self._requested:
            return None
        self._requested.add(url)
        return self.listing_request(url, meta)

    # --- callbacks --------------------------------------------------------------

    async def parse_article(self, response: Response) -> AsyncIterator[Article | Request]:
        if response.status == 404:
            self.target_missing(response)
            return
        # PageRejected (unknown design, wall, garbled, ...) propagates: the
        # archive's spider middleware counts it and keeps it out of the ledger.
        article = extract_article(
            response.text,
            response.url,
            fetched=datetime.now(UTC),
            requested_id=response.meta.get(ARTICLE_ID_META),
        )
        if article is not None:
            yield article
        for request in self.follow_from_article(response):
            yield request

    async def parse_listing(self, response: Response) -> AsyncIterator[Request]:
        if response.status == 404:
            if TARGET_META in response.meta:
                self.target_missing(response)
            return  # a probe past the end of a listing
        self._requested.add(response.url)  # its own links to itself are no new page
        try:
            links = self.page_links(response)
        except PageRejected as rejected:  # beyond the parse bounds: read as no link at all
            self.logger.warning("listing page not read: %s", rejected)
            links = urls.PageLinks()
        probe = response.meta.get(PROBE_META)
        self._inc_stat(stats.LISTING_PAGES)
        if not links.articles and probe is None:
            if START_META in response.meta:
                self.start_empty(response, response.meta[START_META])
            else:
                self.listing_empty(response)
        key = urls.listing_key(response.url)
        seen = self._listing_ids.setdefault(key, set()) if key is not None else set()
        new = [id_ for id_ in links.articles if id_ not in seen]
        seen.update(new)
        for id_ in links.articles:
            if (request := self.article_request_once(id_)) is not None:
                yield request
        self.listing_seen(response, key, len(new))
        pages = [url for url in links.listings if urls.listing_key(url) == key]
        for url in links.listings:
            if (url in pages or self.follows_listing(url)) and (
                request := self.listing_request_once(url)
            ) is not None:
                yield request
        if key is None:
            return
        page = urls.search_page(response.url) or 0
        numbers = {n for url in pages if (n := urls.search_page(url)) is not None} - {page}
        if any(n > page for n in numbers):
            return
        if numbers:  # the last page of pagination the links show
            self.listing_ends(response, key)
        elif (
            request := self.probe_request(response, key, new=len(new), shown=bool(links.articles))
        ) is not None:
            yield request
        else:
            self.listing_ends(response, key)

    def probe_request(
        self, response: Response, key: tuple[str, str], *, new: int, shown: bool
    ) -> Request | None:
        """The next page of a listing that links none of its other pages, while pages bring
        new article links (``new``); ``shown``: the page links articles at all."""
        page = urls.search_page(response.url) or 0
        # From the first page, search_page=1 is tried; where pages count from 1
        # it shows the first page again (no new links), so search_page=2 is tried once more.
        recount = response.meta.get(PROBE_META) == "first" and page == 1 and shown
        if new < PROBE_MIN_NEW and not recount:
            return None
        probed = self._probed.get(key, 0)
        if probed >= MAX_PROBED_PAGES:
            self.logger.warning("gave up probing %s after %d pages", response.url, probed)
            return None
        request = self.listing_request_once(
            urls.with_page(response.url, page + 1),
            {PROBE_META: "first" if page == 0 else "next", "handle_httpstatus_list": [404]},
        )
        if request is not None:
            self._probed[key] = probed + 1
            self._inc_stat(stats.LISTING_PAGES_PROBED)
        return request

    # --- hooks for subclasses ---------------------------------------------------

    def follow_from_article(self, response: Response) -> Iterable[Request]:
        """Further requests from an article page; only the ``taz`` spider follows any."""
        return ()

    def follows_listing(self, url: str) -> bool:
        """Whether a listing linked from a listing page is walked (its own pages always are)."""
        return False

    def listing_seen(self, response: Response, key: tuple[str, str] | None, new: int) -> None:
        """Called once per listing page with the number of article ids new to its listing."""

    def listing_ends(self, response: Response, key: tuple[str, str]) -> None:
        """Called for a listing page after which no page of its listing is requested."""

    # --- alarms -------------------------------------------------------------------

    def listing_empty(self, response: Response) -> None:
        """A listing page without a single article link: the site changed, or the page did."""
        self._inc_stat(stats.LISTINGS_WITHOUT_ARTICLES)
        self.logger.warning("listing page without any article link: %s", response.url)

    def start_empty(self, response: Response, what: str) -> None:
        self._inc_stat(stats.DISCOVERY_START_EMPTY)
        self.logger.error("%s brought no article link: %s", what, response.url)

    def target_missing(self, response: Response) -> None:
        self._inc_stat(stats.DISCOVERY_TARGET_MISSING)
        target = response.meta.get(TARGET_META, "page")
        self.logger.error("%s does not exist: %s answered 404", target, response.url)

    # --- stats --------------------------------------------------------------------

    def _inc_stat(self, key: str, count: int = 1) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(key, count)

    def set_expected(self, count: int) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.set_value(stats.EXPECTED_ARTICLES, count)

    def expect_article(self, request: Request) -> Request:
        """Count an article request toward EXPECTED_ARTICLES (each id once)."""
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

    Subclasses name the argument: ``author`` or ``tag``. Follows every
    article link on the listing's pages and the listing's own pages (see
    ``TazBaseSpider`` for pagination and its cost). Sets EXPECTED_ARTICLES:
    page count x 20 when the first page's markup says, at least the articles
    found, and exactly those once a page without a later page is read.
    """

    argument: ClassVar[str]

    object_id: str = ""
    _estimate: int = 0

    @classmethod
    def parse_arguments(cls, args: Mapping[str, Any]) -> dict[str, Any]:
        values = super().parse_arguments(args)
        value = args.get(cls.argument)
        if not value:
            raise SpiderArgumentError(f"needs -a {cls.argument}=<id or URL>")
        id_ = _LISTINGS[cls.argument][0](str(value))
        if id_ is None:
            raise SpiderArgumentError(f"-a {cls.argument}={value!r}: not a taz {cls.argument}")
        return values | {"object_id": id_}

    def initial_requests(self) -> Iterable[Request]:
        url = _LISTINGS[self.argument][1](self.base_url, self.object_id)
        self._requested.add(url)
        yield self.target_request(url, f"{self.argument} {self.object_id}", self.parse_listing)

    def listing_seen(self, response: Response, key: tuple[str, str] | None, new: int) -> None:
        if key != (self.argument, self.object_id):
            return
        if TARGET_META in response.meta:
            # Teaser markup is a guess (see extract.listing): it only refines the ETA.
            listing = extract_listing(response.text, response.url)
            if listing is not None and listing.page_count:
                self._estimate = listing.page_count * PAGE_SIZE
        self.set_expected(max(self._estimate, len(self._listing_ids.get(key, ()))))

    def listing_ends(self, response: Response, key: tuple[str, str]) -> None:
        if key == (self.argument, self.object_id):
            self._estimate = 0
            self.set_expected(len(self._listing_ids.get(key, ())))
