"""Runs a person can follow: the archive lock, the progress line, the run report.

Whether a run failed is decided in :mod:`tazarchive.verdict`; the report and
the ``crawl`` command's exit status both ask it.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from time import monotonic
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.settings import SETTINGS_PRIORITIES, BaseSettings
from scrapy.utils.asyncio import create_looping_call

from tazarchive import stats as keys
from tazarchive.archive import write_atomic
from tazarchive.archive.layout import ArchiveLayout, free_report_path, lock_path
from tazarchive.verdict import (
    FEED_FAILED_PREFIX,
    RunVerdict,
    Thresholds,
    counts_under,
    judge_run,
)

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

ARTICLE_COUNTS = {
    "new": keys.ARTICLES_NEW,
    "known": keys.ARTICLES_KNOWN,
    "revised": keys.ARTICLES_REVISED,
    "rejected": keys.ARTICLES_REJECTED,
    "skipped_known": keys.ARTICLES_SKIPPED_KNOWN,  # archived already: never requested
    "from_archive": keys.ARTICLES_FROM_ARCHIVE,  # handed to the run's feeds unfetched
}
# Shown on the progress line only when a run has any: most runs have none.
SHOWN_WHEN_ANY = frozenset({"skipped_known", "from_archive"})


# --- the lock -----------------------------------------------------------------


class ArchiveBusy(RuntimeError):
    """Another process holds the archive's lock; ``str()`` is the one-line reason."""


