"""Durable dump writes: one fsync per file against two syncfs per batch, side by side.

    python bench/writes.py [--files 2000] [--batch 64] [--rounds 2]

Writes ``--files`` dump-sized files (6 KB) into a fresh folder three ways,
each file atomically (temp name, then rename), durable before the call
returns, as ``scrapy reparse`` writes a batch of dumps:

1. ``write_atomic`` per file, 16 threads side by side (the way before syncfs);
2. ``write_atomic`` per file, one after the other;
3. ``write_atomic_many`` per batch of ``--batch`` files: temps, one syncfs,
   renames, one syncfs (Linux; elsewhere it falls back to 2. or 1.).

Prints wall seconds, this process's CPU seconds (system calls included) and
the machine's busy CPU seconds (the kernel's flushing included, Linux
/proc/stat), and each way's CPU against the first. Run it on an idle machine.
Every folder is kept until the end: ext4 searches longer for a free inode
right after many were deleted, which would burden whichever way came next.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tazarchive.archive import files  # noqa: E402  (after sys.path)

DUMP = ("| Ein erfundener Satz einer Zeitungsseite, so lang wie eine Zeile. | |\n" * 80).encode()


def process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def machine_busy() -> float:
    try:
        with open("/proc/stat") as stat:
            fields = [int(n) for n in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def per_file_threads(paths: list[Path], batch: int) -> None:
    with ThreadPoolExecutor(16) as pool:
        for start in range(0, len(paths), batch):
            list(pool.map(lambda p: files.write_atomic(p, DUMP), paths[start : start + batch]))


def per_file(paths: list[Path], batch: int) -> None:
    for path in paths:
        files.write_atomic(path, DUMP)


def per_batch(paths: list[Path], batch: int) -> None:
    for start in range(0, len(paths), batch):
        files.write_atomic_many([(p, DUMP) for p in paths[start : start + batch]])


WAYS: list[tuple[str, Callable[[list[Path], int], None]]] = [
    ("write_atomic per file, 16 threads", per_file_threads),
    ("write_atomic per file, one thread", per_file),
    ("write_atomic_many per batch", per_batch),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    syncfs = "syncfs(2)" if files._SYNCFS is not None else "no syncfs here: fsync per file"
    print(f"{args.files} files of {len(DUMP)} bytes, batches of {args.batch}; {syncfs}")
    print(f"{'':36} {'wall s':>7} {'CPU s':>6} {'machine CPU s':>13} {'CPU x first':>11}")
    work = Path(tempfile.mkdtemp(prefix="tazarchive-bench-writes-"))
    try:
        for round_ in range(args.rounds):
            first = 0.0
            for name, write in WAYS:
                folder = work / f"{round_}-{write.__name__}"
                paths = [folder / f"{n // 100:03d}" / f"{n}.txt" for n in range(args.files)]
                began, cpu, busy = time.perf_counter(), process_cpu(), machine_busy()
                write(paths, args.batch)
                wall = time.perf_counter() - began
                cpu, busy = process_cpu() - cpu, machine_busy() - busy
                first = first or cpu
                print(f"{name:36} {wall:7.2f} {cpu:6.2f} {busy:13.2f} {cpu / first:11.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
