"""taz.de article pages in the previous design ("tazxslt", about 2017 to 2024-10-14)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from urllib.parse import urljoin

from tazarchive import urls
from tazarchive.extract._html import (
    Element,
    classes,
    clean,
    css,
    first,
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
    furniture_in,
    ld_authors,
    parse_datetime,
    related_teaser,
    unique_authors,
)
from tazarchive.extract.checks import container_unclosed
from tazarchive.items import Author, Picture, Related, Tag

_SKIP_TAGS = frozenset(
    {"script", "style", "noscript", "template", "button", "img", "figure", "aside", "h1"}
)
_HEADINGS = frozenset({"h2", "h3", "h4", "h5", "h6"})
_LISTS = frozenset({"ul", "ol"})


class ArticlePage2019(ArticlePage):
    """taz.de article page, previous design ("tazxslt")."""

    LAYOUT = "2019"

    ARTICLE_CLASS = "sectbody"  # article.sectbody inside div.sect_article
    ARTICLE_PARENT_CLASS = "sect_article"
    HEADLINE = css("h1")
    KICKER = css("span.kicker")
    TEASER = css("p.intro")
    CAPTION = css("p.caption")
    CREDIT = css("span.credit")
    PICTURE_LINK = css("a.picture[href]")
    PICTURE_IMG = css("img[src]")
    DATE = css("li.date[itemprop='datePublished']")
    # Boxes after the article, div.sect_<kind>: author boxes ("mehr von" boxes
    # further down repeat them), tags, related articles ("Mehr zum Thema").
    PROFILE = "sect_profile"
    TAGS = "sect_tags"
    RELATED_BOXES = ("sect_thema", "sect_related")
    SECTION_CLASSES = (PROFILE, TAGS, *RELATED_BOXES)
    AUTHOR_NAME = css("h4")
    TAG_LINKS = css("li a.tag[href]")
    RELATED_ITEM = "li"
    RELATED_LINK = css("a.objlink[href]")
    RELATED_TOPLINE = css("h4")
    RELATED_TITLE = css("h3")
    # The teaser paragraph of a related article, without its "von Name" line.
    RELATED_TEXT = xpath(".//p[not(ancestor::span[contains(@class,'author')])]")
    # Classes of div.sect_article that say nothing about the genre.
    NOT_GENRE: ClassVar[frozenset[str]] = frozenset(
        {"odd", "even", "first", "last", "sect", "sect_article", "news", "subjective", "objective"}
    )
    TEXT_CLASS = "article"  # p.article: a text paragraph
    CONTAINER_MARKER = b'itemprop="articleBody"'  # on the article.sectbody start tag
    DESCRIPTION = xpath("/html/head/meta[@name='description']/@content")

    def sections(self) -> dict[str, list[Element]]:
        """The page's div.sect_* boxes this design reads, by class, in one pass over the divs.

        (A Python pass over the divs is cheaper than one XPath class search per box kind.)
        """
        if self._sections is None:
            found: dict[str, list[Element]] = {name: [] for name in self.SECTION_CLASSES}
            for div in self.root.iter("div"):
                names = div.get("class")
                if names and "sect_" in names:
                    for name in names.split():
                        if name in found:
                            found[name].append(div)
            self._sections = found
        return self._sections

    _sections: dict[str, list[Element]] | None = None

    @classmethod
    def find(cls, root: Element) -> Element | None:
        # iter() filters by tag in C: cheaper than a selector over the whole page.
        for article in root.iter("article"):
            parent = article.getparent()
            if (
                has_class(article, cls.ARTICLE_CLASS)
                and parent is not None
                and has_class(parent, cls.ARTICLE_PARENT_CLASS)
                and cls.HEADLINE(article)
            ):
                return article
        return None

    def _topline_element(self) -> Element | None:
        """Older pages put the topline in an h4 before the h1, not in span.kicker."""
        h1 = first(self.HEADLINE(self.article))
        if h1 is None:
            return None
        kicker = first(self.KICKER(h1))
        if kicker is not None:
            return kicker
        previous = h1.getprevious()
        while previous is not None and not isinstance(previous.tag, str):
            previous = previous.getprevious()
        return previous if previous is not None and previous.tag == "h4" else None

    def topline_and_title(self) -> tuple[str, str]:
        h1 = first(self.HEADLINE(self.article))
        if h1 is None:
            return "", self.head.title
        topline_el = self._topline_element()
        topline = text_of(topline_el)
        spans = [
            s
            for s in h1
            if s.tag == "span" and not has_class(s, "kicker") and not has_class(s, "hide")
        ]
        title = " ".join(filter(None, map(text_of, spans))) if spans else text_of(h1)
        return topline, title or self.head.title

    def teaser(self) -> str:
        return text_of(first(self.TEASER(self.article)))

    def authors(self) -> list[Author]:
        found = []
        for profile in self.sections()[self.PROFILE]:
            for a in profile.iter("a"):
                href = a.get("href") or ""
                if urls.author_id(href):
                    name_el = first(self.AUTHOR_NAME(a))
                    name = text_of(name_el if name_el is not None else a)
                    found.append(author_from_link(name, href))
        authors = [a for a in found if a is not None]
        if not authors:
            authors = ld_authors(self.head.ld) or [Author(n) for n in self.head.author_names if n]
        return unique_authors(authors)

    def published(self) -> datetime | None:
        # The meta tag carries the offset in this design; li.date says the same.
        found = parse_datetime(self.head.published)
        if found is None:
            date = first(self.DATE(self.root))
            found = parse_datetime(date.get("content")) if date is not None else None
        return found

    def picture(self) -> Picture | None:
        caption_el = first(self.CAPTION(self.article))
        link = first(self.PICTURE_LINK(self.article))
        if caption_el is None and link is None:
            return None
        credit = text_of(first(self.CREDIT(caption_el))) if caption_el is not None else ""
        caption = text_of(caption_el, skip=lambda e: has_class(e, "credit"))
        img = first(self.PICTURE_IMG(link)) if link is not None else None
        src = link.get("href") if link is not None else None
        if not caption and img is not None:
            caption = (img.get("alt") or "").strip()
        return Picture(caption, credit, urljoin(self.url, src.strip()) if src else None)

    def body(self) -> list[RawBlock]:
        blocks: list[RawBlock] = []
        self._collect(self.article, blocks, "text", self._topline_element())
        return blocks

    def _collect(
        self,
        element: Element,
        blocks: list[RawBlock],
        source: BlockSource,
        topline: Element | None,
    ) -> None:
        # Only what is known to be text: the container's own paragraphs,
        # headings, lists and quotes. Everything in a div (racks, promotion
        # and paywall boxes, ad slots) or a span (ad bins) is left out.
        for child in element:
            tag = child.tag
            if not isinstance(tag, str) or tag in _SKIP_TAGS or child is topline:
                continue
            if tag == "p" or tag == "blockquote":
                if self._is_text_paragraph(child):
                    content = text_with_links(child, skip_tags=_SKIP_TAGS)
                    blocks.append(RawBlock("paragraph", content, source, child))
            elif tag in _HEADINGS:
                content = text_with_links(child, skip_tags=_SKIP_TAGS)
                blocks.append(RawBlock("subheading", content, source, child))
            elif tag in _LISTS:
                for item in child:
                    if item.tag == "li":
                        content = text_with_links(item, skip_tags=_SKIP_TAGS)
                        blocks.append(RawBlock("paragraph", content, source, item))

    def _is_text_paragraph(self, p: Element) -> bool:
        """p.article (with or without first/odd/even/last), or a p without any class."""
        names = classes(p)
        return not names or self.TEXT_CLASS in names

    # --- completeness (12.4): what these designs offer in place of JSON-LD ------
    def check_body(self, blocks: list[RawBlock]) -> str | None:
        return tazxslt_mismatch(self, blocks)

    def container_unclosed(self, data: bytes) -> bool:
        return container_unclosed(data, self.CONTAINER_MARKER, b"</article")

    def tags_from_page(self) -> list[Tag]:
        boxes = self.sections()[self.TAGS]
        if not boxes:
            return []
        return [
            Tag(text_of(a), urls.tag_id(a.get("href") or ""))
            for a in self.TAG_LINKS(boxes[0])
            if text_of(a)
        ]

    def related(self) -> list[Related]:
        result = []
        sections = self.sections()
        for box in (box for kind in self.RELATED_BOXES for box in sections[kind]):
            for li in box.iter(self.RELATED_ITEM):
                link = first(self.RELATED_LINK(li))
                if link is None:
                    continue
                teaser_el = first(self.RELATED_TEXT(link))
                item = related_teaser(
                    link.get("href"),
                    text_of(first(self.RELATED_TOPLINE(link))),
                    text_of(first(self.RELATED_TITLE(link))),
                    text_of(teaser_el, skip=_skip_author) if teaser_el is not None else "",
                )
                if item:
                    result.append(item)
        return result

    def genre(self) -> str | None:
        parent = self.article.getparent()
        names = (
            [c for c in classes(parent) if c not in self.NOT_GENRE] if parent is not None else []
        )
        return names[-1] if names else None


def tazxslt_mismatch(page: ArticlePage2019, blocks: list[RawBlock]) -> str:
    """The tazxslt designs' completeness check: "" when the body looks whole and clean.

    The meta description must agree with the teaser; the text paragraphs of
    the article container (p.article, wherever they sit) must be exactly the
    paragraphs kept; no kept block may carry a campaign link or a form.
    """
    descriptions = page.DESCRIPTION(page.root)
    teaser = page.teaser()
    if descriptions and teaser and not _agrees(clean(str(descriptions[0])), teaser):
        return f"teaser differs from the meta description: {teaser[:40]!r}"
    furniture = furniture_in(blocks)
    if furniture:
        return furniture
    # The kept paragraphs must be exactly the container's non-empty p.article
    # (compared as elements: no text is built twice).
    kept = {b.element for b in blocks if b.element is not None and b.element.tag == "p"}
    marked = [p for p in page.article.iter("p") if page.TEXT_CLASS in classes(p)]
    missing = next((p for p in marked if p not in kept and text_of(p)), None)
    if missing is not None:
        return f"a text paragraph of the container is missing: {text_of(missing)[:40]!r}"
    unmarked = next((b for b in blocks if b.element in kept and b.element not in marked), None)
    if unmarked is not None and unmarked.content.text:
        return f"a paragraph not marked as text was kept: {unmarked.content.text[:40]!r}"
    return ""


def _agrees(description: str, teaser: str) -> bool:
    """A description may stop short of the teaser ("…") or go on (with the byline)."""
    description, teaser = description.rstrip(" .…"), teaser.rstrip(" .…")
    return teaser.startswith(description) or description.startswith(teaser)


def _skip_author(element: Element) -> bool:
    return element.tag in _SKIP_TAGS or has_class(element, "author")
