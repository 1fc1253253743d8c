"""Reading taz's gopher menus: real captures turned back into gophermaps, and invented menus."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tazarchive.dump import GopherOptions, NotADump, build_menu, read_dump, render
from tazarchive.gopher.menus import LAYOUT, parse_menu, read_article, read_listing
from tazarchive.replica import Site
from tests.conftest import SHARED, needs_shared

DUMPS = SHARED / "dumps"
# Captures whose proxy shows item types (INDEX.md: cortex, kroovy, fuckup, mills).
TYPED_LISTINGS = ("003", "017", "023", "024", "026", "038", "044", "048")
_ITEM = re.compile(r"^(?: \(DIR\) |   DIR |DIR )")


def _index_rows(kind_prefix: str) -> list[str]:
    index = DUMPS / "INDEX.md"
    if not index.is_file():
        return []
    rows = []
    for row in index.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in row.split("|")]
        if len(cells) > 4 and re.fullmatch(r"\d{3}", cells[1]) and cells[4].startswith(kind_prefix):
            rows.append(cells[1])
    return rows


def listing_capture_as_gophermap(path: Path) -> tuple[str, list[tuple[str, str]]]:
    """A typed listing capture as the gophermap taz sent (selectors invented: the
    proxies do not show them); also (title, teaser) per article, read off by eye's rule:
    a DIR line, then its info lines up to the next DIR line."""
    lines = path.read_text(encoding="utf-8").split("\n")[1:]
    lines = [line for line in lines if not line.startswith("URI:")]
    rows, expected = [], []
    teaser: list[str] = []
    for line in lines[:-1]:  # the last line is where the store cut off
        item = _ITEM.match(line)
        if item:
            if expected:
                expected[-1] = (expected[-1][0], " ".join(teaser))
            teaser = []
            number = 9_000_000 + len(expected)
            title = line[item.end() :]
            rows.append(f"1{title}\t/Slug/!{number}/\ttaz.de\t70")
            expected.append((title, ""))
        else:
            text = line.removeprefix(" " * 7).strip() if line.startswith(" ") else line
            rows.append(f"i{text}\t\ttaz.de\t70")
            if expected and text.strip():
                teaser.append(text.strip())
    if expected:
        expected[-1] = (expected[-1][0], " ".join(teaser))
    return "".join(row + "\r\n" for row in rows) + ".\r\n", expected


@needs_shared
@pytest.mark.parametrize("number", TYPED_LISTINGS)
def test_listing_capture_gives_its_articles_in_order(number: str) -> None:
    gophermap, expected = listing_capture_as_gophermap(DUMPS / f"{number}.txt")
    listing = read_listing(gophermap, kind="tag")
    assert len(expected) >= 2, "the capture shows at least two articles"
    assert [f"{t.topline}: {t.title}" if t.topline else t.title for t in listing.teasers] == [
        title for title, _ in expected
    ]
    assert [t.teaser for t in listing.teasers][:-1] == [teaser for _, teaser in expected][:-1]
    assert [t.id for t in listing.teasers] == [str(9_000_000 + n) for n in range(len(expected))]


@needs_shared
def test_author_listing_name_drops_the_alle_artikel_prefix() -> None:
    gophermap, _ = listing_capture_as_gophermap(DUMPS / "023.txt")
    assert read_listing(gophermap, kind="author").name == "Jakob Struller"


@needs_shared
@pytest.mark.parametrize("number", _index_rows("article") or ["absent"])
def test_article_capture_as_gophermap_reads_back_to_the_same_article(number: str) -> None:
    path = DUMPS / f"{number}.txt"
    article = read_dump(path.read_text(encoding="utf-8"), source=path.name)
    gophermap = render(article, "gophermap")
    again = read_article(gophermap, article.id)
    assert again.layout == LAYOUT
    assert again.id == article.id
    for fmt in ("seed", "text", "gophermap"):
        assert render(again, fmt) == render(article, fmt), f"{number} {fmt}"


def test_replica_articles_survive_the_gophermap_for_every_rendering() -> None:
    site = Site(60)
    for id_ in list(site.article_ids())[:60]:
        article = site.article(id_)
        again = read_article(render(article, "gophermap"), id_)
        assert render(again, "seed") == render(article, "seed"), id_
        assert again.id == id_


def test_parse_menu_gives_build_menu_lines_back() -> None:
    article = Site(20).article(next(iter(Site(20).article_ids())))
    options = GopherOptions(host="127.0.0.1", port=7070, selector_prefix="/archiv")
    rows = parse_menu(render(article, "gophermap", gopher=options))
    built = build_menu(article, options)
    assert [(r.line.type, r.line.text, r.line.selector) for r in rows] == [
        (m.type, m.text, m.selector) for m in built
    ]
    assert {(r.host, r.port) for r in rows} == {("127.0.0.1", "7070")}


MENU = (
    "i# taz.de -- Alle Artikel von Erna Beispiel\t\ttaz.de\t70\r\n"
    "i\t\ttaz.de\t70\r\n"
    "1Obst: Äpfel im Winter\t/Obst/!6000001/\ttaz.de\t70\r\n"
    "i\t\ttaz.de\t70\r\n"
    "iWarum Äpfel im Keller besser\t\ttaz.de\t70\r\n"
    "iüberwintern als im Kühlschrank.\t\ttaz.de\t70\r\n"
    "i\t\ttaz.de\t70\r\n"
    "1Ohne Dachzeile\t/!6000002/\ttaz.de\t70\r\n"
    "1Schwerpunkt Obst\t/!t5000001/\ttaz.de\t70\r\n"
    "1Gesellschaft\t/Gesellschaft/!p4611/\ttaz.de\t70\r\n"
    "1RSS\t/!p4611;rss/\ttaz.de\t70\r\n"
    "hAnderswo\tURL:https://example.org/\ttaz.de\t70\r\n"
    ".\r\n"
)


def test_listing_menu_articles_and_other_menus() -> None:
    listing = read_listing(MENU, "gopher://taz.de/1/!a1", "author")
    assert listing.name == "Erna Beispiel"
    assert [(t.id, t.topline, t.title) for t in listing.teasers] == [
        ("6000001", "Obst", "Äpfel im Winter"),
        ("6000002", "", "Ohne Dachzeile"),
    ]
    assert listing.teasers[0].teaser == (
        "Warum Äpfel im Keller besser überwintern als im Kühlschrank."
    )
    assert listing.links == ["/!t5000001/", "/Gesellschaft/!p4611/"]


def test_selector_prefix_is_taken_off_listing_links() -> None:
    prefixed = MENU.replace("\t/", "\t/archiv/")
    listing = read_listing(prefixed, gopher=GopherOptions(selector_prefix="/archiv"))
    assert listing.teasers[0].url == "/Obst/!6000001/"


def test_menu_without_title_is_no_listing() -> None:
    with pytest.raises(NotADump):
        read_listing("1Irgendwas\t/!6000001/\ttaz.de\t70\r\n.\r\n")


def test_error_menu_is_no_article() -> None:
    with pytest.raises(NotADump):
        read_article("3nicht gefunden\t\terror.host\t1\r\n.\r\n", "6000001")
