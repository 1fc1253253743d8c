"""Downloader middlewares: politeness towards taz.de and loud failure.

- :class:`CrawlDelayMiddleware` keeps a site's download slot at least as slow
  as the Crawl-delay of its robots.txt (AutoThrottle would otherwise lower it).
- :class:`RetryAfterMiddleware` is Scrapy's retry middleware plus backoff: a
  retried request pauses its download slot for the server's ``Retry-After``
  (capped) or, without one, an exponential backoff.
- :class:`SiteFailureMiddleware` ends the run with one clear line when the
  site cannot be crawled at all: unreachable, unknown host, a robots.txt
  that forbids everything, or a streak of refusals (403/429/5xx); and counts
  the pages lost after retries.
- :class:`SiteBoundaryMiddleware` and :class:`RedirectGuardMiddleware` keep
  every request, redirect and robots.txt fetch on the configured site.
"""

from __future__ import annotations

import logging
import zlib
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from time import monotonic
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from scrapy import exceptions, signals
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request, Response
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet import error as net_error

from tazarchive import stats as keys
from tazarchive import urls

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Self

    from scrapy.core.downloader import Downloader
    from scrapy.crawler import Crawler
    from scrapy.robotstxt import RobotParser
    from scrapy.settings import BaseSettings
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

ARTICLE_ID_META = "taz_article_id"  # as tazarchive.spiders.base (spiders import this module)
REFUSED_STATUSES = frozenset({403, 429})  # and every 5xx
DEFAULT_PORTS = {"http": 80, "https": 443, "gopher": 70}


def fail_run(crawler: Crawler, reason: str, line: str) -> None:
    """Run protocol: record why the run failed (one line), log it, close with ``reason``."""
    if crawler.stats is not None and crawler.stats.get_value(keys.FAILURE) is None:
        crawler.stats.set_value(keys.FAILURE, line)
        logger.error("%s", line)
    if crawler.engine is not None:
        # Scheduled, not awaited: callers are signal handlers and middlewares.
        deferred_from_coro(crawler.engine.close_spider_async(reason=reason))


def robots_user_agent(settings: BaseSettings) -> str:
    """The user agent robots.txt rules are matched against (as Scrapy's robots middleware)."""
    return str(settings["ROBOTSTXT_USER_AGENT"] or settings["USER_AGENT"])


