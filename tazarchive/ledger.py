"""The archive's ledger: which articles it holds, in which revisions, where.

One SQLite file (stdlib ``sqlite3``, WAL journal) beside the dumps. Every
lookup is one indexed query, so a run's memory does not grow with the number
of known articles. Two tables:

- ``revisions``: one row per stored revision of an article (never updated
  except its ``last_seen``);
- ``articles``: the current (highest) revision per id, for the fast
  "do we know this?" lookup that spiders and pipelines make.

A revision reaches the ledger in two steps. The dedup pipeline *stages* it
(in memory, only while the item is in flight), the store pipeline adds the
dump path, and the item_scraped signal *commits* it, after the feed exporter
has written the item's JSONL line. A run killed in between leaves the article
unknown, so the next run fetches it again (at-least-once).

Also here: :class:`KnownArticlesMiddleware`, the spider middleware that keeps
spiders from requesting article pages the ledger already holds.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import Request, signals
from scrapy.exceptions import NotConfigured
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware

from tazarchive.items import Article, article_to_dict

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

LEDGER_FILENAME = "ledger.sqlite3"

# Fields left out of the content hash: when and from where the article was
# fetched, which parser read it, the parser's completeness check, and what the
# archive itself adds. A new parser version or a move to another host does not
# make a new revision; a changed word, title, link, tag or date does.
VOLATILE_FIELDS = frozenset(
    {"url", "fetched", "layout", "parser_version", "body_mismatch", "revision", "content_hash"}
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS revisions (
    id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    url TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    dump_path TEXT,
    layout TEXT NOT NULL,
    parser_version TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    PRIMARY KEY (id, revision)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    revision INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    dump_path TEXT,
    layout TEXT NOT NULL,
    parser_version TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL
) WITHOUT ROWID;
"""
_SCHEMA_VERSION = 1
_COLUMNS = (
    "id, url, revision, content_hash, dump_path, layout, parser_version, first_seen, last_seen"
)


def content_hash(article: Article) -> str:
    """``sha256:<hex>`` of the article's lossless JSON view without :data:`VOLATILE_FIELDS`."""
    data = {k: v for k, v in article_to_dict(article).items() if k not in VOLATILE_FIELDS}
    canonical = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def ledger_path(settings: BaseSettings) -> Path:
    """TAZARCHIVE_LEDGER_PATH, or ``ledger.sqlite3`` inside TAZARCHIVE_OUTPUT_DIR when empty."""
    configured = settings.get("TAZARCHIVE_LEDGER_PATH") or ""
    if configured:
        return Path(configured)
    return Path(settings.get("TAZARCHIVE_OUTPUT_DIR") or "output") / LEDGER_FILENAME


