"""taz.de URL patterns: ids, canonical forms, and what kind of page a link is.

taz writes one article many ways: ``/Slug/!5928990/``, ``/!5928990``,
``/Slug/%215928990/``, ``/Slug/!5928990&s=query/``, ``http://www.taz.de/…``.
The numeric id is the identity; everything here maps the variants to it.
Pure functions, no Scrapy.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import parse_qsl, unquote, urljoin, urlsplit, urlunsplit

DEFAULT_BASE_URL = "https://taz.de"

# Hosts that mean "the taz site": rewritten to the configured base URL, so a
# crawl of the local replica follows absolute taz.de links into the replica.
TAZ_HOSTS = frozenset({"taz.de", "www.taz.de", "m.taz.de"})

PageKind = Literal["article", "author", "tag", "section", "other"]

# "!" then an optional kind letter then digits, ending the path segment.
# "&s=…" search suffixes and ";rss" channel suffixes may follow the digits.
_OBJECT_RE = re.compile(r"!(?P<kind>a|t|p|)(?P<id>\d+)(?P<suffix>[&;].*)?")
_KIND_BY_LETTER: dict[str, PageKind] = {"": "article", "a": "author", "t": "tag", "p": "section"}


@dataclass(frozen=True, slots=True)
class TazObject:
    """What a taz link points at: kind and numeric id (as text)."""

    kind: PageKind
    id: str
    channel: str = ""  # e.g. "rss" for "/!p4615;rss/"


def _last_segment(url: str) -> str:
    # Unquote after splitting: "%21" is "!", and an escaped "/" inside an
    # "&s=" search suffix must not make a new segment.
    return unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])


# Listing pages repeat the same links (navigation, teasers) page after page:
# cached, they are classified once. Bounded, and TazObject is immutable.
@functools.lru_cache(maxsize=16384)
def classify(url: str) -> TazObject | None:
    """The taz object a URL (absolute or relative) points at, or None.

    >>> classify("/Tagebuch-aus-Kasachstan/!6110749")
    TazObject(kind='article', id='6110749', channel='')
    >>> classify("/Nikita-Danilin/!a144060/")
    TazObject(kind='author', id='144060', channel='')
    >>> classify("/Slug/%216012345&s=Grok%2BHitler/").id
    '6012345'
    """
    match = _OBJECT_RE.fullmatch(_last_segment(url))
    if match is None:
        return None
    suffix = match.group("suffix") or ""
    channel = suffix[1:] if suffix.startswith(";") else ""
    return TazObject(_KIND_BY_LETTER[match.group("kind")], match.group("id"), channel)


def article_id(url: str) -> str | None:
    """The article id a link points at, or None if it is not an article link."""
    obj = classify(url)
    return obj.id if obj is not None and obj.kind == "article" else None


def author_id(url_or_id: str) -> str | None:
    """Author id from an author URL, or from the id itself ("144060", "a144060")."""
    return _id_of(url_or_id, "author", "a")


def tag_id(url_or_id: str) -> str | None:
    """Tag id from a tag URL, or from the id itself ("5008150", "t5008150")."""
    return _id_of(url_or_id, "tag", "t")


def _id_of(url_or_id: str, kind: PageKind, letter: str) -> str | None:
    text = url_or_id.strip()
    bare = text.removeprefix("!").removeprefix(letter)
    if bare.isdigit():
        return bare
    obj = classify(text)
    return obj.id if obj is not None and obj.kind == kind else None


def normalise_base(base_url: str) -> str:
    """Base URL without a trailing slash; raises ValueError when it is not http(s)."""
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) base URL: {base_url!r}")
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


@functools.lru_cache(maxsize=16384)
def on_site(href: str, page_url: str, base_url: str) -> str | None:
    """Resolve ``href`` against ``page_url`` and map it onto ``base_url``.

    Returns the absolute URL on the configured site, or None for links that
    leave it. Links to any taz.de host are rewritten to the base URL, so a
    crawl never leaves the host it was given.
    """
    absolute = urljoin(page_url, href.strip())
    parts = urlsplit(absolute)
    if parts.scheme not in ("http", "https"):
        return None
    base = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    if parts.netloc.lower() != base.netloc.lower() and host not in TAZ_HOSTS:
        return None
    return urlunsplit((base.scheme, base.netloc, parts.path or "/", parts.query, ""))


def article_url(base_url: str, id_: str) -> str:
    """The one URL the archive fetches for an article: ``<base>/!<id>/``."""
    return f"{base_url.rstrip('/')}/!{id_}/"


def author_url(base_url: str, id_: str) -> str:
    return f"{base_url.rstrip('/')}/!a{id_}/"


def tag_url(base_url: str, id_: str) -> str:
    return f"{base_url.rstrip('/')}/!t{id_}/"


def with_page(url: str, page: int) -> str:
    """A listing URL with ``?search_page=N`` (replacing any page it had)."""
    parts = urlsplit(url)
    query = "&".join(q for q in parts.query.split("&") if q and not q.startswith("search_page="))
    query = f"{query}&search_page={page}" if query else f"search_page={page}"
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def search_page(url: str) -> int | None:
    """The ``search_page`` number of a listing URL; None when it has none (the first page)."""
    query = urlsplit(url).query
    if "search_page=" not in query:
        return None
    value = dict(parse_qsl(query)).get("search_page", "")
    return int(value) if value.isdigit() else None


def listing_key(url: str) -> tuple[PageKind, str] | None:
    """Which paginated listing (author, tag, section) a URL is a page of, or None."""
    obj = classify(url)
    if obj is None or obj.channel or obj.kind not in ("author", "tag", "section"):
        return None
    return obj.kind, obj.id


def listing_url(href: str, page_url: str, base_url: str) -> str | None:
    """The one URL fetched for an author/tag/section listing page, or None.

    Authors and tags lose their slug (``/!a144060/``); all keep only the
    ``search_page`` of the query, so variants of one page are one request.
    """
    url = on_site(href, page_url, base_url)
    key = listing_key(url) if url is not None else None
    if url is None or key is None:
        return None
    kind, id_ = key
    if kind == "author":
        first = author_url(base_url, id_)
    elif kind == "tag":
        first = tag_url(base_url, id_)
    else:
        parts = urlsplit(url)
        first = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    page = search_page(url)
    return with_page(first, page) if page is not None else first


@dataclass(slots=True)
class PageLinks:
    """What a page links to by taz's URL patterns, each once, in page order."""

    articles: list[str] = field(default_factory=list)  # article ids
    listings: list[str] = field(default_factory=list)  # canonical listing URLs (listing_url)


def page_links(hrefs: Iterable[str], page_url: str, base_url: str) -> PageLinks:
    """Article ids and listing URLs among a page's links, on the configured site only.

    Markup plays no part: every href is classified by its last path segment
    (cached, so the navigation every page repeats costs one lookup), and only
    the few that are taz objects are resolved against the page. A bare
    ``?search_page=N`` is resolved first: it is the page's own pagination.
    """
    found = PageLinks()
    seen: set[str] = set()
    for href in hrefs:
        obj = classify(href)
        if obj is None:
            if "search_page=" not in href:
                continue
            href = urljoin(page_url, href)
            obj = classify(href)
            if obj is None:
                continue
        if obj.channel:
            continue
        if obj.kind == "article":
            # A path on this host ("/Slug/!123/") is on the site; resolve only others.
            local = href[:1] == "/" and href[1:2] != "/"
            if obj.id not in seen and (local or on_site(href, page_url, base_url) is not None):
                seen.add(obj.id)
                found.articles.append(obj.id)
        elif obj.kind != "other":
            url = listing_url(href, page_url, base_url)
            if url is not None and url not in seen:
                seen.add(url)
                found.listings.append(url)
    return found
