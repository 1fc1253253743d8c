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

import asyncio
import json
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import DropItem, NotConfigured

from tazarchive.archive import append_line, dump_relpath, write_atomic
from tazarchive.dump import GopherOptions, render
from tazarchive.items import Article, article_to_dict
from tazarchive.ledger import Ledger, content_hash, crawler_ledger
from tazarchive.normalise import normalise_article

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

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

    The write (temp file, fsync, rename) runs in one writer thread, so the
    crawl goes on while the disk syncs, and the item moves on (to the feed
    export and the ledger commit) only once its dump is on disk. One path is
    never written twice at once: the ledger gives every revision its own path.
    Settings: TAZARCHIVE_STORE_DUMPS (off → NotConfigured), TAZARCHIVE_OUTPUT_DIR,
    TAZARCHIVE_DUMP_FORMAT. Stats: ``tazarchive/dumps/written``.
    """

    def __init__(
        self,
        output: Path,
        fmt: str,
        stats: StatsCollector,
        ledger: Ledger | None = None,
        gopher: GopherOptions | None = None,
    ) -> None:
        self.output = output
        self.fmt = fmt
        self.stats = stats
        self.ledger = ledger
        self.gopher = gopher
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
        )

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, Article):
            return item
        relpath = dump_relpath(item, item.revision, self.fmt)
        data = render(item, self.fmt, gopher=self.gopher).encode("utf-8")
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._writer, write_atomic, self.output / relpath, data)
        self.stats.inc_value("tazarchive/dumps/written")
        if self.ledger is not None:
            self.ledger.stage_dump(item, relpath)
        return item

    def close_spider(self) -> None:
        self._writer.shutdown(wait=True)
