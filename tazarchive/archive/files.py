"""Writes that a crash or a full disk can never leave half done."""

from __future__ import annotations

import errno
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

logger = logging.getLogger(__name__)


@contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """A file to write ``path`` through: it appears whole (fsync + rename) or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # A fixed temp name (one writer per archive: the lock): what a killed run
    # leaves is overwritten when the next run writes that path again.
    temp = path.with_name(f".{path.name}.tmp")
    try:
        with temp.open("wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``path`` so that it is either absent/old or complete: temp file + fsync + rename."""
    with atomic_file(path) as handle:
        handle.write(data)


def append_line(path: Path, line: str) -> None:
    """Append one whole line, or nothing: a kill or a full disk leaves no partial line."""
    append_lines(path, [line])


def append_lines(path: Path, lines: list[str], *, sync: bool = False) -> None:
    """Append whole lines, or nothing; ``sync``: fsync them before returning.

    One ``os.write`` (a killed process does not stop inside it); should the
    disk take only part of it, the file is cut back to where it was and
    ``OSError(ENOSPC)`` raised.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    data = "".join(line.rstrip("\n") + "\n" for line in lines).encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(fd).st_size  # one writer per archive (the lock): the lines' start
        try:
            written = os.write(fd, data)
            if written != len(data):
                raise OSError(errno.ENOSPC, f"{path}: only {written} of {len(data)} bytes written")
            if sync:
                os.fsync(fd)
        except BaseException:
            os.ftruncate(fd, size)
            raise
    finally:
        os.close(fd)


def cut_partial_last_line(path: str | os.PathLike[str], *, chunk: int = 65536) -> int:
    """Truncate a line file after its last ``\\n``; return the number of bytes cut."""
    try:
        file = open(path, "rb+")  # noqa: SIM115 - closed below, after the scan
    except FileNotFoundError:
        return 0
    with file:
        size = file.seek(0, os.SEEK_END)
        if size == 0:
            return 0
        file.seek(size - 1)
        if file.read(1) == b"\n":
            return 0
        keep = 0
        end = size
        while end > 0:
            start = max(0, end - chunk)
            file.seek(start)
            newline = file.read(end - start).rfind(b"\n")
            if newline >= 0:
                keep = start + newline + 1
                break
            end = start
        file.truncate(keep)
    logger.warning("%s ended in a partial line (a killed run); cut %d bytes", path, size - keep)
    return size - keep
