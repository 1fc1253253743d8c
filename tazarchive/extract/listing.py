"""taz.de listing pages: home, sections (!p), tags (!t), authors (!a), search results.

What is followed comes from :func:`page_hrefs` (every ``a[href]``, whatever
the markup) and taz's URL patterns (:func:`tazarchive.urls.page_links`): no
real listing HTML has been seen, so the teaser markup below is a guess that
only adds metadata (titles, page counts for ETAs), never decides what is fetched.

Markup of the current design (``.article-teaser`` with ``a.teaser-link``,
pagination ``nav[aria-label=pagination]`` / ``a.pagination-next``), read
tolerantly: ``rel=next`` links and the previous design's ``a.objlink`` lists
work too.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urljoin, urlsplit, urlunsplit

from lxml import etree

from tazarchive import urls
from tazarchive.extract._html import Element, as_bytes, clean, css, first, parse_page, text_of
from tazarchive.extract.checks import check_bounds
from tazarchive.items import Listing, Teaser

_DIGITS = re.compile(r"\d+")
# XPath's normalize-space (which CSS class selectors use) splits at these only.
_XPATH_SPACES = str.maketrans("\t\n\r", "   ")
# A teaser's parts by class: TOPLINE, TITLE, TEXT, AUTHOR, DATE below ("time" elements too).
_TEASER_PARTS = {
    "typo-r-topline": "topline",
    "headline": "title",
    "typo-r-subline": "teaser",
    "typo-r-name": "author",
    "author": "author",
    "typo-r-date": "date",
    "date": "date",
}
_TEASER_CLASS_WORDS = re.compile("|".join([*_TEASER_PARTS, "teaser-link"]))
_TITLE_SUFFIX = re.compile(r"\s*[-\u2013|]\s*taz\.de\s*$", re.IGNORECASE)  # "-", en dash, "|"
# Plain strings, not lxml's "smart" ones that keep a reference to their tree.
_HREFS = etree.XPath("//a/@href", smart_strings=False)


def page_hrefs(html: bytes | str, url: str = "") -> list[str]:
    """Every ``a[href]`` value of a page, in document order, whatever the markup around it.

    One parse and one XPath: measured faster than an lxml parser target that
    calls back into Python per element. Raises PageRejected (``too_complex``)
    for a page beyond the parse bounds, as article extraction does.
    """
    data, encoding = as_bytes(html)
    check_bounds(data, url)
    root, _ = parse_page(data, encoding)
    return _HREFS(root) if root is not None else []


class ListingPage:
    """A listing page of either design."""

    TEASERS = css(".article-teaser")
    TEASER_LINK = css("a.teaser-link[href]")
    TOPLINE = css(".typo-r-topline")
    TITLE = css(".headline")
    TEXT = css(".typo-r-subline")
    AUTHOR = css(".typo-r-name, .author")
    DATE = css("time, .typo-r-date, .date")
    # Previous design: li > a.objlink > h4 (topline), h3 (title), p (teaser).
    OLD_TEASERS = css("a.objlink[href]")
    OLD_TOPLINE = css("h4")
    OLD_TITLE = css("h3")
    OLD_TEXT = css("p")
    OLD_AUTHOR = css(".author")
    NEXT = css(
        "a.pagination-next[href], nav[aria-label=pagination] a[rel~=next][href],"
        " a[rel~=next][href], link[rel~=next][href]"
    )
    PAGINATION = css("nav[aria-label=pagination], nav.pagination, ul.pagination")
    CURRENT_PAGE = css("[aria-current=page]")
    HEADING = css("h1")
    TITLE_TAG = css("head > title")
    LINKS = css("a[href]")

    def __init__(self, root: Element, url: str) -> None:
        self.root = root
        self.url = url

    def kind(self) -> str:
        path = unquote(urlsplit(self.url).path)
        query = parse_qs(urlsplit(self.url).query)
        if "!s=" in path or "s" in query:
            return "search"
        obj = urls.classify(self.url)
        if obj is not None and obj.kind in ("section", "tag", "author"):
            return obj.kind
        if path.strip("/") == "":
            return "home"
        return "other"

    def name(self) -> str:
        heading = text_of(first(self.HEADING(self.root)))
        if heading:
            return heading
        return _TITLE_SUFFIX.sub("", text_of(first(self.TITLE_TAG(self.root))))

    def teasers(self) -> list[Teaser]:
        teasers = [self._teaser(el) for el in self.TEASERS(self.root)]
        if not any(teasers):
            teasers = [self._old_teaser(a) for a in self.OLD_TEASERS(self.root)]
        seen: set[str] = set()
        unique = []
        for teaser in teasers:
            if teaser is not None and teaser.id not in seen:
                seen.add(teaser.id)
                unique.append(teaser)
        return unique

    def _teaser(self, element: Element) -> Teaser | None:
        # One walk over the teaser instead of one XPath per part (the selectors
        # above say what each part is; in document order, the first one wins).
        href = None
        parts: dict[str, Element] = {}
        for node in element.iter(etree.Element):
            if node.tag == "time":
                parts.setdefault("date", node)
            names = node.get("class")
            if not names or not _TEASER_CLASS_WORDS.search(names):
                continue
            classes = set(names.translate(_XPATH_SPACES).split(" "))
            for name in classes & _TEASER_PARTS.keys():
                parts.setdefault(_TEASER_PARTS[name], node)
            if (
                href is None
                and node.tag == "a"
                and "teaser-link" in classes
                and (candidate := node.get("href")) is not None
                and urls.article_id(candidate)
            ):
                href = candidate
        if href is None:
            return None
        return Teaser(
            id=urls.article_id(href) or "",
            url=href,
            topline=text_of(parts.get("topline")),
            title=text_of(parts.get("title")),
            teaser=text_of(parts.get("teaser")),
            author=_author(text_of(parts.get("author"))),
            date=text_of(parts.get("date")),
        )

    def _old_teaser(self, link: Element) -> Teaser | None:
        href = link.get("href") or ""
        id_ = urls.article_id(href)
        if id_ is None:
            return None
        author = first(self.OLD_AUTHOR(link))
        return Teaser(
            id=id_,
            url=href,
            topline=text_of(first(self.OLD_TOPLINE(link))),
            title=text_of(first(self.OLD_TITLE(link))),
            teaser=text_of(
                first(self.OLD_TEXT(link)), skip=lambda e: "author" in (e.get("class") or "")
            ),
            author=_author(text_of(author)),
        )

    def next_url(self) -> str | None:
        for element in self.NEXT(self.root):
            href = (element.get("href") or "").strip()
            if href and not href.startswith(("#", "javascript:")):
                return _absolute(self.url, href)
        return None

    def pages(self) -> tuple[int | None, int | None]:
        """This page's number and the page count, where the pagination shows them."""
        page = None
        count = None
        nav = first(self.PAGINATION(self.root))
        if nav is not None:
            current = first(self.CURRENT_PAGE(nav))
            if current is not None:
                digits = _DIGITS.fullmatch(text_of(current))
                page = int(digits.group()) if digits else None
            numbers = [int(t) for t in map(text_of, nav.iter("a", "span", "li")) if t.isdigit()]
            count = max(numbers) if numbers else None
        if page is None:
            values = parse_qs(urlsplit(self.url).query).get("search_page")
            if values and values[0].isdigit():
                page = int(values[0])
        return page, count

    def links(self) -> list[str]:
        """Absolute links to other sections, tags and authors, each once."""
        own = urls.classify(self.url)
        seen: set[str] = set()
        result = []
        for a in self.LINKS(self.root):
            href = (a.get("href") or "").strip()
            obj = urls.classify(href) if "!" in href or "%21" in href else None
            if obj is None or obj.kind not in ("section", "tag", "author") or obj.channel:
                continue
            if own is not None and (own.kind, own.id) == (obj.kind, obj.id):
                continue
            absolute = _absolute(self.url, href)
            if absolute not in seen:
                seen.add(absolute)
                result.append(absolute)
        return result

    def to_listing(self) -> Listing:
        page, count = self.pages()
        return Listing(
            kind=self.kind(),
            url=self.url,
            name=self.name(),
            teasers=self.teasers(),
            next_url=self.next_url(),
            page=page,
            page_count=count,
            links=self.links(),
        )


def _absolute(base: str, href: str) -> str:
    parts = urlsplit(urljoin(base, href))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))


def _author(text: str) -> str:
    # Teasers say "von Name" / "Kommentar von Name": keep the name.
    return clean(re.sub(r"^.*?\bvon\s+", "", text)) if " von " in f" {text} " else text