class LockFile:
    """An exclusive ``flock`` on a file; the file says who holds it.

    The kernel drops the lock when its holder exits, however it exits, so a
    lock file left by a killed run is no obstacle. The file itself stays.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, what: str) -> None:
        """Take the lock or raise :class:`ArchiveBusy` at once (never waits)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
            os.close(fd)
            held_by = f"held by {holder}" if holder else "held by another process"
            raise ArchiveBusy(f"{what} is busy ({held_by})") from None
        os.ftruncate(fd, 0)
        since = datetime.now(UTC).replace(microsecond=0).isoformat()
        os.pwrite(fd, f"pid {os.getpid()} since {since}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing drops the flock


def lock_archive(output_dir: Path) -> LockFile:
    """Take ``<output_dir>/.lock`` for a run or command that writes the archive.

    Raises :class:`ArchiveBusy` ("archive <dir> is busy (held by pid N since
    …)") at once when another process holds it. ``release()`` when done, or
    just exit: the kernel drops the lock with its process.
    """
    lock = LockFile(lock_path(output_dir))
    lock.acquire(f"archive {output_dir}")
    return lock


class ArchiveLock:
    """One run per archive: holds ``<TAZARCHIVE_OUTPUT_DIR>/.lock`` for the whole run.

    Taken when the extension is built, which is before Scrapy builds the
    pipelines, middlewares, feeds and scheduler, so a second run on the same
    archive stops before any of them opens (let alone writes) a file: it
    raises :class:`ArchiveBusy` ("archive output is busy (held by pid 123
    since …)"), which ``scrapy crawl`` turns into that line on stderr and exit
    status 1. Released when the engine stops.

    Settings: TAZARCHIVE_LOCK_ENABLED, TAZARCHIVE_OUTPUT_DIR. Stats: tazarchive/failure.
    """

    def __init__(self, output_dir: Path) -> None:
        self.output_dir = output_dir
        self.lock: LockFile | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("TAZARCHIVE_LOCK_ENABLED"):
            raise NotConfigured("TAZARCHIVE_LOCK_ENABLED is off")
        extension = cls(ArchiveLayout.from_settings(crawler.settings).root)
        try:
            extension.acquire()
        except ArchiveBusy as busy:
            crawler.stats.set_value(keys.FAILURE, str(busy))
            raise
        crawler.signals.connect(extension.release, signal=signals.engine_stopped)
        return extension

    def acquire(self) -> None:
        self.lock = lock_archive(self.output_dir)

    def release(self) -> None:
        if self.lock is not None:
            self.lock.release()


# --- the progress line --------------------------------------------------------


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


class Progress:
    """The run's one progress line, in place of Scrapy's LogStats (disabled in settings)::

        progress: 120 pages (360/min), 80 new, 30 known, 2 revised, 1 rejected,
        0 errors; 113/400 articles, ETA 2m10s

    Every TAZARCHIVE_PROGRESS_INTERVAL seconds (0 turns it off) and once at
    the end. Pages are responses received, or WARC records read in
    ``reparse``; errors are logged errors; the articles part shows where the
    spider knows the total (stats tazarchive/expected_articles). At the end it
    sets LogStats' ``responses_per_minute`` and ``items_per_minute`` stats.
    """

    def __init__(self, stats: StatsCollector, interval: float) -> None:
        self.stats = stats
        self.interval = interval
        self.task: Any = None
        self._started = monotonic()
        self._last = (self._started, 0)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        interval = crawler.settings.getfloat("TAZARCHIVE_PROGRESS_INTERVAL")
        if interval <= 0:
            raise NotConfigured("TAZARCHIVE_PROGRESS_INTERVAL is 0")
        extension = cls(crawler.stats, interval)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        self.reset(monotonic())
        self.task = create_looping_call(self.log)
        self.task.start(self.interval, now=False)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
        self.finish(monotonic())

    def finish(self, now: float) -> None:
        """The last line, and LogStats' per-minute stats over the whole run."""
        logger.info("progress at the end: %s", self.line(now, since_start=True))
        minutes = (now - self._started) / 60
        if minutes > 0:
            items = int(self.stats.get_value("item_scraped_count", 0) or 0)
            self.stats.set_value("responses_per_minute", round(self.pages() / minutes, 1))
            self.stats.set_value("items_per_minute", round(items / minutes, 1))

    def reset(self, now: float) -> None:
        """Count rates and the ETA from ``now`` (monotonic seconds) on."""
        self._started = now
        self._last = (now, self.pages())

    def pages(self) -> int:
        get = self.stats.get_value
        return int(get("response_received_count", 0) or 0) + int(
            get(keys.REPARSE_RESPONSES, 0) or 0
        )

    def log(self) -> None:
        logger.info("progress: %s", self.line(monotonic()))

    def line(self, now: float, *, since_start: bool = False) -> str:
        """The progress line for the stats as they are at ``now`` (monotonic seconds)."""
        get = self.stats.get_value
        pages = self.pages()
        last_time, last_pages = (self._started, 0) if since_start else self._last
        self._last = (now, pages)
        span = now - last_time
        rate = (pages - last_pages) * 60 / span if span > 0 else 0.0
        counts = {name: int(get(key, 0) or 0) for name, key in ARTICLE_COUNTS.items()}
        text = (
            f"{pages} pages ({rate:.0f}/min), "
            + ", ".join(
                f"{n} {name.replace('_', ' ')}"
                for name, n in counts.items()
                if n or name not in SHOWN_WHEN_ANY
            )
            + f", {int(get('log_count/ERROR', 0) or 0)} errors"
        )
        expected = int(get(keys.EXPECTED_ARTICLES, 0) or 0)
        if expected:
            done = sum(counts.values()) + sum(
                int(get(key, 0) or 0) for key in (keys.EXTRACT_NOT_ARTICLE, keys.ARTICLES_LOST)
            )
            text += f"; {done}/{expected} articles"
            elapsed = now - self._started
            if 0 < done < expected and elapsed > 0:
                text += f", ETA {_duration((expected - done) * elapsed / done)}"
        return text


# --- failures nobody else counts ------------------------------------------------


class ItemErrors:
    """Counts items a pipeline raised on (``item_error``), for the verdict.

    Stats: tazarchive/articles/item_errors.
    """

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        extension = cls(crawler.stats)
        crawler.signals.connect(extension.item_error, signal=signals.item_error)
        return extension

    def item_error(self, item: Any, response: Any, spider: Spider, failure: Any) -> None:
        self.stats.inc_value(keys.ITEM_ERRORS)


# --- the run report -----------------------------------------------------------

# Bytes kept for the report from the run's start, so that it can be written at
# the end even when the disk has filled up meanwhile (JSON ignores the padding).
REPORT_RESERVE = 256 * 1024


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseSettings):
        return value.copy_to_dict()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return str(value)


