"""``scrapy convert-dumps PATH... --format seed|text|gophermap|jsonl``.

Reads dump files (any rendering or proxy capture; folders are walked in
sorted order) and prints each in the chosen rendering, one after the other.
A file that cannot be converted gets one line on stderr naming it; the
others are still converted and the exit status is 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from tazarchive.dump import OUTPUT_FORMATS, GopherOptions, NotADump, read_dump, render_output

FORMATS = OUTPUT_FORMATS
# Inside folders only these files are taken as dumps (named files are always read).
DUMP_SUFFIXES = (".txt", ".gph", ".gophermap")


def dump_files(paths: list[str]) -> Iterator[Path]:
    """The named files, and the dump files below named folders, sorted by path."""
    for name in paths:
        path = Path(name)
        if path.is_dir():
            yield from sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and p.suffix in DUMP_SUFFIXES and not p.name.startswith(".")
            )
        else:
            yield path


def convert_file(path: Path, fmt: str, gopher: GopherOptions) -> str:
    """One dump file in the chosen format; raises NotADump/ValueError/OSError with a reason."""
    data = path.read_bytes()
    if not data.strip():
        raise NotADump("empty file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 (byte {exc.start})") from None
    return render_output(read_dump(text, source=str(path), gopher=gopher), fmt, gopher=gopher)


def convert_paths(
    paths: list[str], fmt: str, gopher: GopherOptions, out: BinaryIO, err: Any
) -> int:
    """Convert every file to ``out``; report failures to ``err``; return the failure count."""
    failures = 0
    for path in dump_files(paths):
        try:
            converted = convert_file(path, fmt, gopher)
        except NotADump as exc:
            print(f"convert-dumps: {path}: not an article dump: {exc}", file=err)
        except ValueError as exc:
            print(f"convert-dumps: {path}: {exc}", file=err)
        except OSError as exc:
            print(f"convert-dumps: {path}: cannot read: {exc.strerror or exc}", file=err)
        else:
            # Bytes, so the gophermap's CRLF line ends pass through unchanged.
            out.write(converted.encode("utf-8"))
            continue
        failures += 1
    out.flush()
    return failures


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "PATH... [--format seed|text|gophermap|jsonl]"

    def short_desc(self) -> str:
        return "Read taz dump files (or folders of them) and print them in another rendering"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--format",
            dest="format",
            choices=FORMATS,
            default=None,
            help="output rendering (default: TAZARCHIVE_DUMP_FORMAT, seed)",
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if not args:
            raise UsageError("name at least one dump file or folder")
        assert self.settings is not None
        fmt = opts.format or self.settings.get("TAZARCHIVE_DUMP_FORMAT", "seed")
        if fmt not in FORMATS:
            raise UsageError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
        gopher = GopherOptions.from_settings(self.settings)
        if convert_paths(args, fmt, gopher, sys.stdout.buffer, sys.stderr):
            self.exitcode = 1
