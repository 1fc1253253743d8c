"""Dump files on disk: finding them in folders and reading one into an article."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from tazarchive.dump.menu import GopherOptions
from tazarchive.dump.reader import NotADump, read_dump
from tazarchive.items import Article

# Inside folders only these files are taken as dumps (named files are always read).
DUMP_SUFFIXES = (".txt", ".gph", ".gophermap")


def dump_files(paths: Iterable[str | Path]) -> Iterator[Path]:
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


def read_dump_file(
    path: Path, *, source: str | None = None, gopher: GopherOptions | None = None
) -> Article:
    """Read one dump file; raises NotADump, ValueError (not UTF-8) or OSError with a reason.

    ``source`` is what the reader may take an id from (default: the path).
    """
    data = path.read_bytes()
    if not data.strip():
        raise NotADump("empty file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 (byte {exc.start})") from None
    return read_dump(text, source=source if source is not None else str(path), gopher=gopher)
