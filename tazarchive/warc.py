"""WARC capture of every HTTP exchange a crawl makes, and reading it back.

:class:`WarcWriter` writes request/response record pairs into size-rotated
``.warc.gz`` files, one gzip member per record. Each pair goes to the file in
ONE ``os.write`` on an unbuffered descriptor, so a process killed at any
moment leaves a file whose complete members are all valid records. A file
being written carries the suffix ``.open``; it is renamed when rotated or
when the crawl closes, so a leftover ``.open`` file marks a killed run.

:class:`WarcCaptureMiddleware` is the downloader middleware feeding it. It
sits between HttpCompressionMiddleware and the downloader, so it sees the
body as received (still gzip/br-encoded) and the request headers every other
middleware has set.

:func:`iter_responses` reads response records back (for ``scrapy reparse``),
ending a file with a warning at a truncated last record.
"""

from __future__ import annotations

import fcntl
import functools
import io
import logging
import mmap
import os
import re
import zlib
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import NotConfigured
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date, iso_date_to_datetime
from warcio.warcwriter import WARCWriter as _WarcioWriter

from tazarchive import stats as keys
from tazarchive import urls
from tazarchive.archive import ArchiveLayout

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

WARC_VERSION = "WARC/1.1"
GZIP_LEVEL = 6  # zlib's default: ~1.5x faster than warcio's level 9, files ~1% larger
OPEN_SUFFIX = ".open"
WARC_SUFFIXES = (".warc", ".warc.gz", ".warc" + OPEN_SUFFIX, ".warc.gz" + OPEN_SUFFIX)
_NAME_RE = re.compile(r"^(?P<prefix>.+)-(?P<start>\d{14})-(?P<seq>\d+)\.warc(?:\.gz)?(?:\.open)?$")


class _ExactHeaders(StatusAndHeaders):  # type: ignore[misc]  # warcio has no type hints
    """HTTP headers written byte for byte (warcio would %-encode non-ASCII values)."""

    def compute_headers_buffer(self, header_filter: Any = None) -> None:
        self.headers_buff = self.to_bytes(header_filter, encoding="latin-1")


@dataclass(slots=True)
class HttpMessage:
    """One HTTP request or response as it went over the wire.

    ``start_line`` is "GET /path HTTP/1.1" or "HTTP/1.1 200 OK"; header names
    and values are latin-1 text, so every byte survives.
    """

    start_line: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def _warcio_headers(self, is_request: bool) -> StatusAndHeaders:
        if is_request:
            return _ExactHeaders(self.start_line, self.headers, is_http_request=True)
        protocol, _, status = self.start_line.partition(" ")
        return _ExactHeaders(status, self.headers, protocol=protocol)


def warc_name(prefix: str, started: datetime, seq: int) -> str:
    """``<prefix>-<YYYYmmddHHMMSS>-<seq>.warc.gz`` (start time in UTC)."""
    return f"{prefix}-{started.astimezone(UTC):%Y%m%d%H%M%S}-{seq:05d}.warc.gz"


