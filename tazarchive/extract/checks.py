"""Is a fetched page a clean, whole taz article? Checks that raise :class:`PageRejected`.

Cheap by design: each runs on the raw bytes' ends, the parser's own error
log or the few kilobytes of extracted text, never as another pass over the
whole page (extraction must stay close to the cost of the parse).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from tazarchive.extract._html import Element, clean, text_of
from tazarchive.extract.errors import PageRejected

# --- bounds before parsing ------------------------------------------------------

# Real article pages are 100-200 KB; a page beyond this is not one.
MAX_PAGE_BYTES = 32 * 1024 * 1024
# libxml2 checks attribute names for duplicates pair by pair, so one element's
# attributes cost the square of their count (60,000 take 20 s; 2,000 take 5 ms).
# Real elements carry a handful.
MAX_ATTRIBUTES = 2000
# Only distinct names cost (a repeated one is dropped at once), and 2,000
# distinct names need more than this many bytes without a ">": only such
# stretches are looked at closely. (Probing aligned windows with bytes.find
# costs microseconds; a regex over the whole page costs as much as the parse.)
_LONG_TAG = 5000
_QUOTED = re.compile(rb""""[^"]*"|'[^']*'""")
_TAG_START = re.compile(rb"<[A-Za-z]")


def check_bounds(data: bytes, url: str) -> None:
    """Raise ``too_complex`` for a page too big, or with an element of too many attributes."""
    if len(data) > MAX_PAGE_BYTES:
        raise PageRejected("too_complex", f"{len(data)} bytes (at most {MAX_PAGE_BYTES})", url)
    window = _LONG_TAG // 2
    # Any run of _LONG_TAG bytes without ">" holds a whole aligned window without one.
    at = 0
    while at + window <= len(data):
        if data.find(b">", at, at + window) == -1:
            start = data.rfind(b">", 0, at) + 1
            end = data.find(b">", at)
            count = _attribute_count(data[start : end if end != -1 else len(data)])
            if count > MAX_ATTRIBUTES:
                raise PageRejected(
                    "too_complex",
                    f"an element with {count} attributes (at most {MAX_ATTRIBUTES})",
                    url,
                )
            if end == -1:
                return
            at = end + 1
        else:
            at += window


def _attribute_count(stretch: bytes) -> int:
    """How many attributes the start tag in ``stretch`` (text up to a ">") has, roughly."""
    starts = [m.start() for m in _TAG_START.finditer(stretch)]
    if not starts:
        return 0
    tag = _QUOTED.sub(b'""', stretch[starts[-1] :])
    return len(tag.replace(b"=", b" = ").split()) - 1 - tag.count(b"=") * 2


# --- cut short ----------------------------------------------------------------

# Web archives append a comment or two after </html>; a page cut short has none.
_TAIL = 16 * 1024
_END_TAGS = (b"</html", b"</body")


def is_cut_short(data: bytes) -> bool:
    """True when the page lacks its closing ``</body>`` / ``</html>`` near the end."""
    tail = data[-_TAIL:].lower()
    return not any(end in tail for end in _END_TAGS)


def container_unclosed(data: bytes, marker: bytes, closing: bytes) -> bool:
    """True when ``marker`` (the container's start tag text) has no ``closing`` after it."""
    at = data.find(marker)
    return at != -1 and data.find(closing, at) == -1


# --- text after decoding ------------------------------------------------------

# UTF-8 read as cp1252 or latin-1: the lead bytes C2/C3 become "Â"/"Ã", then a
# continuation byte 80-BF becomes a cp1252 symbol or a latin-1 C1/Latin-1 sign;
# the E2 80 lead of quotes and dashes becomes "â€" (cp1252) or "â\x80" (latin-1).
_MOJIBAKE = re.compile(
    "[\u00c2\u00c3][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
    "\u02c6\u02dc\u2013\u2014\u2018-\u201a\u201c-\u201e\u2020-\u2022\u2026\u2030"
    "\u2039\u203a\u20ac\u2122]|\u00e2(?:\u20ac|\u0080)"
)


def check_text(texts: Iterable[str], url: str) -> None:
    """Raise ``undecodable`` / ``mojibake`` when the article text is not clean after decoding."""
    text = "\n".join(texts)
    at = text.find("\ufffd")
    if at != -1:
        raise PageRejected("undecodable", f"U+FFFD in the text: {_around(text, at)!r}", url)
    # Every pattern starts with one of three letters German text rarely has:
    # looking for them first costs a fraction of the regex search.
    found = _MOJIBAKE.search(text) if any(c in text for c in "\u00c2\u00c3\u00e2") else None
    if found:
        raise PageRejected(
            "mojibake", f"UTF-8 read as cp1252/latin-1: {_around(text, found.start())!r}", url
        )


def _around(text: str, at: int) -> str:
    return text[max(0, at - 20) : at + 20]


# --- ids ----------------------------------------------------------------------

_ID = re.compile(r"[1-9][0-9]{0,11}")


def check_id(id_: str, url: str, what: str = "page") -> str:
    """``id_`` when it is a sane taz id (ASCII digits, at most 12), else ``bad_id``."""
    if not _ID.fullmatch(id_):
        shown = id_ if len(id_) <= 24 else f"{id_[:20]}… ({len(id_)} chars)"
        raise PageRejected("bad_id", f"{what} id {shown!r} is no taz id", url)
    return id_


# --- consent and bot walls ----------------------------------------------------

# Words of consent layers, captchas and bot walls (German and English), looked
# for in the title, headings, forms and, on pages with little text, the text.
WALL_MARKERS = (
    "captcha",
    "challenge",
    "consent",
    "zustimmung",
    "einwilligung",
    "cookie",
    "robot",
    "ein mensch",
    "kein roboter",
    "a human",
    "verify you are",
    "just a moment",
    "einen moment",
    "checking your browser",
    "browser wird überprüft",
    "access denied",
    "zugriff verweigert",
    "enable javascript",
    "javascript aktivieren",
    "aktivieren sie javascript",
    "alle akzeptieren",
    "accept all",
    "ddos",
)
_SHORT_PAGE = 3000  # characters of text: more is a page with content, not a wall
_WALL_PARTS = ("title", "h1", "h2", "form", "button", "label", "noscript", "iframe")


def looks_like_wall(root: Element) -> bool:
    """True when a page that holds no article looks like a consent, captcha or bot wall."""
    parts = [clean(" ".join(e.itertext())) for e in root.iter(*_WALL_PARTS)]
    parts += [f"{e.get('id', '')} {e.get('class', '')}" for e in root.iter("body", "div", "form")]
    body = next(root.iter("body"), None)
    if body is not None:
        text = text_of(body, skip=lambda e: e.tag in ("script", "style"))
        if len(text) <= _SHORT_PAGE:
            parts.append(text)
    parts += [e.get("src", "") for e in root.iter("iframe", "script")]
    haystack = " ".join(parts).casefold()
    return any(marker in haystack for marker in WALL_MARKERS)
