"""What every taz article page has, whatever its design: head metadata and the item it makes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo

from tazarchive import urls
from tazarchive.extract._html import (
    Element,
    TextWithLinks,
    clean,
    json_ld_article,
    xpath,
)
from tazarchive.extract.checks import check_id, check_text
from tazarchive.extract.errors import PageRejected
from tazarchive.extract.oracle import compare_body
from tazarchive.items import Article, Author, Block, Link, LinkSpan, Picture, Related, Tag

# Bump when a change to extraction changes what items contain, so stored
# items can be told apart (and re-parsed from WARC).
PARSER_VERSION = "2"

# taz is a Berlin paper: where a page gives only local time, it is Berlin time.
BERLIN = ZoneInfo("Europe/Berlin")

BlockSource = Literal["text", "box"]


@dataclass(slots=True)
class RawBlock:
    """A body block before link numbering; ``source`` says whether it came from a box."""

    kind: Literal["paragraph", "subheading"]
    content: TextWithLinks
    source: BlockSource = "text"
    element: Element | None = None  # where it came from, for the completeness checks


@dataclass
class Head:
    """Page metadata from ``<meta>``, ``<link>`` and JSON-LD."""

    canonical: str = ""
    og_url: str = ""
    title: str = ""  # taz:title content: "Topline: Title"
    title_id: str = ""  # taz:title data-id: the article id
    published: str = ""  # article:published_time as written
    author_names: list[str] = field(default_factory=list)
    tags: list[Tag] = field(default_factory=list)
    ld: dict[str, Any] | None = None


class _HeadXPaths:
    CMS_ID = xpath("//meta[@itemprop='cms-article-ID']/@content")
    # Only the head elements read below: fewer Python objects than walking <head>.
    HEAD = xpath(
        "/html/head/meta[@name='taz:title' or @name='taz:tag' or @property='og:url'"
        " or @property='article:published_time'"
        " or @property='article:author'] | /html/head/link[@rel='canonical']"
    )


def read_head(root: Element) -> Head:
    head = Head()
    for element in _HeadXPaths.HEAD(root):
        if element.tag == "link":
            if not head.canonical:
                head.canonical = (element.get("href") or "").strip()
        else:
            _read_meta(head, element)
    # Only scripts that can hold an article object are parsed as JSON.
    scripts = [
        script.text
        for script in root.iter("script")
        if script.get("type") == "application/ld+json" and script.text and "Article" in script.text
    ]
    if scripts:
        head.ld = json_ld_article(scripts)
    return head


def _read_meta(head: Head, meta: Element) -> None:
    content = meta.get("content")
    if content is None:
        return
    name = meta.get("name") or meta.get("property") or meta.get("itemprop") or ""
    if meta.get("name") == "taz:tag":
        head.tags.append(
            Tag(
                clean(content),
                (meta.get("data-tag-id") or meta.get("data-id") or "").strip() or None,
                (meta.get("data-tag-category") or "").strip() or None,
            )
        )
    elif name == "taz:title":
        head.title = clean(content)
        head.title_id = (meta.get("data-id") or "").strip()
    elif name == "og:url" and not head.og_url:
        head.og_url = content.strip()
    elif name == "article:published_time" and not head.published:
        head.published = content.strip()
    elif name == "article:author":
        head.author_names.append(clean(content))


def parse_datetime(value: object) -> datetime | None:
    """An ISO datetime, timezone-aware (naive ones are Berlin time); None if unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=BERLIN)
    return parsed


