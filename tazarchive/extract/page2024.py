"""taz.de article pages in the current design (live since 2024-10-15)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from urllib.parse import urljoin

from lxml import etree

from tazarchive import urls
from tazarchive.extract._html import (
    Element,
    classes,
    css,
    first,
    first_by_class,
    has_class,
    text_of,
    text_with_links,
    xpath,
)
from tazarchive.extract.base import (
    ArticlePage,
    BlockSource,
    RawBlock,
    author_from_link,
    is_furniture,
    ld_authors,
    parse_datetime,
    related_teaser,
    unique_authors,
)
from tazarchive.extract.checks import container_unclosed
from tazarchive.items import Author, Picture, Related, Tag

_SKIP_TAGS = frozenset(
    {"script", "style", "noscript", "template", "button", "figure", "picture", "img", "aside"}
)
_HEADINGS = frozenset({"h2", "h3", "h4", "h5", "h6"})
_LISTS = frozenset({"ul", "ol"})


class ArticlePage2024(ArticlePage):
    """taz.de article page, design live since 2024-10-15."""

    LAYOUT = "2024"

    ARTICLE_CLASS = "module-article"  # on <article>
    BODY = css("div.main-article-corpus")
    HEADLINE = css("h1")
    TEASER = css("p.typo-r-subline-detail")
    AUTHOR_LINKS = css("div.author-container a[href*='!a']")
    AUTHOR_NAMES = css("div.author-container .typo-name-detail-bold")
    DATE = css("div.meta-data-container time[datetime]")
    # The lead picture, not pictures inside the text.
    PICTURE = xpath(
        ".//div[@data-for='picture'][not(ancestor::div[contains(@class,'main-article-corpus')])]"
    )
    PICTURE_LINK = css("figure a[href]")
    PICTURE_IMG = css("img[src]")
    CAPTION = css("figcaption")
    CREDIT = css(".typo-fotocredit")
    TAG_LINKS = css("div.tags-bottom-container a[href*='!t']")
    RELATED_SECTION_ID = "articleTeaser"  # section#articleTeaser, "Mehr zum Thema"
    RELATED_TEASER_CLASS = "article-teaser"
    # In each teaser: a.teaser-link[href] and these classes.
    TEASER_TOPLINE = "typo-r-topline"
    TEASER_TITLE = "headline"
    TEASER_TEXT = "typo-r-subline"
    TEASER_PARTS = (TEASER_TOPLINE, TEASER_TITLE, TEASER_TEXT)
    DROP_CAP_CLASS = "initial-letter"  # span.initial-letter(-outer): "S" + "o kalt"
    GENRE_PREFIX = "article-type-"
    # Boxes inside the text, by data-for: which ones hold article text.
    TEXT_BOXES: ClassVar[frozenset[str]] = frozenset({"webelement_bio", "webelement_info"})
    # Ads, pull quotes (repeat the text), embeds: not article text.
    # (Anything else with data-for is left out too: it is a widget, not text.)

    # The parts that are direct children of <article> on real pages, found in
    # one pass over its children; the selectors above are the fallback for
    # pages that nest them deeper.
    CHILD_CLASSES: ClassVar[dict[str, str]] = {
        "main-article-corpus": "body",
        "typo-r-subline-detail": "teaser",
        "author-container": "author",
    }

    @classmethod
    def find(cls, root: Element) -> Element | None:
        # iter() filters by tag in C: cheaper than a selector over the whole page.
        for article in root.iter("article"):
            if has_class(article, cls.ARTICLE_CLASS) and (
                any("main-article-corpus" in (c.get("class") or "") for c in article)
                or cls.BODY(article)
            ):
                return article
        return None

    def container_unclosed(self, data: bytes) -> bool:
        return container_unclosed(data, b"module-article", b"</article")

    def children(self) -> dict[str, list[Element]]:
        """The article's direct children by part: headline, teaser, author, picture, body."""
        if self._children is None:
            found: dict[str, list[Element]] = {}
            for child in self.article:
                tag = child.tag
                if tag == "h1":
                    found.setdefault("headline", []).append(child)
                    continue
                if child.get("data-for") == "picture":
                    found.setdefault("picture", []).append(child)
                    continue
                for name in (child.get("class") or "").split():
                    part = self.CHILD_CLASSES.get(name)
                    if part is not None:
                        found.setdefault(part, []).append(child)
            self._children = found
        return self._children

    _children: dict[str, list[Element]] | None = None

    def _part(self, name: str, selector: etree.XPath) -> list[Element]:
        return self.children().get(name) or selector(self.article)

    # --- headline ---------------------------------------------------------------
    def topline_and_title(self) -> tuple[str, str]:
        h1 = first(self._part("headline", self.HEADLINE))
        topline = title = ""
        if h1 is not None:
            spans = [s for s in h1 if s.tag == "span" and not has_class(s, "is-hidden")]
            for span in spans:
                if any("topline" in c for c in classes(span)):
                    topline = text_of(span)
                else:
                    title = text_of(span) or title
            if not spans:
                title = text_of(h1)
        if not title:
            title = self.head.title
            if topline and title.startswith(topline + ": "):
                title = title[len(topline) + 2 :]
        return topline, title

    def teaser(self) -> str:
        for p in self._part("teaser", self.TEASER):
            if not _in_corpus(p):
                return text_of(p)
        return ""

    # --- people and time --------------------------------------------------------
    def authors(self) -> list[Author]:
        boxes = self.children().get("author")
        links = (
            [a for box in boxes for a in box.iter("a")]
            if boxes
            else self.AUTHOR_LINKS(self.article)
        )
        found = [
            author_from_link(text_of(a), a.get("href"))
            for a in links
            if urls.author_id(a.get("href") or "")
        ]
        authors = [a for a in found if a is not None]
        if not authors:
            authors = [Author(n) for n in map(text_of, self.AUTHOR_NAMES(self.article)) if n]
        if not authors:
            authors = ld_authors(self.head.ld)
        return unique_authors(authors)

    def published(self) -> datetime | None:
        if self.head.ld:
            found = parse_datetime(self.head.ld.get("datePublished"))
            if found:
                return found
        found = parse_datetime(self.head.published)
        if found:
            return found
        # Shown date and time are Berlin time: "2023-04-28" + "18:41".
        values = [t.get("datetime", "").strip() for t in self.DATE(self.article)]
        day = next((v for v in values if len(v) == 10 and v[4] == "-"), "")
        clock = next((v for v in values if ":" in v and len(v) <= 8), "00:00")
        return parse_datetime(f"{day}T{clock}") if day else None

    # --- picture ----------------------------------------------------------------
    def picture(self) -> Picture | None:
        box = first(self._part("picture", self.PICTURE))
        if box is None:
            return None
        caption_el = first(self.CAPTION(box))
        credit = text_of(first(self.CREDIT(caption_el))) if caption_el is not None else ""
        caption = text_of(caption_el, skip=_skip_credit) if caption_el is not None else ""
        link = first(self.PICTURE_LINK(box))
        img = first(self.PICTURE_IMG(box))
        src = link.get("href") if link is not None else img.get("src") if img is not None else None
        if not caption:
            caption = (img.get("alt") or "").strip() if img is not None else ""
        return Picture(caption, credit, urljoin(self.url, src.strip()) if src else None)

    # --- body -------------------------------------------------------------------
    def body(self) -> list[RawBlock]:
        blocks: list[RawBlock] = []
        corpus = first(self._part("body", self.BODY))
        if corpus is not None:
            self._collect(corpus, blocks, "text")
        self.has_drop_cap = any(block.content.drop_cap for block in blocks[:1])
        return blocks

    def _collect(self, element: Element, blocks: list[RawBlock], source: BlockSource) -> None:
        for child in element:
            tag = child.tag
            if not isinstance(tag, str) or tag in _SKIP_TAGS:
                continue
            box = child.get("data-for")
            if box is not None:
                if box in self.TEXT_BOXES:
                    self._collect(child, blocks, "box")
                continue
            if tag == "p" or (tag == "blockquote" and not len(child)):
                content = text_with_links(
                    child, skip_tags=_SKIP_TAGS, drop_cap_class=self.DROP_CAP_CLASS
                )
                blocks.append(RawBlock("paragraph", content, source, child))
            elif tag in _HEADINGS:
                content = text_with_links(child, skip_tags=_SKIP_TAGS)
                blocks.append(RawBlock("subheading", content, source, child))
            elif tag in _LISTS:
                for item in child:
                    if item.tag == "li":
                        content = text_with_links(item, skip_tags=_SKIP_TAGS)
                        blocks.append(RawBlock("paragraph", content, source, item))
            elif not _is_promotion(child):
                self._collect(child, blocks, source)

    # --- around the article -----------------------------------------------------
    def tags_from_page(self) -> list[Tag]:
        tags = []
        for a in self.TAG_LINKS(self.root):
            name = text_of(a).lstrip("#").strip()
            if name:
                tags.append(Tag(name, urls.tag_id(a.get("href") or "")))
        return tags

    def related(self) -> list[Related]:
        section = next(
            (s for s in self.root.iter("section") if s.get("id") == self.RELATED_SECTION_ID), None
        )
        if section is None:
            return []
        result = []
        for teaser in section.iter("div", "article"):
            names = teaser.get("class")
            if not names or self.RELATED_TEASER_CLASS not in names.split():
                continue
            parts = first_by_class(teaser, self.TEASER_PARTS, ("p", "div"))
            href = next(
                (
                    a.get("href")
                    for a in teaser.iter("a")
                    if has_class(a, "teaser-link") and urls.article_id(a.get("href") or "")
                ),
                None,
            )
            item = related_teaser(
                href,
                text_of(parts.get(self.TEASER_TOPLINE)),
                text_of(parts.get(self.TEASER_TITLE)),
                text_of(parts.get(self.TEASER_TEXT)),
            )
            if item:
                result.append(item)
        return result

    def genre(self) -> str | None:
        for name in classes(self.article):
            if name.startswith(self.GENRE_PREFIX) and len(name) > len(self.GENRE_PREFIX):
                return name[len(self.GENRE_PREFIX) :]
        return None


# Class words of boxes that are not text (promotion, donation, paywall, teasers, sharing).
_FURNITURE_WORDS = ("tzi", "paywall", "promo", "teaser", "share", "newsletter", "abo", "rack")


def _is_promotion(element: Element) -> bool:
    """A container in the corpus that is furniture, not text (boxes without data-for)."""
    names = (element.get("class") or "") + " " + (element.get("id") or "")
    if any(word in names for word in _FURNITURE_WORDS):
        return True
    # A form or a campaign link, unless in the wrapper that holds the text paragraphs.
    return is_furniture(element) and not any(has_class(p, "paragraph") for p in element.iter("p"))


def _skip_credit(element: Element) -> bool:
    return element.tag in _SKIP_TAGS or has_class(element, "typo-fotocredit")


def _in_corpus(element: Element) -> bool:
    parent = element.getparent()
    while parent is not None:
        if "main-article-corpus" in (parent.get("class") or ""):
            return True
        parent = parent.getparent()
    return False
