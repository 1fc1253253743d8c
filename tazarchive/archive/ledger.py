"""The archive's ledger: which articles it holds, in which revisions, where, and what.

One SQLite file (stdlib ``sqlite3``, WAL journal) beside the dumps. Every
lookup is one indexed query, so a run's memory does not grow with the number
of known articles. Tables:

- ``revisions``: one row per stored revision of an article, with its
  lossless JSON (the JSONL line, zlib-compressed), so the archive answers
  without the site; only ``last_seen`` is ever updated;
- ``articles``: the current (highest) revision per id, for the fast
  "do we know this?" lookup that spiders and pipelines make;
- ``meta``: facts about the archive itself (the site it was made for).

Only :class:`tazarchive.archive.Archive` writes it, and records a revision
only once its dump and JSONL line are written (see ``Archive.store``).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tazarchive.items import Article, article_to_dict

if TYPE_CHECKING:
    from typing import Self

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
    source TEXT NOT NULL DEFAULT 'html',
    published TEXT,
    data BLOB,
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
    last_seen TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT 'html',
    published TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
"""
# Version 1 had neither source, published, data nor meta: added in place.
_MIGRATE_1 = """
ALTER TABLE revisions ADD COLUMN source TEXT NOT NULL DEFAULT 'html';
ALTER TABLE revisions ADD COLUMN published TEXT;
ALTER TABLE revisions ADD COLUMN data BLOB;
ALTER TABLE articles ADD COLUMN source TEXT NOT NULL DEFAULT 'html';
ALTER TABLE articles ADD COLUMN published TEXT;
"""
_SCHEMA_VERSION = 2
_COLUMNS = (
    "id, url, revision, content_hash, dump_path, layout, parser_version, first_seen, "
    "last_seen, source"
)


def content_hash(article: Article) -> str:
    """``sha256:<hex>`` of the article's lossless JSON view without :data:`VOLATILE_FIELDS`."""
    return content_hash_of(article_to_dict(article))


def content_hash_of(data: dict[str, Any]) -> str:
    """:func:`content_hash` of an article's ``article_to_dict`` output."""
    kept = {k: v for k, v in data.items() if k not in VOLATILE_FIELDS}
    canonical = _CANONICAL.encode(kept)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# json.dumps(ensure_ascii=False, sort_keys=True, separators=(",", ":")), built once.
_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _now() -> datetime:
    return datetime.now(UTC)


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class Revision:
    """One revision to commit (:meth:`Ledger.commit`): the ``revisions`` row's values."""

    id: str
    url: str
    revision: int
    content_hash: str
    dump_path: str | None
    layout: str
    parser_version: str
    seen: str  # ISO 8601, UTC: first and last seen
    source: str
    published: str | None
    data: bytes | None  # the JSONL line, zlib-compressed

    @classmethod
    def of(
        cls,
        article: Article,
        *,
        revision: int,
        content_hash: str,
        dump_path: str | None,
        seen: datetime | None = None,
        source: str = "html",
        data: bytes | None = None,
    ) -> Revision:
        published = _timestamp(article.published) if article.published else None
        return cls(
            article.id,
            article.url,
            revision,
            content_hash,
            dump_path,
            article.layout,
            article.parser_version,
            _timestamp(seen or _now()),
            source,
            published,
            data,
        )


@dataclass(frozen=True, slots=True)
class Seen:
    """The current revision of ``id`` seen again, unchanged, at ``stamp``."""

    id: str
    stamp: str

    @classmethod
    def of(cls, article_id: str, seen: datetime | None = None) -> Seen:
        return cls(article_id, _timestamp(seen or _now()))


