"""Writes that a crash can never leave half done."""

from __future__ import annotations

import os
from pathlib import Path


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``path`` so that it is either absent/old or complete: temp file + fsync + rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # A fixed temp name (one writer per archive: the lock): what a killed run
    # leaves is overwritten when the next run stores that article again.
    temp = path.with_name(f".{path.name}.tmp")
    try:
        with temp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def append_line(path: Path, line: str) -> None:
    """Append one line with a single os.write, so a killed process leaves no partial line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line.rstrip("\n") + "\n").encode("utf-8"))
    finally:
        os.close(fd)