class WarcWriter:
    """Writes WARC request/response pairs into size-rotated gzip WARC files.

    A new file starts with a warcinfo record; a pair never spans two files.
    ``max_size`` is a soft limit: the pair that reaches it is the file's last.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        prefix: str,
        *,
        started: datetime | None = None,
        max_size: int = 1_000_000_000,
        info: dict[str, str] | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.prefix = prefix
        self.started = started or datetime.now(UTC)
        self.max_size = max_size
        self.info = info or {}
        self.paths: list[Path] = []  # finished and current files, final names
        self.records = 0
        self.bytes = 0
        self._fd: int | None = None
        self._seq = 0
        self._size = 0
        self._warcinfo_id = ""

    @property
    def current_path(self) -> Path | None:
        """The file being written (with its ``.open`` suffix), if any."""
        if self._fd is None:
            return None
        return self.paths[-1].with_name(self.paths[-1].name + OPEN_SUFFIX)

    def open(self) -> str:
        """Open the first (or, after rotation, the next) file if none is open.

        Returns its warcinfo record's id, which records written to it name
        (see :func:`exchange_records`).
        """
        if self._fd is None:
            self._open_file()
        return self._warcinfo_id

    def write_exchange(
        self,
        url: str,
        request: HttpMessage,
        response: HttpMessage,
        *,
        date: datetime | None = None,
        ip_address: str | None = None,
    ) -> None:
        """Write one response record and its request record."""
        warcinfo_id = self.open()
        data = exchange_records(
            url, request, response, date=date, ip_address=ip_address, warcinfo_id=warcinfo_id
        )
        self.write_records(data, 2)

    def write_records(self, data: bytes, count: int) -> None:
        """Append ``count`` gzip-member records built for the current file (see :meth:`open`)."""
        if self._fd is None:
            raise RuntimeError("no WARC file is open: call open() and build the records for it")
        self._write(data, count)
        if self._size >= self.max_size:
            self._close_file()

    def close(self) -> None:
        """Finish the current file (drop its ``.open`` suffix)."""
        if self._fd is not None:
            self._close_file()

    def _open_file(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if not self.paths:
            for repaired, dropped in repair_open_files(self.directory):
                logger.warning(
                    "WARC %s was left open by a killed run: closed it after its last "
                    "complete record (%d bytes dropped)",
                    repaired,
                    dropped,
                )
        while True:
            path = self.directory / warc_name(self.prefix, self.started, self._seq)
            open_path = path.with_name(path.name + OPEN_SUFFIX)
            self._seq += 1
            if path.exists():
                continue
            try:
                # O_EXCL: two runs started in the same second must not share a file.
                flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND
                self._fd = os.open(open_path, flags, 0o644)
            except FileExistsError:
                continue
            break
        # Held while writing: repair_open_files() leaves locked files alone (and
        # skips empty ones, so it cannot take this file before the lock is held).
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        self.paths.append(path)
        self._size = 0
        warcinfo = record_builder().create_warcinfo_record(path.name, self.info)
        self._write(gzip_record(warcinfo, ""), 1)
        self._warcinfo_id = warcinfo.rec_headers.get_header("WARC-Record-ID")

    def _write(self, data: bytes, records: int) -> None:
        assert self._fd is not None
        view = memoryview(data)
        while view:  # os.write may write less than asked (disk full, signals)
            view = view[os.write(self._fd, view) :]
        self._size += len(data)
        self.bytes += len(data)
        self.records += records

    def _close_file(self) -> None:
        assert self._fd is not None
        os.close(self._fd)
        self._fd = None
        path = self.paths[-1]
        os.replace(path.with_name(path.name + OPEN_SUFFIX), path)


@functools.cache
def record_builder() -> Any:
    """This process's warcio record builder (its output buffer is set per record)."""
    return _WarcioWriter(io.BytesIO(), gzip=False, warc_version=WARC_VERSION)


def gzip_record(record: Any, warcinfo_id: str) -> bytes:
    """The record as one gzip member, naming its file's warcinfo record if given."""
    if warcinfo_id:
        record.rec_headers.add_header("WARC-Warcinfo-ID", warcinfo_id)
    builder = record_builder()
    buffer = io.BytesIO()
    builder.out = buffer
    builder.write_record(record)
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, zlib.MAX_WBITS + 16)
    return compressor.compress(buffer.getvalue()) + compressor.flush()


