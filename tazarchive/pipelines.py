"""Item pipelines: normalise → validate → deduplicate (ledger) → store the dump.

The order in ITEM_PIPELINES (settings.py) is that order. Each pipeline only
transforms or filters :class:`~tazarchive.items.Article` items and lets any
other item pass. Stats keys are under ``tazarchive/``:

- ``tazarchive/articles/new``, ``…/revised``: revisions committed to the ledger
  (on item_scraped, after the feed exporters wrote the item);
- ``tazarchive/articles/known``: unchanged articles dropped (plus, from the
  spider middleware, article requests never sent);
- ``tazarchive/articles/rejected`` and ``tazarchive/rejected/<reason>``;
- ``tazarchive/extract/body_mismatch``.
"""

from __future__ import annotations

import json
import logging
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from scrapy import signals
from scrapy.exceptions import DropItem, NotConfigured

from tazarchive.dump import GopherOptions, render
from tazarchive.items import Article, article_to_dict
from tazarchive.ledger import Ledger, content_hash, crawler_ledger
from tazarchive.normalise import normalise_article
from tazarchive.workers import WorkerProcesses, crawler_workers, running_loop

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

# Dumps are filed by publication month in taz's own time zone.
ARCHIVE_TIMEZONE = ZoneInfo("Europe/Berlin")
UNDATED_FOLDER = "undated"
DUMP_SUFFIXES = {"seed": ".txt", "text": ".txt", "gophermap": ".gph"}
SAFE_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]*")


def output_dir(settings: BaseSettings) -> Path:
    return Path(settings.get("TAZARCHIVE_OUTPUT_DIR") or "output")


# --- normalise ------------------------------------------------------------------


class NormalisePipeline:
    """Apply FORMAT.md's character rules to every text field of an article."""

    def process_item(self, item: Any) -> Any:
        if isinstance(item, Article):
            normalise_article(item)
        return item


# --- validate -------------------------------------------------------------------


def rejection_reason(article: Article) -> str | None:
    """Why the archive cannot keep this article (``no_id``, ``bad_id``, …), or None."""
    if not article.id:
        return "no_id"
    if not SAFE_ID.fullmatch(article.id):
        return "bad_id"  # it becomes a file name
    if not article.title.strip():
        return "no_title"
    if not any(block.text.strip() for block in article.body):
        return "empty_body"
    return None


def append_line(path: Path, line: str) -> None:
    """Append one line with a single os.write, so a killed process leaves no partial line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line.rstrip("\n") + "\n").encode("utf-8"))
    finally:
        os.close(fd)


class ValidatePipeline:
    """Drop articles without id, title or body, keeping them in a rejects file.

    Settings: TAZARCHIVE_REJECTS_PATH (empty: ``rejects.jsonl`` in
    TAZARCHIVE_OUTPUT_DIR). Stats: ``tazarchive/articles/rejected``,
    ``tazarchive/rejected/<reason>``, ``tazarchive/extract/body_mismatch``.
    """

    def __init__(self, stats: StatsCollector, rejects_path: Path | None) -> None:
        self.stats = stats
        self.rejects_path = rejects_path

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        assert crawler.stats is not None
        configured = crawler.settings.get("TAZARCHIVE_REJECTS_PATH") or ""
        path = Path(configured) if configured else output_dir(crawler.settings) / "rejects.jsonl"
        return cls(crawler.stats, path)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Article):
            return item
        reason = rejection_reason(item)
        if reason is not None:
            self.stats.inc_value("tazarchive/articles/rejected")
            self.stats.inc_value(f"tazarchive/rejected/{reason}")
            if self.rejects_path is not None:
                record = {"reason": reason, "article": article_to_dict(item)}
                append_line(self.rejects_path, json.dumps(record, ensure_ascii=False, default=str))
            raise DropItem(f"Rejected article {item.id or item.url!r}: {reason}")
        if item.body_mismatch:
            self.stats.inc_value("tazarchive/extract/body_mismatch")
            logger.warning("Article %s: body differs from JSON-LD: %s", item.id, item.body_mismatch)
        return item


# --- deduplicate ----------------------------------------------------------------


class DedupPipeline:
    """Drop articles the ledger holds unchanged; number new and changed ones.

    Same id and same :func:`~tazarchive.ledger.content_hash` as the current
    revision → counted ``tazarchive/articles/known`` and dropped at DEBUG log
    level. Otherwise the item gets ``revision`` (1 for a new id, current + 1 for
    changed content) and ``content_hash``, and the revision is staged; it is
    committed on item_scraped (``…/new`` or ``…/revised``) and forgotten when
    a later stage drops the item.
    Settings: TAZARCHIVE_LEDGER_ENABLED, TAZARCHIVE_LEDGER_PATH.
    """

    def __init__(self, ledger: Ledger, stats: StatsCollector) -> None:
        self.ledger = ledger
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        assert crawler.stats is not None
        pipeline = cls(crawler_ledger(crawler), crawler.stats)
        crawler.signals.connect(pipeline.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(pipeline.item_not_stored, signal=signals.item_dropped)
        crawler.signals.connect(pipeline.item_not_stored, signal=signals.item_error)
        return pipeline

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Article):
            return item
        digest = content_hash(item)
        staged = self.ledger.staged(item.id)
        current = self.ledger.current(item.id)
        if (staged and staged.content_hash == digest) or (
            staged is None and current and current.content_hash == digest
        ):
            if staged is None:
                self.ledger.touch(item.id, item.fetched)
            self.stats.inc_value("tazarchive/articles/known")
            raise DropItem(f"Article {item.id} is already archived unchanged", log_level="DEBUG")
        if staged is not None:
            revision = staged.revision + 1
        else:
            revision = current.revision + 1 if current else 1
        item.revision = revision
        item.content_hash = digest
        self.ledger.stage(item, revision=revision, content_hash=digest)
        return item

    def item_scraped(self, item: Any) -> None:
        """Commit the staged revision: the feed exporters have written the item by now."""
        if not isinstance(item, Article):
            return
        entry = self.ledger.commit_staged(item, item.fetched)
        if entry is None:
            return
        self.stats.inc_value(
            "tazarchive/articles/new" if entry.revision == 1 else "tazarchive/articles/revised"
        )

    def item_not_stored(self, item: Any) -> None:
        if isinstance(item, Article):
            self.ledger.unstage(item)


# --- store ----------------------------------------------------------------------


def dump_relpath(article: Article, revision: int | None, fmt: str = "seed") -> str:
    """Where a revision's dump lives, relative to the output folder.

    ``dumps/YYYY/MM/<id>.txt`` (publication month, Europe/Berlin) for revision
    1, ``<id>.r<N>.txt`` beside it for revision N ≥ 2; ``dumps/undated/…``
    without a publication date. Files are never overwritten with other content.
    """
    if article.published is not None:
        local = article.published.astimezone(ARCHIVE_TIMEZONE)
        folder = f"dumps/{local.year:04d}/{local.month:02d}"
    else:
        folder = f"dumps/{UNDATED_FOLDER}"
    suffix = DUMP_SUFFIXES.get(fmt, ".txt")
    revision_part = f".r{revision}" if revision and revision > 1 else ""
    return f"{folder}/{article.id}{revision_part}{suffix}"


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``path`` so that it is either absent/old or complete: temp file + fsync + rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # A fixed temp name (one writer per archive: the lock): what a killed run
    # leaves is overwritten when the next run stores that article again.
    temp = path.with_name(f".{path.name}.tmp")
    try:
        with temp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def gopher_options(settings: BaseSettings) -> GopherOptions:
    """The TAZARCHIVE_GOPHER_* settings; GopherOptions' defaults where a setting is missing."""
    default = GopherOptions()
    return GopherOptions(
        host=settings.get("TAZARCHIVE_GOPHER_HOST") or default.host,
        port=settings.getint("TAZARCHIVE_GOPHER_PORT", default.port),
        selector_prefix=settings.get("TAZARCHIVE_GOPHER_SELECTOR_PREFIX", default.selector_prefix),
    )


