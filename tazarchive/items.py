"""The one article item and its small value types.

An :class:`Article` is what every part of the project passes around: the
extractors build it from HTML, the dump reader builds it from dump text, the
renderers turn it into dumps, the pipelines store it. Scrapy sees it as a
dataclass item and reads it through itemadapter.

The JSON view (:func:`article_to_dict` / :func:`article_from_dict`) is
lossless: datetimes keep their UTC offset, and everything the dump's line
rules cut or drop is kept.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

BlockKind = Literal["paragraph", "subheading"]


@dataclass(slots=True)
class Author:
    name: str
    id: str | None = None  # taz author id, the digits after "!a"
    url: str | None = None  # href as the page has it


@dataclass(slots=True)
class Picture:
    caption: str = ""  # without the photo credit
    credit: str = ""  # e.g. "Foto: reuters"
    url: str | None = None


@dataclass(slots=True)
class Link:
    """An in-text link: its text and its href exactly as the page writes it."""

    text: str
    href: str


@dataclass(slots=True)
class LinkSpan:
    """Where link number ``n`` (1-based, into ``Article.links``) sits in a block's text."""

    start: int  # code-point offset into Block.text
    end: int  # exclusive
    n: int


@dataclass(slots=True)
class Block:
    """One body block in page order: a paragraph (with its links) or a subheading."""

    text: str
    kind: BlockKind = "paragraph"
    links: list[LinkSpan] = field(default_factory=list)


@dataclass(slots=True)
class Tag:
    name: str
    id: str | None = None  # digits after "!t"
    category: str | None = None  # taz's data-tag-category


@dataclass(slots=True)
class Related:
    """A teaser of another article ("Mehr zum Thema" / "ARTIKEL ZUM THEMA")."""

    id: str | None
    url: str | None
    topline: str = ""
    title: str = ""
    teaser: str = ""


@dataclass
class Article:
    """One taz article, as complete as its source allows."""

    id: str  # taz's numeric id as text ("5928990", "173359")
    url: str  # canonical URL
    title: str
    topline: str = ""
    teaser: str = ""
    authors: list[Author] = field(default_factory=list)
    published: datetime | None = None  # timezone-aware
    picture: Picture | None = None
    body: list[Block] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    tags: list[Tag] = field(default_factory=list)
    related: list[Related] = field(default_factory=list)
    genre: str | None = None  # e.g. "commentary", "report" (article-type-… class)
    layout: str = ""  # which parser made it: "2024", "2019", "dump", …
    parser_version: str = ""
    fetched: datetime | None = None  # when the source was fetched, timezone-aware
    # Completeness: None when unchecked, "" when the body matched the page's
    # JSON-LD articleBody, otherwise a short description of the mismatch.
    body_mismatch: str | None = None
    # Paths of texts a dump proxy cut short (they end with "…"), e.g.
    # "title", "body.17", "related.3.title". Empty for articles from HTML.
    cut: list[str] = field(default_factory=list)
    # Set by the archive (issue 5) when the article is stored: its revision in
    # the ledger (1, 2, …) and the hash the ledger compares (see
    # tazarchive.archive.ledger.content_hash). JSONL consumers dedupe on id + revision.
    revision: int | None = None
    content_hash: str | None = None


# --- lossless JSON view -------------------------------------------------------

_DATETIME_FIELDS = ("published", "fetched")


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}
# datetime too: immutable, and article_to_dict turns it into text (asdict deep-copied it).
_LEAF_TYPES = (str, int, float, bool, type(None), datetime)


def _as_plain(value: Any) -> Any:
    """What ``dataclasses.asdict`` makes of ``value``, without its deep copies of str/int.

    asdict was the crawl's costliest serialisation step (hash, JSONL, rejects).
    """
    if isinstance(value, _LEAF_TYPES):
        return value
    if isinstance(value, list):
        return [_as_plain(v) for v in value]
    names = _FIELD_NAMES.get(type(value))
    if names is None:
        if not dataclasses.is_dataclass(value) or isinstance(value, type):
            return dataclasses.asdict(_Boxed(value))["value"]  # tuples, dicts, other values
        names = _FIELD_NAMES[type(value)] = tuple(f.name for f in dataclasses.fields(value))
    return {name: _as_plain(getattr(value, name)) for name in names}


@dataclass(slots=True)
class _Boxed:
    value: Any


def article_to_dict(article: Article) -> dict[str, Any]:
    """The JSON-ready dict of an article; ``article_from_dict`` inverts it exactly."""
    data: dict[str, Any] = _as_plain(article)
    for name in _DATETIME_FIELDS:
        value = data[name]
        data[name] = value.isoformat() if value is not None else None
    return data


def article_from_dict(data: dict[str, Any]) -> Article:
    """Build an :class:`Article` from :func:`article_to_dict` output (or parsed JSONL)."""
    values = dict(data)
    for name in _DATETIME_FIELDS:
        if values.get(name):
            values[name] = datetime.fromisoformat(values[name])
    values["authors"] = [Author(**a) for a in values.get("authors", [])]
    if values.get("picture") is not None:
        values["picture"] = Picture(**values["picture"])
    values["body"] = [
        Block(
            text=b["text"],
            kind=b.get("kind", "paragraph"),
            links=[LinkSpan(**s) for s in b.get("links", [])],
        )
        for b in values.get("body", [])
    ]
    values["links"] = [Link(**link) for link in values.get("links", [])]
    values["tags"] = [Tag(**t) for t in values.get("tags", [])]
    values["related"] = [Related(**r) for r in values.get("related", [])]
    known = {f.name for f in dataclasses.fields(Article)}
    return Article(**{k: v for k, v in values.items() if k in known})


# --- listing pages (not items: what spiders read to decide what to fetch) ----


@dataclass(slots=True)
class Teaser:
    """One article teaser on a listing page (home, section, tag, author, search)."""

    id: str
    url: str  # href as the page has it
    topline: str = ""
    title: str = ""
    teaser: str = ""
    author: str = ""
    date: str = ""  # as shown, e.g. "28.4.2023"


@dataclass(slots=True)
class Listing:
    """A listing page: its teasers and where the next page is."""

    kind: str  # "home" | "section" | "tag" | "author" | "search"
    url: str
    name: str = ""  # section/tag/author name as the page shows it
    teasers: list[Teaser] = field(default_factory=list)
    next_url: str | None = None  # absolute URL of the next page, if any
    page: int | None = None  # this page's number, where the page says
    page_count: int | None = None  # total pages, where the page says (for ETAs)
    links: list[str] = field(default_factory=list)  # other taz links on the page (absolute)
