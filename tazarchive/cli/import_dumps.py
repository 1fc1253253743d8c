"""``scrapy import-dumps PATH...``: take existing dump files into the archive.

Each file (folders are walked in sorted order, like ``convert-dumps``) is read
with :func:`tazarchive.dump.read_dump` (any rendering or proxy capture),
normalised and validated like a crawled article, and then handled like one:
unchanged content already in the ledger → known; otherwise a new revision
whose dump is written into the archive layout (rendered in
TAZARCHIVE_DUMP_FORMAT), whose JSONL record is appended to
``<output>/jsonl/import-<UTC time>.jsonl`` (one write per line), and which
is then committed to the ledger. Later crawls treat those ids as known.

Listing pages, other non-dumps and dumps without an article id get one line
on stderr each; the rest is still imported and the exit status is 1.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from tazarchive.dump import GopherOptions, NotADump
from tazarchive.dump.files import dump_files, read_dump_file
from tazarchive.exporters import ArticleJsonLinesExporter, LineSafeFileFeedStorage
from tazarchive.extensions import ArchiveBusy, ArchiveLock
from tazarchive.ledger import Ledger, content_hash, ledger_path
from tazarchive.normalise import normalise_article
from tazarchive.pipelines import (
    gopher_options,
    output_dir,
    rejection_reason,
    store_dump,
)

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
    """Imports dump files into one archive: its output folder, ledger and a JSONL file."""

    def __init__(
        self,
        output: Path,
        ledger: Ledger,
        jsonl: IO[bytes],
        *,
        fmt: str = "seed",
        gopher: GopherOptions | None = None,
        err: Any = None,
    ) -> None:
        self.output = output
        self.ledger = ledger
        self.exporter = ArticleJsonLinesExporter(jsonl)
        self.fmt = fmt
        self.gopher = gopher
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
        article = normalise_article(read_dump_file(path, source=source, gopher=self.gopher))
        reason = rejection_reason(article)
        if reason == "no_id":
            raise ValueError("no article id (neither in a proxy address nor in the file name)")
        if reason is not None:
            raise ValueError(f"cannot archive it: {reason}")
        digest = content_hash(article)
        current = self.ledger.current(article.id)
        if current is not None and current.content_hash == digest:
            self.ledger.touch(article.id)
            self.summary.known += 1
            return "known"
        article.revision = current.revision + 1 if current else 1
        article.content_hash = digest
        relpath = store_dump(self.output, article, self.fmt, self.gopher)
        self.exporter.export_item(article)
        # Committed last, as in a crawl: a killed import re-imports this file.
        self.ledger.record(
            article, revision=article.revision, content_hash=digest, dump_path=relpath
        )
        if article.revision == 1:
            self.summary.new += 1
            return "new"
        self.summary.revised += 1
        return "revised"

    def _fail(self, path: Path, reason: str) -> None:
        self.summary.failed += 1
        print(f"import-dumps: {path}: {reason}", file=self.err, flush=True)


def import_jsonl_path(output: Path, now: datetime | None = None) -> Path:
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return output / "jsonl" / f"import-{moment:%Y%m%dT%H%M%SZ}.jsonl"


class Command(ScrapyCommand):
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
        output = output_dir(self.settings)
        lock = ArchiveLock(output)
        try:
            lock.acquire()
        except ArchiveBusy as exc:
            print(f"tazarchive: {exc}", file=sys.stderr)
            self.exitcode = 1
            return
        try:
            summary = self._import(args, output)
        finally:
            lock.release()
        print(summary.line())
        if summary.failed:
            self.exitcode = 1

    def _import(self, args: list[str], output: Path) -> ImportSummary:
        assert self.settings is not None
        jsonl_path = import_jsonl_path(output)
        storage = LineSafeFileFeedStorage(jsonl_path.as_uri(), feed_options={"format": "jsonl"})
        with Ledger(ledger_path(self.settings)) as ledger:
            jsonl = storage.open(None)  # type: ignore[arg-type]  # the spider is not used
            try:
                importer = DumpImporter(
                    output,
                    ledger,
                    jsonl,
                    fmt=self.settings.get("TAZARCHIVE_DUMP_FORMAT") or "seed",
                    gopher=gopher_options(self.settings),
                )
                summary = importer.import_paths(args)
            finally:
                jsonl.close()
        if jsonl_path.stat().st_size == 0:
            jsonl_path.unlink()  # nothing imported: no empty feed file
        return summary
