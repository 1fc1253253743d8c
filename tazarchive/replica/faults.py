"""Faults the replica can inject, each one a row of issue 10's table.

A :class:`Faults` value says which faults are on; fractions pick articles by
a seeded hash of (seed, fault, index), so the same ids are hit on every run
and a fresh ``Faults()`` serves the clean site again. The functions here
turn a clean article page into its faulty form; the server decides when.
"""

from __future__ import annotations

import gzip
import ipaddress
import re
from dataclasses import asdict, dataclass, fields, replace
from typing import TYPE_CHECKING, Any

from tazarchive.replica.response import HTML, Response
from tazarchive.replica.templates import template

if TYPE_CHECKING:
    from tazarchive.replica.site import ArticleData, Site

# A page claiming this id instead of the requested one (below every replica id).
MISMATCH_ID = "5399999"
# A 300-digit id: too long for any file name.
LONG_ID = ("5928990" * 43)[:300]
# Text the ``control_chars`` fault puts into titles, teasers and paragraphs.
ESCAPE = "\x1b[2J\x1b[31m"  # clear screen, red
C1 = "\x9b"  # CSI as a C1 code
DEL = "\x7f"
BIDI = "\u202e"  # right-to-left override


@dataclass(frozen=True, slots=True)
class Faults:
    """Which faults are on. Fractions (0..1) pick articles deterministically by seed.

    ``challenge``: 200 consent/bot-wall page instead of the article.
    ``ban_after``: after this many requests, 403 on everything (0: off).
    ``redirect_loop``: the article redirects between two of its URLs for ever.
    ``cp1252``: article bytes in cp1252 while header and meta say UTF-8.
    ``gzip_corrupt`` / ``gzip_truncated``: ``Content-Encoding: gzip`` body with
    bytes flipped / cut after half.
    ``deep_nesting``: the body after the first paragraph sits ``nesting_depth``
    elements deep.
    ``offsite_redirect``: 302 to the same path on ``foreign_host`` (loopback).
    ``id_mismatch``: the page claims :data:`MISMATCH_ID` (data-id, canonical…).
    ``long_id``: the page claims the 300-digit :data:`LONG_ID`.
    ``control_chars``: terminal escapes, C1, DEL and a bidi override in the text.
    ``many_attributes``: one element with ``attribute_count`` attributes.
    """

    challenge: float = 0.0
    ban_after: int = 0
    redirect_loop: float = 0.0
    cp1252: float = 0.0
    gzip_corrupt: float = 0.0
    gzip_truncated: float = 0.0
    deep_nesting: float = 0.0
    nesting_depth: int = 250
    offsite_redirect: float = 0.0
    foreign_host: str = "127.0.0.2"
    id_mismatch: float = 0.0
    long_id: float = 0.0
    control_chars: float = 0.0
    many_attributes: float = 0.0
    attribute_count: int = 60_000

    def __post_init__(self) -> None:
        for name in FRACTIONS:
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"fault {name} is a fraction 0..1, got {value!r}")
        if not is_loopback(self.foreign_host):
            raise ValueError(f"foreign_host must be a loopback address, not {self.foreign_host!r}")

    def __bool__(self) -> bool:
        return self != Faults()

    def to_dict(self) -> dict[str, Any]:
        """The faults that differ from the defaults (what params() and the control path carry)."""
        default = asdict(Faults())
        return {k: v for k, v in asdict(self).items() if v != default[k]}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Faults:
        unknown = set(values) - set(NAMES)
        if unknown:
            raise ValueError(f"unknown fault(s): {', '.join(sorted(unknown))}")
        return cls(**values)

    @classmethod
    def parse(cls, specs: list[str]) -> Faults:
        """From command-line specs ``NAME[=VALUE]``; a bare fraction NAME means 1 (all)."""
        values: dict[str, Any] = {}
        for spec in specs:
            name, _, raw = spec.partition("=")
            name = name.strip().replace("-", "_")
            if name not in NAMES:
                raise ValueError(f"unknown fault {name!r} (one of: {', '.join(NAMES)})")
            kind = NAMES[name]
            if not raw:
                if kind is not float:
                    raise ValueError(f"fault {name} needs a value: {name}=…")
                raw = "1"
            try:
                values[name] = kind(raw)
            except ValueError:
                raise ValueError(f"fault {name}: {raw!r} is not a {kind.__name__}") from None
        return cls(**values)


