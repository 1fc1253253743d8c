"""``scrapy import-dumps PATH...``: take existing dump files into the archive.

Each file (folders are walked in sorted order, like ``convert-dumps``) is read
with :func:`tazarchive.dump.read_dump` (any rendering or proxy capture),
normalised and validated like a crawled article, and stored through
``Archive.store``, the function the crawl stores with: known, or a new
revision (dump in TAZARCHIVE_DUMP_FORMAT, a line in
``<output>/jsonl/import-<stamp>.jsonl``, the ledger). A dump a proxy or disk
cut short is taken in as cut (``Article.cut``), never as a new revision of a
whole article. Later crawls treat the ids as known.

Listing pages, other non-dumps and dumps without an article id get one line
on stderr each; the rest is still imported and the exit status is 1.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TextIO

from scrapy.exceptions import UsageError

from tazarchive import stats as keys
from tazarchive.archive import Archive, ArchiveLayout, CountingStats
from tazarchive.cli.checked import CheckedCommand
from tazarchive.dump import NotADump
from tazarchive.dump.files import dump_files, read_dump_file
from tazarchive.extensions import ArchiveBusy, LockFile
from tazarchive.normalise import normalise
from tazarchive.pipelines import rejection_reason

REVISION_SUFFIX = re.compile(r"\.r[0-9]+(?=\.[^.]+$)")


@dataclass(slots=True)
class ImportSummary:
    new: int = 0
    revised: int = 0
    known: int = 0
    failed: int = 0

    def line(self) -> str:
        return (
            f"import-dumps: {self.new} new, {self.revised} revised, {self.known} known, "
            f"{self.failed} failed"
        )


class DumpImporter:
    """Imports dump files into one :class:`Archive`."""

    def __init__(self, archive: Archive, *, err: TextIO | None = None) -> None:
        self.archive = archive
        self.err = err if err is not None else sys.stderr
        self.summary = ImportSummary()

    def import_paths(self, paths: list[str]) -> ImportSummary:
        for path in dump_files(paths):
            try:
                self.import_file(path)
            except NotADump as exc:
                self._fail(path, f"not an article dump: {exc}")
            except (ValueError, OSError) as exc:
                self._fail(path, str(exc))
        return self.summary

    def import_file(self, path: Path) -> str:
        """Import one file; returns "new", "revised" or "known"; raises with a reason."""
        # An archive's own later revisions are named <id>.r<N>.txt: the id is before ".r".
        source = REVISION_SUFFIX.sub("", path.name)
        article = read_dump_file(path, source=source, gopher=self.archive.gopher)
        article = normalise(article)
        reason = rejection_reason(article)
        if reason == "no_taz_id":
            raise ValueError("no article id (neither in a proxy address nor in the file name)")
        if reason is not None:
            raise ValueError(f"cannot archive it: {reason}")
        outcome = self.archive.store(article)
        if outcome == "new":
            self.summary.new += 1
        elif outcome == "revised":
            self.summary.revised += 1
        else:
            self.summary.known += 1
        return outcome

    def _fail(self, path: Path, reason: str) -> None:
        self.summary.failed += 1
        print(f"import-dumps: {path}: {reason}", file=self.err, flush=True)


class Command(CheckedCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "PATH..."

    def short_desc(self) -> str:
        return "Record existing taz dump files in the archive (ledger, dumps, JSONL)"

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if not args:
            raise UsageError("name at least one dump file or folder")
        assert self.settings is not None
        stats = CountingStats()
        layout = ArchiveLayout.from_settings(self.settings)
        lock = LockFile(layout.lock)
        try:
            lock.acquire(f"archive {layout.root}")
        except ArchiveBusy as exc:
            print(f"tazarchive: {exc}", file=sys.stderr)
            self.exitcode = 1
            return
        try:
            # Dumps carry no site: the archive's base URL is not checked or recorded.
            with Archive.from_settings(
                self.settings, stats=stats, run_name="import", layout=layout, check_site=False
            ) as archive:
                archive.complete_jsonl()
                summary = DumpImporter(archive).import_paths(args)
        finally:
            lock.release()
        print(summary.line())
        if summary.failed or stats.get_value(keys.ARTICLES_STORE_ERRORS):
            self.exitcode = 1
