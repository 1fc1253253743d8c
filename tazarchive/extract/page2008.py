"""taz.de article pages in the older tazxslt designs (about 2008 to 2017).

What these versions share, not one page's classes: ``div.sect_article >
div.sectbody`` holds an ``h4`` topline, the ``h1`` title, ``p.intro`` (whose
end may be the byline, "… VON NAME"), the picture (``a.picture``,
``p.caption > span.credit``), ``p.article`` paragraphs (with or without
first/odd/even/last) and ``h6`` subheadings, with racks, ad bins, scripts and
the "taz zahl ich" paywall box between them. The date is ``span.date`` written
with line breaks ("10.\\n04.\\n2011"); the id is in ``span#cmsArticleID`` or the
canonical link, and pages before about 2012 may carry none.
"""

from __future__ import annotations

import re
from datetime import datetime

from tazarchive.extract._html import Element, clean, css, first, has_class, text_of, xpath
from tazarchive.extract.base import BERLIN, unique_authors
from tazarchive.extract.page2019 import ArticlePage2019
from tazarchive.items import Author

# "… Sie blicken neidisch nach Deutschland. VON GEORG BLUME" (names in capitals).
_NAME = r"[A-ZÄÖÜ][A-ZÄÖÜß.'\-]*(?: [A-ZÄÖÜ][A-ZÄÖÜß.'\-]*)*"
_BYLINE = re.compile(rf"\s*\bVON ({_NAME}(?:(?:, | UND ){_NAME})*)\s*$")
_NAMES = re.compile(r", | UND ")
_DATE = re.compile(r"(\d{1,2})\.\s*(\d{1,2})\.\s*(\d{4})")


class ArticlePage2008(ArticlePage2019):
    """taz.de article page, older tazxslt designs (``div.sect_article > div.sectbody``)."""

    LAYOUT = "2008"

    CONTAINER_CLASS = "sectbody"  # div.sectbody inside div.sect_article
    DATE = css("span.date")
    CMS_ID = xpath("//span[@id='cmsArticleID']")
    AUTHOR_META = xpath("/html/head/meta[@name='author']/@content")

    @classmethod
    def find(cls, root: Element) -> Element | None:
        for div in root.iter("div"):
            parent = div.getparent()
            if (
                has_class(div, cls.CONTAINER_CLASS)
                and parent is not None
                and has_class(parent, cls.ARTICLE_PARENT_CLASS)
                and any(child.tag == "h1" for child in div)
            ):
                return div
        return None

    def declared_ids(self) -> list[str]:
        found = super().declared_ids()
        cms = first(self.CMS_ID(self.root))
        if cms is not None and text_of(cms):
            found.append(text_of(cms))
        return found

    _teaser_parts: tuple[str, str] | None = None

    def _split_teaser(self) -> tuple[str, str]:
        """The teaser without its byline, and the byline's names as written."""
        if self._teaser_parts is None:
            teaser = super().teaser()
            byline = _BYLINE.search(teaser) if "VON " in teaser else None
            if byline is None or byline.start() == 0:
                self._teaser_parts = teaser, ""
            else:
                self._teaser_parts = teaser[: byline.start()].rstrip(), byline.group(1)
        return self._teaser_parts

    def teaser(self) -> str:
        return self._split_teaser()[0]

    def authors(self) -> list[Author]:
        from_boxes = super().authors()
        from_meta = [
            Author(name)
            for value in self.AUTHOR_META(self.root)
            for name in map(clean, str(value).split(","))
            if name
        ]
        _, byline = self._split_teaser()
        if not byline:
            return from_boxes or unique_authors(from_meta)
        # The byline names the authors (in capitals); a profile box or the meta tag spells them.
        known: dict[str, Author] = {}
        for author in from_meta + from_boxes:  # a box (with the author's id) wins
            known[author.name.casefold()] = author
        named = [
            known.get(name.casefold()) or Author(name.title()) for name in _NAMES.split(byline)
        ]
        return unique_authors(named + from_boxes)

    def published(self) -> datetime | None:
        date = first(self.DATE(self.root))
        found = _DATE.search(text_of(date)) if date is not None else None
        if found is None:
            return super().published()
        day, month, year = map(int, found.groups())
        try:
            return datetime(year, month, day, tzinfo=BERLIN)
        except ValueError:
            return None

    def container_unclosed(self, data: bytes) -> bool:
        return False  # a div: its end cannot be told from the bytes cheaply
