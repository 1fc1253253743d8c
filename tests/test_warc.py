"""WARC capture (writer, middleware) and reading back; end-to-end crawl → reparse."""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse, Response
from scrapy.utils.test import get_crawler
from warcio.archiveiterator import ArchiveIterator

from tazarchive import stats as keys
from tazarchive.warc import (
    OPEN_SUFFIX,
    HttpMessage,
    WarcCaptureMiddleware,
    WarcWriter,
    complete_length,
    count_responses,
    decode_content,
    iter_responses,
    repair_open_files,
    request_message,
    response_message,
    warc_files,
    warc_name,
)
from tests.conftest import REPO

PYTHON = sys.executable
WARCIO = str(Path(sys.executable).with_name("warcio"))
STARTED = datetime(2025, 10, 24, 8, 30, 5, tzinfo=UTC)


def page(n: int) -> bytes:
    return f"<html><body><p>Invented article number {n}, grün und schön.</p></body></html>".encode()


def exchange(
    n: int, body: bytes | None = None, *, encoding: str = ""
) -> tuple[str, HttpMessage, HttpMessage]:
    url = f"http://127.0.0.1:8000/Some-Slug/!{600000 + n}/"
    body = page(n) if body is None else body
    headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))]
    if encoding:
        headers.append(("Content-Encoding", encoding))
    request = HttpMessage(
        f"GET /Some-Slug/!{600000 + n}/ HTTP/1.1",
        [("User-Agent", "tazarchive-test"), ("Host", "127.0.0.1:8000")],
    )
    return url, request, HttpMessage("HTTP/1.1 200 OK", headers, body)


def records_of(path: Path) -> list[dict[str, object]]:
    """Every record of a WARC file as warcio reads it (digests checked)."""
    out: list[dict[str, object]] = []
    with path.open("rb") as stream:
        records = ArchiveIterator(stream, check_digests=True)
        for record in records:
            http = record.http_headers
            out.append(
                {
                    "type": record.rec_type,
                    "headers": dict(record.rec_headers.headers),
                    "http_start": (http.protocol + " " + http.statusline).strip() if http else None,
                    "http_headers": list(http.headers) if http else None,
                    "payload": record.raw_stream.read(),
                    "offset": records.get_record_offset(),
                }
            )
    return out


def gzip_members(data: bytes) -> list[bytes]:
    """Decompressed gzip members of ``data``, one by one."""
    members: list[bytes] = []
    while data:
        decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
        members.append(decompressor.decompress(data))
        assert decompressor.eof
        data = decompressor.unused_data
    return members