def store_dump(
    output: Path, article: Article, fmt: str = "seed", gopher: GopherOptions | None = None
) -> str:
    """Render and atomically write the article's dump; returns its relative path."""
    relpath = dump_relpath(article, article.revision, fmt)
    write_atomic(output / relpath, render(article, fmt, gopher=gopher).encode("utf-8"))
    return relpath


class StoreDumpPipeline:
    """Write each article's dump under the output folder, atomically.

    Rendering and the write (temp file, fsync, rename) run in the crawl's
    worker processes (:mod:`tazarchive.workers`), or, without any, the write
    runs in one writer thread; either way the crawl goes on while the disk
    syncs, and the item moves on (to the feed export and the ledger commit)
    only once its dump is on disk. One path is never written twice at once:
    the ledger gives every stored revision its own path.
    Settings: TAZARCHIVE_STORE_DUMPS (off → NotConfigured), TAZARCHIVE_OUTPUT_DIR,
    TAZARCHIVE_DUMP_FORMAT, TAZARCHIVE_WORKER_PROCESSES. Stats: ``tazarchive/dumps/written``.
    """

    def __init__(
        self,
        output: Path,
        fmt: str,
        stats: StatsCollector,
        ledger: Ledger | None = None,
        gopher: GopherOptions | None = None,
        workers: WorkerProcesses | None = None,
    ) -> None:
        self.output = output
        self.fmt = fmt
        self.stats = stats
        self.ledger = ledger
        self.gopher = gopher
        self.workers = workers or WorkerProcesses(0)
        self._writer = ThreadPoolExecutor(1, "tazarchive-dumps")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        assert crawler.stats is not None
        settings = crawler.settings
        if not settings.getbool("TAZARCHIVE_STORE_DUMPS", True):
            raise NotConfigured("TAZARCHIVE_STORE_DUMPS is off")
        try:
            ledger: Ledger | None = crawler_ledger(crawler)
        except NotConfigured:
            ledger = None
        return cls(
            output_dir(settings),
            settings.get("TAZARCHIVE_DUMP_FORMAT"),
            crawler.stats,
            ledger,
            gopher_options(settings),
            crawler_workers(crawler),
        )

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, Article):
            return item
        if not self.workers.inline:
            relpath = await self.workers.run_first(
                store_dump, self.output, item, self.fmt, self.gopher
            )
        else:
            relpath = dump_relpath(item, item.revision, self.fmt)
            data = render(item, self.fmt, gopher=self.gopher).encode("utf-8")
            loop = running_loop()
            if loop is not None:
                await loop.run_in_executor(self._writer, write_atomic, self.output / relpath, data)
            else:  # a non-asyncio reactor: no future to wait on, write here
                write_atomic(self.output / relpath, data)
        self.stats.inc_value("tazarchive/dumps/written")
        if self.ledger is not None:
            self.ledger.stage_dump(item, relpath)
        return item

    def close_spider(self) -> None:
        self._writer.shutdown(wait=True)
