"""Shared HTML helpers for the page objects: one parse, compiled selectors, clean text.

Everything here works on plain ``lxml.etree`` elements: the page objects
parse a page once and run precompiled XPath (written as CSS where CSS can say
it) on that one tree, which keeps extraction close to the cost of the parse.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from lxml import etree
from parsel.csstranslator import HTMLTranslator

Element: TypeAlias = etree._Element

_TRANSLATOR = HTMLTranslator()

# Characters that are not text: soft hyphen, zero-width space, word joiner, BOM.
# (Runs of Unicode whitespace, NBSP included, become one space: str.split().)
_INVISIBLE_CHARS = ("\u00ad", "\u200b", "\u2060", "\ufeff")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def css(selector: str) -> etree.XPath:
    """Compile a CSS selector to an XPath evaluated relative to the element given."""
    return etree.XPath(_TRANSLATOR.css_to_xpath(selector, prefix="descendant-or-self::"))


def xpath(expression: str) -> etree.XPath:
    return etree.XPath(expression)


# --- parsing ------------------------------------------------------------------

_parsers = threading.local()  # lxml parser objects must not be shared between threads


def _parser(encoding: str | None) -> etree.HTMLParser:
    cache: dict[str | None, etree.HTMLParser] | None = getattr(_parsers, "cache", None)
    if cache is None:
        cache = _parsers.cache = {}
    parser = cache.get(encoding)
    if parser is None:
        parser = etree.HTMLParser(
            encoding=encoding,
            remove_comments=True,
            remove_pis=True,
            no_network=True,
            collect_ids=False,  # no id lookups here; skipping the table is faster
        )
        cache[encoding] = parser
    return parser


# Reader comments are never extracted, yet they are a third to a half of an
# article page. Where their section starts and nothing extraction reads comes
# after it, the rest of the page is not parsed. Per design: the comment
# section's marker, and the markers of what that design's extractor reads.
_COMMENT_SECTIONS = (
    (  # current design: div#kommune
        b'id="kommune"',
        (b"application/ld+json", b"articleTeaser", b"tags-bottom-container"),
    ),
    (  # previous design: div.community.page
        b" community page",
        (b"application/ld+json", b"sect_thema", b"sect_related", b"sect_tags", b"sect_profile"),
    ),
)


def without_comments(data: bytes) -> bytes:
    """``data`` cut where the reader comments start, when that loses nothing extraction reads."""
    for marker, read_after in _COMMENT_SECTIONS:
        at = data.find(marker)
        while at != -1:
            # Only inside a <div …> or <section …> start tag, not in scripts or text.
            tag_start = data.rfind(b"<", 0, at)
            if tag_start > data.rfind(b">", 0, at) and data[tag_start : tag_start + 4] in (
                b"<div",
                b"<sec",
            ):
                if any(data.find(needed, tag_start) != -1 for needed in read_after):
                    return data
                return data[:tag_start]
            at = data.find(marker, at + 1)
    return data


def as_bytes(html: bytes | str) -> tuple[bytes, str | None]:
    """The page as bytes and the encoding to parse them with (None: the page's declaration).

    A page that declares UTF-8 (as taz does) is parsed as UTF-8 straight away
    (stray invalid bytes become U+FFFD). Otherwise bytes that are valid UTF-8
    are read as UTF-8 whatever the page declares (a wrong ``charset`` must
    not garble the text), and other bytes go by the page's declaration.
    """
    if isinstance(html, str):
        data = _XML_DECLARATION.sub("", html, count=1).encode("utf-8", "surrogatepass")
        return data, "utf-8"
    return html, "utf-8" if _declares_utf8(html) or _is_utf8(html) else None


def parse_page(
    data: bytes, encoding: str | None, *, skip_comments: bool = False
) -> tuple[Element | None, bool]:
    """One lxml tree of the page (None when there is nothing to parse), and whether it is whole.

    The tree is not whole when libxml2 gave up part-way (a fatal error, such
    as nesting beyond its depth limit): what follows is missing from it.
    ``skip_comments``: leave the reader comments unparsed (see ``without_comments``).
    """
    if not data.strip():
        return None, True
    if skip_comments:
        data = without_comments(data)
    for attempt in (encoding, "cp1252"):
        parser = _parser(attempt)
        try:
            root = etree.fromstring(data, parser)
        except (etree.ParserError, etree.XMLSyntaxError, ValueError, LookupError):
            continue
        last = parser.error_log.last_error
        return root, last is None or last.level_name != "FATAL"
    return None, True


def parse_html(html: bytes | str, *, skip_comments: bool = False) -> Element | None:
    """Parse a page into one lxml tree; None when there is nothing to parse (see ``as_bytes``)."""
    data, encoding = as_bytes(html)
    return parse_page(data, encoding, skip_comments=skip_comments)[0]


_CHARSET_VALUE = re.compile(rb"""\s*=\s*["']?\s*([\w-]+)""")


def _declares_utf8(data: bytes) -> bool:
    # Browsers look for the declaration in the first 1024 bytes; allow a little more.
    # (bytes.find, not one regex over the prefix: that one backtracks badly.)
    prefix = data[:4096].lower()
    at = prefix.find(b"charset")
    while at != -1:
        found = _CHARSET_VALUE.match(prefix, at + 7)
        if found:
            return found.group(1) in (b"utf-8", b"utf8")
        at = prefix.find(b"charset", at + 7)
    return False


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# --- text -------------------------------------------------------------------


def visible(text: str) -> str:
    """``text`` without invisible characters (soft hyphens, zero-width spaces …)."""
    # str.replace is far faster than str.translate on long non-ASCII text.
    for char in _INVISIBLE_CHARS:
        if char in text:
            text = text.replace(char, "")
    return text


def clean(text: str) -> str:
    """Text as the archive keeps it: invisible characters gone, whitespace collapsed."""
    return " ".join(visible(text).split())


_STRING = etree.XPath("string()")


def text_of(element: Element | None, *, skip: Callable[[Element], bool] | None = None) -> str:
    """The cleaned text of an element; ``skip`` leaves out the subtrees it accepts."""
    if element is None:
        return ""
    if skip is None:
        return clean(str(_STRING(element)))
    return clean("".join(_itertext(element, skip)))


def _itertext(element: Element, skip: Callable[[Element], bool]) -> Iterator[str]:
    if element.text:
        yield element.text
    for child in element:
        if isinstance(child.tag, str) and not skip(child):
            yield from _itertext(child, skip)
        if child.tail:
            yield child.tail


def first_by_class(
    element: Element, wanted: tuple[str, ...], tags: tuple[str, ...] = ("a", "p", "div", "span")
) -> dict[str, Element]:
    """The first element (of ``tags``) carrying each wanted class, in one pass."""
    found: dict[str, Element] = {}
    for child in element.iter(*tags):
        names = child.get("class")
        if names:
            for name in names.split():
                if name in wanted and name not in found:
                    found[name] = child
                    if len(found) == len(wanted):
                        return found
    return found


def classes(element: Element) -> list[str]:
    return (element.get("class") or "").split()


def has_class(element: Element, name: str) -> bool:
    return name in (element.get("class") or "").split()


def first(elements: list[Any]) -> Any:
    return elements[0] if elements else None


# --- blocks with links --------------------------------------------------------


@dataclass(slots=True)
class TextWithLinks:
    """A body block's text and where its links sit."""

    text: str = ""
    spans: list[tuple[int, int, str]] = field(default_factory=list)  # start, end, href
    drop_cap: bool = False  # the block opened with a drop cap (joined to its word)


class _Builder:
    """Collects inline text, collapsing whitespace across elements, tracking link spans."""

    __slots__ = ("drop_cap", "glue", "length", "parts", "space_before", "spans")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.space_before = True  # at the start nothing needs a separating space
        self.glue = False  # after a drop cap: the next whitespace is layout, not text
        self.drop_cap = False
        self.spans: list[tuple[int, int, str]] = []

    def add(self, raw: str) -> None:
        text = visible(raw)
        if not text:
            return
        core = " ".join(text.split())
        if not core:  # whitespace only: at most one separating space
            if not self.space_before and not self.glue:
                self.parts.append(" ")
                self.length += 1
                self.space_before = True
            return
        if text[0].isspace() and not self.space_before and not self.glue:
            core = " " + core
        if text[-1].isspace():
            core += " "
        self.glue = False
        self.parts.append(core)
        self.length += len(core)
        self.space_before = core[-1] == " "

    def result(self) -> TextWithLinks:
        text = "".join(self.parts).rstrip(" ")
        spans = []
        for start, end, href in self.spans:
            end = min(end, len(text))
            while start < end and text[start] == " ":
                start += 1
            while end > start and text[end - 1] == " ":
                end -= 1
            spans.append((start, end, href))
        return TextWithLinks(text, spans, self.drop_cap)


CODE_TAGS = frozenset({"script", "style", "noscript", "template", "button"})


def text_with_links(
    element: Element,
    *,
    skip_tags: frozenset[str] = CODE_TAGS,
    drop_cap_class: str | None = None,
) -> TextWithLinks:
    """Inline text of a block element with the spans of its ``a[href]`` links.

    Elements whose tag is in ``skip_tags`` are left out (their tail text is
    kept); an element with ``drop_cap_class`` is a drop cap, joined to the
    word after it.
    """
    builder = _Builder()
    _walk(element, builder, skip_tags, drop_cap_class)
    return builder.result()


def _walk(
    element: Element, builder: _Builder, skip_tags: frozenset[str], drop_cap_class: str | None
) -> None:
    if element.text:
        builder.add(element.text)
    for child in element:
        tag = child.tag
        if isinstance(tag, str) and tag not in skip_tags:
            if tag == "br":
                builder.add(" ")
            elif tag == "a" and child.get("href") is not None:
                start = builder.length
                _walk(child, builder, skip_tags, drop_cap_class)
                builder.spans.append((start, builder.length, child.get("href") or ""))
            elif drop_cap_class is not None and drop_cap_class in (child.get("class") or ""):
                builder.add(text_of(child))
                builder.glue = True
                builder.drop_cap = True
            else:
                _walk(child, builder, skip_tags, drop_cap_class)
        if child.tail:
            builder.add(child.tail)


# --- JSON-LD ------------------------------------------------------------------


def json_ld_article(scripts: list[str]) -> dict[str, Any] | None:
    """The first ``*Article`` object among a page's JSON-LD scripts."""
    for script in scripts:
        try:
            data = json.loads(script)
        except ValueError:
            continue
        for candidate in _ld_objects(data):
            kind = candidate.get("@type")
            kinds = kind if isinstance(kind, list) else [kind]
            if any(isinstance(k, str) and k.endswith("Article") for k in kinds):
                return candidate
    return None


def _ld_objects(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _ld_objects(item)
    elif isinstance(data, dict):
        yield data
        if isinstance(data.get("@graph"), list):
            yield from _ld_objects(data["@graph"])