class ArticlePage:
    """Base of the per-design page objects: turns their parts into an :class:`Article`.

    Subclasses set ``LAYOUT`` and the selector constants, implement ``matches``
    and the part methods; ``to_item`` is the same for every design.
    """

    LAYOUT: ClassVar[str] = ""

    def __init__(self, root: Element, article: Element, url: str, head: Head) -> None:
        self.root = root
        self.article = article  # the element holding headline and body
        self.url = url
        self.head = head
        self.has_drop_cap = False  # set by body(): JSON-LD splits a drop cap from its word

    @classmethod
    def find(cls, root: Element) -> Element | None:
        """The page's article element when the page is of this design, else None."""
        raise NotImplementedError

    # parts every design provides
    def topline_and_title(self) -> tuple[str, str]:
        raise NotImplementedError

    def teaser(self) -> str:
        raise NotImplementedError

    def authors(self) -> list[Author]:
        raise NotImplementedError

    def published(self) -> datetime | None:
        raise NotImplementedError

    def picture(self) -> Picture | None:
        raise NotImplementedError

    def body(self) -> list[RawBlock]:
        raise NotImplementedError

    def related(self) -> list[Related]:
        raise NotImplementedError

    def genre(self) -> str | None:
        raise NotImplementedError

    def tags_from_page(self) -> list[Tag]:
        """Tags shown in the page body: used only when the head has no taz:tag metadata."""
        raise NotImplementedError

    # shared parts
    def canonical_url(self) -> str:
        for candidate in (self.head.canonical, self.head.og_url):
            if candidate and urls.article_id(candidate):
                return candidate
        return self.url

    def declared_ids(self) -> list[str]:
        """The ids the page claims (taz:title data-id, canonical, og:url, cms id), in order."""
        found = []
        if self.head.title_id:
            found.append(self.head.title_id)
        for candidate in (self.head.canonical, self.head.og_url):
            from_link = urls.article_id(candidate) if candidate else None
            if from_link:
                found.append(from_link)
        # The cms id meta sits in <body>: a search, so only when the head named none.
        if not found:
            found += [str(v).strip() for v in _HeadXPaths.CMS_ID(self.root)[:1] if str(v).strip()]
        return found

    def article_id(self, requested_id: str | None = None) -> str:
        """The id to store the article under; "" when neither page nor URL names one.

        With ``requested_id``, every id the page claims must be that one
        (``id_mismatch``); ids must be sane (``bad_id``).
        """
        declared = [check_id(found, self.url) for found in self.declared_ids()]
        if requested_id is not None:
            others = sorted({found for found in declared if found != requested_id})
            if others:
                raise PageRejected(
                    "id_mismatch", f"asked for {requested_id}, the page is {others[0]}", self.url
                )
            return requested_id
        if declared:
            return declared[0]
        from_url = urls.article_id(self.url)
        return check_id(from_url, self.url, "URL") if from_url else ""

    def container_unclosed(self, data: bytes) -> bool:
        """True when the raw page opens the article container and never closes it."""
        return False

    def tags(self) -> list[Tag]:
        # taz:tag metadata names tags as taz's dump does, with ids and categories;
        # keep it as the page lists it (a tag listed twice stays twice).
        return list(self.head.tags) if self.head.tags else self.tags_from_page()

    def to_item(
        self, fetched: datetime | None = None, requested_id: str | None = None
    ) -> Article | None:
        """The article; None when the page has no title (it is no article then).

        Raises PageRejected for an id other than ``requested_id``, a bad id,
        and text that is not clean after decoding.
        """
        id_ = self.article_id(requested_id)
        topline, title = self.topline_and_title()
        if not title:
            return None
        raw_blocks = self.body()
        blocks, links = _number_links(raw_blocks)
        teaser = self.teaser()
        picture = self.picture()
        check_text(
            [title, topline, teaser, *(b.text for b in blocks)]
            + ([picture.caption, picture.credit] if picture else []),
            self.url,
        )
        return Article(
            id=id_,
            url=self.canonical_url(),
            title=title,
            topline=topline,
            teaser=teaser,
            authors=self.authors(),
            published=self.published(),
            picture=picture,
            body=blocks,
            links=links,
            tags=self.tags(),
            related=self.related(),
            genre=self.genre(),
            layout=self.LAYOUT,
            parser_version=PARSER_VERSION,
            fetched=fetched,
            body_mismatch=self.check_body(raw_blocks),
        )

    def check_body(self, blocks: list[RawBlock]) -> str | None:
        furniture = furniture_in(blocks)
        if furniture:
            return furniture
        article_body = (self.head.ld or {}).get("articleBody")
        if not isinstance(article_body, str):
            return None
        texts = [b.content.text for b in blocks]
        verdict = compare_body(texts, article_body, drop_cap=self.has_drop_cap)
        if verdict and any(b.source == "box" for b in blocks):
            # JSON-LD may leave boxes (bio, info) out: the text alone must then match.
            without_boxes = [b.content.text for b in blocks if b.source == "text"]
            if not compare_body(without_boxes, article_body, drop_cap=self.has_drop_cap):
                return ""
        return verdict


# A campaign link (taz marks them "#matomo:…", older ones "#pk_campaign") or a
# form: what promotion boxes carry and article text never does.
CAMPAIGN_MARKS = ("#matomo", "#pk_campaign", "pk_campaign=")
_FORM_TAGS = ("form", "input", "button", "select", "textarea")


def is_furniture(element: Element) -> bool:
    """True when the element holds a form or a campaign link."""
    if any(True for _ in element.iter(*_FORM_TAGS)):
        return True
    return any(mark in (a.get("href") or "") for a in element.iter("a") for mark in CAMPAIGN_MARKS)


def furniture_in(blocks: list[RawBlock]) -> str:
    """The completeness check every design shares: "" unless a kept block is furniture."""
    for n, block in enumerate(blocks, 1):
        if block.element is not None and is_furniture(block.element):
            return f"block {n} carries a form or a campaign link: {block.content.text[:40]!r}"
    return ""


def _number_links(raw_blocks: list[RawBlock]) -> tuple[list[Block], list[Link]]:
    blocks: list[Block] = []
    links: list[Link] = []
    for raw in raw_blocks:
        text = raw.content.text
        if not text:
            continue
        spans = []
        for start, end, href in raw.content.spans:
            links.append(Link(text[start:end], href))
            spans.append(LinkSpan(start, end, len(links)))
        blocks.append(Block(text, raw.kind, spans))
    return blocks, links


def related_teaser(href: str | None, topline: str, title: str, teaser: str) -> Related | None:
    if not href or not (title or topline):
        return None
    return Related(urls.article_id(href), href, topline, title, teaser)


def author_from_link(name: str, href: str | None) -> Author | None:
    if not name:
        return None
    return Author(name, urls.author_id(href) if href else None, href)


def unique_authors(authors: list[Author]) -> list[Author]:
    """Each author once (bylines and closing author boxes name the same people)."""
    seen: set[str] = set()
    result = []
    for author in authors:
        key = author.id or author.name.casefold()
        if key not in seen:
            seen.add(key)
            result.append(author)
    return result


def ld_authors(ld: dict[str, Any] | None) -> list[Author]:
    if not ld:
        return []
    value = ld.get("author")
    entries = value if isinstance(value, list) else [value]
    authors = []
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            url = entry.get("url") if isinstance(entry.get("url"), str) else None
            author = author_from_link(clean(entry["name"]), url)
            if author:
                authors.append(author)
    return authors