class CrawlDelayMiddleware:
    """Honour robots.txt ``Crawl-delay``: a floor under each site's slot delay.

    The delay comes from the robots parser Scrapy's RobotsTxtMiddleware built
    (``robots_parsed`` signal). It is re-applied to the slot on every request
    and response, because AutoThrottle adjusts slot delays after each response.
    Needs ROBOTSTXT_OBEY. Stats: tazarchive/robots/crawl_delay (seconds).
    """

    def __init__(
        self,
        user_agent: str,
        downloader: Callable[[], Downloader | None],
        stats: StatsCollector | None = None,
    ) -> None:
        self.user_agent = user_agent
        self._downloader = downloader
        self._stats = stats
        self.delays: dict[str, float] = {}  # hostname → Crawl-delay seconds

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("ROBOTSTXT_OBEY"):
            raise NotConfigured

        def downloader() -> Downloader | None:  # the engine exists only once the crawl runs
            return crawler.engine.downloader if crawler.engine is not None else None

        mw = cls(robots_user_agent(crawler.settings), downloader, crawler.stats)
        crawler.signals.connect(mw.robots_parsed, signal=signals.robots_parsed)
        return mw

    def robots_parsed(self, robotparser: RobotParser, request: Request) -> None:
        delay = robotparser.crawl_delay(self.user_agent)
        host = urlparse_cached(request).hostname or ""
        if delay:
            self.delays[host] = float(delay)
            if self._stats is not None:
                self._stats.set_value(keys.ROBOTS_CRAWL_DELAY, float(delay))
            logger.info("robots.txt of %s asks for Crawl-delay %s s", host, delay)

    def process_request(self, request: Request) -> None:
        self._apply(request)

    def process_response(self, request: Request, response: Response) -> Response:
        self._apply(request)
        return response

    def _apply(self, request: Request) -> None:
        delay = self.delays.get(urlparse_cached(request).hostname or "")
        downloader = self._downloader()
        if not delay or downloader is None:
            return
        key = downloader.get_slot_key(request)
        # New slots start with it; existing ones are raised to it.
        slot_settings = downloader.per_slot_settings.setdefault(key, {})
        slot_settings["delay"] = max(float(slot_settings.get("delay", 0.0)), delay)
        slot = downloader.slots.get(key)
        if slot is None:
            return
        # The slot waits delay x (1 ± jitter): keep even the shortest wait at Crawl-delay.
        floor = delay / (1 - slot.jitter) if slot.jitter < 1 else delay
        if slot.jitter >= 1:
            slot.jitter = 0.0
        if slot.delay < floor:
            slot.delay = floor


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (delta-seconds or HTTP-date), or None."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RetryAfterMiddleware(RetryMiddleware):
    """Scrapy's retries, plus a pause of the request's download slot before the retry.

    The pause is the response's ``Retry-After`` (at most TAZARCHIVE_RETRY_AFTER_MAX
    seconds), else TAZARCHIVE_RETRY_BACKOFF x 2^(retry - 1) seconds (at most
    TAZARCHIVE_RETRY_BACKOFF_MAX). Pausing the slot, not only the one request,
    slows every request to that site, which is what a 429/503 asks for.
    Replaces ``scrapy.downloadermiddlewares.retry.RetryMiddleware``.
    Stats: tazarchive/retry/pauses, tazarchive/retry/retry_after.
    """

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.retry_after_max = settings.getfloat("TAZARCHIVE_RETRY_AFTER_MAX")
        self.backoff = settings.getfloat("TAZARCHIVE_RETRY_BACKOFF")
        self.backoff_max = settings.getfloat("TAZARCHIVE_RETRY_BACKOFF_MAX")
        self._paused_until: dict[str, float] = {}  # slot key → monotonic time

    # Scrapy >= 2.14 calls these without the (deprecated) spider argument.
    def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        result = super().process_response(request, response)
        if isinstance(result, Request):
            wait = retry_after_seconds(response.headers.get(b"Retry-After"))
            if wait is not None:
                self.crawler.stats.inc_value(keys.RETRY_RETRY_AFTER)
                self._pause_slot(request, min(wait, self.retry_after_max))
            else:
                self._pause_slot(request, self._backoff(result))
        return result

    def process_exception(  # type: ignore[override]
        self, request: Request, exception: Exception
    ) -> Request | Response | None:
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            self._pause_slot(request, self._backoff(result))
        return result

    def _backoff(self, retry: Request) -> float:
        attempt = int(retry.meta.get("retry_times", 1))
        return min(self.backoff * 2.0 ** (attempt - 1), self.backoff_max)

    def _pause_slot(self, request: Request, seconds: float) -> None:
        engine = self.crawler.engine
        if seconds <= 0 or engine is None:
            return
        downloader = engine.downloader
        key = downloader.get_slot_key(request)
        slot = downloader.slots.get(key)
        until = monotonic() + seconds
        if slot is None or until <= self._paused_until.get(key, 0.0):
            return
        self._paused_until[key] = until
        self.crawler.stats.inc_value(keys.RETRY_PAUSES)
        logger.info("Pausing requests to %s for %.1f s before retrying %s", key, seconds, request)
        # The downloader does not start requests of a slot while slot.latercall
        # is set; it is how Scrapy itself waits out DOWNLOAD_DELAY.
        if slot.latercall is not None:
            slot.latercall.cancel()
        slot.latercall = call_later(seconds, downloader._latercall, slot)


