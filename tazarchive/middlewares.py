"""Downloader middlewares: politeness towards taz.de and loud failure.

- :class:`CrawlDelayMiddleware` keeps a site's download slot at least as slow
  as the Crawl-delay of its robots.txt (AutoThrottle would otherwise lower it).
- :class:`RetryAfterMiddleware` is Scrapy's retry middleware plus backoff: a
  retried request pauses its download slot for the server's ``Retry-After``
  (capped) or, without one, an exponential backoff.
- :class:`SiteFailureMiddleware` ends the run with one clear line when the
  site cannot be crawled at all: unreachable, unknown host, or a robots.txt
  that forbids everything.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from time import monotonic
from typing import TYPE_CHECKING

from scrapy import exceptions, signals
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request, Response
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet import error as net_error

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

STAT_FAILURE = "tazarchive/failure"


def fail_run(crawler: Crawler, reason: str, line: str) -> None:
    """Run protocol: record why the run failed (one line), log it, close with ``reason``."""
    if crawler.stats is not None and crawler.stats.get_value(STAT_FAILURE) is None:
        crawler.stats.set_value(STAT_FAILURE, line)
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
                self._stats.set_value("tazarchive/robots/crawl_delay", float(delay))
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
                self.crawler.stats.inc_value("tazarchive/retry/retry_after")
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
        self.crawler.stats.inc_value("tazarchive/retry/pauses")
        logger.info("Pausing requests to %s for %.1f s before retrying %s", key, seconds, request)
        # The downloader does not start requests of a slot while slot.latercall
        # is set; it is how Scrapy itself waits out DOWNLOAD_DELAY.
        if slot.latercall is not None:
            slot.latercall.cancel()
        slot.latercall = call_later(seconds, downloader._latercall, slot)


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
    """End the run loudly when the site cannot be crawled at all.

    - the site never answered and a connection to it failed for good (after
      retries): refused, unknown host (DNS), timed out;
    - its robots.txt forbids the home page and articles for our user agent.

    Sets stats ``tazarchive/failure`` to one line saying why, logs that line
    (no traceback), and closes the spider with reason ``site_unreachable`` or
    ``robots_forbidden``. Requests failing after that are dropped quietly.
    Sits below the retry middleware so retries happen first.
    """

    def __init__(
        self,
        base_url: str,
        user_agent: str,
        fail: Callable[[str, str], None],
    ) -> None:
        self.base_url = urls.normalise_base(base_url)
        self.host = urlparse_cached(Request(self.base_url)).hostname or ""
        self.user_agent = user_agent
        self._fail = fail
        self.site_answered = False
        self.failure: str | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        try:
            base_url = urls.normalise_base(str(crawler.settings.get("TAZARCHIVE_BASE_URL")))
        except ValueError:
            raise NotConfigured("TAZARCHIVE_BASE_URL is invalid; the spider reports it") from None
        mw = cls(
            base_url,
            robots_user_agent(crawler.settings),
            lambda reason, line: fail_run(crawler, reason, line),
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
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        if self.failure is not None:
            raise IgnoreRequest(self.failure)
        on_site = (urlparse_cached(request).hostname or "") == self.host
        if self.site_answered or not on_site or not isinstance(exception, _CONNECT_ERRORS):
            return
        self.fail("site_unreachable", f"cannot reach {self.base_url}: {_why(exception, self.host)}")
        raise IgnoreRequest(self.failure)


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
