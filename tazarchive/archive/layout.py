"""Where everything of an archive lives on disk: every path, from the settings, here only.

::

    <TAZARCHIVE_OUTPUT_DIR>/
      dumps/YYYY/MM/<id>.txt        revision 1 (publication month, Europe/Berlin)
      dumps/YYYY/MM/<id>.r<N>.txt   revision N >= 2, beside it
      dumps/undated/<id>.txt        no publication date
      jsonl/<spider>-<stamp>.jsonl  the lossless JSONL of each run
      warc/…                        WARC captures (TAZARCHIVE_WARC_DIR)
      ledger.sqlite3                which revisions are stored (TAZARCHIVE_LEDGER_PATH)
      rejects.jsonl                 pages kept out, with reasons (TAZARCHIVE_REJECTS_PATH)
      runs/<spider>-<stamp>.json    one report per run
      .lock                         one writer at a time

``<stamp>`` is :func:`stamp`: one timestamp format for every file name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tazarchive.items import Article

# Dumps are filed by publication month in taz's own time zone.
ARCHIVE_TIMEZONE = ZoneInfo("Europe/Berlin")
UNDATED_FOLDER = "undated"
DUMP_SUFFIXES = {"seed": ".txt", "text": ".txt", "gophermap": ".gph"}
STAMP_FORMAT = "%Y-%m-%dT%H-%M-%SZ"
LOCK_NAME = ".lock"


def lock_path(root: Path) -> Path:
    """The lock file of the archive in ``root`` (one writer at a time)."""
    return root / LOCK_NAME


def stamp(moment: datetime | None = None) -> str:
    """The timestamp in every archive file name: ``2025-10-24T08-00-00Z`` (UTC)."""
    return (moment or datetime.now(UTC)).astimezone(UTC).strftime(STAMP_FORMAT)


def dump_relpath(article: Article, revision: int | None, fmt: str = "seed") -> str:
    """Where a revision's dump lives, relative to the archive folder."""
    if article.published is not None:
        local = article.published.astimezone(ARCHIVE_TIMEZONE)
        folder = f"dumps/{local.year:04d}/{local.month:02d}"
    else:
        folder = f"dumps/{UNDATED_FOLDER}"
    suffix = DUMP_SUFFIXES.get(fmt, ".txt")
    revision_part = f".r{revision}" if revision and revision > 1 else ""
    return f"{folder}/{article.id}{revision_part}{suffix}"


@dataclass(frozen=True, slots=True)
class ArchiveLayout:
    """Every path of one archive. Build it with :meth:`from_settings`; paths are absolute."""

    root: Path
    ledger: Path
    rejects: Path
    warc: Path

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> ArchiveLayout:
        """From TAZARCHIVE_OUTPUT_DIR and the optional *_PATH / *_DIR overrides."""
        root = Path(settings.get("TAZARCHIVE_OUTPUT_DIR") or "output").absolute()

        def override(name: str, default: Path) -> Path:
            value = settings.get(name) or ""
            return Path(value).absolute() if value else default

        return cls(
            root=root,
            ledger=override("TAZARCHIVE_LEDGER_PATH", root / "ledger.sqlite3"),
            rejects=override("TAZARCHIVE_REJECTS_PATH", root / "rejects.jsonl"),
            warc=override("TAZARCHIVE_WARC_DIR", root / "warc"),
        )

    @property
    def dumps(self) -> Path:
        return self.root / "dumps"

    @property
    def jsonl(self) -> Path:
        return self.root / "jsonl"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    @property
    def lock(self) -> Path:
        return lock_path(self.root)

    def dump_path(self, article: Article, revision: int | None, fmt: str = "seed") -> Path:
        return self.root / dump_relpath(article, revision, fmt)

    def jsonl_path(self, name: str, moment: datetime | None = None) -> Path:
        """The JSONL file of one run (``name``: the spider or command)."""
        return self.jsonl / f"{name}-{stamp(moment)}.jsonl"

    def report_path(self, name: str, moment: datetime | None = None) -> Path:
        """A report path for a run that started at ``moment`` not yet taken."""
        return free_report_path(self.runs, name, moment)


def free_report_path(runs: Path, name: str, moment: datetime | None = None) -> Path:
    """``<runs>/<name>-<stamp>.json``, or ``…-2.json`` and on when that is taken."""
    base = f"{name}-{stamp(moment)}"
    path = runs / f"{base}.json"
    n = 2
    while path.exists():  # a second run in the same second (the lock makes this safe)
        path = runs / f"{base}-{n}.json"
        n += 1
    return path
