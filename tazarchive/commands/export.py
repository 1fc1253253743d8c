"""``scrapy export``: the latest revision of archived articles, without fetching anything.

    scrapy export                                  # every article, JSONL, to stdout
    scrapy export --format seed --ids 6110749,5928990
    scrapy export --since 2025-01-01 --until 2025-01-31 --author "Erika Musterfrau" -o jan.jsonl

``--format jsonl`` writes each revision's line exactly as the crawl (or
import) that stored it wrote it into the archive's JSONL; ``seed``, ``text``
and ``gophermap`` render it (TAZARCHIVE_GOPHER_* settings). ``--since`` and
``--until`` are publication days in taz's time zone, both included;
``--author`` and ``--tag`` take a name (any case) or a taz id. Read-only: it
runs beside a crawl of the same archive. Exit 1 with one line when the
archive does not exist or an id asked for is not archived.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import IO, Any, ClassVar

from scrapy.exceptions import UsageError

from tazarchive.archive import Archive, ArchiveLayout, article_json_line
from tazarchive.archive.files import atomic_file
from tazarchive.archive.layout import ARCHIVE_TIMEZONE
from tazarchive.cli.checked import CheckedCommand
from tazarchive.dump import OUTPUT_FORMATS, render

DAY_FORMAT = "YYYY-MM-DD"

SIGPIPE_STATUS = 141  # what a shell reports for a writer its reader left (128 + SIGPIPE)


def parse_day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option} {value!r}: expected a day as {DAY_FORMAT}") from None


def day_start(day: date) -> datetime:
    """Midnight of ``day`` in taz's time zone (the archive files dumps by it too)."""
    return datetime.combine(day, time(), tzinfo=ARCHIVE_TIMEZONE)


def parse_ids(value: str | None) -> list[str] | None:
    if value is None:
        return None
    ids = [part.strip().removeprefix("!") for part in value.split(",") if part.strip()]
    bad = [i for i in ids if not i.isdigit()]
    if bad or not ids:
        raise UsageError(f"--ids {value!r}: expected taz article ids, comma-separated")
    return ids


def export(archive: Archive, out: IO[bytes], fmt: str, **query: Any) -> list[str]:
    """Write the matching articles to ``out``; returns the ids written."""
    written: list[str] = []
    for article, line in archive.iter_latest_lines(**query):
        if fmt == "jsonl":
            text = (line if line is not None else article_json_line(article)) + "\n"
        else:
            text = render(article, fmt, gopher=archive.gopher)
        out.write(text.encode("utf-8"))
        written.append(article.id)
    return written


class Command(CheckedCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[options]"

    def short_desc(self) -> str:
        return "Write the latest revision of archived articles (JSONL or a dump rendering)"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--format", default="jsonl", choices=OUTPUT_FORMATS)
        parser.add_argument("--ids", help="comma-separated article ids (default: all)")
        parser.add_argument("--since", help=f"first publication day, {DAY_FORMAT}")
        parser.add_argument("--until", help=f"last publication day, {DAY_FORMAT}")
        parser.add_argument("--author", help="an author's name or taz id")
        parser.add_argument("--tag", help="a tag's name or taz id")
        parser.add_argument("-o", "--output", metavar="FILE", help="write here, not to stdout")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            raise UsageError(f"unexpected arguments: {' '.join(args)}")
        assert self.settings is not None
        ids = parse_ids(opts.ids)
        since = day_start(parse_day(opts.since, "--since")) if opts.since else None
        until = None
        if opts.until:
            until = day_start(parse_day(opts.until, "--until") + timedelta(days=1))
        layout = ArchiveLayout.from_settings(self.settings)
        if not layout.ledger.is_file():
            print(
                f"tazarchive: no archive at {layout.root} (no {layout.ledger.name})",
                file=sys.stderr,
            )
            self.exitcode = 1
            return
        query = {"ids": ids, "since": since, "until": until, "author": opts.author, "tag": opts.tag}
        with Archive.from_settings(self.settings, layout=layout, check_site=False) as archive:
            if opts.output:
                written = self._to_file(archive, Path(opts.output), opts.format, query)
            else:
                try:
                    written = export(archive, sys.stdout.buffer, opts.format, **query)
                    sys.stdout.flush()
                except BrokenPipeError:  # the reader stopped (`| head`): no traceback
                    # Python's recipe: point stdout at devnull so the exit flush is quiet.
                    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                    self.exitcode = SIGPIPE_STATUS
                    return
        missing = [i for i in ids or [] if i not in set(written)]
        if missing:
            print(f"tazarchive: not archived: {', '.join(missing)}", file=sys.stderr)
            self.exitcode = 1

    @staticmethod
    def _to_file(archive: Archive, path: Path, fmt: str, query: dict[str, Any]) -> list[str]:
        # FILE is the whole export or untouched.
        with atomic_file(path) as out:
            return export(archive, out, fmt, **query)
