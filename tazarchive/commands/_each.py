"""What the file-printing commands (extract, convert-dumps) share: one loop over files.

A module of functions only: Scrapy would take a ScrapyCommand class here for a command.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO, TextIO

from scrapy.exceptions import UsageError
from scrapy.settings import BaseSettings

from tazarchive.dump import OUTPUT_FORMATS


def add_format_option(parser: argparse.ArgumentParser) -> None:
    """The ``--format seed|text|gophermap|jsonl`` option."""
    parser.add_argument(
        "--format",
        dest="format",
        choices=OUTPUT_FORMATS,
        default=None,
        help="output rendering (default: TAZARCHIVE_DUMP_FORMAT, seed)",
    )


def chosen_format(opts: argparse.Namespace, settings: BaseSettings | None) -> str:
    """``--format``, else TAZARCHIVE_DUMP_FORMAT; a UsageError for an unknown one."""
    fmt = opts.format or (settings.get("TAZARCHIVE_DUMP_FORMAT") if settings else None) or "seed"
    if fmt not in OUTPUT_FORMATS:
        raise UsageError(f"unknown format {fmt!r}; choose one of {', '.join(OUTPUT_FORMATS)}")
    return str(fmt)


def one_line(text: str) -> str:
    """``text`` safe for a terminal, on one line: controls and line breaks escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def print_each(
    files: Iterable[Path],
    convert: Callable[[Path], str],
    *,
    command: str,
    out: BinaryIO,
    err: TextIO,
) -> int:
    """Write ``convert(path)`` of every file to ``out``; return how many failed.

    A file that fails gets one line on ``err``, ``<command>: <path>: <reason>``;
    ``convert`` says why by raising ValueError (its text is the reason) or OSError.
    Anything else it raises is a failure too, named in one line, never a
    traceback. The other files are still done.
    """
    failures = 0
    for path in files:
        try:
            converted = convert(path)
        except OSError as exc:
            print(one_line(f"{command}: {path}: cannot read: {exc.strerror or exc}"), file=err)
        except ValueError as exc:
            print(one_line(f"{command}: {path}: {exc}"), file=err)
        except Exception as exc:  # a bug must cost one file, not the run: named, counted
            print(one_line(f"{command}: {path}: failed: {type(exc).__name__}: {exc}"), file=err)
        else:
            # Bytes, so the gophermap's CRLF line ends pass through unchanged.
            out.write(converted.encode("utf-8"))
            continue
        failures += 1
    out.flush()
    return failures