def _dumps(report: Mapping[str, Any]) -> bytes:
    return (json.dumps(report, ensure_ascii=False, indent=2, default=_jsonable) + "\n").encode()


class RunReport:
    """Keeps ``<TAZARCHIVE_OUTPUT_DIR>/runs/<spider>-<start>.json`` for the run.

    Written when the spider opens (``verdict``: not finished; padded to
    :data:`REPORT_RESERVE` bytes) and again when it closes, so a killed run
    leaves a report saying so, and a full disk still gets the final one (it
    is then written over the reserved bytes). Fields: spider, args (``-a``),
    settings (those given on the command line), archive (the TAZARCHIVE_*
    values), pid, start, end, duration_seconds, finish_reason, exit_status,
    failure, verdict (every reason with its count; see
    :mod:`tazarchive.verdict`), counts, tazarchive (every ``tazarchive/…``
    stat), errors (by kind).

    Settings: TAZARCHIVE_RUN_REPORT_ENABLED, TAZARCHIVE_OUTPUT_DIR, TAZARCHIVE_SPIDER_ARGS,
    the verdict's thresholds. Stats: tazarchive/run_report (the path written).
    """

    def __init__(
        self,
        runs_dir: Path,
        stats: StatsCollector,
        *,
        settings: Mapping[str, Any] | None = None,
        spider_args: Mapping[str, Any] | None = None,
        archive: Mapping[str, Any] | None = None,
        thresholds: Thresholds | None = None,
    ) -> None:
        self.runs_dir = runs_dir
        self.stats = stats
        self.settings = dict(settings or {})
        self.spider_args = dict(spider_args or {})
        self.archive = dict(archive or {})
        self.thresholds = thresholds or Thresholds()
        self.start = datetime.now(UTC)
        self._started = monotonic()
        self.path: Path | None = None
        self.spider = ""
        self.last: dict[str, Any] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("TAZARCHIVE_RUN_REPORT_ENABLED"):
            raise NotConfigured("TAZARCHIVE_RUN_REPORT_ENABLED is off")
        cmdline = SETTINGS_PRIORITIES["cmdline"]
        given = {
            name: settings[name]
            for name in settings
            if (settings.getpriority(name) or 0) >= cmdline and name != "TAZARCHIVE_SPIDER_ARGS"
        }
        archive = {
            name: settings[name]
            for name in settings
            if name.startswith("TAZARCHIVE_") and name != "TAZARCHIVE_SPIDER_ARGS"
        }
        extension = cls(
            ArchiveLayout.from_settings(settings).runs,
            crawler.stats,
            settings=given,
            spider_args=settings.getdict("TAZARCHIVE_SPIDER_ARGS"),
            archive=archive,
            thresholds=Thresholds.from_settings(settings),
        )
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        self.start = datetime.now(UTC)
        self._started = monotonic()
        self.spider = spider.name
        self.path = self._free_path(spider.name)
        first = self.report(spider.name, "", {}, self.start)
        first["verdict"] = {
            "ok": False,
            "exit_status": None,
            "failure": "run has not finished (still running, or killed)",
        }
        first.update(exit_status=None, failure=first["verdict"]["failure"], end=None)
        text = _dumps(first)
        try:
            write_atomic(self.path, text + b" " * max(0, REPORT_RESERVE - len(text) - 1) + b"\n")
        except OSError as error:
            logger.error("cannot write the run report %s: %s", self.path, error)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.path is None:  # opened without the signal (a test building it by hand)
            self.spider = spider.name
            self.path = self._free_path(spider.name)
        self.write(self.report(spider.name, reason, self.stats.get_stats(), datetime.now(UTC)))

    def rewrite(self, verdict: RunVerdict) -> None:
        """Write the report again with ``verdict``: the final one, after the crawl ended."""
        if self.last is None or self.last.get("verdict") == verdict.as_report():
            return
        self.write(self.with_verdict(self.last, verdict))

    def write(self, report: dict[str, Any]) -> None:
        assert self.path is not None
        self.last = report
        text = _dumps(report)
        try:
            write_atomic(self.path, text)
        except OSError as error:
            # No room for a temp file: over the bytes reserved at the start.
            if not self._write_reserved(report):
                logger.error("cannot write the run report %s: %s", self.path, error)
                return
        self.stats.set_value(keys.RUN_REPORT, str(self.path))
        logger.info("run report: %s", self.path)

    def _write_reserved(self, report: dict[str, Any]) -> bool:
        assert self.path is not None
        text = _dumps(report)
        if len(text) > REPORT_RESERVE:  # the essentials only
            text = _dumps({key: report[key] for key in report if key not in _BULKY})
        try:
            fd = os.open(self.path, os.O_WRONLY)
        except OSError:
            return False
        try:
            if os.fstat(fd).st_size < len(text):
                return False
            os.pwrite(fd, text, 0)
            os.ftruncate(fd, len(text))
            os.fsync(fd)
        except OSError:
            return False
        finally:
            os.close(fd)
        return True

    def report(
        self, spider: str, reason: str, stats: Mapping[str, Any], end: datetime
    ) -> dict[str, Any]:
        report = {
            "spider": spider,
            "args": self.spider_args,
            "settings": self.settings,
            "archive": self.archive,
            "pid": os.getpid(),
            "start": self.start.isoformat(),
            "end": end.isoformat(),
            "duration_seconds": round(monotonic() - self._started, 3),
            "finish_reason": reason,
            "counts": self.counts(stats),
            "tazarchive": {
                key.removeprefix(keys.PREFIX): value
                for key, value in sorted(stats.items())
                if key.startswith(keys.PREFIX) and key != keys.FAILURE
            },
            "errors": self.errors(stats),
        }
        return self.with_verdict(report, judge_run(stats, reason, self.thresholds))

    @staticmethod
    def with_verdict(report: dict[str, Any], verdict: RunVerdict) -> dict[str, Any]:
        return {
            **report,
            "exit_status": verdict.exit_status,
            "failure": verdict.failure or None,
            "verdict": verdict.as_report(),
        }

    @staticmethod
    def counts(stats: Mapping[str, Any]) -> dict[str, int | None]:
        counts: dict[str, int | None] = {
            name: int(stats.get(key, 0)) for name, key in ARTICLE_COUNTS.items()
        }
        counts.update(
            expected=stats.get(keys.EXPECTED_ARTICLES),
            lost=int(stats.get(keys.ARTICLES_LOST, 0)),
            not_article=int(stats.get(keys.EXTRACT_NOT_ARTICLE, 0)),
            body_mismatch=int(stats.get(keys.EXTRACT_BODY_MISMATCH, 0)),
            requests=int(stats.get("downloader/request_count", 0)),
            responses=int(stats.get("downloader/response_count", 0)),
            items_scraped=int(stats.get("item_scraped_count", 0)),
            items_dropped=int(stats.get("item_dropped_count", 0)),
        )
        return counts

    @staticmethod
    def errors(stats: Mapping[str, Any]) -> dict[str, Any]:
        http = {
            status: n
            for status, n in counts_under(stats, "downloader/response_status_count/").items()
            if re.fullmatch(r"[45]\d\d", status)
        }
        return {
            "logged_errors": int(stats.get("log_count/ERROR", 0)),
            "logged_warnings": int(stats.get("log_count/WARNING", 0)),
            "download": counts_under(stats, "downloader/exception_type_count/"),
            "http": http,
            "retries_exhausted": int(stats.get("retry/max_reached", 0)),
            "spider": counts_under(stats, "spider_exceptions/"),
            "dropped": counts_under(stats, "item_dropped_reasons_count/"),
            "feeds": counts_under(stats, FEED_FAILED_PREFIX),
        }

    def _free_path(self, spider: str) -> Path:
        return free_report_path(self.runs_dir, spider, self.start)


_BULKY = frozenset({"archive", "settings", "tazarchive"})

__all__ = [
    "ArchiveBusy",
    "ArchiveLock",
    "ItemErrors",
    "LockFile",
    "Progress",
    "RunReport",
    "lock_archive",
]
