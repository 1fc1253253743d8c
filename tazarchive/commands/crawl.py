"""``scrapy crawl`` with an exit status: Scrapy's command, then the run's verdict.

Same name as Scrapy's command, so COMMANDS_MODULE makes it replace that one.
Bad settings or spider arguments are refused before anything is created
(one line, exit status 2; :mod:`tazarchive.config`). After the crawl it exits
1 with ONE last stderr line ``tazarchive: <reason>`` when the run failed (see
:mod:`tazarchive.verdict`), else 0; the run report holds the same verdict.
Expected failures (busy archive, unreachable site) print no traceback.
``scrapy reparse`` uses :func:`run_crawler` the same way.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import TYPE_CHECKING, Any

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError
from scrapy.spiderloader import get_spider_loader
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from tazarchive.config import refuse_bad_settings
from tazarchive.extensions import ArchiveBusy, RunReport
from tazarchive.verdict import RunVerdict, Thresholds, judge_run

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
    report = _extension(crawler, RunReport)
    if report is not None:
        report.rewrite(verdict)  # stats can still change after spider_closed (feed storage)
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
            return RunVerdict.failed(str(error))
        logger.error("the crawl could not start", exc_info=error)
        return RunVerdict.failed(f"crawl could not start: {type(error).__name__}: {error}")
    try:
        stats = crawler.stats.get_stats()
    except RuntimeError:  # no stats: the spider could not even be created
        stats = {}
    if bootstrap_failed and not stats.get("finish_reason"):
        return RunVerdict.failed("crawl could not start (see the log above)")
    return judge_run(stats, thresholds=Thresholds.from_settings(crawler.settings))


def _extension(crawler: Crawler, cls: type[RunReport]) -> RunReport | None:
    try:
        return crawler.get_extension(cls)
    except RuntimeError:  # the crawl never got as far as building its extensions
        return None


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

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        """Scrapy's options, then the settings and ``-a`` arguments checked.

        Here, because this runs before Scrapy creates the crawler process (and
        logs its banner): a refused run prints one line and creates nothing.
        """
        super().process_options(args, opts)
        assert self.settings is not None
        spidercls = None
        if len(args) == 1:
            try:
                spidercls = get_spider_loader(self.settings).load(args[0])
            except KeyError:
                spidercls = None  # run() says so
        refuse_bad_settings(self.settings, spidercls, opts.spargs)

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