class DecompressionGuardMiddleware(HttpCompressionMiddleware):
    """Scrapy's decompression; a body that cannot be decompressed is a lost page.

    Scrapy raises the decoder's error from its ``process_response``, which
    no other middleware sees: it is logged with a traceback and counted
    nowhere. Here it is one warning, ``tazarchive/requests/lost`` (and
    ``…/articles/lost``), and the request is dropped; the next run fetches it
    again. Replaces ``scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware``.
    """

    def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        try:
            return super().process_response(request, response)
        except (OSError, EOFError, zlib.error, ValueError) as error:
            if self.stats is not None:
                self.stats.inc_value(keys.REQUESTS_LOST)
                if request.meta.get(ARTICLE_ID_META):
                    self.stats.inc_value(keys.ARTICLES_LOST)
            line = f"cannot decompress {response.url}: {type(error).__name__}: {error}"
            logger.warning("%s", " ".join(line.split()))
            raise IgnoreRequest(line) from None


# Scrapy >= 2.17 download handlers raise Scrapy's own exceptions; Twisted's
# are kept for other handlers.
_CONNECT_ERRORS = (
    exceptions.DownloadConnectionRefusedError,
    exceptions.CannotResolveHostError,
    exceptions.DownloadTimeoutError,
    net_error.ConnectError,  # refused, TCP timeout, no route, …
    net_error.DNSLookupError,
    net_error.TimeoutError,
)


class SiteFailureMiddleware:
    """End the run loudly when the site cannot be crawled; count what is lost.

    - the site never answered and a connection to it failed for good (after
      retries): refused, unknown host (DNS), timed out (stats
      ``tazarchive/failure``, finish reason ``site_unreachable``);
    - its robots.txt forbids the home page and articles for our user agent
      (``tazarchive/failure``, ``robots_forbidden``);
    - ``refusal_streak`` final responses in a row were 403, 429 or 5xx: the
      site refuses us (``tazarchive/site/refused``, ``site_refused``).

    Requests failing after that are dropped quietly. Every request that ends
    without a page (download error after retries, final 403/429/5xx) counts
    in ``tazarchive/requests/lost``, article requests also in
    ``tazarchive/articles/lost``. Sits below the retry middleware, so it sees
    only what retries gave up on.
    """

    def __init__(
        self,
        base_url: str,
        user_agent: str,
        fail: Callable[[str, str], None],
        stats: StatsCollector | None = None,
        refusal_streak: int = 0,
        stop: Callable[[str], None] | None = None,
    ) -> None:
        self.base_url = urls.normalise_base(base_url)
        self.host = urlparse_cached(Request(self.base_url)).hostname or ""
        self.user_agent = user_agent
        self._fail = fail
        self._stats = stats
        self.refusal_streak = refusal_streak
        self._stop = stop
        self.site_answered = False
        self.failure: str | None = None
        self.refused = 0  # final refusals in a row

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        try:
            base_url = urls.normalise_base(str(crawler.settings.get("TAZARCHIVE_BASE_URL")))
        except ValueError:
            raise NotConfigured("TAZARCHIVE_BASE_URL is invalid; the spider reports it") from None

        def stop(reason: str) -> None:
            if crawler.engine is not None:
                deferred_from_coro(crawler.engine.close_spider_async(reason=reason))

        mw = cls(
            base_url,
            robots_user_agent(crawler.settings),
            lambda reason, line: fail_run(crawler, reason, line),
            crawler.stats,
            crawler.settings.getint("TAZARCHIVE_REFUSAL_STREAK"),
            stop,
        )
        if crawler.settings.getbool("ROBOTSTXT_OBEY"):
            crawler.signals.connect(mw.robots_parsed, signal=signals.robots_parsed)
        return mw

    def fail(self, reason: str, line: str) -> None:
        if self.failure is not None:
            return
        self.failure = line
        self._fail(reason, line)

    def robots_parsed(self, robotparser: RobotParser, request: Request) -> None:
        if (urlparse_cached(request).hostname or "") != self.host:
            return
        probes = (f"{self.base_url}/", urls.article_url(self.base_url, "1"))
        if not any(robotparser.allowed(url, self.user_agent) for url in probes):
            self.fail(
                "robots_forbidden",
                f"robots.txt of {self.base_url} forbids crawling the site "
                f"(user agent {self.user_agent!r})",
            )

    def process_request(self, request: Request) -> None:
        if self.failure is not None:
            raise IgnoreRequest(self.failure)

    def process_response(self, request: Request, response: Response) -> Response:
        self.site_answered = True
        if self.failure is not None:
            raise IgnoreRequest(self.failure)
        if response.status in REFUSED_STATUSES or 500 <= response.status < 600:
            self.lost(request)
            self.refused += 1
            if self.refusal_streak and self.refused >= self.refusal_streak:
                self.refuse(response.status)
        else:
            self.refused = 0
        return response

    def refuse(self, status: int) -> None:
        self.failure = f"the site refused us ({self.refused} responses in a row, last {status})"
        logger.error("%s; stopping the run", self.failure)
        if self._stats is not None:
            self._stats.set_value(keys.SITE_REFUSED, self.refused)
        if self._stop is not None:
            self._stop("site_refused")

    def lost(self, request: Request) -> None:
        if self._stats is None:
            return
        self._stats.inc_value(keys.REQUESTS_LOST)
        if request.meta.get(ARTICLE_ID_META):
            self._stats.inc_value(keys.ARTICLES_LOST)

    def process_exception(self, request: Request, exception: Exception) -> None:
        if self.failure is not None:
            raise IgnoreRequest(self.failure)
        if not isinstance(exception, IgnoreRequest):
            self.lost(request)  # retries gave up on it
        on_site = (urlparse_cached(request).hostname or "") == self.host
        if self.site_answered or not on_site or not isinstance(exception, _CONNECT_ERRORS):
            return
        self.fail("site_unreachable", f"cannot reach {self.base_url}: {_why(exception, self.host)}")
        raise IgnoreRequest(self.failure)