def exchange_records(
    url: str,
    request: HttpMessage,
    response: HttpMessage,
    *,
    date: datetime | None = None,
    ip_address: str | None = None,
    warcinfo_id: str = "",
) -> bytes:
    """One exchange's response record and request record, each its own gzip member.

    Pure (digests, headers, compression); :meth:`WarcWriter.write_records`
    appends the result.
    """
    builder = record_builder()
    utc = (date or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    warc_date = datetime_to_iso_date(utc, use_micros=True)
    response_headers = {"WARC-Date": warc_date}
    if ip_address:
        response_headers["WARC-IP-Address"] = ip_address
    response_record = builder.create_warc_record(
        url,
        "response",
        payload=io.BytesIO(response.body),
        length=len(response.body),
        warc_headers_dict=response_headers,
        http_headers=response._warcio_headers(is_request=False),
    )
    request_record = builder.create_warc_record(
        url,
        "request",
        payload=io.BytesIO(request.body),
        length=len(request.body),
        warc_headers_dict={"WARC-Date": warc_date},
        http_headers=request._warcio_headers(is_request=True),
    )
    request_record.rec_headers.add_header(
        "WARC-Concurrent-To", response_record.rec_headers.get_header("WARC-Record-ID")
    )
    return gzip_record(response_record, warcinfo_id) + gzip_record(request_record, warcinfo_id)


def complete_length(path: str | os.PathLike[str]) -> int:
    """How many leading bytes of a ``.warc.gz`` file are complete gzip members.

    We write one record per member, so this is where the last complete
    record ends.
    """
    end = position = 0
    decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            while chunk:
                try:
                    decompressor.decompress(chunk)
                except zlib.error:
                    return end
                if not decompressor.eof:
                    position += len(chunk)
                    break
                position += len(chunk) - len(decompressor.unused_data)
                end = position
                chunk = decompressor.unused_data
                decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
    return end


def repair_open_files(directory: str | os.PathLike[str]) -> list[tuple[Path, int]]:
    """Close the ``.warc.gz.open`` files killed runs left in ``directory``.

    Each is cut after its last complete record and renamed to its final name.
    Files a live writer holds (flock) are left alone. Returns (final path,
    bytes dropped) per repaired file.
    """
    repaired: list[tuple[Path, int]] = []
    for open_path in sorted(Path(directory).glob("*.warc.gz" + OPEN_SUFFIX)):
        final = open_path.with_name(open_path.name.removesuffix(OPEN_SUFFIX))
        try:
            fd = os.open(open_path, os.O_RDWR)
        except FileNotFoundError:  # its writer closed it meanwhile
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a running crawl is writing it
            size = os.fstat(fd).st_size
            if size == 0:
                continue  # a writer that has not locked it yet, or nothing to keep
            keep = complete_length(open_path)
            os.ftruncate(fd, keep)
            if not final.exists():
                os.replace(open_path, final)
                repaired.append((final, size - keep))
        finally:
            os.close(fd)
    return repaired


# --- Scrapy objects -> HTTP messages -------------------------------------------


def _latin1(value: bytes | str) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def request_message(request: Request) -> HttpMessage:
    """The request as Twisted's HTTP/1.1 client writes it for Scrapy.

    Scrapy does not keep the bytes sent; this rebuilds them the way
    twisted.web._newclient does: request line, Content-Length when there is
    a body, Scrapy's headers in order, then Host (added by the Agent, without
    a default port).
    """
    parts = urlsplit(request.url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers: list[tuple[str, str]] = []
    if request.body:
        headers.append(("Content-Length", str(len(request.body))))
    for name, values in request.headers.items():
        headers.extend((_latin1(name), _latin1(v)) for v in values)
    if "host" not in {name.lower() for name, _ in headers}:
        default_port = {"http": 80, "https": 443}.get(parts.scheme)
        host = parts.hostname or ""
        if ":" in host:  # an IPv6 address
            host = f"[{host}]"
        if parts.port is not None and parts.port != default_port:
            host = f"{host}:{parts.port}"
        headers.append(("Host", host))
    return HttpMessage(f"{request.method} {target} HTTP/1.1", headers, request.body)


def response_message(response: Response) -> HttpMessage:
    """Status line, headers and body as received (body still content-encoded).

    Twisted has already removed the transfer framing (chunked); the headers
    are what it passed on: hop-by-hop ones (Transfer-Encoding, Connection)
    are gone and Content-Length is the received body length. Responses over
    HTTP/2 get an HTTP/1.1 status line: WARC readers parse HTTP/1.x only.
    """
    protocol = response.protocol if (response.protocol or "").startswith("HTTP/1.") else "HTTP/1.1"
    try:
        reason = HTTPStatus(response.status).phrase
    except ValueError:
        reason = ""
    headers = [
        (_latin1(name), _latin1(value))
        for name, values in response.headers.items()
        for value in values
    ]
    return HttpMessage(f"{protocol} {response.status} {reason}".rstrip(), headers, response.body)


class WarcCaptureMiddleware:
    """Downloader middleware writing every response it sees (and its request) to WARC.

    Settings: TAZARCHIVE_WARC_ENABLED, TAZARCHIVE_WARC_DIR (empty: <output>/warc),
    TAZARCHIVE_WARC_MAX_SIZE, TAZARCHIVE_WARC_LISTINGS (off: article pages only).
    Stats: tazarchive/warc/{responses,records,bytes,files,errors}.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        stats: StatsCollector,
        *,
        max_size: int = 1_000_000_000,
        listings: bool = True,
        info: dict[str, str] | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.stats = stats
        self.max_size = max_size
        self.listings = listings
        self.info = info or {}
        self.writer: WarcWriter | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("TAZARCHIVE_WARC_ENABLED"):
            raise NotConfigured("TAZARCHIVE_WARC_ENABLED is off")
        middleware = cls(
            ArchiveLayout.from_settings(settings).warc,
            crawler.stats,
            max_size=settings.getint("TAZARCHIVE_WARC_MAX_SIZE"),
            listings=settings.getbool("TAZARCHIVE_WARC_LISTINGS"),
            info=warcinfo_fields(settings),
        )
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_opened(self, spider: Any) -> None:
        self.writer = WarcWriter(
            self.directory, f"tazarchive-{spider.name}", max_size=self.max_size, info=self.info
        )

    def spider_closed(self, spider: Any) -> None:
        if self.writer is not None:
            self.writer.close()
            self.stats.set_value(keys.WARC_FILES, len(self.writer.paths))

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        writer = self.writer
        if writer is None or "cached" in response.flags:
            return response  # HttpCacheMiddleware's copies were not fetched now
        if not self.listings and urls.article_id(response.url) is None:
            return response
        url, ip_address = response.url, str(response.ip_address) if response.ip_address else None
        exchange = (url, request_message(request), response_message(response))
        date = datetime.now(UTC)
        try:
            if url.startswith("gopher:"):  # resource records, docs/gopher.md
                # Imported here: tazarchive.gopher.warc builds its records with this module.
                from tazarchive.gopher.warc import gopher_records

                data = gopher_records(
                    request, response, date=date, ip_address=ip_address, warcinfo_id=writer.open()
                )
            else:
                data = exchange_records(
                    *exchange, date=date, ip_address=ip_address, warcinfo_id=writer.open()
                )
            writer.write_records(data, 2)
        except OSError as exc:  # disk full, …: keep crawling, but say so loudly
            logger.error("WARC capture of %s failed: %s", url, exc)
            self.stats.inc_value(keys.WARC_ERRORS)
            return response
        self.stats.inc_value(keys.WARC_RESPONSES)
        # The writer's totals: they include each file's warcinfo record.
        self.stats.set_value(keys.WARC_RECORDS, writer.records)
        self.stats.set_value(keys.WARC_BYTES, writer.bytes)
        return response


def warcinfo_fields(settings: BaseSettings) -> dict[str, str]:
    """The warcinfo record's fields (WARC 1.1 annex: software, format, robots, …)."""
    return {
        "software": f"tazarchive {_version('tazarchive')} (Scrapy {_version('scrapy')}; "
        f"warcio {_version('warcio')})",
        "format": "WARC File Format 1.1",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
        "robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
        "http-header-user-agent": settings.get("USER_AGENT") or "",
    }


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:  # e.g. run from a source tree
        return "?"


# --- reading back -----------------------------------------------------------------


@dataclass(slots=True)
class ArchivedResponse:
    """A response record read back: what ``scrapy reparse`` feeds to extraction."""

    url: str
    date: datetime
    status: int
    headers: list[tuple[str, str]]
    body: bytes  # content-decoded (gzip/deflate/br/zstd undone)
    path: Path
    offset: int


def warc_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """WARC files named by ``paths`` (files, or folders searched recursively), in capture order.

    Our own file names sort by run start, then spider, then sequence number;
    other names sort after them by name. Raises FileNotFoundError for a
    missing path.
    """
    found: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found.extend(
                p for p in path.rglob("*") if p.is_file() and p.name.endswith(WARC_SUFFIXES)
            )
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"no such WARC file or folder: {path}")

    def capture_order(path: Path) -> tuple[int, str, str, int, str]:
        match = _NAME_RE.match(path.name)
        if match is None:
            return (1, "", "", 0, str(path))
        return (0, match["start"], match["prefix"], int(match["seq"]), str(path))

    return sorted(dict.fromkeys(found), key=capture_order)


def iter_responses(
    paths: Iterable[str | os.PathLike[str]], *, errors: list[str] | None = None
) -> Iterator[ArchivedResponse]:
    """Every response record in the WARC files ``paths`` names, in capture order.

    A truncated or damaged tail (a killed writer) ends that file: what came
    before is yielded. Such problems, and bodies that cannot be decoded, are
    logged and appended to ``errors``.
    """
    for path in warc_files(paths):
        yield from _responses_in(path, errors if errors is not None else [])


def count_responses(
    paths: Iterable[str | os.PathLike[str]], *, status: int = 200
) -> dict[str, int]:
    """How many response records with ``status`` each target URI has (bodies are not decoded).

    Stops quietly at a damaged tail, like :func:`iter_responses`.
    """
    counts: dict[str, int] = {}
    for path in warc_files(paths):
        with path.open("rb") as stream:
            try:
                for record in ArchiveIterator(stream, check_digests=False):
                    http = record.http_headers
                    if (
                        record.rec_type == "response"
                        and http is not None
                        and int(http.get_statuscode() or 0) == status
                    ):
                        url = record.rec_headers.get_header("WARC-Target-URI")
                        counts[url] = counts.get(url, 0) + 1
            except Exception:  # reported when the pages are read
                continue
    return counts


def _responses_in(path: Path, errors: list[str]) -> Iterator[ArchivedResponse]:
    with path.open("rb") as stream:
        archive = ArchiveIterator(stream, check_digests=False)
        records = iter(archive)
        while True:
            try:
                record = next(records, None)
                if record is None:
                    _check_tail(path, errors)
                    return
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                raw = record.raw_stream.read()
                if getattr(record.raw_stream, "limit", 0) > 0:
                    raise EOFError("the last record is incomplete")
            # warcio fails in several ways on a cut-off record (even AttributeError).
            except Exception as exc:
                _problem(errors, f"{path}: unreadable after offset {archive.offset}: {exc}")
                return
            http = record.http_headers
            url = record.rec_headers.get_header("WARC-Target-URI")
            offset = archive.get_record_offset()
            try:
                body = decode_content(raw, http.get_header("Content-Encoding") or "")
            except Exception as exc:  # zlib.error, brotli.error, ValueError, …
                _problem(errors, f"{path} @{offset}: cannot decode the body of {url}: {exc}")
                continue
            yield ArchivedResponse(
                url=url,
                date=iso_date_to_datetime(
                    record.rec_headers.get_header("WARC-Date"), tz_aware=True
                ),
                status=int(http.get_statuscode() or 0),
                headers=list(http.headers),
                body=body,
                path=path,
                offset=offset,
            )


def _check_tail(path: Path, errors: list[str]) -> None:
    # warcio ends quietly at some cut-off records; a killed run's file may hold one.
    if path.name.endswith(".gz" + OPEN_SUFFIX):
        size, complete = path.stat().st_size, complete_length(path)
        if complete < size:
            _problem(errors, f"{path}: unreadable after offset {complete}: incomplete record")


def _problem(errors: list[str], message: str) -> None:
    logger.warning("WARC %s", message)
    errors.append(message)


def decode_content(body: bytes, content_encoding: str) -> bytes:
    """Undo a response's Content-Encoding chain (gzip, deflate, br, zstd), last applied first."""
    for coding in reversed([c.strip().lower() for c in content_encoding.split(",") if c.strip()]):
        if coding in ("gzip", "x-gzip"):
            body = zlib.decompress(body, zlib.MAX_WBITS | 32)
        elif coding == "deflate":
            try:
                body = zlib.decompress(body)
            except zlib.error:  # servers sending raw deflate without the zlib header
                body = zlib.decompress(body, -zlib.MAX_WBITS)
        elif coding == "br":
            import brotli

            body = brotli.decompress(body)
        elif coding == "zstd":
            try:
                from compression import zstd  # Python >= 3.14
            except ImportError:
                from backports import zstd  # what Scrapy uses before 3.14

            body = zstd.decompress(body)
        elif coding != "identity":
            raise ValueError(f"unknown Content-Encoding {coding!r}")
    return body


# --- indexing and reading by byte range (reparse on every core) ---------------------------

_GZIP_MAGIC = b"\x1f\x8b\x08"
_WARC_MAGIC = b"WARC/1."
_HEAD_BYTES = 16384  # enough for a record's WARC headers and its HTTP status line
_CHUNK = 1 << 16
_CONTENT_LENGTH = re.compile(rb"\r\nContent-Length:[ \t]*(\d+)", re.IGNORECASE)
Buffer = bytes | mmap.mmap


@dataclass(frozen=True, slots=True)
class RecordRef:
    """Where one response record lies in a WARC file, and what its headers say.

    ``length`` covers the whole record: its gzip member in a ``.warc.gz``
    file, headers + block + the two CRLFs in an uncompressed one.
    """

    path: str
    offset: int
    length: int
    url: str
    status: int
    date: str  # WARC-Date as written


@dataclass(slots=True)
class WarcIndex:
    """A pass over the WARC files' record headers: the responses, and what could not be read.

    ``damaged``: stretches of a file that hold no readable record (a corrupt
    or cut gzip member, a record with broken headers), each counted once and
    skipped; ``unreadable``: files that hold no WARC record at all. Each is
    described in ``problems``.
    """

    responses: list[RecordRef] = field(default_factory=list)
    records: int = 0
    damaged: int = 0
    unreadable: int = 0
    problems: list[str] = field(default_factory=list)

    def add(self, path: Path) -> None:
        """Index one file: gzip members one by one, or records of an uncompressed WARC."""
        self.responses.extend(self.scan(path))

    def scan(self, path: Path) -> Iterator[RecordRef]:
        """Index one file as it is read: each response record as it is found.

        The records and the damage are counted here, the responses are only
        yielded (:meth:`add` keeps them), and when the file is read to its end.
        """
        with path.open("rb") as stream:
            size = os.fstat(stream.fileno()).st_size
            data: Buffer = mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        gzipped = data[:3] == _GZIP_MAGIC
        stretches = _gzip_stretches(data) if gzipped else _plain_stretches(data)
        damaged: list[int] = []
        records = 0
        try:
            in_damage = False
            for offset, length, head in stretches:
                parsed = _parse_head(head) if head is not None else None
                if parsed is None:
                    if not in_damage:  # one damaged stretch, however many pieces it breaks into
                        damaged.append(offset)
                    in_damage = True
                    continue
                in_damage = False
                records += 1
                rec_type, url, date, status = parsed
                if rec_type == "response":
                    yield RecordRef(str(path), offset, length, url, status, date)
        finally:
            stretches.close()  # releases its view of the map
            if isinstance(data, mmap.mmap):
                data.close()
        if not records:
            self.unreadable += 1
            self._problem(f"{path}: no WARC record in it")
            return
        self.records += records
        for offset in damaged:
            self.damaged += 1
            self._problem(f"{path}: damaged record skipped at offset {offset}")

    def _problem(self, message: str) -> None:
        _problem(self.problems, message)


def index_warcs(paths: Iterable[str | os.PathLike[str]]) -> WarcIndex:
    """The response records of the WARC files ``paths`` names, in capture order.

    Reads record headers only (gzip members are inflated in C, bodies are not
    parsed); damaged records are skipped and counted, and the next record is
    found again at the next gzip member or ``WARC/1.`` header.
    """
    index = WarcIndex()
    for path in warc_files(paths):
        index.add(path)
    return index


def _gzip_stretches(data: Buffer) -> Generator[tuple[int, int, bytes | None]]:
    """(offset, length, first inflated bytes) per gzip member; None for a damaged stretch."""
    with memoryview(data) as view:
        yield from _gzip_members(data, view)


def _gzip_members(data: Buffer, view: memoryview) -> Iterator[tuple[int, int, bytes | None]]:
    position, size = 0, len(data)
    while position < size:
        decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
        head = b""
        cursor = position
        try:
            while not decompressor.eof and cursor < size:
                chunk = view[cursor : cursor + _CHUNK]
                out = decompressor.decompress(chunk)
                if len(head) < _HEAD_BYTES:
                    head += out[: _HEAD_BYTES - len(head)]
                cursor += len(chunk)
        except zlib.error:
            pass
        if decompressor.eof:
            end = cursor - len(decompressor.unused_data)
            yield position, end - position, head
            position = end
            continue
        # Corrupt or cut: skip to the next member start that inflates.
        following = data.find(_GZIP_MAGIC, position + 1)
        end = size if following < 0 else following
        yield position, end - position, None
        position = end


def _plain_stretches(data: Buffer) -> Generator[tuple[int, int, bytes | None]]:
    """(offset, length, head) per record of an uncompressed WARC; None for a damaged stretch."""
    position, size = 0, len(data)
    while position < size:
        if data[position : position + len(_WARC_MAGIC)] != _WARC_MAGIC:
            if not bytes(data[position:]).strip():
                return  # trailing blank lines
            following = data.find(b"\n" + _WARC_MAGIC, position)
            end = size if following < 0 else following + 1
            yield position, end - position, None
            position = end
            continue
        header_end = data.find(b"\r\n\r\n", position)
        match = _CONTENT_LENGTH.search(data[position : max(header_end, position)])
        if header_end < 0 or match is None:
            yield position, size - position, None
            return
        end = header_end + 4 + int(match[1]) + 4
        if end > size:  # cut short
            yield position, size - position, None
            return
        yield position, end - position, data[position : min(end, position + _HEAD_BYTES)]
        position = end


def _parse_head(head: bytes) -> tuple[str, str, str, int] | None:
    """(WARC-Type, WARC-Target-URI, WARC-Date, HTTP status or 0) of a record's first bytes."""
    if not head.startswith(_WARC_MAGIC):
        return None
    header_end = head.find(b"\r\n\r\n")
    if header_end < 0:
        return None
    fields: dict[str, str] = {}
    for line in head[:header_end].decode("latin-1").split("\r\n")[1:]:
        name, sep, value = line.partition(":")
        if sep:
            fields[name.strip().lower()] = value.strip()
    rec_type = fields.get("warc-type", "")
    if not rec_type:
        return None
    status = 0
    if rec_type == "response":
        line_end = head.find(b"\r\n", header_end + 4)
        status_line = head[header_end + 4 : line_end if line_end >= 0 else None].split()
        if len(status_line) >= 2 and status_line[1].isdigit():
            status = int(status_line[1])
    uri = fields.get("warc-target-uri", "")
    if uri.startswith("<") and uri.endswith(">"):  # WARC 1.0 writers put it in brackets
        uri = uri[1:-1]
    return rec_type, uri, fields.get("warc-date", ""), status


def read_response(ref: RecordRef, stream: io.BufferedReader | None = None) -> ArchivedResponse:
    """The response record ``ref`` points at, its body content-decoded.

    Raises ValueError (or zlib/brotli errors) for a record that cannot be read.
    """
    if stream is None:
        with open(ref.path, "rb") as own:
            return read_response(ref, own)
    stream.seek(ref.offset)
    data = stream.read(ref.length)
    status, headers, raw = _split_response(data)
    encoding = next((v for k, v in headers if k.lower() == "content-encoding"), "")
    return ArchivedResponse(
        url=ref.url,
        date=iso_date_to_datetime(ref.date, tz_aware=True),
        status=status,
        headers=headers,
        body=decode_content(raw, encoding),
        path=Path(ref.path),
        offset=ref.offset,
    )


def _split_response(data: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, HTTP headers and body (as received) of one response record's bytes.

    Our writer's records (CRLF everywhere, no HTTP framing left) are split
    directly, several times faster than warcio; anything else goes through warcio.
    """
    raw = zlib.decompress(data, zlib.MAX_WBITS | 16) if data[:3] == _GZIP_MAGIC else data
    head_end = raw.find(b"\r\n\r\n")
    http_end = raw.find(b"\r\n\r\n", head_end + 4)
    match = _CONTENT_LENGTH.search(raw, 0, max(head_end, 0))
    if (
        raw.startswith(_WARC_MAGIC)
        and head_end > 0
        and http_end > 0
        and match is not None
        and b"\r\nWARC-Type: response\r\n" in raw[:head_end]
        and raw[head_end + 4 : head_end + 9] == b"HTTP/"
    ):
        block_end = head_end + 4 + int(match[1])
        if block_end > len(raw):
            raise EOFError("the record is incomplete")
        lines = raw[head_end + 4 : http_end].decode("latin-1").split("\r\n")
        status = lines[0].split(" ", 2)
        if len(status) >= 2 and status[1].isdigit():
            headers = []
            for line in lines[1:]:
                name, sep, value = line.partition(":")
                if not sep:
                    break
                headers.append((name.strip(), value.strip()))
            else:
                return int(status[1]), headers, raw[http_end + 4 : block_end]
    return _split_with_warcio(data)


def _split_with_warcio(data: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    record = next(iter(ArchiveIterator(io.BytesIO(data), check_digests=False)), None)
    if record is None or record.rec_type != "response" or record.http_headers is None:
        raise ValueError("no response record at this offset")
    raw = record.raw_stream.read()
    if getattr(record.raw_stream, "limit", 0) > 0:
        raise EOFError("the record is incomplete")
    http = record.http_headers
    return int(http.get_statuscode() or 0), list(http.headers), raw