def compress_line(line: str) -> bytes:
    """A JSONL line as the ledger keeps it."""
    return zlib.compress(line.encode("utf-8"), 6)


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One revision of one article as the ledger holds it."""

    id: str
    url: str
    revision: int
    content_hash: str
    dump_path: str | None  # relative to the archive folder
    layout: str
    parser_version: str
    first_seen: str  # ISO 8601, UTC
    last_seen: str
    source: str = "html"  # "html" or "gopher": where the revision was read from


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
            self._db.close()
            raise RuntimeError(
                f"{self.path}: ledger schema {version} is newer than this tazarchive"
            )
        self.created = version == 0 and not self._has_table("articles")
        if version == 1:
            with self._transaction():
                for statement in filter(str.strip, _MIGRATE_1.split(";")):
                    self._db.execute(statement)
        self._db.executescript(_SCHEMA)
        self._db.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")
        self.migrated_from = version if 0 < version < _SCHEMA_VERSION else None

    def _has_table(self, name: str) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        ).fetchone()
        return row is not None

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

    def json_line(self, article_id: str, revision: int) -> str | None:
        """The revision's JSONL line (no newline) as stored, or None when the ledger has none."""
        row = self._db.execute(
            "SELECT data FROM revisions WHERE id = ? AND revision = ?", (article_id, revision)
        ).fetchone()
        if row is None or row[0] is None:
            return None
        return zlib.decompress(row[0]).decode("utf-8")

    def iter_current(
        self,
        ids: list[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[tuple[LedgerEntry, str | None]]:
        """The current revision of each article (in id order) with its JSONL line.

        ``since``/``until`` bound the publication time (inclusive / exclusive);
        undated articles match only when neither is given.
        """
        where: list[str] = []
        params: list[object] = []
        if since is not None:
            where.append("a.published >= ?")
            params.append(_timestamp(since))
        if until is not None:
            where.append("a.published < ?")
            params.append(_timestamp(until))
        query = (
            f"SELECT {', '.join('a.' + c.strip() for c in _COLUMNS.split(','))}, r.data "
            "FROM articles a LEFT JOIN revisions r ON r.id = a.id AND r.revision = a.revision"
        )
        # SQLite takes a bounded number of parameters: ids go in batches.
        batches = [ids[i : i + 500] for i in range(0, len(ids), 500)] if ids is not None else [[]]
        for batch in batches:
            clauses = list(where)
            values = list(params)
            if ids is not None:
                clauses.append(f"a.id IN ({','.join('?' * len(batch))})")
                values.extend(batch)
            sql = query + (" WHERE " + " AND ".join(clauses) if clauses else "")
            # Numeric ids in numeric order: taz's ids grow with time.
            sql += " ORDER BY length(a.id), a.id"
            for row in self._db.execute(sql, values):
                data = row[-1]
                line = zlib.decompress(data).decode("utf-8") if data is not None else None
                yield LedgerEntry(*row[:-1]), line

    def revisions_without_data(self) -> list[tuple[str, int]]:
        rows = self._db.execute("SELECT id, revision FROM revisions WHERE data IS NULL")
        return [(str(a), int(b)) for a, b in rows]

    def set_json_line(self, article_id: str, revision: int, line: str) -> None:
        """Give a revision recorded without its JSON (an old ledger) the line its run wrote."""
        with self._transaction():
            self._db.execute(
                "UPDATE revisions SET data = ? WHERE id = ? AND revision = ?",
                (zlib.compress(line.encode("utf-8"), 6), article_id, revision),
            )

    # --- the archive's own facts ----------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._transaction():
            self._db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    # --- writing -------------------------------------------------------------

    def touch(self, article_id: str, seen: datetime | None = None) -> None:
        """Note that the current revision was seen again, unchanged."""
        self.commit([Seen.of(article_id, seen)])

    def record(
        self,
        article: Article,
        *,
        revision: int,
        content_hash: str,
        dump_path: str | None,
        seen: datetime | None = None,
        source: str = "html",
        json_line: str | None = None,
    ) -> LedgerEntry:
        """Commit one revision of an article; it becomes current unless a higher one is."""
        row = Revision.of(
            article,
            revision=revision,
            content_hash=content_hash,
            dump_path=dump_path,
            seen=seen,
            source=source,
            data=compress_line(json_line) if json_line is not None else None,
        )
        self.commit([row])
        first_seen = self._db.execute(
            "SELECT first_seen FROM articles WHERE id = ?", (article.id,)
        ).fetchone()[0]
        values = row.id, row.url, revision, content_hash, dump_path, row.layout
        return LedgerEntry(*values, row.parser_version, first_seen, row.seen, source)

    def commit(self, changes: list[Revision | Seen]) -> None:
        """Commit revisions and sightings in one transaction, in order."""
        if not changes:
            return
        with self._transaction():
            for change in changes:
                if isinstance(change, Seen):
                    self._touch(change)
                else:
                    self._insert(change)

    def _touch(self, seen: Seen) -> None:
        self._db.execute("UPDATE articles SET last_seen = ? WHERE id = ?", (seen.stamp, seen.id))
        self._db.execute(
            "UPDATE revisions SET last_seen = ? WHERE id = ? AND revision = "
            "(SELECT revision FROM articles WHERE id = ?)",
            (seen.stamp, seen.id, seen.id),
        )

    def _insert(self, row: Revision) -> None:
        values = (
            row.id,
            row.url,
            row.revision,
            row.content_hash,
            row.dump_path,
            row.layout,
            row.parser_version,
            row.seen,
            row.seen,
            row.source,
            row.published,
        )
        self._db.execute(
            f"INSERT OR REPLACE INTO revisions ({_COLUMNS}, published, data) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (*values, row.data),
        )
        self._db.execute(
            f"INSERT INTO articles ({_COLUMNS}, published) VALUES (?,?,?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT (id) DO UPDATE SET url = excluded.url, revision = excluded.revision, "
            "content_hash = excluded.content_hash, dump_path = excluded.dump_path, "
            "layout = excluded.layout, parser_version = excluded.parser_version, "
            "last_seen = excluded.last_seen, source = excluded.source, "
            "published = excluded.published WHERE excluded.revision >= articles.revision",
            values,
        )

    def forget(self, article_id: str, revision: int) -> None:
        """Remove one revision (its JSONL line was lost): the next run stores it again."""
        with self._transaction():
            self._db.execute(
                "DELETE FROM revisions WHERE id = ? AND revision = ?", (article_id, revision)
            )
            self._db.execute("DELETE FROM articles WHERE id = ?", (article_id,))
            self._db.execute(
                f"INSERT INTO articles ({_COLUMNS}, published) "
                f"SELECT {_COLUMNS}, published FROM revisions WHERE id = ? "
                "ORDER BY revision DESC LIMIT 1",
                (article_id,),
            )

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")
