"""Listing teasers: the one-walk reader gives what the CSS selectors select."""

from __future__ import annotations

from pathlib import Path

import pytest

from tazarchive import urls
from tazarchive.extract._html import first, parse_html, text_of
from tazarchive.extract.listing import ListingPage, _author
from tazarchive.items import Teaser

DATA = Path(__file__).parent / "data" / "extract"

# Invented markup in the current design, with the parts in odd places and orders.
_TRICKY = """<html><body>
<div class="article-teaser">
  <a class="teaser-link" href="/Ohne-Id/">kein Artikel</a>
  <span class="date">1. Juli</span><time datetime="2025-07-02">2. Juli</time>
  <a class="x  teaser-link" href="/Eins/!6000001/"><p class="typo-r-topline">Dach</p></a>
  <h3 class="headline">Eins</h3><h3 class="headline">Zwei</h3>
  <p class="typo-r-subline">Text <span class="author">von Erika Muster</span></p>
  <span class="typo-r-name">Kommentar von Max Muster</span>
</div>
<div class="article-teaser"><a class="teaser-link" href="/x/">nichts</a></div>
<div class="article-teaser headline">
  <a class="teaser-link&#9;big" href="https://taz.de/!6000002/">Zwei</a>
  <p class="typo-r-date&#10;x">3. Juli</p><p class="typo-r-topline&#160;x">kein Dach</p>
</div>
</body></html>"""


def _teaser_by_selectors(page: ListingPage, element: object) -> Teaser | None:
    """The teaser as the CSS selectors (XPath, one per part) read it."""
    href = next(
        (a.get("href") for a in page.TEASER_LINK(element) if urls.article_id(a.get("href") or "")),
        None,
    )
    if href is None:
        return None
    return Teaser(
        id=urls.article_id(href) or "",
        url=href,
        topline=text_of(first(page.TOPLINE(element))),
        title=text_of(first(page.TITLE(element))),
        teaser=text_of(first(page.TEXT(element))),
        author=_author(text_of(first(page.AUTHOR(element)))),
        date=text_of(first(page.DATE(element))),
    )


@pytest.mark.parametrize(
    "html",
    [_TRICKY.encode(), *(p.read_bytes() for p in sorted(DATA.glob("listing-*.html")))],
    ids=["tricky", *(p.stem for p in sorted(DATA.glob("listing-*.html")))],
)
def test_teasers_are_what_the_selectors_select(html: bytes) -> None:
    root = parse_html(html)
    assert root is not None
    page = ListingPage(root, "https://taz.de/")
    elements = page.TEASERS(root)
    assert elements
    got = [page._teaser(element) for element in elements]
    assert got == [_teaser_by_selectors(page, element) for element in elements]
    assert any(got)


def test_tricky_teaser_parts_come_from_the_first_matching_element() -> None:
    root = parse_html(_TRICKY)
    assert root is not None
    page = ListingPage(root, "https://taz.de/")
    first_teaser, second, third = (page._teaser(e) for e in page.TEASERS(root))
    assert first_teaser == Teaser(
        id="6000001",
        url="/Eins/!6000001/",
        topline="Dach",
        title="Eins",
        teaser="Text von Erika Muster",
        author="Erika Muster",
        date="1. Juli",
    )
    assert second is None
    assert third is not None
    # The teaser element itself is a "headline"; a no-break space does not split classes.
    assert (third.id, third.title, third.topline, third.date) == (
        "6000002",
        "Zwei 3. Julikein Dach",
        "",
        "3. Juli",
    )
