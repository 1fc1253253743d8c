"""Runs a person can follow: the archive lock, the progress line, the run report.

Plus :func:`judge_run`, the one rule that says whether a finished run failed;
the ``crawl`` command (exit status) and :class:`RunReport` both use it.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from time import monotonic
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.settings import SETTINGS_PRIORITIES, BaseSettings
from scrapy.utils.asyncio import create_looping_call

from tazarchive.archive import write_atomic
from tazarchive.pipelines import output_dir

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

FAILURE = "tazarchive/failure"
EXPECTED = "tazarchive/expected_articles"
ARTICLE_COUNTS = ("new", "known", "revised", "rejected")

# Finish reasons of a run that did what it was asked: the end of the crawl, or
# a limit the user set (CLOSESPIDER_ITEMCOUNT/PAGECOUNT/TIMEOUT).
SUCCESS_REASONS = frozenset(
    {"finished", "closespider_itemcount", "closespider_pagecount", "closespider_timeout"}
)
_REASON_LINES = {
    "shutdown": "run was stopped before it finished (shutdown); "
    "with -s JOBDIR=… the same command resumes it",
    "cancelled": "run was cancelled before it finished",
    "closespider_errorcount": "run stopped after too many errors (CLOSESPIDER_ERRORCOUNT)",
    "closespider_timeout_no_item": "run stopped: no item for CLOSESPIDER_TIMEOUT_NO_ITEM seconds",
}


# --- the verdict --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunVerdict:
    """Whether a run failed, and the one line that says why (empty when it did not)."""

    finish_reason: str
    failure: str = ""

    @property
    def ok(self) -> bool:
        return not self.failure

    @property
    def exit_status(self) -> int:
        return 0 if self.ok else 1


def judge_run(stats: Mapping[str, Any], finish_reason: str | None = None) -> RunVerdict:
    """The verdict on a finished run from its stats.

    A run failed when a component set ``tazarchive/failure`` (its line is the
    reason), when it ended for a reason other than :data:`SUCCESS_REASONS`,
    when every download failed (no response at all, but download errors), or
    when every response was an HTTP error (4xx/5xx).
    Logged errors alone (a spider exception, one page that stayed 503) do not
    fail a run: the report counts them.
    """
    reason = str(finish_reason or stats.get("finish_reason") or "")
    failure = stats.get(FAILURE)
    if failure:
        return RunVerdict(reason, one_line(str(failure)))
    if not reason:
        return RunVerdict(reason, "run did not finish (no finish reason)")
    if reason not in SUCCESS_REASONS:
        return RunVerdict(reason, _REASON_LINES.get(reason, f"run ended early: {reason}"))
    download_errors = int(stats.get("downloader/exception_count", 0))
    if download_errors and not stats.get("downloader/response_count", 0):
        kinds = _counts_under(stats, "downloader/exception_type_count/")
        worst = max(kinds, key=kinds.__getitem__) if kinds else "unknown error"
        return RunVerdict(
            reason,
            f"no response from the site: {download_errors} download errors "
            f"({worst.rpartition('.')[2]})",
        )
    statuses = _counts_under(stats, "downloader/response_status_count/")
    if statuses and all(not status.isdigit() or int(status) >= 400 for status in statuses):
        by_count = sorted(statuses.items(), key=lambda item: (-item[1], item[0]))
        shown = ", ".join(f"status {status}: {n}" for status, n in by_count)
        return RunVerdict(reason, f"every response was an HTTP error ({shown})")
    return RunVerdict(reason)


def one_line(text: str) -> str:
    """``text`` as one line: its whitespace runs (newlines too) become single spaces."""
    return " ".join(text.split())


def _counts_under(stats: Mapping[str, Any], prefix: str) -> dict[str, int]:
    return {key[len(prefix) :]: int(v) for key, v in stats.items() if key.startswith(prefix)}


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
    lock = LockFile(output_dir / ".lock")
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
        extension = cls(output_dir(crawler.settings))
        try:
            extension.acquire()
        except ArchiveBusy as busy:
            crawler.stats.set_value(FAILURE, str(busy))
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
    """Logs one line every TAZARCHIVE_PROGRESS_INTERVAL seconds (0 turns it off)::

        progress: 120 pages (360/min), 80 new, 30 known, 2 revised, 1 rejected,
        0 errors; 113/400 articles, ETA 2m10s

    Pages are responses received, errors are logged errors; the articles part
    shows where the spider knows the total (stats tazarchive/expected_articles).
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

    def reset(self, now: float) -> None:
        """Count rates and the ETA from ``now`` (monotonic seconds) on."""
        self._started = now
        self._last = (now, int(self.stats.get_value("response_received_count", 0)))

    def log(self) -> None:
        logger.info("progress: %s", self.line(monotonic()))

    def line(self, now: float) -> str:
        """The progress line for the stats as they are at ``now`` (monotonic seconds)."""
        get = self.stats.get_value
        pages = int(get("response_received_count", 0))
        last_time, last_pages = self._last
        self._last = (now, pages)
        span = now - last_time
        rate = (pages - last_pages) * 60 / span if span > 0 else 0.0
        counts = {name: int(get(f"tazarchive/articles/{name}", 0)) for name in ARTICLE_COUNTS}
        text = (
            f"{pages} pages ({rate:.0f}/min), "
            + ", ".join(f"{n} {name}" for name, n in counts.items())
            + f", {int(get('log_count/ERROR', 0))} errors"
        )
        expected = int(get(EXPECTED, 0) or 0)
        if expected:
            done = sum(counts.values()) + int(get("tazarchive/extract/not_article", 0))
            text += f"; {done}/{expected} articles"
            elapsed = now - self._started
            if 0 < done < expected and elapsed > 0:
                text += f", ETA {_duration((expected - done) * elapsed / done)}"
        return text


