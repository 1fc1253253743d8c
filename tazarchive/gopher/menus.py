"""Reading taz's gopher menus: an article menu is an Article, the others list articles.

An article menu goes through the dump reader (gophermap in, the same model
out as from any dump). Section, tag and author menus list, per article, a
menu item ``<topline>: <title>`` pointing at the article's selector, then its
teaser as info lines (FORMAT.md "Listing pages"). Pure: no Scrapy here.
"""

from __future__ import annotations

from dataclasses import dataclass

from tazarchive import urls
from tazarchive.dump import GopherOptions, MenuLine, NotADump, read_dump
from tazarchive.dump.menu import INFO, MENU
from tazarchive.dump.reader import split_title
from tazarchive.dump.rules import TITLE_PREFIX
from tazarchive.items import Article, Listing, Teaser

LAYOUT = "gopher"  # Article.layout of articles read from taz's gopher service
AUTHOR_LISTING_PREFIX = "Alle Artikel von "
LAST_LINE = "."


@dataclass(frozen=True, slots=True)
class MenuRow:
    """One row of a gophermap as sent: the line plus where its item points."""

    line: MenuLine
    host: str = ""
    port: str = ""


def parse_menu(text: str) -> list[MenuRow]:
    """The rows of an RFC 1436 menu, up to its ``.`` line; rows without a type are skipped."""
    rows: list[MenuRow] = []
    for raw in text.replace("\r\n", "\n").split("\n"):
        if raw == LAST_LINE:
            break
        if not raw:
            continue
        fields = raw.split("\t")
        item_type, display = raw[0], fields[0][1:]
        selector = fields[1] if len(fields) > 1 else ""
        host = fields[2] if len(fields) > 2 else ""
        port = fields[3] if len(fields) > 3 else ""
        rows.append(MenuRow(MenuLine(item_type, display, selector), host, port))
    return rows


def read_article(
    text: str, article_id: str, *, gopher: GopherOptions | None = None, url: str = ""
) -> Article:
    """taz's gopher menu of article ``article_id`` as an Article; NotADump if it is none."""
    article = read_dump(text, source=article_id, gopher=gopher)
    article.layout = LAYOUT
    if url:
        article.url = url
    return article


def _unprefixed(selector: str, gopher: GopherOptions) -> str:
    prefix = gopher.selector_prefix
    return selector[len(prefix) :] if prefix and selector.startswith(prefix) else selector


def read_listing(
    text: str, url: str = "", kind: str = "", *, gopher: GopherOptions | None = None
) -> Listing:
    """A section, tag or author menu: its name, its articles, its other taz menus.

    ``Listing.links`` holds the selectors of the other taz menus it lists
    (sections, tags, authors). Raises NotADump when the menu holds no title
    line. (An article menu reads as a listing of its related articles: the
    caller knows which kind of menu it asked for.)
    """
    gopher = gopher or GopherOptions()
    rows = parse_menu(text)
    if not rows or not rows[0].line.text.startswith(TITLE_PREFIX):
        raise NotADump("no '# taz.de -- ' title line")
    name = rows[0].line.text[len(TITLE_PREFIX) :].removeprefix(AUTHOR_LISTING_PREFIX)
    listing = Listing(kind=kind, url=url, name=name)
    current: Teaser | None = None
    teaser_lines: list[str] = []

    def close() -> None:
        if current is not None:
            current.teaser = " ".join(teaser_lines)
            listing.teasers.append(current)

    for row in rows[1:]:
        line = row.line
        if line.type == MENU:
            close()
            current, teaser_lines = None, []
            selector = _unprefixed(line.selector, gopher)
            target = urls.classify(selector)
            if target is None:
                continue
            if target.kind == "article":
                topline, title = split_title(line.text)
                current = Teaser(id=target.id, url=selector, topline=topline, title=title)
            elif not target.channel:
                listing.links.append(selector)
        elif line.type == INFO and current is not None and line.text.strip():
            teaser_lines.append(line.text.strip())
    close()
    return listing
