"""The archive: store an article (new, revised or known) and answer from it without the site.

:class:`Archive` is the one way into an archive folder: the crawl's pipelines,
``import-dumps``, ``reparse`` and ``export`` all go through it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple
from urllib.parse import urlsplit

from scrapy.exceptions import UsageError

from tazarchive import stats as keys
from tazarchive.archive.files import (
    append_lines,
    cut_partial_last_line,
    write_atomic_many,
)
from tazarchive.archive.jsonl import finish_json_line
from tazarchive.archive.layout import ArchiveLayout, dump_relpath
from tazarchive.archive.ledger import Ledger, LedgerEntry, Revision, Seen, compress_line
from tazarchive.archive.prepare import Prepared, PrepareOptions, prepare, render_dump_of
from tazarchive.archive.rejects import CountingStats, Stats, record_reject
from tazarchive.dump import GopherOptions
from tazarchive.dump.files import read_dump_file
from tazarchive.items import Article, article_from_dict

if TYPE_CHECKING:
    from typing import Self

logger = logging.getLogger(__name__)

Outcome = Literal["new", "revised", "known"]

BASE_URL_KEY = "base_url"  # ledger meta: the site the archive was made for
JSONL_CHECKED_KEY = "jsonl_complete"  # ledger meta: every revision has its JSONL line


def article_source(article: Article) -> str:
    """Where the article was read from: ``"gopher"`` for a gopher URL, else ``"html"``."""
    return "gopher" if urlsplit(article.url).scheme == "gopher" else "html"


def _site(url: str) -> str:
    return url.strip().rstrip("/")


_LOOPBACK = ("127.", "::1", "localhost")


def same_site(recorded: str, base_url: str) -> bool:
    """Whether ``base_url`` is the site an archive recorded.

    On a loopback host the port does not count: a local test server (the
    replica) gets a new port each time it starts, and stays the same site.
    """
    a, b = urlsplit(_site(recorded)), urlsplit(_site(base_url))
    if (a.hostname or "").startswith(_LOOPBACK) and (a.scheme, a.hostname) == (
        b.scheme,
        b.hostname,
    ):
        return True
    return _site(recorded) == _site(base_url)


class OtherSite(UsageError):
    """A run with another base URL than the archive was made for; ``str()`` is the one line."""


class Archive:
    """One archive folder: its dumps, the run's JSONL file, its ledger, its rejects.

    :meth:`store` decides new / revised / known by content hash against the
    ledger and writes, in this order: the dump (atomically), the JSONL line
    (whole or not at all), then the ledger row with the lossless JSON. A
    revision is recorded only when both its files are written, so a kill or a
    full disk at any point leaves the article unknown and the next run stores
    it again.

    Two rules keep a poorer copy from replacing a richer one (the outcome is
    ``"known"``, counted under its own stats key):

    - an article read from gopher (a ``gopher://`` URL) never becomes a new
      revision of one read from HTML: gopher menus lose link texts, picture
      URLs and ids (``tazarchive/articles/kept_html``);
    - an article a proxy or a disk cut short (``Article.cut``) never becomes a
      new revision of a whole one (``tazarchive/articles/kept_whole``).

    One archive, one site: the ledger records the base URL it was first
    opened with; opening it for another raises :class:`OtherSite` unless
    ``allow_other_site``.

    Settings (:meth:`from_settings`): TAZARCHIVE_OUTPUT_DIR (and the *_PATH /
    *_DIR overrides), TAZARCHIVE_LEDGER_ENABLED, TAZARCHIVE_STORE_DUMPS,
    TAZARCHIVE_DUMP_FORMAT, TAZARCHIVE_GOPHER_*, TAZARCHIVE_BASE_URL,
    TAZARCHIVE_ALLOW_OTHER_SITE.
    """

    def __init__(
        self,
        layout: ArchiveLayout,
        *,
        ledger: Ledger | None = None,
        stats: Stats | None = None,
        fmt: str = "seed",
        gopher: GopherOptions | None = None,
        store_dumps: bool = True,
        run_name: str = "archive",
        base_url: str | None = None,
        allow_other_site: bool = False,
    ) -> None:
        self.layout = layout
        self.ledger = ledger
        self.stats: Stats = stats if stats is not None else CountingStats()
        self.fmt = fmt
        self.gopher = gopher
        self.store_dumps = store_dumps
        self.jsonl_path = layout.jsonl_path(run_name, datetime.now(UTC))
        # Articles handed to the feeds from the archive (not fetched): passed on unstored.
        self._handed_out: dict[int, Article] = {}
        # Articles prepared ahead (reparse workers), until the store pipeline takes them.
        self._ahead: dict[int, Prepared] = {}
        # Durable writes: the batch being filled, the one being written, the
        # revisions in either (not in the ledger yet), and the batch size (1:
        # each article written and recorded before store returns).
        self._batch = _Batch()
        self._in_flight: tuple[_Batch, Future[list[bytes]]] | None = None
        self._pending: dict[str, _Pending] = {}
        # Ids recorded by this Archive, kept while in batches into a ledger that was empty.
        self._recorded: set[str] | None = None
        self._batch_size = 1
        self._batch_pool: ThreadPoolExecutor | None = None
        self._fsync_pool: ThreadPoolExecutor | None = None
        if ledger is not None and base_url:
            self._check_site(ledger, base_url, allow_other_site)

    @classmethod
    def from_settings(
        cls,
        settings: Mapping[str, Any],
        *,
        stats: Stats | None = None,
        run_name: str = "archive",
        layout: ArchiveLayout | None = None,
        check_site: bool = True,
    ) -> Self:
        """The archive the settings name (``settings``: Scrapy's, or a plain mapping)."""
        layout = layout or ArchiveLayout.from_settings(settings)
        ledger = Ledger(layout.ledger) if _flag(settings, "TAZARCHIVE_LEDGER_ENABLED") else None
        try:
            return cls(
                layout,
                ledger=ledger,
                stats=stats,
                fmt=str(settings.get("TAZARCHIVE_DUMP_FORMAT") or "seed"),
                gopher=GopherOptions.from_settings(settings),
                store_dumps=_flag(settings, "TAZARCHIVE_STORE_DUMPS"),
                run_name=run_name,
                base_url=str(settings.get("TAZARCHIVE_BASE_URL") or "") if check_site else None,
                allow_other_site=_flag(settings, "TAZARCHIVE_ALLOW_OTHER_SITE", False),
            )
        except BaseException:
            if ledger is not None:
                ledger.close()
            raise

    def close(self) -> None:
        try:
            self.flush()
        finally:
            for pool in (self._batch_pool, self._fsync_pool):
                if pool is not None:
                    pool.shutdown(wait=True)
            self._batch_pool = self._fsync_pool = None
            if self.ledger is not None:
                self.ledger.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- storing ----------------------------------------------------------------

    @property
    def prepare_options(self) -> PrepareOptions:
        """What :func:`~tazarchive.archive.prepare.prepare` needs to prepare for this archive."""
        return PrepareOptions(self.fmt, self.gopher, self.store_dumps)

    def store(self, item: Article | Prepared) -> Outcome:
        """Store an article: ``"new"``, ``"revised"`` or ``"known"`` (nothing written).

        ``item``: the (normalised) article, or it :class:`Prepared` ahead for
        this archive (its hash, dump and JSONL line are not computed again).
        Sets ``article.revision`` and ``article.content_hash`` when it stores
        it. Counts the outcome in the stats; any exception is counted as
        ``tazarchive/articles/store_errors`` and raised. In batches
        (:meth:`write_in_batches`) the article is recorded in the ledger once
        its batch is durably written; a batch that fails is counted and logged.
        """
        try:
            return self._store(item)
        except Exception:
            self.stats.inc_value(keys.ARTICLES_STORE_ERRORS)
            raise

    def _prepared(self, item: Article | Prepared) -> Prepared:
        options = self.prepare_options
        if isinstance(item, Prepared):
            if item.options == options:
                return item
            item = item.article  # prepared for other settings: only its normalising stands
        return prepare(item, options, render_dump=False)

    def _store(self, item: Article | Prepared) -> Outcome:
        self._collect(wait=False)
        prepared = self._prepared(item)
        article, digest = prepared.article, prepared.content_hash
        source = article_source(article)
        current = self._current(article.id)
        if current is not None:
            kept = None
            if current.content_hash == digest:
                kept = keys.ARTICLES_KNOWN
            elif current.source == "html" and source == "gopher":
                kept = keys.ARTICLES_KEPT_HTML
            elif article.cut and not self._is_cut(article.id, current):
                kept = keys.ARTICLES_KEPT_WHOLE
            if kept is not None:
                self._queue(Seen.of(article.id, article.fetched))
                self.stats.inc_value(kept)
                return "known"
        if self.ledger is not None:
            article.revision = current.revision + 1 if current is not None else 1
        article.content_hash = digest
        relpath = None
        data = render_dump_of(prepared)
        if data is not None:
            relpath = dump_relpath(article, article.revision, self.fmt)
        line = finish_json_line(prepared.json_head, article)
        row = None
        if self.ledger is not None:
            row = Revision.of(
                article,
                revision=article.revision or 1,
                content_hash=digest,
                dump_path=relpath,
                seen=article.fetched,
                source=source,
            )
            self._pending[article.id] = _Pending(row.revision, digest, source, bool(article.cut))
        self._queue(row, dump=(relpath, data) if relpath and data is not None else None, line=line)
        if current is None:
            self.stats.inc_value(keys.ARTICLES_NEW)
            return "new"
        self.stats.inc_value(keys.ARTICLES_REVISED)
        return "revised"

    def _current(self, article_id: str) -> _Pending | LedgerEntry | None:
        pending = self._pending.get(article_id)
        if pending is not None:
            return pending
        if self.ledger is None:
            return None
        if self._recorded is not None and article_id not in self._recorded:
            return None  # the ledger was empty when the batches began: no query needed
        return self.ledger.current(article_id)

    def _is_cut(self, article_id: str, current: _Pending | LedgerEntry) -> bool:
        if isinstance(current, _Pending):
            return current.cut
        line = self.ledger.json_line(article_id, current.revision) if self.ledger else None
        return bool(line and json.loads(line).get("cut"))

    # --- durable writes, one batch at a time -------------------------------------

    def write_in_batches(self, size: int = 64, threads: int = 16) -> None:
        """Write dumps and JSONL lines in batches, in background threads, and record each
        batch in the ledger in one transaction once its files are durably written.

        For bulk runs (``reparse``): an article is then ``"new"`` before its
        batch is recorded; :meth:`flush` (and :meth:`close`) waits for the last.
        A batch's dumps are made durable together (:func:`write_atomic_many`);
        where there is no ``syncfs``, ``threads`` fsync them side by side.
        """
        self.flush()
        self._batch_size = max(1, size)
        if self.ledger is not None and len(self.ledger) == 0:
            self._recorded = set()
        if self._batch_pool is None:
            self._batch_pool = ThreadPoolExecutor(1, thread_name_prefix="archive-batch")
            self._fsync_pool = ThreadPoolExecutor(threads, thread_name_prefix="archive-fsync")

    def _queue(
        self,
        change: Revision | Seen | None,
        *,
        dump: tuple[str, bytes] | None = None,
        line: str | None = None,
    ) -> None:
        batch = self._batch
        if dump is not None:
            batch.dumps.append((self.layout.root / dump[0], dump[1]))
        if line is not None:
            batch.lines.append(line)
            batch.line_of.append(len(batch.changes) if isinstance(change, Revision) else -1)
        if change is not None:
            batch.changes.append(change)
        if max(len(batch.changes), len(batch.lines)) >= self._batch_size or (
            self._batch_pool is None and (dump is not None or line is not None)
        ):
            self._submit()

    def _submit(self) -> None:
        batch, self._batch = self._batch, _Batch()
        if batch.empty():
            return
        if self._batch_pool is None:  # write through: errors go to the caller
            try:
                blobs = write_batch(batch, self.jsonl_path, None)
            except BaseException:
                self._forget(batch)
                raise
            self._commit(batch, blobs)
            return
        self._collect(wait=True)  # one batch in flight: bounded memory, JSONL in order
        future = self._batch_pool.submit(write_batch, batch, self.jsonl_path, self._fsync_pool)
        self._in_flight = (batch, future)

    def _collect(self, *, wait: bool) -> None:
        """Record the batch in flight once its files are written (``wait``: wait for it)."""
        if self._in_flight is None:
            return
        batch, future = self._in_flight
        if not wait and not future.done():
            return
        self._in_flight = None
        try:
            self._commit(batch, future.result())
        except Exception as error:  # the files or the ledger: none of the batch is recorded
            self._forget(batch)
            stored = len(batch.lines)  # one line per article stored
            self.stats.inc_value(keys.ARTICLES_STORE_ERRORS, stored)
            logger.error(
                "Cannot store a batch of %d articles: %s: %s", stored, type(error).__name__, error
            )

    def _commit(self, batch: _Batch, blobs: list[bytes]) -> None:
        changes = list(batch.changes)
        for blob, index in zip(blobs, batch.line_of, strict=True):
            if index >= 0:
                changes[index] = replace(changes[index], data=blob)  # type: ignore[arg-type]
        try:
            if self.ledger is not None:
                self.ledger.commit(changes)
                if self._recorded is not None:
                    self._recorded.update(c.id for c in changes if isinstance(c, Revision))
        finally:
            self._forget(batch)
        if batch.dumps:
            self.stats.inc_value(keys.DUMPS_WRITTEN, len(batch.dumps))

    def _forget(self, batch: _Batch) -> None:
        for change in batch.changes:
            if isinstance(change, Revision):
                pending = self._pending.get(change.id)
                if pending is not None and pending.revision == change.revision:
                    del self._pending[change.id]

    def flush(self) -> None:
        """Write and record every article stored so far (in batches: wait for them)."""
        if self._batch_pool is not None:
            self._submit()
        self._collect(wait=True)

    def record_reject(
        self, reason: str, *, url: str = "", detail: str = "", article: Article | None = None
    ) -> None:
        """Count and write down a page or article kept out (never in the ledger)."""
        record_reject(
            self.stats, self.layout.rejects, reason, url=url, detail=detail, article=article
        )

    # --- answering without the site ----------------------------------------------

    def knows(self, article_id: str) -> bool:
        if article_id in self._pending:
            return True
        return self.ledger is not None and self.ledger.knows(article_id)

    def latest(self, article_id: str) -> Article | None:
        """The current revision of the article as it was stored, or None."""
        if self.ledger is None or (current := self.ledger.current(article_id)) is None:
            return None
        line = self.ledger.json_line(article_id, current.revision)
        if line is not None:
            return article_from_dict(json.loads(line))
        return self._from_dump(current.dump_path, current.revision, current.content_hash)

    def latest_line(self, article_id: str) -> str | None:
        """The current revision's JSONL line as the run that stored it wrote it."""
        if self.ledger is None or (current := self.ledger.current(article_id)) is None:
            return None
        return self.ledger.json_line(article_id, current.revision)

    def iter_latest(
        self,
        ids: list[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        author: str | None = None,
        tag: str | None = None,
    ) -> Iterator[Article]:
        """The current revision of every archived article that matches, in id order.

        ``since``/``until``: publication time (inclusive / exclusive); ``author``
        and ``tag``: a name (case-insensitive) or a taz id.
        """
        for article, _line in self.iter_latest_lines(ids, since, until, author, tag):
            yield article

    def iter_latest_lines(
        self,
        ids: list[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        author: str | None = None,
        tag: str | None = None,
    ) -> Iterator[tuple[Article, str | None]]:
        """:meth:`iter_latest` with each revision's stored JSONL line (None for old ledgers)."""
        if self.ledger is None:
            return
        for entry, line in self.ledger.iter_current(ids, since, until):
            if line is not None:
                article = article_from_dict(json.loads(line))
            else:
                found = self._from_dump(entry.dump_path, entry.revision, entry.content_hash)
                if found is None:
                    continue
                article = found
            if author and not any(_matches(author, a.name, a.id) for a in article.authors):
                continue
            if tag and not any(_matches(tag, t.name, t.id) for t in article.tags):
                continue
            yield article, line

    def _from_dump(self, relpath: str | None, revision: int, digest: str) -> Article | None:
        # Ledgers from before the lossless JSON: the dump is all there is.
        if not relpath or not (self.layout.root / relpath).is_file():
            return None
        article = read_dump_file(self.layout.root / relpath, gopher=self.gopher)
        article.revision = revision
        article.content_hash = digest
        return article

    # --- handing archived articles to the feeds ------------------------------------

    def hand_out(self, article: Article) -> Article:
        """Mark an archived article on its way to the feeds: the pipelines pass it unstored."""
        self._handed_out[id(article)] = article
        return article

    def handed_out(self, item: object) -> bool:
        return self._handed_out.get(id(item)) is item

    def done_with(self, item: object) -> None:
        if self.handed_out(item):
            del self._handed_out[id(item)]

    # --- articles prepared ahead ---------------------------------------------------

    def expect(self, prepared: Prepared) -> Article:
        """Note an article prepared ahead; the pipelines then skip what is done
        (:meth:`prepared_ahead`) and store the prepared article. Returns the article.
        """
        self._ahead[id(prepared.article)] = prepared
        return prepared.article

    def prepared_ahead(self, item: object) -> Prepared | None:
        prepared = self._ahead.get(id(item))
        return prepared if prepared is not None and prepared.article is item else None

    def take_prepared(self, item: object) -> Prepared | None:
        """The item's :class:`Prepared` (now forgotten), or None."""
        prepared = self.prepared_ahead(item)
        if prepared is not None:
            del self._ahead[id(item)]
        return prepared

    # --- one archive, one site; JSONL complete ----------------------------------

    def _check_site(self, ledger: Ledger, base_url: str, allow_other_site: bool) -> None:
        recorded = ledger.get_meta(BASE_URL_KEY)
        if recorded is None:
            ledger.set_meta(BASE_URL_KEY, _site(base_url))
        elif not same_site(recorded, base_url) and not allow_other_site:
            raise OtherSite(
                f"archive {self.layout.root} holds {recorded}, not {_site(base_url)}: "
                "use another TAZARCHIVE_OUTPUT_DIR (or -s TAZARCHIVE_ALLOW_OTHER_SITE=True)"
            )

    def complete_jsonl(self) -> int:
        """Make every ledger revision have its JSONL line; returns how many were fixed.

        Runs once per archive (a ledger mark): archives written before the
        ledger kept each revision's JSON may hold revisions whose JSONL line
        a killed or full-disk run never wrote, and JSONL files ending in half
        a line. Half lines are cut; a revision with its line found gets the
        line into the ledger; one without is forgotten, so the next run
        stores it again (dump, JSONL line and ledger row).
        """
        ledger = self.ledger
        if ledger is None or ledger.get_meta(JSONL_CHECKED_KEY):
            return 0
        fixed = 0
        missing = set(ledger.revisions_without_data())
        if missing:
            for path in sorted(self.layout.jsonl.glob("*.jsonl")):
                cut_partial_last_line(path)
                for line in path.read_text(encoding="utf-8").splitlines():
                    try:
                        record = json.loads(line)
                        key = (str(record["id"]), int(record["revision"]))
                    except (ValueError, KeyError, TypeError):
                        continue
                    if key in missing:
                        missing.discard(key)
                        ledger.set_json_line(key[0], key[1], line)
            for article_id, revision in sorted(missing):
                ledger.forget(article_id, revision)
                fixed += 1
            if fixed:
                logger.warning(
                    "%d archived revisions had no JSONL line; they are stored again when met",
                    fixed,
                )
        ledger.set_meta(JSONL_CHECKED_KEY, "1")
        return fixed


class _Pending(NamedTuple):
    """A revision stored but not yet recorded in the ledger (its batch is being written)."""

    revision: int
    content_hash: str
    source: str
    cut: bool


@dataclass(slots=True)
class _Batch:
    """Files to write durably, then ledger changes to commit in one transaction."""

    dumps: list[tuple[Path, bytes]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    line_of: list[int] = field(default_factory=list)  # each line's Revision in changes (or -1)
    changes: list[Revision | Seen] = field(default_factory=list)

    def empty(self) -> bool:
        return not (self.dumps or self.lines or self.changes)


def write_batch(batch: _Batch, jsonl_path: Path, fsyncs: Executor | None) -> list[bytes]:
    """Write the batch's dumps (atomically, durably: :func:`write_atomic_many`), then
    append and fsync its JSONL lines; the lines compressed for the ledger.
    """
    write_atomic_many(batch.dumps, fsyncs)
    if batch.lines:
        append_lines(jsonl_path, batch.lines, sync=True)
    return [compress_line(line) for line in batch.lines]


def _matches(wanted: str, name: str, id_: str | None) -> bool:
    wanted = wanted.strip()
    return wanted.casefold() == name.casefold() or (id_ is not None and wanted == id_)


def _flag(settings: Mapping[str, Any], name: str, default: bool = True) -> bool:
    getbool = getattr(settings, "getbool", None)
    if getbool is not None:
        return bool(getbool(name, default))
    value = settings.get(name, default)
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)
