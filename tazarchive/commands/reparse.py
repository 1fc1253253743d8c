"""``scrapy reparse PATH...``: archived article pages through today's extraction.

Reads the response records of WARC files (or of every WARC file below a
folder), runs each archived article page through
:func:`tazarchive.extract.extract_article` (``fetched`` = the record's
WARC-Date) and yields the articles into a normal run of the project: the item
pipelines (ledger, revisions, dumps), the JSONL feed, progress and the run
report all apply as in a crawl. An unchanged article counts as known, a
changed one becomes a revision.

Extraction runs on every core: the record headers are read as extraction
asks for them (:func:`article_pages`), and batches of record offsets go to
worker processes (TAZARCHIVE_REPARSE_WORKERS, forked from a fork server:
:func:`worker_context`), which read and extract them, and also do the pure
part of storing: normalise, content hash, dump and JSONL line
(:mod:`tazarchive.archive.prepare`). Articles come back
and enter the pipelines in capture order, so the output is the same byte for
byte as with one process; ``Archive.store`` takes the prepared article and
writes in batches (TAZARCHIVE_REPARSE_BATCH): dumps and JSONL lines synced
first, then the batch's ledger rows in one transaction. A damaged record is
skipped and counted, and reading goes on with the next one.

Nothing is downloaded: the internal spider ``reparse`` makes no requests, and
robots.txt, the telnet console and WARC capture are off for it, so no process
of the run opens a network socket (the fork server's is a Unix socket).
Exit status as for ``scrapy crawl``.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import pickle
import sys
from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import forkserver
from typing import TYPE_CHECKING, Any

from scrapy import Spider, signals
from scrapy.commands import BaseRunSpiderCommand
from scrapy.exceptions import UsageError
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.misc import load_object

from tazarchive import stats as keys
from tazarchive import urls
from tazarchive.archive.crawl import crawler_archive
from tazarchive.cli.checked import CheckedCommand
from tazarchive.commands.crawl import run_crawler
from tazarchive.pipelines import StorePipeline
from tazarchive.reparse import (
    ARTICLE,
    DAMAGED,
    NOT_ARTICLE,
    REJECTED,
    Outcome,
    extract_batch,
    extract_batch_pickled,
)
from tazarchive.warc import RecordRef, WarcIndex, warc_files

if TYPE_CHECKING:
    import argparse
    from pathlib import Path
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

    from tazarchive.archive import Archive
    from tazarchive.archive.prepare import PrepareOptions
    from tazarchive.items import Article

BATCH = 16  # records per task: large enough to hide the round trip, small enough to share out
IN_FLIGHT_PER_WORKER = 8  # batches queued per worker: none waits while the pipelines run
REJECTED_URLS_KEPT = 20
PAGES_PER_WORKER = 500  # fewer pages than this per core: fewer workers (each costs ~1 s to start)
SMALLEST_PAGE = 4_000  # bytes of a gzipped response record, at least: for a first guess
ESTIMATE_EVERY = 256  # pages between two estimates of the total while the files are read
IDLE_CHECK = 0.05  # seconds between checks whether the engine has finished the last item


def count_rejected(stats: StatsCollector, reason: str, url: str) -> None:
    """Count a page extraction rejected, under the keys the crawl counts it with."""
    stats.inc_value(keys.ARTICLES_REJECTED)
    stats.inc_value(keys.rejected(reason))
    kept = stats.get_value(keys.rejected_urls(reason)) or []
    if len(kept) < REJECTED_URLS_KEPT:
        stats.set_value(keys.rejected_urls(reason), [*kept, url])
    if reason == "unknown_design":
        stats.inc_value(keys.EXTRACT_UNKNOWN_DESIGN)


def worker_count(setting: int, pages: int) -> int:
    """Worker processes for TAZARCHIVE_REPARSE_WORKERS and ``pages`` to extract.

    0: one per usable core, but no more than the pages keep busy: a worker
    takes about a second to start (it imports Scrapy and lxml), so a small
    reparse runs in this process alone.
    """
    if setting > 0:
        return setting
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, pages // PAGES_PER_WORKER))


def article_pages(
    files: list[Path], stats: StatsCollector, log: logging.LoggerAdapter[Any] | logging.Logger
) -> Iterator[RecordRef]:
    """The archived article pages in ``files``, read as extraction asks for them.

    Extraction starts with the first batch, not after a pass over every file.
    The other responses (listings, redirects, errors) are counted as skipped,
    and damaged stretches and unreadable files as they are met. Until the
    last file is read, the progress line's total (tazarchive/expected_articles)
    is an estimate, the pages found scaled by the bytes read; then the count.
    """
    for key in (
        keys.REPARSE_RESPONSES,
        keys.REPARSE_SKIPPED,
        keys.REPARSE_DAMAGED,
        keys.REPARSE_UNREADABLE,
    ):
        stats.set_value(key, 0)
    index = WarcIndex()
    sizes = [path.stat().st_size for path in files]
    total, before, found = sum(sizes), 0, 0
    for path, size in zip(files, sizes, strict=True):
        damaged, unreadable, problems = index.damaged, index.unreadable, len(index.problems)
        for ref in index.scan(path):
            if ref.status != 200 or not urls.article_id(ref.url):  # listings, redirects, errors
                stats.inc_value(keys.REPARSE_SKIPPED)
                stats.inc_value(keys.REPARSE_RESPONSES)  # done at once (the progress line's pages)
                continue
            found += 1
            if found % ESTIMATE_EVERY == 1:
                read = before + ref.offset + ref.length
                stats.set_value(keys.EXPECTED_ARTICLES, max(found, found * total // read))
            yield ref
        before += size
        stats.inc_value(keys.REPARSE_DAMAGED, index.damaged - damaged)
        stats.inc_value(keys.REPARSE_UNREADABLE, index.unreadable - unreadable)
        for problem in index.problems[problems:]:
            log.warning("WARC %s", problem)
    stats.set_value(keys.EXPECTED_ARTICLES, found)


def batches(refs: Iterable[RecordRef], size: int = BATCH) -> Iterator[list[RecordRef]]:
    batch: list[RecordRef] = []
    for ref in refs:
        batch.append(ref)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def worker_context() -> multiprocessing.context.ForkServerContext:
    """Where the workers come from: ``forkserver``, its server importing extraction once.

    A fork of this process (Twisted, threads) is not safe, and ``spawn``
    starts each worker from scratch (about a second importing Scrapy and
    lxml, on a machine whose cores the reparse needs). The fork server is
    started plainly, imports :mod:`tazarchive.reparse` and the main script
    (``scrapy``) once and forks each worker from itself.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["__main__", "tazarchive.reparse"])
    return context


