"""The gopher menu of an article: the model every rendering is a view of.

taz serves each article as a gopher menu; the dump renderings (FORMAT.md)
are that menu as taz's server shows it (text), as a gophermap, or as web
gopher proxies show it (seed and the other views in :mod:`.views`).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from tazarchive import settings as _defaults
from tazarchive.dump import rules
from tazarchive.items import Article, Block
from tazarchive.urls import TAZ_HOSTS

INFO = "i"
IMAGE = "I"
MENU = "1"
HTML = "h"


@dataclass(frozen=True, slots=True)
class GopherOptions:
    """Where the gophermap's selectors point. Defaults: the TAZARCHIVE_GOPHER_* settings."""

    host: str = _defaults.TAZARCHIVE_GOPHER_HOST
    port: int = _defaults.TAZARCHIVE_GOPHER_PORT
    selector_prefix: str = _defaults.TAZARCHIVE_GOPHER_SELECTOR_PREFIX

    @classmethod
    def from_settings(cls, settings: object) -> GopherOptions:
        """From a Scrapy ``Settings`` (anything with ``get``/``getint``)."""
        get = settings.get  # type: ignore[attr-defined]
        return cls(
            host=str(get("TAZARCHIVE_GOPHER_HOST", _defaults.TAZARCHIVE_GOPHER_HOST)),
            port=int(get("TAZARCHIVE_GOPHER_PORT", _defaults.TAZARCHIVE_GOPHER_PORT)),
            selector_prefix=str(
                get(
                    "TAZARCHIVE_GOPHER_SELECTOR_PREFIX",
                    _defaults.TAZARCHIVE_GOPHER_SELECTOR_PREFIX,
                )
            ),
        )


@dataclass(frozen=True, slots=True)
class MenuLine:
    """One line of the menu: gopher item type, display text, selector.

    ``path`` names the article field the line shows ("title", "body.3",
    "related.0.title"); "" for structure (blank lines, section headers).
    """

    type: str
    text: str
    selector: str = ""
    path: str = ""

    @property
    def blank(self) -> bool:
        return self.type == INFO and self.text == ""


def taz_selector(href: str, options: GopherOptions) -> tuple[str, str]:
    """Item type and selector for an href: taz pages are menus, the rest ``h`` items."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc:
        if parts.scheme in ("http", "https", "") and (parts.hostname or "").lower() in TAZ_HOSTS:
            path = parts.path or "/"
            if parts.query:
                path += "?" + parts.query
            return MENU, options.selector_prefix + path
        return HTML, "URL:" + href
    path = href if href.startswith("/") else "/" + href
    return MENU, options.selector_prefix + path


def _paragraph_text(block: Block, cut_links: frozenset[int] = frozenset()) -> str:
    """Block text with its links as ``[n][text]``.

    A link in ``cut_links`` whose text ends with the cut mark was read from a
    marker a proxy cut before its "]": it stays ``[n][text…``, as it was read.
    """
    out: list[str] = []
    pos = 0
    for span in sorted(block.links, key=lambda s: s.start):
        out.append(block.text[pos : span.start])
        link_text = block.text[span.start : span.end]
        closed = span.n not in cut_links or not link_text.endswith(rules.CUT_MARK)
        out.append(f"[{span.n}][{link_text}" + ("]" if closed else ""))
        pos = span.end
    out.append(block.text[pos:])
    return "".join(out)


def title_line(article: Article) -> str:
    head = f"{article.topline}: {article.title}" if article.topline else article.title
    return rules.TITLE_PREFIX + head


def related_title(topline: str, title: str) -> str:
    return f"{topline}: {title}" if topline else title


def build_menu(article: Article, options: GopherOptions | None = None) -> list[MenuLine]:
    """The article's gopher menu, line by line (FORMAT.md "Article layout")."""
    options = options or GopherOptions()
    lines: list[MenuLine] = []

    def info(text: str, path: str = "") -> None:
        lines.append(MenuLine(INFO, text, "", path))

    def blank() -> None:
        if lines and not lines[-1].blank:
            info("")

    info(title_line(article), "title")
    blank()
    if article.teaser:
        for line in rules.wrap(article.teaser, prefix=rules.TEASER_PREFIX):
            info(line, "teaser")
        blank()
    if article.picture is not None:
        picture_selector = ""
        if article.picture.url:
            picture_selector = taz_selector(article.picture.url, options)[1]
        lines.append(
            MenuLine(
                IMAGE,
                rules.PICTURE_PREFIX + article.picture.caption,
                picture_selector,
                "picture.caption",
            )
        )
        blank()

    # Links keep their numbers: span.n indexes Article.links, which the LINKS
    # section lists in order. Extractors number in order of appearance; a dump
    # read back keeps the numbers even where a proxy cut a marker away.
    hrefs = [link.href for link in article.links]
    cut_links = frozenset(
        n for n in range(1, len(article.links) + 1) if f"links.{n - 1}.text" in article.cut
    )
    for index, block in enumerate(article.body):
        path = f"body.{index}"
        if block.kind == "subheading":
            text = rules.SUBHEADING_PREFIX + block.text
            for line in rules.wrap(text) if rules.WRAP_SUBHEADINGS else text.split("\n"):
                info(line, path)
        else:
            for line in rules.wrap(_paragraph_text(block, cut_links)):
                info(line, path)
        blank()
    if article.published is not None:
        info(rules.dump_date(article.published), "published")
        blank()

    def section(header: str, entries: list[list[MenuLine]], blank_between: bool) -> None:
        if not entries and rules.OMIT_EMPTY_SECTIONS:
            return
        info(header)
        blank()
        for entry in entries:
            lines.extend(entry)
            if blank_between:
                blank()
        blank()

    def item(text: str, url: str | None, id_: str | None, letter: str, path: str) -> MenuLine:
        if url:
            selector = taz_selector(url, options)[1]
        elif id_:
            selector = f"{options.selector_prefix}/!{letter}{id_}/"
        else:
            selector = ""  # nothing to point at: the menu item leads to the root
        return MenuLine(MENU, text, selector, path)

    section(
        rules.SECTION_LINKS,
        [
            [MenuLine(kind, f"[{n}] {href}", selector, f"links.{n - 1}.href")]
            for n, href in enumerate(hrefs, 1)
            for kind, selector in [taz_selector(href, options)]
        ],
        rules.BLANK_BETWEEN_LINKS,
    )
    section(
        rules.SECTION_AUTHORS,
        [
            [item(author.name, author.url, author.id, "a", f"authors.{index}.name")]
            for index, author in enumerate(article.authors)
        ],
        rules.BLANK_BETWEEN_AUTHORS,
    )
    section(
        rules.SECTION_TAGS,
        [
            [MenuLine(INFO, tag.name, "", f"tags.{index}.name")]
            for index, tag in enumerate(article.tags)
        ],
        rules.BLANK_BETWEEN_TAGS,
    )
    related_entries = []
    for index, related in enumerate(article.related):
        head = related_title(related.topline, related.title)
        entry = [item(head, related.url, related.id, "", f"related.{index}.title")]
        if rules.BLANK_AFTER_RELATED_TITLE:
            entry.append(MenuLine(INFO, ""))
        entry.extend(
            MenuLine(INFO, line, "", f"related.{index}.teaser")
            for line in rules.wrap(related.teaser)
        )
        related_entries.append(entry)
    section(rules.SECTION_RELATED, related_entries, blank_between=True)
    while not rules.TRAILING_BLANK_LINE and lines and lines[-1].blank:
        lines.pop()
    return lines