def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of ``url``, with the scheme's default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = -1  # a port that is no number is no site of ours
    return scheme, (parts.hostname or "").lower(), port or DEFAULT_PORTS.get(scheme, 0)


def offsite_kind(request: Request) -> str:
    """What an off-site request was, for ``tazarchive/offsite/<kind>``."""
    if request.meta.get("redirect_urls"):
        return "redirect"
    if request.meta.get("dont_obey_robotstxt") and urlsplit(request.url).path == "/robots.txt":
        return "robots"
    return str(request.meta.get("tazarchive_link_kind") or "request")


class SiteBoundary:
    """The origins (scheme, host, port) a run may fetch from: the base URL's, and gopher's."""

    def __init__(self, base_url: str, gopher_url: str | None = None) -> None:
        self.origins = {origin(base_url)}
        if gopher_url:
            self.origins.add(origin(gopher_url))

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Self:
        return cls(
            urls.normalise_base(str(settings.get("TAZARCHIVE_BASE_URL"))),
            settings.get("TAZARCHIVE_GOPHER_URL") or None,
        )

    def allows(self, url: str) -> bool:
        # data: URLs carry their content and reach no host (test spiders use them).
        return url.startswith("data:") or origin(url) in self.origins


class SiteBoundaryMiddleware:
    """Drop every request that leaves the configured site, redirects and robots.txt included.

    Runs first among the downloader middlewares (before robots.txt is asked),
    so no request to another scheme, host or port is ever sent, and no other
    host's robots.txt is fetched. Allowed: TAZARCHIVE_BASE_URL's origin and
    TAZARCHIVE_GOPHER_URL's (gopher://), and data: URLs. ``dont_filter`` does not exempt a
    request. Stats: ``tazarchive/offsite/<kind>`` (redirect, robots, request,
    or the request's ``tazarchive_link_kind`` meta, e.g. feed, sitemap);
    a dropped article request also counts in ``tazarchive/articles/lost``.
    """

    def __init__(self, boundary: SiteBoundary, stats: StatsCollector) -> None:
        self.boundary = boundary
        self.stats = stats
        self._logged: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler_boundary(crawler), crawler.stats)

    def process_request(self, request: Request) -> None:
        if self.boundary.allows(request.url):
            return
        drop(self.stats, request, offsite_kind(request), self._logged)