def most_pages(files: list[Path]) -> int:
    """The most article pages the WARC files can hold, from their size (they are not read yet)."""
    return sum(path.stat().st_size for path in files) // SMALLEST_PAGE


def start_workers_early(setting: int, files: list[Path]) -> None:
    """Start the fork server now when the WARC files promise work for more than one worker.

    Its imports then overlap the crawler's start instead of following it.
    """
    if worker_count(setting, most_pages(files)) < 2:
        return
    worker_context()  # sets what the (process-wide) fork server preloads
    forkserver.ensure_running()


class ExtractionPool:
    """:func:`~tazarchive.reparse.extract_batch` over batches, on ``workers`` processes, in order.

    One worker runs in this process (no pool); more come from
    :func:`worker_context`.
    """

    def __init__(self, workers: int, options: PrepareOptions | None = None) -> None:
        self.workers = workers
        self.options = options  # prepare each article for the archive, in the worker
        self._pool: ProcessPoolExecutor | None = None
        if workers > 1:
            self._pool = ProcessPoolExecutor(workers, mp_context=worker_context())

    async def outcomes(self, refs: Iterable[RecordRef]) -> AsyncIterator[Outcome]:
        """Each record's outcome, in the order of ``refs``."""
        if self._pool is None:
            for batch in batches(refs):
                for outcome in extract_batch(batch, self.options):
                    yield outcome
                await asyncio.sleep(0)  # let the pipelines run between batches
            return
        loop = asyncio.get_running_loop()
        pending: deque[asyncio.Future[bytes]] = deque()
        for batch in batches(refs):
            task = loop.run_in_executor(self._pool, extract_batch_pickled, batch, self.options)
            pending.append(task)
            if len(pending) >= IN_FLIGHT_PER_WORKER * self.workers:
                for outcome in pickle.loads(await pending.popleft()):
                    yield outcome
        while pending:
            for outcome in pickle.loads(await pending.popleft()):
                yield outcome

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class ReparseSpider(Spider):
    """Yields the articles extracted from archived pages; fetches nothing.

    Ends as soon as the last article has passed the pipelines.
    Settings: TAZARCHIVE_REPARSE_WORKERS, TAZARCHIVE_REPARSE_BATCH.
    Stats: tazarchive/reparse/{responses,pages,skipped,damaged,unreadable},
    tazarchive/extract/not_article, tazarchive/expected_articles (article pages found),
    tazarchive/articles/rejected, tazarchive/rejected/<reason>.
    """

    name = "reparse"
    custom_settings: dict[str, Any] | None = {  # noqa: RUF012  (Scrapy declares it so)
        "ROBOTSTXT_OBEY": False,  # would fetch robots.txt
        "TELNETCONSOLE_ENABLED": False,  # would listen on a port
        "REMOTE_CONTROL_ENABLED": False,  # Scrapy >= 2.19: would listen on a port too
        "TAZARCHIVE_WARC_ENABLED": False,  # nothing is fetched, nothing to capture
        "TAZARCHIVE_ALLOW_OTHER_SITE": True,  # nothing is fetched from TAZARCHIVE_BASE_URL
        # Nothing is downloaded, so no downloader middleware is needed; and
        # CookiesMiddleware imports urllib3 (via tldextract, requests), which
        # opens an IPv6 socket at import to probe for IPv6 support.
        "DOWNLOADER_MIDDLEWARES_BASE": {},
        "DOWNLOADER_MIDDLEWARES": {},
    }

    def __init__(self, paths: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.paths = list(paths or [])
        self._yielded = 0
        self._finished = 0
        self._exhausted = False
        self._closing: Any = None
        self._pool: ExtractionPool | None = None
        self._batched: Archive | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(spider._item_finished, signal=signal)
        crawler.signals.connect(spider._spider_closed, signal=signals.spider_closed)
        return spider

    async def start(self) -> AsyncIterator[Article]:
        stats = self.crawler.stats
        assert stats is not None
        files = warc_files(self.paths)
        setting = self.settings.getint("TAZARCHIVE_REPARSE_WORKERS")
        workers = worker_count(setting, most_pages(files))
        archive = self._archive()
        self._pool = ExtractionPool(workers, archive.prepare_options if archive else None)
        try:
            async for outcome in self._pool.outcomes(article_pages(files, stats, self.logger)):
                article = self._count(stats, outcome)
                if article is not None:
                    if archive is not None and outcome.prepared is not None:
                        archive.expect(outcome.prepared)
                    self._yielded += 1
                    yield article
        finally:
            self._pool.close()
        self._exhausted = True
        self._close_when_done()

    def _archive(self) -> Archive | None:
        """The run's archive when its store pipeline runs: it then writes in batches,
        and the workers prepare each article for it.
        """
        pipelines = self.settings.getwithbase("ITEM_PIPELINES")
        enabled = [load_object(path) for path, order in pipelines.items() if order is not None]
        if StorePipeline not in enabled:
            return None
        archive = crawler_archive(self.crawler)
        archive.write_in_batches(self.settings.getint("TAZARCHIVE_REPARSE_BATCH"))
        self._batched = archive
        return archive

    def _count(self, stats: StatsCollector, outcome: Outcome) -> Article | None:
        """Count the outcome; the article to pass on, if any."""
        stats.inc_value(keys.REPARSE_RESPONSES)
        if outcome.kind == DAMAGED:
            stats.inc_value(keys.REPARSE_DAMAGED)
            self.logger.warning("WARC damaged record skipped: %s", outcome.detail)
            return None
        stats.inc_value(keys.REPARSE_PAGES)
        if outcome.kind == REJECTED:
            count_rejected(stats, outcome.reason, outcome.url)
            self.logger.info("rejected (%s): %s %s", outcome.reason, outcome.url, outcome.detail)
        elif outcome.kind == NOT_ARTICLE:
            stats.inc_value(keys.EXTRACT_NOT_ARTICLE)
            self.logger.info("not an article: %s (%s)", outcome.url, outcome.detail)
        elif outcome.kind == ARTICLE:
            return outcome.article
        return None

    def _item_finished(self, item: Any) -> None:
        self._finished += 1
        self._close_when_done()

    def _close_when_done(self) -> None:
        # Items from start() leave the engine checking for idleness only on its 5 s
        # heartbeat: close as soon as the last article has left the pipelines.
        if self._exhausted and self._finished >= self._yielded and self._closing is None:
            self._closing = call_later(0, self._close_if_idle)

    def _close_if_idle(self) -> None:
        engine = self.crawler.engine
        if engine is None or engine.spider is None:
            return
        if engine.spider_is_idle():
            if self._batched is not None:
                self._batched.flush()  # the last batch recorded (or counted) before the report
            deferred_from_coro(engine.close_spider_async(reason="finished"))
        else:  # the engine has yet to see start() end or the last item leave
            self._closing = call_later(IDLE_CHECK, self._close_if_idle)

    def _spider_closed(self, spider: Spider) -> None:
        if self._pool is not None:
            self._pool.close()


class Command(CheckedCommand, BaseRunSpiderCommand):
    requires_project = True

    def syntax(self) -> str:
        return "[options] PATH..."

    def short_desc(self) -> str:
        return "Re-extract archived article pages from WARC files (no network)"

    def long_desc(self) -> str:
        return (
            "Run every archived article page in the WARC files (or folders of them) PATH... "
            "through today's extraction and the normal pipelines and feeds: an unchanged "
            "article is known, a changed one a new revision. Downloads nothing; extracts "
            "on every core (TAZARCHIVE_REPARSE_WORKERS)."
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if not args:
            raise UsageError("name at least one WARC file or folder")
        try:
            files = warc_files(args)
        except FileNotFoundError as exc:
            print(f"tazarchive: {exc}", file=sys.stderr, flush=True)
            self.exitcode = 1
            return
        if not files:
            print(f"tazarchive: no WARC files in {' '.join(args)}", file=sys.stderr, flush=True)
            self.exitcode = 1
            return
        assert self.crawler_process is not None and self.settings is not None
        # The workers' imports then overlap the crawler's start and the first pass.
        start_workers_early(self.settings.getint("TAZARCHIVE_REPARSE_WORKERS"), files)
        crawler = self._create_crawler(ReparseSpider)
        # The paths as given (not the file list): they go to the run report.
        self.exitcode = run_crawler(self.crawler_process, crawler, **opts.spargs, paths=list(args))
