"""The archive: store an article (new, revised or known) and answer from it without the site.

:class:`Archive` is the one way into an archive folder: the crawl's pipelines,
``import-dumps``, ``reparse`` and ``export`` all go through it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from scrapy.exceptions import UsageError

from tazarchive import stats as keys
from tazarchive.archive.files import append_line, cut_partial_last_line, write_atomic
from tazarchive.archive.jsonl import article_json_line
from tazarchive.archive.layout import ArchiveLayout, dump_relpath
from tazarchive.archive.ledger import Ledger, content_hash
from tazarchive.archive.rejects import CountingStats, Stats, record_reject
from tazarchive.dump import GopherOptions, render
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
        if self.ledger is not None:
            self.ledger.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- storing ----------------------------------------------------------------

    def store(self, article: Article) -> Outcome:
        """Store ``article``: ``"new"``, ``"revised"`` or ``"known"`` (nothing written).

        Sets ``article.revision`` and ``article.content_hash`` when it stores
        it. Counts the outcome in the stats; any exception is counted as
        ``tazarchive/articles/store_errors`` and raised.
        """
        try:
            return self._store(article)
        except Exception:
            self.stats.inc_value(keys.ARTICLES_STORE_ERRORS)
            raise

    def _store(self, article: Article) -> Outcome:
        digest = content_hash(article)
        source = article_source(article)
        current = self.ledger.current(article.id) if self.ledger is not None else None
        if current is not None and self.ledger is not None:
            kept = None
            if current.content_hash == digest:
                kept = keys.ARTICLES_KNOWN
            elif current.source == "html" and source == "gopher":
                kept = keys.ARTICLES_KEPT_HTML
            elif article.cut and not self._is_cut(article.id, current.revision):
                kept = keys.ARTICLES_KEPT_WHOLE
            if kept is not None:
                self.ledger.touch(article.id, article.fetched)
                self.stats.inc_value(kept)
                return "known"
        if self.ledger is not None:
            article.revision = current.revision + 1 if current is not None else 1
        article.content_hash = digest
        relpath = None
        if self.store_dumps:
            relpath = dump_relpath(article, article.revision, self.fmt)
            data = render(article, self.fmt, gopher=self.gopher).encode("utf-8")
            write_atomic(self.layout.root / relpath, data)
            self.stats.inc_value(keys.DUMPS_WRITTEN)
        line = article_json_line(article)
        append_line(self.jsonl_path, line)
        if self.ledger is not None:
            self.ledger.record(
                article,
                revision=article.revision or 1,
                content_hash=digest,
                dump_path=relpath,
                seen=article.fetched,
                source=source,
                json_line=line,
            )
        if current is None:
            self.stats.inc_value(keys.ARTICLES_NEW)
            return "new"
        self.stats.inc_value(keys.ARTICLES_REVISED)
        return "revised"

    def _is_cut(self, article_id: str, revision: int) -> bool:
        line = self.ledger.json_line(article_id, revision) if self.ledger is not None else None
        return bool(line and json.loads(line).get("cut"))

    def record_reject(
        self, reason: str, *, url: str = "", detail: str = "", article: Article | None = None
    ) -> None:
        """Count and write down a page or article kept out (never in the ledger)."""
        record_reject(
            self.stats, self.layout.rejects, reason, url=url, detail=detail, article=article
        )

    # --- answering without the site ----------------------------------------------

    def knows(self, article_id: str) -> bool:
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
