"""``scrapy convert-dumps PATH... --format seed|text|gophermap|jsonl``.

Reads dump files (any rendering or proxy capture; folders are walked in
sorted order) and prints each in the chosen rendering, one after the other.
A file that cannot be converted gets one line on stderr naming it; the
others are still converted and the exit status is 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, TextIO

from scrapy.exceptions import UsageError

from tazarchive.cli.checked import CheckedCommand
from tazarchive.commands._each import add_format_option, chosen_format, print_each
from tazarchive.dump import OUTPUT_FORMATS, GopherOptions, NotADump, render_output
from tazarchive.dump.files import dump_files, read_dump_file

FORMATS = OUTPUT_FORMATS


def convert_file(path: Path, fmt: str, gopher: GopherOptions) -> str:
    """One dump file in the chosen format; raises ValueError/OSError with a reason."""
    try:
        article = read_dump_file(path, gopher=gopher)
    except NotADump as exc:
        raise ValueError(f"not an article dump: {exc}") from None
    return render_output(article, fmt, gopher=gopher)


def convert_paths(
    paths: list[str], fmt: str, gopher: GopherOptions, out: BinaryIO, err: TextIO
) -> int:
    """Convert every file to ``out``; report failures to ``err``; return the failure count."""
    return print_each(
        dump_files(paths),
        lambda path: convert_file(path, fmt, gopher),
        command="convert-dumps",
        out=out,
        err=err,
    )


class Command(CheckedCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "PATH... [--format seed|text|gophermap|jsonl]"

    def short_desc(self) -> str:
        return "Read taz dump files (or folders of them) and print them in another rendering"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        add_format_option(parser)

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if not args:
            raise UsageError("name at least one dump file or folder")
        assert self.settings is not None
        fmt = chosen_format(opts, self.settings)
        gopher = GopherOptions.from_settings(self.settings)
        if convert_paths(args, fmt, gopher, sys.stdout.buffer, sys.stderr):
            self.exitcode = 1
