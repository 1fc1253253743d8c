"""Reparse speed over a 10,000-article WARC set, beside bare extraction and WARC reading.

    python bench/reparse.py [--articles 10000] [--gzip] [--keep DIR] [--no-writers]

1. Builds the WARC set in-process: each article page of a replica
   ``Site(n)`` (rendered by ``tazarchive.replica.respond``, no server, no
   crawl) becomes a response + request record pair written by
   ``tazarchive.warc.WarcWriter``, as a crawl would write it. ``--gzip`` stores
   the bodies Content-Encoding: gzip, as a compressing server sends them.
2. Times ``scrapy reparse`` over it in a fresh output folder (a child process:
   extraction on every core, pipelines, ledger, dumps, JSONL feed, run report),
   then once more with one process (TAZARCHIVE_REPARSE_WORKERS=1), and checks
   that both wrote the same dumps and JSONL (``fetched`` aside), byte for byte.
3. Times, in this process over the same files: reading the response records
   (warcio, and FastWARC when installed), and bare extraction
   (read + ``extract_article`` with the id asked for, no pipelines).
4. Unless ``--no-writers``: times writing the first 2,000 pairs three ways:
   WarcWriter (warcio records, zlib level 6 per record), warcio's own gzip
   writer (level 9), FastWARC.

Prints articles/s and the ratios side by side, by wall clock and by CPU
time: this process's for the in-process rows; for ``scrapy reparse``, the
machine's busy time while it ran (Linux; elsewhere getrusage of the child,
which misses the workers). Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tazarchive import urls  # noqa: E402
from tazarchive.extract import extract_article  # noqa: E402  (after sys.path)
from tazarchive.replica import Site, respond  # noqa: E402
from tazarchive.warc import HttpMessage, WarcWriter, iter_responses, warc_files  # noqa: E402

BASE = "http://127.0.0.1:8000"
START = datetime(2025, 10, 24, 8, 0, tzinfo=UTC)
COMPARE_PAIRS = 2000


def exchanges(site: Site, encode: bool) -> Iterator[tuple[str, HttpMessage, HttpMessage]]:
    """(url, request, response) per article page, as a crawl of the replica sees them."""
    for article_id in site.article_ids():
        path = f"/!{article_id}/"
        served = respond(site, path)
        body = gzip.compress(served.body, 6) if encode else served.body
        headers = [("Content-Length", str(len(body))), ("Content-Type", served.content_type)]
        if encode:
            headers.append(("Content-Encoding", "gzip"))
        request = HttpMessage(
            f"GET {path} HTTP/1.1",
            [
                ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
                ("Accept-Language", "en"),
                ("User-Agent", "tazarchive/0.1 (archive crawler for taz.de; Scrapy)"),
                ("Accept-Encoding", "gzip, deflate, br, zstd"),
                ("Host", "127.0.0.1:8000"),
            ],
        )
        yield f"{BASE}{path}", request, HttpMessage(f"HTTP/1.1 {served.status} OK", headers, body)


def build(site: Site, directory: Path, encode: bool) -> tuple[int, float, list[tuple]]:
    """Write the set; return (pairs, seconds spent in the writer, first pairs kept for 4.)."""
    writer = WarcWriter(directory, "tazarchive-bench", started=START)
    kept: list[tuple] = []
    spent = 0.0
    pairs = 0
    for n, (url, request, response) in enumerate(exchanges(site, encode)):
        if n < COMPARE_PAIRS:
            kept.append((url, request, response))
        began = time.perf_counter()
        writer.write_exchange(url, request, response, date=START + timedelta(seconds=n))
        spent += time.perf_counter() - began
        pairs += 1
    writer.close()
    return pairs, spent, kept


def timed(action: Callable[[], int]) -> tuple[int, float, float]:
    """(result, wall seconds, CPU seconds of this process)."""
    began, cpu = time.perf_counter(), time.process_time()
    count = action()
    return count, time.perf_counter() - began, time.process_time() - cpu


def children_cpu() -> float:
    """CPU seconds of the processes started (and waited for) from here, and theirs."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def machine_busy() -> float | None:
    """CPU seconds the whole machine has been busy (Linux /proc/stat), or None."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(n) for n in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def read_warcio(directory: Path) -> int:
    return sum(len(page.body) > 0 for page in iter_responses([directory]))


def read_fastwarc(directory: Path) -> int:
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    count = 0
    for path in warc_files([directory]):
        with path.open("rb") as stream:
            records = ArchiveIterator(
                stream, record_types=WarcRecordType.response, auto_decode="content"
            )
            count += sum(len(record.reader.read()) > 0 for record in records)
    return count


def bare_extraction(directory: Path) -> int:
    return sum(
        extract_article(
            page.body, page.url, fetched=page.date, requested_id=urls.article_id(page.url)
        )
        is not None
        for page in iter_responses([directory])
    )


def write_ours(pairs: list[tuple], directory: Path) -> int:
    writer = WarcWriter(directory, "ours", started=START)
    for url, request, response in pairs:
        writer.write_exchange(url, request, response, date=START)
    writer.close()
    return len(pairs)


def write_warcio_gzip9(pairs: list[tuple], directory: Path) -> int:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "warcio.warc.gz", "wb") as out:
        writer = WARCWriter(out, gzip=True, warc_version="1.1")
        for url, request, response in pairs:
            protocol, _, status = response.start_line.partition(" ")
            http = StatusAndHeaders(status, response.headers, protocol=protocol)
            record = writer.create_warc_record(
                url, "response", payload=io.BytesIO(response.body), http_headers=http
            )
            req = writer.create_warc_record(
                url,
                "request",
                payload=io.BytesIO(b""),
                http_headers=StatusAndHeaders(
                    request.start_line, request.headers, is_http_request=True
                ),
            )
            writer.write_request_response_pair(req, record)
    return len(pairs)


def fastwarc_member(record: Any) -> bytes:
    """The record as one gzip member: FastWARC 2's GzipWriter, or GZipStream before it.

    The bench extra gets FastWARC 0.14/0.15 where fundus is installed beside it.
    """
    try:
        from fastwarc.stream_io import GzipWriter
    except ImportError:
        from fastwarc.stream_io import BytesIOStream, GZipStream

        raw = BytesIOStream()
        stream = GZipStream(raw, compression_level=6)
        record.write(stream, checksum_data=True)
        stream.close()
        return bytes(raw.getvalue())
    buffer = io.BytesIO()
    with GzipWriter(buffer, compression_level=6) as member:
        record.write(member, checksum_data=True)
    return buffer.getvalue()


def write_fastwarc(pairs: list[tuple], directory: Path) -> int:
    from fastwarc.warc import WarcRecord, WarcRecordType

    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / "fastwarc.warc.gz", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        for url, request, response in pairs:
            members = []
            for kind, message in (
                (WarcRecordType.response, response),
                (WarcRecordType.request, request),
            ):
                head = message.start_line + "\r\n"
                head += "".join(f"{k}: {v}\r\n" for k, v in message.headers) + "\r\n"
                block = head.encode("latin-1") + message.body
                record = WarcRecord()
                record.init_headers(content_length=len(block), record_type=kind)
                record.headers["WARC-Target-URI"] = url
                msgtype = "response" if kind == WarcRecordType.response else "request"
                record.headers["Content-Type"] = f"application/http; msgtype={msgtype}"
                record.set_bytes_content(block)
                members.append(fastwarc_member(record))  # one gzip member per record
            os.write(fd, b"".join(members))
    finally:
        os.close(fd)
    return len(pairs)


def reparse(
    directory: Path, output: Path, workers: int = 0
) -> tuple[float, float, dict[str, object]]:
    """Run ``scrapy reparse`` in a child; return (wall seconds, CPU seconds, run report).

    The CPU seconds are the machine's busy time while the command ran, where
    /proc/stat tells it: the workers are children of multiprocessing's fork
    server, which is not waited for, so getrusage does not see them. Run the
    bench on an otherwise idle machine.
    """
    command = [
        sys.executable, "-m", "scrapy.cmdline", "reparse", str(directory),
        "-s", f"TAZARCHIVE_OUTPUT_DIR={output}", "-s", "LOG_LEVEL=WARNING",
        "-s", "TAZARCHIVE_PROGRESS_INTERVAL=0", "-s", f"TAZARCHIVE_REPARSE_WORKERS={workers}",
    ]  # fmt: skip
    began, busy, cpu = time.perf_counter(), machine_busy(), children_cpu()
    subprocess.run(command, cwd=REPO, check=True)
    wall, cpu = time.perf_counter() - began, children_cpu() - cpu
    if busy is not None:
        cpu = (machine_busy() or 0.0) - busy
    [report] = (output / "runs").glob("reparse-*.json")
    return wall, cpu, json.loads(report.read_text())


def outputs(output: Path) -> tuple[dict[str, bytes], list[str]]:
    """The dumps by path, and the JSONL lines without ``fetched``, in order."""
    dumps = {str(p.relative_to(output)): p.read_bytes() for p in (output / "dumps").rglob("*.*")}
    lines = []
    for path in sorted((output / "jsonl").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            record.pop("fetched", None)
            lines.append(json.dumps(record, ensure_ascii=False, sort_keys=True))
    return dumps, lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--gzip", action="store_true", help="bodies sent Content-Encoding: gzip")
    parser.add_argument("--keep", type=Path, help="build the set here and keep it")
    parser.add_argument("--no-writers", action="store_true", help="skip the WARC writer timings")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="tazarchive-bench-reparse-"))
    warc_dir = args.keep or work / "warc"
    try:
        site = Site(args.articles)
        began = time.perf_counter()
        pairs, writing, kept = build(site, warc_dir, args.gzip)
        total = time.perf_counter() - began
        size = sum(p.stat().st_size for p in warc_files([warc_dir]))
        print(
            f"WARC set: {pairs} article pages ({'gzip' if args.gzip else 'identity'} bodies), "
            f"{size / 1e6:.1f} MB in {len(warc_files([warc_dir]))} file(s); "
            f"built in {total:.1f} s (rendering included), writer {pairs / writing:,.0f} pairs/s"
        )

        wall, cpu, report = reparse(warc_dir, work / "output")
        counts = report["counts"]
        in_run = float(report["duration_seconds"])  # type: ignore[arg-type]
        stored = counts["new"]  # type: ignore[index]

        bare_count, bare_time, bare_cpu = timed(lambda: bare_extraction(warc_dir))
        one_wall, one_cpu, one_report = reparse(warc_dir, work / "output-1", workers=1)
        read_count, read_time, read_cpu = timed(lambda: read_warcio(warc_dir))
        try:
            fast_count, fast_time, fast_cpu = timed(lambda: read_fastwarc(warc_dir))
        except Exception as exc:  # not installed, or its API changed again
            print(f"FastWARC reading skipped: {exc!r}")
            fast_count, fast_time, fast_cpu = 0, 0.0, 0.0

        print(f"\nreparse of {pairs} pages: {counts}")
        one_in_run = float(one_report["duration_seconds"])  # type: ignore[arg-type]
        rows = [
            ("scrapy reparse, whole command (startup included)", pairs, wall, cpu),
            ("scrapy reparse, the run itself (run report)", pairs, in_run, None),
            ("scrapy reparse, one process, whole command", pairs, one_wall, one_cpu),
            ("scrapy reparse, one process, the run itself", pairs, one_in_run, None),
            ("bare extraction: read + extract_article", bare_count, bare_time, bare_cpu),
            ("reading only (warcio, tazarchive.warc)", read_count, read_time, read_cpu),
        ]
        if fast_count:
            rows.append(("reading only (FastWARC)", fast_count, fast_time, fast_cpu))
        print(
            f"\n{'':50} {'pages':>6} {'wall s':>7} {'pages/s':>8} {'x bare':>7}"
            f" {'CPU s':>7} {'pages/CPU s':>11} {'x bare':>7}"
        )
        for name, count, seconds, cpu_seconds in rows:
            line = (
                f"{name:50} {count:6d} {seconds:7.2f} {count / seconds:8.0f} "
                f"{seconds / bare_time:7.2f}"
            )
            if cpu_seconds is not None:
                line += (
                    f" {cpu_seconds:7.2f} {count / cpu_seconds:11.0f} {cpu_seconds / bare_cpu:7.2f}"
                )
            print(line)
        print(
            f"\nreparse stored {stored} articles; pipelines + feed + Scrapy cost "
            f"{in_run / bare_time:.2f}x the bare extraction"
        )
        every_core, one_process = outputs(work / "output"), outputs(work / "output-1")
        same = every_core == one_process
        print(
            f"output of every core vs one process: {len(every_core[0])} dumps, "
            f"{len(every_core[1])} JSONL lines: {'identical' if same else 'DIFFERENT'}"
        )
        print(
            f"reparse rate / bare single-core extraction rate: "
            f"{bare_time / wall:.2f} (whole command), {bare_time / in_run:.2f} (the run itself); "
            f"target >= 0.8"
        )
        if args.no_writers:
            return

        print(f"\nwriting the first {len(kept)} pairs (response + request records):")
        writers: list[tuple[str, Callable[[list[tuple], Path], int]]] = [
            ("tazarchive.warc.WarcWriter (warcio, gzip level 6)", write_ours),
            ("warcio WARCWriter(gzip=True) (level 9)", write_warcio_gzip9),
        ]
        try:
            import fastwarc  # noqa: F401

            writers.append(("FastWARC WarcRecord.write, GzipWriter level 6", write_fastwarc))
        except ImportError:
            print("FastWARC not installed (pip install -e '.[bench]'): skipped")
        for name, write in writers:
            target = work / "write" / name.split()[0]
            try:
                count, seconds, _ = timed(lambda w=write, t=target: w(kept, t))  # type: ignore[misc]
            except Exception as exc:  # FastWARC's API changed again
                print(f"  {name:52} skipped: {exc!r}")
                continue
            size = sum(p.stat().st_size for p in target.iterdir())
            readable = len(list(iter_responses([target])))
            print(
                f"  {name:52} {count / seconds:8.0f} pairs/s  {size / 1e6:6.1f} MB  "
                f"({readable} responses read back by warcio)"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
