"""WARC records of a gopher exchange: a ``resource`` record and its ``request`` record.

Why ``resource`` and not ``response`` (docs/gopher.md): a gopher answer has no
status line and no headers, only the bytes of the menu or text. WARC 1.1
keeps ``response`` records for a protocol's full response *with* its protocol
information, and tools (warcio, pywb, this project's reparse) read the block
of a ``response`` record as an HTTP message; a ``resource`` record holds the
bytes as they came, typed by ``Content-Type``, with nothing made up. The
``request`` record holds what was sent: the selector and CRLF.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import TYPE_CHECKING

from warcio.timeutils import datetime_to_iso_date

from tazarchive.gopher.urls import parse_gopher_url
from tazarchive.warc import gzip_record, record_builder

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response

REQUEST_CONTENT_TYPE = "text/plain; charset=utf-8"  # the selector line, as sent
DEFAULT_CONTENT_TYPE = "application/octet-stream"


def gopher_records(
    request: Request,
    response: Response,
    *,
    date: datetime,
    ip_address: str | None = None,
    warcinfo_id: str = "",
) -> bytes:
    """The exchange as two gzip members: the resource record, then the request record."""
    sent = parse_gopher_url(response.url).selector.encode("utf-8") + b"\r\n"
    content_type = (response.headers.get("Content-Type") or b"").decode("latin-1")
    builder = record_builder()
    headers = {"WARC-Date": datetime_to_iso_date(date, use_micros=True)}
    if ip_address:
        headers["WARC-IP-Address"] = ip_address
    resource = builder.create_warc_record(
        response.url,
        "resource",
        payload=io.BytesIO(response.body),
        length=len(response.body),
        warc_content_type=content_type or DEFAULT_CONTENT_TYPE,
        warc_headers_dict=headers,
    )
    sent_record = builder.create_warc_record(
        response.url,
        "request",
        payload=io.BytesIO(sent),
        length=len(sent),
        warc_content_type=REQUEST_CONTENT_TYPE,
        warc_headers_dict={
            "WARC-Date": headers["WARC-Date"],
            "WARC-Concurrent-To": resource.rec_headers.get_header("WARC-Record-ID"),
        },
    )
    return gzip_record(resource, warcinfo_id) + gzip_record(sent_record, warcinfo_id)