NAMES: dict[str, type] = {
    f.name: {"float": float, "int": int, "str": str}[str(f.type)] for f in fields(Faults)
}
FRACTIONS = tuple(name for name, kind in NAMES.items() if kind is float)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# --- whole responses -------------------------------------------------------------


def challenge_page(ray: str) -> Response:
    return Response(200, HTML, template("challenge.html").substitute(ray=ray).encode())


def banned() -> Response:
    return Response(403, HTML, b"<!DOCTYPE html><title>403 Forbidden</title><h1>Forbidden</h1>\n")


def loop_redirect(path: str, article_id: str) -> Response:
    """Between ``/!id/`` and ``/Umleitung/!id/``: each sends the client to the other."""
    away = f"/Umleitung/!{article_id}/"
    return Response(302, HTML, b"", (("Location", f"/!{article_id}/" if path == away else away),))


def offsite(host: str, port: int | None, target: str) -> Response:
    netloc = f"[{host}]" if ":" in host else host
    if port:
        netloc += f":{port}"
    return Response(302, HTML, b"", (("Location", f"http://{netloc}{target}"),))


# --- damage to a rendered page ---------------------------------------------------


def claim_id(page: str, real_id: str, claimed: str) -> str:
    """The page with every mention of its id (data-id, canonical, og:url…) replaced."""
    return re.sub(rf"(?<!\d){real_id}(?!\d)", claimed, page)


def nest(page: str, depth: int) -> str:
    """Wrap the body after its first paragraph in ``depth`` nested elements."""
    for start_mark, block_end, end_mark in _BODY_MARKS:
        start = page.find(start_mark)
        if start < 0:
            continue
        first_end = page.index(block_end, start) + len(block_end)
        end = page.index(end_mark, first_end)
        opened = '<div class="nest">' * depth
        return page[:first_end] + opened + page[first_end:end] + "</div>" * depth + page[end:]
    raise ValueError("no article body to nest")


# (where the body starts, how its first block ends, where the body ends) per design
_BODY_MARKS = (
    (
        "main-article-corpus",
        "</p>\n",
        '</div>\n</div>\n<div x-data="{}" class="tzi-bottom-container',
    ),
    ('itemprop="articleBody"', "</p>\n", "    </article></div>"),
    ('class="tz-story__flow"', "</div>\n", "</div>\n<footer"),
)


def many_attributes(page: str, count: int) -> str:
    """One empty element with ``count`` attributes, right after ``<body …>``."""
    attributes = " ".join(f'data-a{n}="{n}"' for n in range(count))
    body = page.index("<body")
    after = page.index(">", body) + 1
    return f"{page[:after]}<div {attributes}></div>{page[after:]}"


def gzip_damaged(body: bytes, how: str) -> bytes:
    packed = gzip.compress(body, mtime=0)
    if how == "truncated":
        return packed[: len(packed) // 2]
    middle = len(packed) // 2
    flipped = bytes(b ^ 0x5A for b in packed[middle : middle + 64])
    return packed[:middle] + flipped + packed[middle + 64 :]


def damaged(site: Site, index: int, page: str, article_id: str) -> Response:
    """The response for a rendered article page with the faults of its body applied."""
    faults = site.faults
    if site.hit("id_mismatch", index):
        page = claim_id(page, article_id, MISMATCH_ID)
    if site.hit("long_id", index):
        page = claim_id(page, article_id, LONG_ID)
    if site.hit("deep_nesting", index):
        page = nest(page, faults.nesting_depth)
    if site.hit("many_attributes", index):
        page = many_attributes(page, faults.attribute_count)
    if site.hit("cp1252", index):
        body = page.encode("cp1252", errors="xmlcharrefreplace")
    else:
        body = page.encode("utf-8")
    for name, how in (("gzip_corrupt", "corrupt"), ("gzip_truncated", "truncated")):
        if site.hit(name, index):
            return Response(200, HTML, gzip_damaged(body, how), (("Content-Encoding", "gzip"),))
    return Response(200, HTML, body)


def with_control_chars(data: ArticleData) -> ArticleData:
    """A copy of ``data`` with escapes in its title, teaser and last paragraph."""
    blocks = list(data.blocks)
    last = max(n for n, b in enumerate(blocks) if b.kind == "paragraph")
    tail = f" {ESCAPE}Achtung{C1}0m {BIDI}gnuthcA{DEL}"
    blocks[last] = replace(blocks[last], segments=[*blocks[last].segments, tail])
    return replace(
        data,
        title=f"{data.title}{ESCAPE}{C1}31m",
        teaser=f"{BIDI}{data.teaser}{DEL}",
        blocks=blocks,
    )
