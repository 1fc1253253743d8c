"""Writes that a crash or a full disk can never leave half done."""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, wait
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

logger = logging.getLogger(__name__)


def temp_path(path: Path) -> Path:
    """Where ``path`` is written before it is renamed into place.

    A fixed name (one writer per archive: the lock): what a killed run leaves
    is overwritten when the next run writes that path again.
    """
    return path.with_name(f".{path.name}.tmp")


@contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """A file to write ``path`` through: it appears whole (fsync + rename) or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = temp_path(path)
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


def _load_syncfs() -> Callable[[int], int] | None:
    """libc's ``syncfs(2)``, on Linux; None elsewhere (the standard library has no binding)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        syncfs = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    syncfs.argtypes = [ctypes.c_int]
    syncfs.restype = ctypes.c_int
    return syncfs


_SYNCFS = _load_syncfs()


def sync_filesystem(directory: Path) -> None:
    """Write everything the filesystem holding ``directory`` has in memory to its disk."""
    assert _SYNCFS is not None, "no syncfs(2) here"
    fd = os.open(directory, os.O_RDONLY)
    try:
        if _SYNCFS(fd) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"syncfs {directory}: {os.strerror(error)}")
    finally:
        os.close(fd)


def write_atomic_many(files: Sequence[tuple[Path, bytes]], fsyncs: Executor | None = None) -> None:
    """:func:`write_atomic` for each file, all of them durable on return.

    Each file is written to its temp name, one ``syncfs`` per filesystem
    makes the temps durable, the renames follow and a second ``syncfs`` makes
    them durable: a crash leaves every file absent/old or whole, as with
    :func:`write_atomic`, with two flushes of the disk instead of one per
    file (a quarter of the CPU or less for 64 dumps: ``bench/writes.py``,
    docs/archive.md). Where there is
    no ``syncfs`` (not Linux), :func:`write_atomic` each, on ``fsyncs`` side
    by side when given. One file is written by :func:`write_atomic` too: its
    fsync flushes that file only.
    """
    if _SYNCFS is None or len(files) < 2:
        if fsyncs is None:
            for path, data in files:
                write_atomic(path, data)
            return
        futures = [fsyncs.submit(write_atomic, path, data) for path, data in files]
        wait(futures)  # all done before any error is raised: no write outlives the call
        for future in futures:
            future.result()
        return
    folders: set[Path] = set()
    filesystems: dict[int, Path] = {}  # st_dev -> a folder on it
    temps: list[Path] = []
    renamed = 0
    try:
        for path, data in files:
            if path.parent not in folders:
                path.parent.mkdir(parents=True, exist_ok=True)
                folders.add(path.parent)
                filesystems.setdefault(os.stat(path.parent).st_dev, path.parent)
            temps.append(temp_path(path))
            _write_file(temps[-1], data)
        for folder in filesystems.values():
            sync_filesystem(folder)
        for temp, (path, _) in zip(temps, files, strict=False):
            os.replace(temp, path)
            renamed += 1
        for folder in filesystems.values():
            sync_filesystem(folder)
    except BaseException:
        for temp in temps[renamed:]:
            temp.unlink(missing_ok=True)
        raise


def _write_file(path: Path, data: bytes) -> None:
    """Create or overwrite ``path`` with ``data``: three system calls.

    ``open()`` adds a stat, a tty check and a seek per file; in a batch
    written beside the pipelines, each call is also a hand-over of the GIL.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            if written == 0:
                raise OSError(errno.ENOSPC, f"{path}: no room for {len(view)} bytes")
            view = view[written:]
    finally:
        os.close(fd)


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
