"""``scrapy check-site``: what tazarchive recognises on the configured site, page by page.

The first command to run against taz.de, and a daily cron job beside the
hourly crawl. It fetches from TAZARCHIVE_BASE_URL the home page, one
section, one tag and one author page (the first the home page links, or
``--section/--tag/--author``), the feed, the sitemap index and the newest
``--articles`` articles of the feed (of the home page when the feed has
none): at most 8 + ``--articles`` requests, robots.txt included, through the
project's middlewares (robots.txt, delays, retries). It stores nothing.

It prints one line per page: kind, URL, what it recognised (article links
found by pattern, teasers the listing markup gave, pagination, the article
design, body vs JSON-LD) and ``ok`` or ``NOT RECOGNISED: why``. The exit
status is 1, with one stderr line naming each page, when anything was not
recognised or could not be fetched; the crawl itself would still find
articles by pattern, but the alarm says the site changed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from scrapy import Request
from scrapy.exceptions import UsageError

from tazarchive import stats, urls
from tazarchive.cli.checked import CheckedCommand
from tazarchive.commands.crawl import run_crawler
from tazarchive.extract import extract_article, extract_listing
from tazarchive.extract.errors import PageRejected
from tazarchive.extract.listing import page_hrefs
from tazarchive.spiders.base import SpiderArgumentError, TazBaseSpider
from tazarchive.spiders.feed import DEFAULT_FEED, feed_links
from tazarchive.spiders.sitemap import INDEX_PATH, parse_sitemap

if TYPE_CHECKING:
    from scrapy.http import Response
    from twisted.python.failure import Failure

LISTING_KINDS = ("section", "tag", "author")
# The order of the printed lines and of the pages that must have been checked.
ORDER = ("home", *LISTING_KINDS, "feed", "sitemap", "article")
MAX_ARTICLES = 5


@dataclass
class PageCheck:
    """What was recognised on one page, and what not."""

    kind: str
    url: str
    facts: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        state = f"NOT RECOGNISED: {'; '.join(self.problems)}" if self.problems else "ok"
        return " ".join([f"{self.kind:<8}", self.url, *self.facts, state])


def check_listing(
    kind: str, text: str, url: str, base_url: str
) -> tuple[PageCheck, urls.PageLinks]:
    """A listing page (home, section, tag, author): links by pattern vs teaser markup."""
    check = PageCheck(kind, url)
    try:
        links = urls.page_links(page_hrefs(text, url), url, base_url)
    except PageRejected as rejected:
        check.problems.append(f"rejected: {rejected.reason}")
        return check, urls.PageLinks()
    listing = extract_listing(text, url)
    key = urls.listing_key(url)
    pages = {
        page
        for link in links.listings
        if key is not None
        and urls.listing_key(link) == key
        and (page := urls.search_page(link)) is not None
    }
    teasers = len(listing.teasers) if listing is not None else 0
    check.facts += [f"article-links={len(links.articles)}", f"teasers={teasers}"]
    if key is not None:
        shown = f"page-links={len(pages)}" if pages else "page-links=none (the crawl probes)"
        count = f" pages={listing.page_count}" if listing is not None and listing.page_count else ""
        check.facts.append(shown + count)
    if listing is None:
        check.problems.append("an article page, not a listing")
    if not links.articles:
        check.problems.append("no article link")
    elif not teasers:
        check.problems.append(
            f"listing markup unknown: {len(links.articles)} article links, 0 teasers"
        )
    return check, links


def check_article(text: str, url: str, id_: str) -> PageCheck:
    """An article page: its design, body and the body against JSON-LD."""
    check = PageCheck("article", url)
    try:
        article = extract_article(text, url, requested_id=id_)
    except PageRejected as rejected:
        check.problems.append(f"rejected: {rejected.reason}")
        return check
    if article is None:
        check.problems.append("no known article design")
        return check
    check.facts += [f"design={article.layout}", f"paragraphs={len(article.body)}"]
    if article.id != id_:
        check.problems.append(f"the page says id {article.id}")
    if not article.body:
        check.problems.append("empty body")
    if article.body_mismatch is None:
        check.facts.append("json-ld=absent")
    elif article.body_mismatch:
        check.problems.append(f"body differs from JSON-LD: {article.body_mismatch}")
    else:
        check.facts.append("json-ld=same")
    return check


class CheckSiteSpider(TazBaseSpider):
    """The pages ``scrapy check-site`` looks at; ``checks`` holds what it found."""

    name = "check-site"
    ARGUMENTS: ClassVar[dict[str, str]] = {
        "section": "section to check: id (4615) or URL (default: first on the home page)",
        "tag": "tag to check: id or URL (default: first on the home page)",
        "author": "author to check: id or URL (default: first on the home page)",
        "articles": f"how many of the newest articles to check (1-{MAX_ARTICLES}, default 3)",
    }
    # Looking must leave no trace: no archive, ledger, lock, report or WARC.
    custom_settings = {  # noqa: RUF012 (Scrapy declares it as a plain attribute)
        "ITEM_PIPELINES": {},
        "FEEDS": {},
        "TAZARCHIVE_LOCK_ENABLED": False,
        "TAZARCHIVE_LEDGER_ENABLED": False,
        "TAZARCHIVE_RUN_REPORT_ENABLED": False,
        "TAZARCHIVE_WARC_ENABLED": False,
        "TAZARCHIVE_PROGRESS_INTERVAL": 0,
    }

    given: dict[str, str]
    n_articles: int = 3

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.checks: list[PageCheck] = []
        self._home_articles: list[str] = []
        self._listings_asked: set[str] = set()

    @classmethod
    def parse_arguments(cls, args: Mapping[str, Any]) -> dict[str, Any]:
        given = {}
        readers: dict[str, Callable[[str], str | None]] = {
            "section": _section_url,
            "tag": lambda v: (id_ := urls.tag_id(v)) and f"/!t{id_}/",
            "author": lambda v: (id_ := urls.author_id(v)) and f"/!a{id_}/",
        }
        for kind, read in readers.items():
            if args.get(kind):
                path = read(str(args[kind]))
                if not path:
                    raise SpiderArgumentError(f"--{kind} {args[kind]!r}: not a taz {kind}")
                given[kind] = path
        n = str(args.get("articles") or "3")
        if not n.isdigit() or not 1 <= int(n) <= MAX_ARTICLES:
            raise SpiderArgumentError(f"--articles {n!r}: expected 1 to {MAX_ARTICLES}")
        return {"given": given, "n_articles": int(n)}

    def request(self, url: str, kind: str, callback: Callable[..., Any], **meta: Any) -> Request:
        # Every status reaches the callback: a 404 is something not recognised, not a log line.
        return Request(
            url,
            callback=callback,
            errback=self.failed,
            meta={"check": kind, "handle_httpstatus_all": True, **meta},
            dont_filter=True,
        )

    def initial_requests(self) -> Iterable[Request]:
        yield self.request(self.site_url("/"), "home", self.parse_home)

    async def parse_home(self, response: Response) -> AsyncIterator[Request]:
        links = None
        if self.fetched(response):
            check, links = check_listing("home", response.text, response.url, self.base_url)
            self.checks.append(check)
            self._home_articles = links.articles
        for request in self.listing_checks(links.listings if links is not None else []):
            yield request
        yield self.request(self.site_url(DEFAULT_FEED), "feed", self.parse_feed_check)
        yield self.request(self.site_url(INDEX_PATH), "sitemap", self.parse_sitemap_check)

    def listing_checks(self, listings: list[str]) -> Iterator[Request]:
        """Requests for the section, tag and author pages not asked for yet: given, or linked."""
        for kind in LISTING_KINDS:
            if kind in self._listings_asked:
                continue
            url = self.site_url(self.given[kind]) if kind in self.given else None
            if url is None:
                url = next((u for u in listings if _kind(u) == kind), None)
            if url is not None:
                self._listings_asked.add(kind)
                yield self.request(url, kind, self.parse_listing_check)

    def parse_listing_check(self, response: Response) -> None:
        if self.fetched(response):
            kind = response.meta["check"]
            self.checks.append(check_listing(kind, response.text, response.url, self.base_url)[0])

    async def parse_feed_check(self, response: Response) -> AsyncIterator[Request]:
        ids: list[str] = []
        if self.fetched(response):
            check = PageCheck("feed", response.url)
            for link in feed_links(response.body):
                url = self.on_site(link, response.url)
                id_ = urls.article_id(url) if url is not None else None
                if id_ is not None and id_ not in ids:
                    ids.append(id_)
            check.facts.append(f"article-links={len(ids)}")
            if not ids:
                check.problems.append("no article link")
            self.checks.append(check)
        for id_ in (ids or self._home_articles)[: self.n_articles]:
            url = urls.article_url(self.base_url, id_)
            yield self.request(url, "article", self.parse_article_check, article_id=id_)

    def parse_sitemap_check(self, response: Response) -> None:
        if self.fetched(response):
            check = PageCheck("sitemap", response.url)
            sitemap = parse_sitemap(response.body)
            check.facts.append(f"sitemaps={len(sitemap.entries)}")
            if not sitemap.is_index:
                check.problems.append("not a sitemap index")
            elif not sitemap.entries:
                check.problems.append("no sitemap listed")
            self.checks.append(check)

    def parse_article_check(self, response: Response) -> Iterator[Request]:
        if self.fetched(response):
            id_ = response.meta["article_id"]
            self.checks.append(check_article(response.text, response.url, id_))
            # The home page need not link an author (or tag): an article does.
            if len(self._listings_asked) < len(LISTING_KINDS):
                yield from self.listing_checks(self.page_links(response).listings)

    def fetched(self, response: Response) -> bool:
        """True for a 200; any other status is recorded as a page not recognised."""
        if response.status == 200:
            return True
        self.checks.append(
            PageCheck(response.meta["check"], response.url, problems=[f"HTTP {response.status}"])
        )
        return False

    def failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        why = failure.getErrorMessage() or type(failure.value).__name__
        self.checks.append(PageCheck(request.meta["check"], request.url, problems=[why]))

    def closed(self, reason: str) -> None:
        self.checks.sort(key=lambda check: ORDER.index(check.kind))
        done = {check.kind for check in self.checks}
        for kind in ORDER:
            if kind not in done:
                self.checks.append(PageCheck(kind, "-", problems=["not checked: no link found"]))
        bad = [f"{c.kind} {c.url} ({'; '.join(c.problems)})" for c in self.checks if c.problems]
        if bad and self.crawler.stats is not None:
            self.crawler.stats.set_value(
                stats.FAILURE, f"check-site: not recognised: {', '.join(bad)}"
            )


def _kind(url: str) -> str | None:
    key = urls.listing_key(url)
    return key[0] if key is not None else None


def _section_url(value: str) -> str | None:
    bare = value.strip().removeprefix("!").removeprefix("p")
    if bare.isdigit():
        return f"/!p{bare}/"
    return value if _kind(value) == "section" else None


class Command(CheckedCommand):
    requires_project = True

    def syntax(self) -> str:
        return "[--section ID] [--tag ID] [--author ID] [--articles N]"

    def short_desc(self) -> str:
        return "Check what tazarchive recognises on the site (about 10 requests); exit 1 if not all"

    def long_desc(self) -> str:
        return __doc__ or ""

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        for kind in LISTING_KINDS:
            parser.add_argument(f"--{kind}", help=CheckSiteSpider.ARGUMENTS[kind])
        parser.add_argument("--articles", help=CheckSiteSpider.ARGUMENTS["articles"])

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            raise UsageError("check-site takes no arguments, only options")
        given = {
            name: str(value)
            for name in (*LISTING_KINDS, "articles")
            if (value := getattr(opts, name, None)) is not None
        }
        try:
            CheckSiteSpider.check_arguments(given)
        except SpiderArgumentError as error:
            raise UsageError(str(error)) from None
        assert self.crawler_process is not None
        crawler = self.crawler_process.create_crawler(CheckSiteSpider)
        self.exitcode = run_crawler(self.crawler_process, crawler, **given)
        spider = crawler.spider
        for check in getattr(spider, "checks", []):
            print(check.line(), flush=True)
        sys.stdout.flush()
