"""``scrapy crawl`` with an exit status: Scrapy's command, then the run's verdict.

Same name as Scrapy's command, so COMMANDS_MODULE makes it replace that one.
After the crawl it exits 1 with ONE stderr line ``tazarchive: <reason>`` when
the run failed (see :func:`tazarchive.extensions.judge_run`), else 0.
Expected failures (busy archive, bad arguments, unreachable site) print no
traceback. ``scrapy reparse`` uses :func:`run_crawler` the same way.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import TYPE_CHECKING, Any

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from tazarchive.extensions import ArchiveBusy, RunVerdict, judge_run, one_line

if TYPE_CHECKING:
    import argparse

    from scrapy.crawler import Crawler, CrawlerProcessBase

logger = logging.getLogger(__name__)

# Raised while the crawl starts, these are a user's situation, not a bug: one line, no traceback.
EXPECTED_START_ERRORS: tuple[type[BaseException], ...] = (ArchiveBusy, UsageError)


def run_crawler(process: CrawlerProcessBase, crawler: Crawler, **spider_args: Any) -> int:
    """Run ``crawler`` to the end in ``process``; return the exit status.

    On failure, writes ``tazarchive: <reason>`` to stderr. The spider
    arguments also go to the run report (TAZARCHIVE_SPIDER_ARGS).
    """
    crawler.settings.set("TAZARCHIVE_SPIDER_ARGS", dict(spider_args), priority="cmdline")
    start_errors: list[BaseException] = []
    _collect_start_error(process.crawl(crawler, **spider_args), start_errors)
    process.start()
    verdict = crawl_verdict(crawler, start_errors, bootstrap_failed=process.bootstrap_failed)
    if not verdict.ok:
        print(f"tazarchive: {verdict.failure}", file=sys.stderr, flush=True)
    return verdict.exit_status


def crawl_verdict(
    crawler: Crawler, start_errors: list[BaseException], *, bootstrap_failed: bool = False
) -> RunVerdict:
    """The verdict on a crawl that has ended, including one that never started."""
    if start_errors:
        error = start_errors[0]
        if isinstance(error, EXPECTED_START_ERRORS):
            return RunVerdict("", one_line(str(error)))
        logger.error("the crawl could not start", exc_info=error)
        return RunVerdict("", one_line(f"crawl could not start: {type(error).__name__}: {error}"))
    try:
        stats = crawler.stats.get_stats()
    except RuntimeError:  # no stats: the spider could not even be created
        stats = {}
    if bootstrap_failed and not stats.get("finish_reason"):
        return RunVerdict("", "crawl could not start (see the log above)")
    return judge_run(stats)


def _collect_start_error(started: Any, errors: list[BaseException]) -> None:
    """Keep the exception a crawl failed to start with (and so keep it off asyncio's log)."""

    def from_task(task: asyncio.Future[Any]) -> None:
        error = None if task.cancelled() else task.exception()
        if error is not None:
            errors.append(error)

    def from_deferred(failure: Failure) -> None:
        if failure.value is not None:
            errors.append(failure.value)

    if isinstance(started, Deferred):
        started.addErrback(from_deferred)
    elif isinstance(started, asyncio.Future):
        started.add_done_callback(from_task)


class Command(ScrapyCrawlCommand):
    def short_desc(self) -> str:
        return "Run a spider of the project, by name; exit 1 with one line when the run failed"

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) < 1:
            raise UsageError
        if len(args) > 1:
            raise UsageError("running 'scrapy crawl' with more than one spider is not supported")
        assert self.crawler_process
        try:
            crawler = self._create_crawler(args[0])
        except KeyError:  # the spider loader's "Spider not found"
            print(f"tazarchive: no spider named {args[0]!r} (scrapy list)", file=sys.stderr)
            self.exitcode = 1
            return
        self.exitcode = run_crawler(self.crawler_process, crawler, **opts.spargs)
