"""A gopher server on 127.0.0.1 that answers as taz's would, for a replica site.

Articles are their gophermap rendering (host taz.de, port 70, as taz sends
them); the root menu lists the sections; sections, tags and authors list
their articles in taz's listing shape.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tazarchive import urls
from tazarchive.dump import GopherOptions, MenuLine, render
from tazarchive.dump.menu import INFO, MENU
from tazarchive.dump.rules import TITLE_PREFIX
from tazarchive.dump.views import gophermap_view
from tazarchive.gopher.site import Entry, error_menu, listing_lines
from tazarchive.items import Article, article_from_dict, article_to_dict
from tazarchive.normalise import normalise_article
from tazarchive.replica import SECTIONS, Site
from tests.gopher_servers import gopher_server

TAZ = GopherOptions()  # taz.de, 70, no prefix: what taz's own menus hold


def as_taz_sends(article: Article) -> Article:
    """The article as taz's gopher text has it: FORMAT.md's character rules applied
    (soft hyphens, zero-width spaces removed), and no-break spaces plain.

    taz's pages hold NBSPs in their text (taz-pages/NOTES.md), none of the 48
    gopher captures in ../shared/dumps/ holds one: taz's gopher text has
    plain spaces there (so does our HTML extraction).
    """

    def plain(text: str) -> str:
        return text.replace("\u00a0", " ").replace("\u202f", " ")

    copy = article_from_dict(article_to_dict(article))
    normalise_article(copy)
    copy.title, copy.topline, copy.teaser = (
        plain(copy.title),
        plain(copy.topline),
        plain(copy.teaser),
    )
    for block in copy.body:
        block.text = plain(block.text)  # same length: link spans stay where they are
    for link in copy.links:
        link.text = plain(link.text)
    if copy.picture is not None:
        copy.picture.caption = plain(copy.picture.caption)
    for related in copy.related:
        related.title, related.teaser = plain(related.title), plain(related.teaser)
    return copy


def replica_menu(site: Site, selector: str, options: GopherOptions = TAZ) -> str:
    """What taz's gopher server would answer for ``selector`` on this site."""

    def listing(heading: str, ids: list[str]) -> str:
        entries = []
        for id_ in ids:
            article = as_taz_sends(site.article(id_))
            entries.append(Entry(id_, article.topline, article.title, article.teaser, ""))
        return gophermap_view(listing_lines(heading, entries, options), options)

    if selector in ("", "/"):
        lines = [MenuLine(INFO, TITLE_PREFIX + "taz.de"), MenuLine(INFO, "")]
        lines += [MenuLine(MENU, s.name, s.path) for s in SECTIONS.values()]
        return gophermap_view(lines, options)
    target = urls.classify(selector)
    if target is None:
        return error_menu(f"not found: {selector}")
    try:
        if target.kind == "article" and site.index_of(target.id) is not None:
            return render(as_taz_sends(site.article(target.id)), "gophermap", gopher=options)
        if target.kind == "author":
            name = site.author(site.author_index_of(target.id) or 0).name
            return listing(f"Alle Artikel von {name}", site.articles_of_author(target.id))
        if target.kind == "tag":
            return listing(f"Tag {target.id}", site.articles_of_tag(target.id))
        if target.kind == "section" and target.id in SECTIONS:
            return listing(SECTIONS[target.id].name, site.articles_of_section(target.id))
    except KeyError:
        pass
    return error_menu(f"not found: {selector}")


@contextmanager
def replica_gopher(
    site: Site, change: Callable[[str, str], str] | None = None
) -> Iterator[tuple[int, list[str]]]:
    """Serve ``site`` as taz's gopher server would; ``change(selector, menu)`` may plant faults."""

    def behave(sock: socket.socket, selector: str) -> None:
        menu = replica_menu(site, selector)
        if change is not None:
            menu = change(selector, menu)
        sock.sendall(menu.encode("utf-8"))

    with gopher_server({}, default=behave) as served:
        yield served