def crawler_boundary(crawler: Crawler) -> SiteBoundary:
    """The crawl's site boundary; NotConfigured when the base URL is invalid."""
    try:
        return SiteBoundary.from_settings(crawler.settings)
    except ValueError:
        raise NotConfigured("TAZARCHIVE_BASE_URL is invalid; the spider reports it") from None


def drop(stats: StatsCollector, request: Request, kind: str, logged: set[str]) -> None:
    """Count an off-site request and raise IgnoreRequest for it."""
    stats.inc_value(keys.offsite(kind))
    if kind == "redirect":
        stats.inc_value(keys.REQUESTS_LOST)
        if request.meta.get(ARTICLE_ID_META):
            stats.inc_value(keys.ARTICLES_LOST)
    host = urlsplit(request.url).netloc
    if host not in logged:  # once per host, as Scrapy's OffsiteMiddleware
        logged.add(host)
        logger.warning("Dropped off-site %s to %s: %s", kind, host, request.url)
    raise IgnoreRequest(f"off-site {kind}: {request.url}")


REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class RedirectGuardMiddleware:
    """Sees a redirect before Scrapy's RedirectMiddleware follows it.

    An off-site target is dropped at once (``tazarchive/offsite/redirect``);
    a redirect Scrapy will give up on (REDIRECT_MAX_TIMES reached, or back
    to a URL the dupefilter has seen: a loop) counts as lost
    (``tazarchive/requests/lost``, ``…/articles/lost``).
    """

    def __init__(self, boundary: SiteBoundary, stats: StatsCollector, max_times: int) -> None:
        self.boundary = boundary
        self.stats = stats
        self.max_times = max_times
        self._logged: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        boundary = crawler_boundary(crawler)
        mw = cls(boundary, crawler.stats, crawler.settings.getint("REDIRECT_MAX_TIMES"))
        crawler.signals.connect(mw.request_dropped, signal=signals.request_dropped)
        return mw

    def request_dropped(self, request: Request, spider: Any = None) -> None:
        """A redirect back to a URL already fetched (the dupefilter's drop) is a loop."""
        if request.meta.get("redirect_urls"):
            self.stats.inc_value(keys.REQUESTS_LOST)
            if request.meta.get(ARTICLE_ID_META):
                self.stats.inc_value(keys.ARTICLES_LOST)

    def process_response(self, request: Request, response: Response) -> Response:
        location = response.headers.get(b"Location")
        if (
            response.status not in REDIRECT_STATUSES
            or location is None
            or request.meta.get("dont_redirect")
        ):
            return response
        target = urljoin(request.url, location.decode("latin-1").strip())
        if not self.boundary.allows(target):
            drop(self.stats, request.replace(url=target), "redirect", self._logged)
        if int(request.meta.get("redirect_times", 0)) >= self.max_times:
            self.stats.inc_value(keys.REQUESTS_LOST)
            if request.meta.get(ARTICLE_ID_META):
                self.stats.inc_value(keys.ARTICLES_LOST)
        return response


def _why(exception: Exception, host: str) -> str:
    if isinstance(exception, (exceptions.CannotResolveHostError, net_error.DNSLookupError)):
        return f"DNS lookup of {host} failed"
    if isinstance(
        exception, (exceptions.DownloadConnectionRefusedError, net_error.ConnectionRefusedError)
    ):
        return "connection refused"
    if isinstance(
        exception,
        (exceptions.DownloadTimeoutError, net_error.TimeoutError, net_error.TCPTimedOutError),
    ):
        return "connection timed out"
    return str(exception).strip() or type(exception).__name__
