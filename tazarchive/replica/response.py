"""What the replica sends: a status, a content type, a body and extra headers."""

from __future__ import annotations

from dataclasses import dataclass

HTML = "text/html; charset=utf-8"
XML = "application/xml; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
JSON = "application/json"


@dataclass(slots=True)
class Response:
    status: int
    content_type: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


def ok(text: str, content_type: str = HTML) -> Response:
    return Response(200, content_type, text.encode("utf-8"))


def redirect(location: str, status: int = 302) -> Response:
    return Response(status, HTML, b"", (("Location", location),))