# --- the run report -----------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseSettings):
        return value.copy_to_dict()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return str(value)


class RunReport:
    """Writes ``<TAZARCHIVE_OUTPUT_DIR>/runs/<spider>-<start>.json`` when the spider closes.

    Fields: spider, args (``-a``), settings (those given on the command line),
    archive (the TAZARCHIVE_* values), pid, start, end, duration_seconds,
    finish_reason, exit_status, failure, counts, tazarchive (every
    ``tazarchive/…`` stat), errors (by kind). Written atomically (temp +
    rename), so a report file is always complete JSON.

    Settings: TAZARCHIVE_RUN_REPORT_ENABLED, TAZARCHIVE_OUTPUT_DIR, TAZARCHIVE_SPIDER_ARGS.
    Stats: tazarchive/run_report (the path written).
    """

    def __init__(
        self,
        runs_dir: Path,
        stats: StatsCollector,
        *,
        settings: Mapping[str, Any] | None = None,
        spider_args: Mapping[str, Any] | None = None,
        archive: Mapping[str, Any] | None = None,
    ) -> None:
        self.runs_dir = runs_dir
        self.stats = stats
        self.settings = dict(settings or {})
        self.spider_args = dict(spider_args or {})
        self.archive = dict(archive or {})
        self.start = datetime.now(UTC)
        self._started = monotonic()
        self.path: Path | None = None

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
            output_dir(settings) / "runs",
            crawler.stats,
            settings=given,
            spider_args=settings.getdict("TAZARCHIVE_SPIDER_ARGS"),
            archive=archive,
        )
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        self.start = datetime.now(UTC)
        self._started = monotonic()

    def spider_closed(self, spider: Spider, reason: str) -> None:
        stats = self.stats.get_stats()
        report = self.report(spider.name, reason, stats, datetime.now(UTC))
        self.path = self._free_path(spider.name)
        text = json.dumps(report, ensure_ascii=False, indent=2, default=_jsonable) + "\n"
        write_atomic(self.path, text.encode("utf-8"))
        self.stats.set_value("tazarchive/run_report", str(self.path))
        logger.info("run report: %s", self.path)

    def report(
        self, spider: str, reason: str, stats: Mapping[str, Any], end: datetime
    ) -> dict[str, Any]:
        verdict = judge_run(stats, reason)
        return {
            "spider": spider,
            "args": self.spider_args,
            "settings": self.settings,
            "archive": self.archive,
            "pid": os.getpid(),
            "start": self.start.isoformat(),
            "end": end.isoformat(),
            "duration_seconds": round(monotonic() - self._started, 3),
            "finish_reason": reason,
            "exit_status": verdict.exit_status,
            "failure": verdict.failure or None,
            "counts": self.counts(stats),
            "tazarchive": {
                key.removeprefix("tazarchive/"): value
                for key, value in sorted(stats.items())
                if key.startswith("tazarchive/") and key != FAILURE
            },
            "errors": self.errors(stats),
        }

    @staticmethod
    def counts(stats: Mapping[str, Any]) -> dict[str, int | None]:
        counts: dict[str, int | None] = {
            name: int(stats.get(f"tazarchive/articles/{name}", 0)) for name in ARTICLE_COUNTS
        }
        counts.update(
            expected=stats.get(EXPECTED),
            not_article=int(stats.get("tazarchive/extract/not_article", 0)),
            body_mismatch=int(stats.get("tazarchive/extract/body_mismatch", 0)),
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
            for status, n in _counts_under(stats, "downloader/response_status_count/").items()
            if re.fullmatch(r"[45]\d\d", status)
        }
        return {
            "logged_errors": int(stats.get("log_count/ERROR", 0)),
            "logged_warnings": int(stats.get("log_count/WARNING", 0)),
            "download": _counts_under(stats, "downloader/exception_type_count/"),
            "http": http,
            "retries_exhausted": int(stats.get("retry/max_reached", 0)),
            "spider": _counts_under(stats, "spider_exceptions/"),
            "dropped": _counts_under(stats, "item_dropped_reasons_count/"),
        }

    def _free_path(self, spider: str) -> Path:
        stamp = self.start.strftime("%Y-%m-%dT%H-%M-%SZ")
        path = self.runs_dir / f"{spider}-{stamp}.json"
        n = 2
        while path.exists():  # a second run in the same second (the lock makes this safe)
            path = self.runs_dir / f"{spider}-{stamp}-{n}.json"
            n += 1
        return path


__all__ = [
    "ArchiveBusy",
    "ArchiveLock",
    "LockFile",
    "Progress",
    "RunReport",
    "RunVerdict",
    "judge_run",
    "lock_archive",
    "one_line",
]