def sha1_b32(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


def write_warc(directory: Path, count: int, **kwargs: object) -> WarcWriter:
    writer = WarcWriter(directory, "tazarchive-test", started=STARTED, **kwargs)  # type: ignore[arg-type]
    for n in range(count):
        url, request, response = exchange(n)
        writer.write_exchange(
            url, request, response, date=datetime(2025, 10, 24, 9, 0, n, 250000, UTC)
        )
    writer.close()
    return writer


# --- writer ------------------------------------------------------------------------


def test_writer_pairs_each_response_with_its_request_record(tmp_path: Path) -> None:
    writer = write_warc(tmp_path, 2)
    [path] = writer.paths
    records = records_of(path)
    assert [r["type"] for r in records] == [
        "warcinfo",
        "response",
        "request",
        "response",
        "request",
    ]
    warcinfo, response, request = records[0], records[1], records[2]
    assert response["headers"]["WARC-Target-URI"] == "http://127.0.0.1:8000/Some-Slug/!600000/"
    assert request["headers"]["WARC-Target-URI"] == response["headers"]["WARC-Target-URI"]
    assert response["headers"]["WARC-Date"] == "2025-10-24T09:00:00.250000Z"
    assert request["headers"]["WARC-Date"] == response["headers"]["WARC-Date"]
    assert request["headers"]["WARC-Concurrent-To"] == response["headers"]["WARC-Record-ID"]
    assert response["headers"]["WARC-Warcinfo-ID"] == warcinfo["headers"]["WARC-Record-ID"]
    assert response["headers"]["Content-Type"] == "application/http; msgtype=response"
    assert request["headers"]["Content-Type"] == "application/http; msgtype=request"
    assert warcinfo["headers"]["WARC-Filename"] == path.name


def test_response_record_keeps_status_headers_and_body_and_its_payload_digest(
    tmp_path: Path,
) -> None:
    [path] = write_warc(tmp_path, 1).paths
    response, request = records_of(path)[1:3]
    assert response["http_start"] == "HTTP/1.1 200 OK"
    assert response["http_headers"] == [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Length", str(len(page(0)))),
    ]
    assert response["payload"] == page(0)
    assert response["headers"]["WARC-Payload-Digest"] == sha1_b32(page(0))
    assert request["http_start"] == "GET /Some-Slug/!600000/ HTTP/1.1"
    assert request["http_headers"] == [
        ("User-Agent", "tazarchive-test"),
        ("Host", "127.0.0.1:8000"),
    ]


def test_encoded_body_is_stored_as_received_and_decoded_on_reading(tmp_path: Path) -> None:
    compressed = gzip.compress(page(7))
    url, request, response = exchange(7, compressed, encoding="gzip")
    writer = WarcWriter(tmp_path, "tazarchive-test", started=STARTED)
    writer.write_exchange(url, request, response)
    writer.close()
    assert records_of(writer.paths[0])[1]["payload"] == compressed
    [archived] = iter_responses([tmp_path])
    assert archived.body == page(7)
    assert archived.url == url and archived.status == 200


def test_non_ascii_header_bytes_are_written_unchanged(tmp_path: Path) -> None:
    url, request, response = exchange(1)
    response.headers.append(
        ("X-Note", "Gr\xfc\xdfe")
    )  # latin-1 text = the raw bytes b"Gr\xfc\xdfe"
    writer = WarcWriter(tmp_path, "tazarchive-test", started=STARTED)
    writer.write_exchange(url, request, response)
    writer.close()
    raw = gzip.decompress(writer.paths[0].read_bytes())
    assert b"\r\nX-Note: Gr\xfc\xdfe\r\n" in raw


def test_every_record_is_its_own_gzip_member(tmp_path: Path) -> None:
    [path] = write_warc(tmp_path, 3).paths
    members = gzip_members(path.read_bytes())
    assert len(members) == 1 + 3 * 2
    assert all(m.startswith(b"WARC/1.1\r\n") and m.endswith(b"\r\n\r\n") for m in members)
    assert [m.split(b"WARC-Type: ")[1].split(b"\r\n")[0] for m in members[:3]] == [
        b"warcinfo",
        b"response",
        b"request",
    ]


def test_files_rotate_by_size_each_with_warcinfo_and_whole_pairs(tmp_path: Path) -> None:
    writer = write_warc(tmp_path, 9, max_size=2500)
    assert len(writer.paths) > 2
    assert [p.name for p in writer.paths] == [
        f"tazarchive-test-20251024083005-{seq:05d}.warc.gz" for seq in range(len(writer.paths))
    ]
    urls = []
    for path in writer.paths:
        records = records_of(path)
        assert records[0]["type"] == "warcinfo"
        pairs = records[1:]
        assert [r["type"] for r in pairs] == ["response", "request"] * (len(pairs) // 2)
        urls += [r["headers"]["WARC-Target-URI"] for r in pairs if r["type"] == "response"]
        assert path.stat().st_size < 2500 + 2 * 1000  # soft limit: at most one pair beyond it
    assert urls == [exchange(n)[0] for n in range(9)]


def test_file_carries_open_suffix_until_closed(tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path, "tazarchive-articles", started=STARTED)
    writer.write_exchange(*exchange(0))
    name = "tazarchive-articles-20251024083005-00000.warc.gz"
    assert writer.current_path == tmp_path / (name + OPEN_SUFFIX)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name + OPEN_SUFFIX]
    writer.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_files_pass_warcio_check(tmp_path: Path) -> None:
    writer = write_warc(tmp_path, 5, max_size=3000)
    result = subprocess.run(
        [WARCIO, "check", "-v", *map(str, writer.paths)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("digest pass") == 5 * 2  # every response and request record
    assert "fail" not in result.stdout


def test_two_writers_started_in_the_same_second_never_share_a_file(tmp_path: Path) -> None:
    first = WarcWriter(tmp_path, "tazarchive-test", started=STARTED)
    second = WarcWriter(tmp_path, "tazarchive-test", started=STARTED)
    first.write_exchange(*exchange(1))
    second.write_exchange(*exchange(2))
    first.close()
    second.close()
    assert first.paths != second.paths
    assert [r.url for r in iter_responses(first.paths)] == [exchange(1)[0]]
    assert [r.url for r in iter_responses(second.paths)] == [exchange(2)[0]]


def test_warc_name_carries_prefix_run_start_in_utc_and_sequence() -> None:
    berlin_morning = datetime.fromisoformat("2025-10-24T10:30:05+02:00")
    assert warc_name("tazarchive-taz", berlin_morning, 12) == (
        "tazarchive-taz-20251024083005-00012.warc.gz"
    )


# --- killed writers ----------------------------------------------------------------


def test_cut_file_yields_exactly_the_responses_completed_before_the_cut(tmp_path: Path) -> None:
    [path] = write_warc(tmp_path / "whole", 4).paths
    data = path.read_bytes()
    full = records_of(path)
    ends = [r["offset"] for r in full[1:]] + [len(data)]  # type: ignore[list-item]
    response_ends = [
        (end, r["headers"]["WARC-Target-URI"])
        for r, end in zip(full, ends, strict=True)
        if r["type"] == "response"
    ]
    all_urls = [url for _, url in response_ends]
    cut_file = tmp_path / "cut.warc.gz"
    for cut in range(0, len(data), 37):
        cut_file.write_bytes(data[:cut])
        read = list(iter_responses([cut_file]))
        complete = sum(end <= cut for end, _ in response_ends)
        # A record cut inside its gzip trailer still holds all its data: readers may take it.
        assert complete <= len(read) <= complete + 1, cut
        assert [r.url for r in read] == all_urls[: len(read)]
        assert [r.body for r in read] == [page(n) for n in range(len(read))]


def test_repair_cuts_a_killed_runs_file_after_its_last_complete_record(tmp_path: Path) -> None:
    [path] = write_warc(tmp_path / "whole", 3).paths
    data = path.read_bytes()
    offsets = [r["offset"] for r in records_of(path)]
    # Cut in the middle of the last response record (offsets[5]..offsets[6]).
    cut = (offsets[5] + offsets[6]) // 2  # type: ignore[operator]
    killed = tmp_path / "warc" / (path.name + OPEN_SUFFIX)
    killed.parent.mkdir()
    killed.write_bytes(data[:cut])
    assert complete_length(killed) == offsets[5]
    assert repair_open_files(killed.parent) == [(killed.parent / path.name, cut - offsets[5])]  # type: ignore[operator]
    repaired = killed.parent / path.name
    assert not killed.exists()
    assert repaired.read_bytes() == data[: offsets[5]]  # type: ignore[misc]
    check = subprocess.run([WARCIO, "check", str(repaired)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    index = subprocess.run(
        [WARCIO, "index", str(repaired)], capture_output=True, text=True, check=True
    )
    assert index.stdout.count('"warc-type": "response"') == 2


def test_repair_leaves_a_live_writers_file_alone(tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path, "tazarchive-test", started=STARTED)
    writer.write_exchange(*exchange(0))
    live = writer.current_path
    assert live is not None
    before = live.read_bytes()
    assert repair_open_files(tmp_path) == []
    assert live.read_bytes() == before
    writer.close()


def test_sigkilled_writer_leaves_a_file_warcio_accepts(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys, itertools
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_warc import exchange
        from tazarchive.warc import WarcWriter
        writer = WarcWriter({str(tmp_path)!r}, "tazarchive-killed", max_size=10**9)
        for n in itertools.count():
            writer.write_exchange(*exchange(n, b"x" * 20000 + str(n).encode()))
            if n == 50:
                print("ready", flush=True)
        """
    )
    child = subprocess.Popen([PYTHON, "-c", script], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    assert child.stdout.readline() == "ready\n"
    time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    child.stdout.close()
    [left] = list(tmp_path.iterdir())
    assert left.name.endswith(".warc.gz" + OPEN_SUFFIX)
    check = subprocess.run([WARCIO, "check", str(left)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    pages = list(iter_responses([left]))
    assert len(pages) > 50
    assert [p.body[20000:].decode() for p in pages] == [str(n) for n in range(len(pages))]


# --- Scrapy objects → HTTP messages -----------------------------------------------------


def test_request_message_rebuilds_the_request_twisted_sends() -> None:
    request = Request(
        "http://127.0.0.1:8000/!600001/?a=1#frag",
        headers={"User-Agent": "ua", "Accept-Encoding": "gzip, br"},
    )
    message = request_message(request)
    assert message.start_line == "GET /!600001/?a=1 HTTP/1.1"
    assert message.headers == [
        ("User-Agent", "ua"),
        ("Accept-Encoding", "gzip, br"),
        ("Host", "127.0.0.1:8000"),
    ]
    assert request_message(Request("http://[::1]:8000/")).headers[-1] == ("Host", "[::1]:8000")
    post = request_message(Request("https://taz.de/search", method="POST", body=b"q=x"))
    assert post.start_line == "POST /search HTTP/1.1"
    assert post.headers == [("Content-Length", "3"), ("Host", "taz.de")]
    assert post.body == b"q=x"


def test_response_message_keeps_status_headers_and_encoded_body() -> None:
    body = gzip.compress(b"<html></html>")
    response = Response(
        "http://127.0.0.1:8000/!1/",
        status=404,
        headers={"Content-Encoding": "gzip", "Set-Cookie": ["a=1", "b=2"]},
        body=body,
        protocol="HTTP/1.1",
    )
    message = response_message(response)
    assert message.start_line == "HTTP/1.1 404 Not Found"
    assert message.headers == [
        ("Content-Encoding", "gzip"),
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
    ]
    assert message.body == body


def test_decode_content_undoes_each_coding_last_applied_first() -> None:
    text = b"<p>Invented text</p>" * 10
    assert decode_content(gzip.compress(text), "gzip") == text
    assert decode_content(zlib.compress(text), "deflate") == text
    raw_deflate = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    assert decode_content(raw_deflate.compress(text) + raw_deflate.flush(), "deflate") == text
    assert decode_content(zlib.compress(gzip.compress(text)), "gzip, deflate") == text
    assert decode_content(text, "") == text
    with pytest.raises(ValueError, match="unknown"):
        decode_content(text, "compress")


def test_decode_content_undoes_brotli_and_zstd() -> None:
    # Scrapy asks for br and zstd only when their packages are installed; so do we.
    brotli = pytest.importorskip("brotli")
    zstd = pytest.importorskip("backports.zstd")
    text = b"<p>Invented text</p>" * 10
    assert decode_content(brotli.compress(text), "br") == text
    assert decode_content(zstd.compress(text), "zstd") == text


def test_warc_files_finds_warcs_below_folders_in_capture_order(tmp_path: Path) -> None:
    for name in (
        "tazarchive-taz-20251024090000-00001.warc.gz",
        "tazarchive-taz-20251024090000-00000.warc.gz",
        "tazarchive-author-20251024100000-00000.warc.gz.open",
        "tazarchive-taz-20251023090000-00000.warc.gz",
        "notes.txt",
    ):
        (tmp_path / "sub" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "sub" / name).write_bytes(b"")
    assert [p.name for p in warc_files([tmp_path])] == [
        "tazarchive-taz-20251023090000-00000.warc.gz",
        "tazarchive-taz-20251024090000-00000.warc.gz",
        "tazarchive-taz-20251024090000-00001.warc.gz",
        "tazarchive-author-20251024100000-00000.warc.gz.open",
    ]
    with pytest.raises(FileNotFoundError):
        warc_files([tmp_path / "missing"])


# --- middleware --------------------------------------------------------------------


def capture(tmp_path: Path, **settings: object) -> tuple[WarcCaptureMiddleware, object]:
    crawler = get_crawler(
        settings_dict={
            "TAZARCHIVE_OUTPUT_DIR": str(tmp_path),
            "TAZARCHIVE_WARC_ENABLED": True,
            "TAZARCHIVE_WARC_DIR": "",
            "TAZARCHIVE_WARC_MAX_SIZE": 10**9,
            "TAZARCHIVE_WARC_LISTINGS": True,
            **settings,
        }
    )
    middleware = WarcCaptureMiddleware.from_crawler(crawler)
    crawler.stats.open_spider()  # type: ignore[union-attr]
    spider = crawler._create_spider("articles")  # type: ignore[attr-defined]
    middleware.spider_opened(spider)
    return middleware, crawler


def fetched(
    url: str, body: bytes = b"<html></html>", flags: list[str] | None = None
) -> tuple[Request, Response]:
    request = Request(url, headers={"User-Agent": "ua"})
    response = HtmlResponse(url, body=body, request=request, protocol="HTTP/1.1", flags=flags or [])
    return request, response


def test_middleware_is_off_when_disabled(tmp_path: Path) -> None:
    crawler = get_crawler(settings_dict={"TAZARCHIVE_WARC_ENABLED": False})
    with pytest.raises(NotConfigured):
        WarcCaptureMiddleware.from_crawler(crawler)


def processed(middleware: WarcCaptureMiddleware, request: Request, response: Response) -> Any:
    """What the (async) middleware returns for a response, run in an asyncio loop."""
    return asyncio.run(middleware.process_response(request, response))


def test_middleware_writes_every_response_under_output_warc(tmp_path: Path) -> None:
    middleware, crawler = capture(tmp_path)
    for url in (
        "http://127.0.0.1:1/!600001/",
        "http://127.0.0.1:1/!a12/",
        "http://127.0.0.1:1/robots.txt",
    ):
        request, response = fetched(url)
        assert processed(middleware, request, response) is response
    middleware.spider_closed(None)
    [path] = (tmp_path / "warc").iterdir()
    assert path.name.startswith("tazarchive-articles-") and path.name.endswith("-00000.warc.gz")
    assert [r.url for r in iter_responses([path])] == [
        "http://127.0.0.1:1/!600001/",
        "http://127.0.0.1:1/!a12/",
        "http://127.0.0.1:1/robots.txt",
    ]
    stats = crawler.stats.get_stats()  # type: ignore[attr-defined]
    assert stats["tazarchive/warc/responses"] == 3
    assert stats["tazarchive/warc/records"] == 7  # warcinfo + 3 pairs
    assert stats["tazarchive/warc/bytes"] == path.stat().st_size
    assert stats["tazarchive/warc/files"] == 1


def test_middleware_without_listings_keeps_article_pages_only(tmp_path: Path) -> None:
    middleware, _ = capture(
        tmp_path, TAZARCHIVE_WARC_LISTINGS=False, TAZARCHIVE_WARC_DIR=str(tmp_path / "w")
    )
    for url in (
        "http://127.0.0.1:1/!a12/",
        "http://127.0.0.1:1/Slug/!600002/",
        "http://127.0.0.1:1/",
    ):
        processed(middleware, *fetched(url))
    middleware.spider_closed(None)
    assert [r.url for r in iter_responses([tmp_path / "w"])] == ["http://127.0.0.1:1/Slug/!600002/"]


def test_middleware_keeps_the_crawl_going_when_writing_fails(tmp_path: Path) -> None:
    middleware, crawler = capture(tmp_path)
    blocker = tmp_path / "warc"
    blocker.write_text("a file where the WARC folder should be")
    request, response = fetched("http://127.0.0.1:1/!600005/")
    assert processed(middleware, request, response) is response
    assert crawler.stats.get_value("tazarchive/warc/errors") == 1  # type: ignore[attr-defined]


def test_middleware_skips_responses_served_from_the_http_cache(tmp_path: Path) -> None:
    middleware, _ = capture(tmp_path)
    processed(middleware, *fetched("http://127.0.0.1:1/!600003/", flags=["cached"]))
    processed(middleware, *fetched("http://127.0.0.1:1/!600004/"))
    middleware.spider_closed(None)
    assert [r.url for r in iter_responses([tmp_path / "warc"])] == ["http://127.0.0.1:1/!600004/"]


def test_count_responses_counts_each_url_with_the_status_asked(tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path, "tazarchive-test", started=STARTED)
    for n in (1, 2, 1):
        writer.write_exchange(*exchange(n))
    url, request, response = exchange(3)
    response.start_line = "HTTP/1.1 404 Not Found"
    writer.write_exchange(url, request, response)
    writer.close()
    assert count_responses([tmp_path]) == {exchange(1)[0]: 2, exchange(2)[0]: 1}
    assert count_responses([tmp_path], status=404) == {url: 1}


def test_reading_skips_a_body_that_cannot_be_decoded_and_says_so(tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path, "tazarchive-test", started=STARTED)
    writer.write_exchange(*exchange(0, b"not gzip at all", encoding="gzip"))
    writer.write_exchange(*exchange(1, gzip.compress(page(1)), encoding="gzip"))
    writer.close()
    errors: list[str] = []
    assert [r.body for r in iter_responses([tmp_path], errors=errors)] == [page(1)]
    [message] = errors
    assert "cannot decode the body of http://127.0.0.1:8000/Some-Slug/!600000/" in message


def test_reading_a_cut_file_reports_its_unreadable_tail(tmp_path: Path) -> None:
    [path] = write_warc(tmp_path / "whole", 2).paths
    offsets = [r["offset"] for r in records_of(path)]
    cut = tmp_path / ("cut.warc.gz" + OPEN_SUFFIX)  # as a killed run leaves it
    cut.write_bytes(path.read_bytes()[: offsets[3] + 40])  # type: ignore[operator]
    errors: list[str] = []
    assert len(list(iter_responses([cut], errors=errors))) == 1
    [message] = errors
    assert message.startswith(f"{cut}: unreadable after offset")


# --- end to end: crawl the replica, check the WARCs, reparse them offline ----------------

# A sitecustomize module: every Python process started with it on PYTHONPATH
# (scrapy's and the worker processes it starts) dies (exit 97) the moment it
# opens an internet socket or resolves a name.
NO_NETWORK = textwrap.dedent(
    """
    import os, socket, sys

    def forbid(event, args):
        if event == "socket.__new__" and args[1] not in (socket.AF_INET, socket.AF_INET6):
            return  # AF_UNIX pairs: the event loop's self-pipe, not the network
        if event in ("socket.bind", "socket.connect") and isinstance(args[1], (str, bytes)):
            return  # a path: an AF_UNIX socket (multiprocessing's fork server), not the network
        if event in ("socket.__new__", "socket.connect", "socket.bind", "socket.getaddrinfo",
                     "socket.gethostbyname", "socket.gethostbyname_ex", "socket.sendto"):
            sys.stderr.write(f"NETWORK USE: {event} {args!r}\\n")
            sys.stderr.flush()
            os._exit(97)

    sys.addaudithook(forbid)
    """
)
QUICK = [
    "-s",
    "DOWNLOAD_DELAY=0",
    "-s",
    "AUTOTHROTTLE_ENABLED=0",
    "-s",
    "CONCURRENT_REQUESTS_PER_DOMAIN=16",
    "-s",
    "CONCURRENT_REQUESTS=16",
    "-s",
    "TAZARCHIVE_PROGRESS_INTERVAL=0",
    "-s",
    "LOG_LEVEL=WARNING",
]


def run_python(*args: str, offline: bool = False) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` in the repo; ``offline``: it and its children under NO_NETWORK."""
    with tempfile.TemporaryDirectory(prefix="tazarchive-no-network-") as guard:
        env = dict(os.environ)
        if offline:
            Path(guard, "sitecustomize.py").write_text(NO_NETWORK)
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [guard, env.get("PYTHONPATH")]))
        return subprocess.run(
            [PYTHON, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=240
        )


def scrapy(*args: str, offline: bool = False) -> subprocess.CompletedProcess[str]:
    return run_python("-m", "scrapy.cmdline", *args, offline=offline)


def crawl_replica(site: object, output: Path, *extra: str) -> list[str]:
    """Crawl the replica's sitemaps into ``output``; return the URLs the replica served."""
    from tazarchive.replica import ReplicaServer

    with ReplicaServer(site) as server:  # type: ignore[arg-type]
        result = scrapy(
            "crawl", "sitemap", *QUICK, *extra,
            "-s", f"TAZARCHIVE_BASE_URL={server.base_url}",
            "-s", f"TAZARCHIVE_OUTPUT_DIR={output}",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-3000:]
        return [server.base_url + path for path in server.request_log]


def dumps_of(output: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(output / "dumps")): p.read_bytes()
        for p in (output / "dumps").rglob("*.txt")
    }


def jsonl_of(output: Path) -> dict[str, dict[str, object]]:
    """JSONL records by id, without the fetch time."""
    import json

    records: dict[str, dict[str, object]] = {}
    for path in sorted((output / "jsonl").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            record.pop("fetched")
            records[record["id"]] = record
    return records


@pytest.fixture(scope="module")
def crawled_500(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], object]:
    """A crawl of a 500-article replica (the issue's acceptance case), kept for reading only."""
    from tazarchive.replica import Site

    site = Site(500)
    output = tmp_path_factory.mktemp("crawl500") / "output"
    served = crawl_replica(site, output)
    return output, served, site


def test_crawl_of_500_articles_leaves_warcs_that_pass_warcio_check(
    crawled_500: tuple[Path, list[str], object],
) -> None:
    output, _, _ = crawled_500
    files = sorted((output / "warc").iterdir())
    assert files and all(f.name.startswith("tazarchive-sitemap-") for f in files)
    assert all(f.name.endswith(".warc.gz") for f in files)  # closed: no ".open" left
    result = subprocess.run([WARCIO, "check", *map(str, files)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_warcio_index_lists_every_url_the_crawl_fetched(
    crawled_500: tuple[Path, list[str], object],
) -> None:
    import json

    output, served, site = crawled_500
    files = sorted((output / "warc").iterdir())
    index = subprocess.run(
        [WARCIO, "index", "-f", "warc-type,warc-target-uri", *map(str, files)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    entries = [json.loads(line) for line in index.stdout.splitlines()]
    responses = [e["warc-target-uri"] for e in entries if e["warc-type"] == "response"]
    requests = [e["warc-target-uri"] for e in entries if e["warc-type"] == "request"]
    assert sorted(responses) == sorted(served)
    assert sorted(requests) == sorted(served)
    article_urls = {u for u in responses if "/!" in u and u.rstrip("/").rsplit("!", 1)[1].isdigit()}
    assert len(article_urls) == len(list(site.article_ids())) == 500  # type: ignore[attr-defined]


def test_reparse_rebuilds_dumps_and_jsonl_without_any_network(
    crawled_500: tuple[Path, list[str], object], tmp_path: Path
) -> None:
    import shutil

    output, _, _ = crawled_500
    original_dumps, original_jsonl = dumps_of(output), jsonl_of(output)
    assert len(original_dumps) == len(original_jsonl) == 500
    # The WARCs alone: no dumps, JSONL, ledger or reports.
    rebuilt = tmp_path / "output"
    shutil.copytree(output / "warc", rebuilt / "warc")
    result = scrapy(
        "reparse", str(rebuilt / "warc"), "-s", f"TAZARCHIVE_OUTPUT_DIR={rebuilt}", offline=True
    )
    assert "NETWORK USE" not in result.stderr
    assert result.returncode == 0, result.stderr[-3000:]
    assert dumps_of(rebuilt) == original_dumps
    assert jsonl_of(rebuilt) == original_jsonl
    [counts] = run_counts(rebuilt, "reparse")
    assert (counts["new"], counts["known"], counts["revised"]) == (500, 0, 0)
    assert counts["expected"] == 500  # the progress line's total, exact once every file is read


def test_the_no_network_guard_stops_a_process_that_opens_a_socket(tmp_path: Path) -> None:
    from tazarchive.replica import ReplicaServer, Site

    with ReplicaServer(Site(10)) as server:
        result = scrapy(
            "fetch", "--nolog", f"{server.base_url}/robots.txt", offline=True,
        )  # fmt: skip
    assert result.returncode == 97
    assert "NETWORK USE" in result.stderr


def test_the_no_network_guard_stops_the_child_processes_too() -> None:
    # As the crawl's worker processes are started: a Python child of the guarded process.
    child = "import socket; socket.create_connection(('127.0.0.1', 9))"
    parent = (
        "import subprocess, sys; "
        f"sys.exit(subprocess.run([sys.executable, '-c', {child!r}]).returncode)"
    )
    result = run_python("-c", parent, offline=True)
    assert result.returncode == 97
    assert "NETWORK USE" in result.stderr


def run_counts(output: Path, spider: str) -> list[dict[str, int]]:
    """The counts of each run report of ``spider`` in ``output``, oldest first."""
    reports = sorted((output / "runs").glob(f"{spider}-*.json"))
    return [json.loads(path.read_text())["counts"] for path in reports]


def stored_ids(output: Path, spider: str) -> list[list[str]]:
    """Per run of ``spider``: the ids its JSONL feed holds (what it stored)."""
    return [
        [json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines()]
        for path in sorted((output / "jsonl").glob(f"{spider}-*.jsonl"))
    ]


def test_reparse_counts_known_and_revised_articles_as_the_crawls_did(tmp_path: Path) -> None:
    from tazarchive.replica import Site

    site = Site(40)
    output = tmp_path / "output"
    crawl_replica(site, output)
    revised = list(site.article_ids())[:3]
    site.revise(revised)
    crawl_replica(site, output, "-a", "refresh=1")  # a second WARC file, with changed pages
    first_crawl, second_crawl = run_counts(output, "sitemap")
    first_stored, second_stored = stored_ids(output, "sitemap")
    assert set(revised) <= set(second_stored)
    assert second_crawl["revised"] == len(second_stored)
    warcs = sorted((output / "warc").iterdir())
    assert len(warcs) == 2

    # Over the crawls' own archive, every revision is stored already: all known.
    result = scrapy("reparse", str(warcs[1]), "-s", f"TAZARCHIVE_OUTPUT_DIR={output}", offline=True)
    assert result.returncode == 0, result.stderr[-3000:]
    [again] = run_counts(output, "reparse")
    assert (again["new"], again["known"], again["revised"]) == (0, 40, 0)

    # From scratch: both captures in order give what the two crawls gave together.
    fresh = tmp_path / "fresh"
    result = scrapy(
        "reparse", str(output / "warc"), "-s", f"TAZARCHIVE_OUTPUT_DIR={fresh}", offline=True
    )
    assert result.returncode == 0, result.stderr[-3000:]
    [rebuilt] = run_counts(fresh, "reparse")
    for count in ("new", "known", "revised"):
        assert rebuilt[count] == first_crawl[count] + second_crawl[count], count
    [rebuilt_stored] = stored_ids(fresh, "reparse")
    # Concurrent downloads store in arrival order; which ids, not their order, is the claim.
    assert sorted(rebuilt_stored) == sorted(first_stored + second_stored)


def test_reparse_of_a_missing_path_fails_with_one_line(tmp_path: Path) -> None:
    result = scrapy("reparse", str(tmp_path / "nowhere"), offline=True)
    assert result.returncode == 1
    assert (
        result.stderr.strip().splitlines()[-1]
        == f"tazarchive: no such WARC file or folder: {tmp_path / 'nowhere'}"
    )


def test_capture_sits_between_decompression_and_the_downloader() -> None:
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("tazarchive.settings", priority="project")
    order = settings.getwithbase("DOWNLOADER_MIDDLEWARES")
    capture = order["tazarchive.warc.WarcCaptureMiddleware"]
    base = "scrapy.downloadermiddlewares."
    # process_response runs from the highest number down: capture sees the response first.
    # Decompression is tazarchive's subclass of Scrapy's (it counts undecompressable bodies).
    assert capture > order["tazarchive.middlewares.DecompressionGuardMiddleware"]
    for earlier in ("cookies.CookiesMiddleware",
                    "httpproxy.HttpProxyMiddleware", "httpcache.HttpCacheMiddleware"):  # fmt: skip
        assert capture > order[base + earlier], earlier


def test_crawl_of_a_gzip_server_stores_the_body_encoded_and_the_request_as_sent(
    tmp_path: Path,
) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    html = b"<html><head><title>Erfundener Artikel</title></head><body><p>Text.</p></body></html>"
    encoded = gzip.compress(html)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            if self.path != "/!600001/":
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(encoded)))
            self.end_headers()
            self.wfile.write(encoded)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        result = scrapy(
            "crawl", "articles", "-a", "ids=600001", *QUICK,
            "-s", f"TAZARCHIVE_BASE_URL={base}", "-s", f"TAZARCHIVE_OUTPUT_DIR={tmp_path}",
        )  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    [path] = (tmp_path / "warc").iterdir()
    records = {(r["type"], r["headers"]["WARC-Target-URI"]): r for r in records_of(path)[1:]}
    response = records[("response", f"{base}/!600001/")]
    request = records[("request", f"{base}/!600001/")]
    assert response["payload"] == encoded  # as received, before HttpCompressionMiddleware
    assert ("Content-Encoding", "gzip") in response["http_headers"]  # type: ignore[operator]
    assert request["http_start"] == "GET /!600001/ HTTP/1.1"
    sent = dict(request["http_headers"])  # type: ignore[arg-type]
    assert sent["Host"] == base.removeprefix("http://")
    assert "gzip" in sent["Accept-Encoding"]  # set by HttpCompressionMiddleware (590)
    assert sent["User-Agent"].startswith("tazarchive/")
    assert ("response", f"{base}/robots.txt") in records
    [page] = [p for p in iter_responses([path]) if p.url.endswith("/!600001/")]
    assert page.body == html


def test_a_killed_crawl_leaves_warcs_that_readers_accept_and_the_next_run_closes(
    tmp_path: Path,
) -> None:
    from tazarchive.replica import ReplicaServer, Site

    output = tmp_path / "output"
    with ReplicaServer(Site(300)) as server:
        crawl = subprocess.Popen(
            [PYTHON, "-m", "scrapy.cmdline", "crawl", "sitemap", *QUICK,
             "-s", f"TAZARCHIVE_BASE_URL={server.base_url}",
             "-s", f"TAZARCHIVE_OUTPUT_DIR={output}"],
            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while len(server.request_log) < 60 and time.monotonic() < deadline:
            time.sleep(0.02)
        crawl.kill()
        crawl.wait()
        assert len(server.request_log) >= 60
        [left] = (output / "warc").iterdir()
        assert left.name.endswith(".warc.gz" + OPEN_SUFFIX)
        check = subprocess.run([WARCIO, "check", str(left)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout[-2000:] + check.stderr[-2000:]
        captured = [page.url for page in iter_responses([left])]
        assert len(captured) >= 30
        assert set(captured) <= {server.base_url + path for path in server.request_log}

    crawl_replica(Site(300), output)  # the next run, into the same archive
    names = sorted(p.name for p in (output / "warc").iterdir())
    assert left.name.removesuffix(OPEN_SUFFIX) in names
    assert not [name for name in names if name.endswith(OPEN_SUFFIX)]


def test_reparse_spider_yields_articles_of_archived_article_pages_only(tmp_path: Path) -> None:
    import asyncio

    from tazarchive.commands.reparse import ReparseSpider
    from tazarchive.replica import Site, respond

    site = Site(10)
    article_id = next(iter(site.article_ids()))
    writer = WarcWriter(tmp_path, "tazarchive-test", started=STARTED)
    pages = [
        (f"/!{article_id}/", 200, respond(site, f"/!{article_id}/").body),
        ("/!a12/", 200, b"<html>an author listing</html>"),
        ("/!600009/", 404, b"<html>not found</html>"),
        ("/!600010/", 200, b"<html><body>no article here</body></html>"),
    ]
    for path, status, body in pages:
        url, request, response = exchange(0, body)
        response.start_line = f"HTTP/1.1 {status} X"
        url = "http://127.0.0.1:8000" + path
        writer.write_exchange(url, request, response, date=datetime(2025, 10, 24, 9, 0, tzinfo=UTC))
    writer.close()
    crawler = get_crawler(ReparseSpider)
    crawler.stats.open_spider()  # type: ignore[union-attr]
    spider = ReparseSpider.from_crawler(crawler, paths=[str(tmp_path)])

    async def collect() -> list[object]:
        return [item async for item in spider.start()]

    [article] = asyncio.run(collect())
    assert article.id == article_id  # type: ignore[attr-defined]
    assert article.fetched == datetime(2025, 10, 24, 9, 0, tzinfo=UTC)  # type: ignore[attr-defined]
    stats = crawler.stats.get_stats()  # type: ignore[union-attr]
    assert stats[keys.EXPECTED_ARTICLES] == 2  # status-200 article pages
    assert stats[keys.REPARSE_RESPONSES] == 4
    assert stats[keys.REPARSE_SKIPPED] == 2
    assert stats[keys.REPARSE_PAGES] == 2
    # Asked for as article 600010 (its URL), the page is of no known design: rejected.
    assert stats[keys.rejected("unknown_design")] == 1
    assert stats[keys.ARTICLES_REJECTED] == 1
    assert stats[keys.rejected_urls("unknown_design")] == ["http://127.0.0.1:8000/!600010/"]


def test_records_built_while_their_file_rotated_name_the_file_they_land_in(
    tmp_path: Path,
) -> None:
    middleware, _ = capture(tmp_path, TAZARCHIVE_WARC_MAX_SIZE=1)  # every pair rotates

    async def capture_all() -> None:
        await asyncio.gather(
            *(
                middleware.process_response(*fetched(f"http://127.0.0.1:1/!60000{n}/"))
                for n in range(4)
            )
        )

    asyncio.run(capture_all())
    middleware.spider_closed(None)
    files = sorted((tmp_path / "warc").iterdir())
    assert len(files) == 4
    for path in files:
        with path.open("rb") as stream:
            records = list(ArchiveIterator(stream))
        warcinfo, *rest = records
        assert warcinfo.rec_type == "warcinfo"
        assert [r.rec_type for r in rest] == ["response", "request"]
        own = warcinfo.rec_headers.get_header("WARC-Record-ID")
        assert [r.rec_headers.get_header("WARC-Warcinfo-ID") for r in rest] == [own, own]