def _now() -> datetime:
    return datetime.now(UTC)


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One revision of one article as the ledger holds it."""

    id: str
    url: str
    revision: int
    content_hash: str
    dump_path: str | None  # relative to the output folder
    layout: str
    parser_version: str
    first_seen: str  # ISO 8601, UTC
    last_seen: str


@dataclass(slots=True)
class StagedRevision:
    """A revision on its way into the ledger (dedup assigned it, not committed yet)."""

    article: Article
    revision: int
    content_hash: str
    dump_path: str | None = None


class Ledger:
    """The SQLite ledger of one archive. Not thread-safe: one per process/crawler."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we open transactions ourselves, one per commit.
        self._db = sqlite3.connect(str(self.path), isolation_level=None)
        # WAL with synchronous=NORMAL survives a killed process (not a power
        # cut's last transactions), and readers never block the writer.
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=10000")
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > _SCHEMA_VERSION:
            raise RuntimeError(
                f"{self.path}: ledger schema {version} is newer than this tazarchive"
            )
        self._db.executescript(_SCHEMA)
        self._db.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")
        self._staged: dict[str, list[StagedRevision]] = {}

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- lookups -------------------------------------------------------------

    def knows(self, article_id: str) -> bool:
        row = self._db.execute("SELECT 1 FROM articles WHERE id = ?", (article_id,)).fetchone()
        return row is not None

    def current(self, article_id: str) -> LedgerEntry | None:
        """The highest committed revision of the article, or None."""
        row = self._db.execute(
            f"SELECT {_COLUMNS} FROM articles WHERE id = ?", (article_id,)
        ).fetchone()
        return LedgerEntry(*row) if row else None

    def revisions(self, article_id: str) -> list[LedgerEntry]:
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM revisions WHERE id = ? ORDER BY revision", (article_id,)
        ).fetchall()
        return [LedgerEntry(*row) for row in rows]

    def __len__(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM articles").fetchone()[0])

    def count_revisions(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM revisions").fetchone()[0])

    # --- writing -------------------------------------------------------------

    def touch(self, article_id: str, seen: datetime | None = None) -> None:
        """Note that the current revision was seen again, unchanged."""
        stamp = _timestamp(seen or _now())
        with self._transaction():
            self._db.execute("UPDATE articles SET last_seen = ? WHERE id = ?", (stamp, article_id))
            self._db.execute(
                "UPDATE revisions SET last_seen = ? WHERE id = ? AND revision = "
                "(SELECT revision FROM articles WHERE id = ?)",
                (stamp, article_id, article_id),
            )

    def record(
        self,
        article: Article,
        *,
        revision: int,
        content_hash: str,
        dump_path: str | None,
        seen: datetime | None = None,
    ) -> LedgerEntry:
        """Commit one revision of an article; it becomes current unless a higher one is."""
        stamp = _timestamp(seen or _now())
        values = (
            article.id,
            article.url,
            revision,
            content_hash,
            dump_path,
            article.layout,
            article.parser_version,
        )
        with self._transaction():
            self._db.execute(
                f"INSERT OR REPLACE INTO revisions ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)",
                (*values, stamp, stamp),
            )
            self._db.execute(
                f"INSERT INTO articles ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT (id) DO UPDATE SET url = excluded.url, revision = excluded.revision, "
                "content_hash = excluded.content_hash, dump_path = excluded.dump_path, "
                "layout = excluded.layout, parser_version = excluded.parser_version, "
                "last_seen = excluded.last_seen WHERE excluded.revision >= articles.revision",
                (*values, stamp, stamp),
            )
            first_seen = self._db.execute(
                "SELECT first_seen FROM articles WHERE id = ?", (article.id,)
            ).fetchone()[0]
        return LedgerEntry(*values, first_seen, stamp)

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    # --- staging (in-flight revisions of this run) ---------------------------

    def stage(self, article: Article, *, revision: int, content_hash: str) -> None:
        """Hold a revision of ``article`` (this very item) until it is committed or dropped."""
        self._staged.setdefault(article.id, []).append(
            StagedRevision(article, revision, content_hash)
        )

    def staged(self, article_id: str) -> StagedRevision | None:
        """The latest revision of the id staged in this run and not committed yet."""
        pending = self._staged.get(article_id)
        return pending[-1] if pending else None

    def _find_staged(self, article: Article) -> StagedRevision | None:
        return next((s for s in self._staged.get(article.id, ()) if s.article is article), None)

    def stage_dump(self, article: Article, dump_path: str) -> None:
        if (staged := self._find_staged(article)) is not None:
            staged.dump_path = dump_path

    def unstage(self, article: Article) -> StagedRevision | None:
        """Forget the staged revision of this item; returns it (None if there was none)."""
        staged = self._find_staged(article)
        if staged is not None:
            pending = self._staged[article.id]
            pending.remove(staged)
            if not pending:
                del self._staged[article.id]
        return staged

    def commit_staged(self, article: Article, seen: datetime | None = None) -> LedgerEntry | None:
        """Record the staged revision of this item; None when it has none staged."""
        staged = self.unstage(article)
        if staged is None:
            return None
        return self.record(
            staged.article,
            revision=staged.revision,
            content_hash=staged.content_hash,
            dump_path=staged.dump_path,
            seen=seen,
        )


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")


# --- one ledger per crawler ----------------------------------------------------

_crawler_ledgers: weakref.WeakKeyDictionary[Crawler, Ledger] = weakref.WeakKeyDictionary()


def ledger_enabled(settings: BaseSettings) -> bool:
    return settings.getbool("TAZARCHIVE_LEDGER_ENABLED", True)


def crawler_ledger(crawler: Crawler) -> Ledger:
    """The crawler's ledger, shared by its pipelines and middleware, closed with the spider.

    Raises NotConfigured when TAZARCHIVE_LEDGER_ENABLED is false.
    """
    if not ledger_enabled(crawler.settings):
        raise NotConfigured("TAZARCHIVE_LEDGER_ENABLED is off")
    ledger = _crawler_ledgers.get(crawler)
    if ledger is None:
        ledger = Ledger(ledger_path(crawler.settings))
        _crawler_ledgers[crawler] = ledger

        def close_ledger() -> None:
            _crawler_ledgers.pop(crawler, None)
            ledger.close()

        # engine_stopped comes after every item_scraped commit and spider_closed.
        crawler.signals.connect(close_ledger, signal=signals.engine_stopped, weak=False)
    return ledger


def truthy(value: Any) -> bool:
    """A spider argument as a flag: ``-a refresh=1`` / ``true`` / ``yes`` / ``on``."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


class SeenIds:
    """A set of article ids for one run, compact for taz's numeric ids.

    Numeric ids below :attr:`BITMAP_LIMIT` are bits in a bytearray that grows to
    the highest id seen (taz's ~6,000,000 ids: under 1 MB however many are
    seen); other ids go into a plain set.
    """

    BITMAP_LIMIT = 1 << 28

    def __init__(self) -> None:
        self._bits = bytearray()
        self._others: set[str] = set()

    def add(self, article_id: str) -> bool:
        """Add the id; True if it was not there yet."""
        if article_id.isdigit() and (number := int(article_id)) < self.BITMAP_LIMIT:
            index, bit = divmod(number, 8)
            if index >= len(self._bits):
                self._bits.extend(bytes(index + 1 - len(self._bits)))
            if self._bits[index] & (1 << bit):
                return False
            self._bits[index] |= 1 << bit
            return True
        if article_id in self._others:
            return False
        self._others.add(article_id)
        return True


class KnownArticlesMiddleware(BaseSpiderMiddleware):
    """Drop article requests whose ``meta["taz_article_id"]`` the ledger already holds.

    Unless the spider's ``refresh`` attribute is true (``-a refresh=1``), so a
    re-run fetches listing pages and new articles only. Settings:
    TAZARCHIVE_LEDGER_ENABLED, TAZARCHIVE_LEDGER_PATH. Stats:
    ``tazarchive/articles/known`` (once per article id and run, however many
    listings link to it).
    """

    def __init__(self, ledger: Ledger, stats: StatsCollector, *, refresh: bool = False) -> None:
        self.ledger = ledger
        self.stats = stats
        self.refresh = refresh
        self._crawler: Crawler | None = None
        self._counted = SeenIds()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        assert crawler.stats is not None
        middleware = cls(crawler_ledger(crawler), crawler.stats)
        middleware._crawler = crawler
        return middleware

    def _refreshing(self) -> bool:
        if self.refresh:
            return True
        spider = self._crawler.spider if self._crawler is not None else None
        return truthy(getattr(spider, "refresh", False))

    def get_processed_request(self, request: Request, response: Response | None) -> Request | None:
        article_id = request.meta.get("taz_article_id")
        if not article_id or self._refreshing() or not self.ledger.knows(str(article_id)):
            return request
        if self._counted.add(str(article_id)):
            self.stats.inc_value("tazarchive/articles/known")
            logger.debug("Article %s is in the ledger, not fetching %s", article_id, request.url)
        return None
