"""Shared pieces of the replica's pages in taz's current design: the page frame,
teasers, listings and the home page, filled from templates/frame.html and
templates/listing.html. Article pages are in design2024.py and design2019.py,
feeds and sitemaps in feeds.py. All text is invented (see site.py); the
structure follows the real pages described in ../shared/taz-pages/NOTES.md:
the same elements and classes where parsers look, simplified elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import lru_cache
from html import escape

from tazarchive.replica.site import (
    LEAF_SECTIONS,
    OVERVIEW,
    PARENT_SECTIONS,
    ArticleData,
    BodyBlock,
    Site,
    _hash,
)
from tazarchive.replica.templates import fill

ZWSP = "\u200b"


@lru_cache(maxsize=16384)  # the same sentences and names recur on many pages
def esc(text: str) -> str:
    return escape(text, quote=True)


def day(d: date) -> str:
    return f"{d.day}.{d.month}.{d.year}"


def naive(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S")


def uuid(seed: int, *parts: int | str) -> str:
    h = f"{_hash(seed, 'uuid', *parts):016x}{_hash(seed, 'uuid2', *parts):016x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def picture_url(data: ArticleData, width: int) -> str:
    return f"https://taz.de/picture/{data.picture_id}/{width}/{data.slug}-1.jpeg"


def segments_html(block: BodyBlock, link: Callable[[str, str], str]) -> str:
    """A block's text, escaped, with its links rendered by ``link(text, href)``."""
    return "".join(
        esc(seg) if isinstance(seg, str) else link(esc(seg[0]), esc(seg[1]))
        for seg in block.segments
    )


# --- the page frame ----------------------------------------------------------------


@lru_cache(maxsize=1)
def filler() -> str:
    """A constant chunk of scripts, so pages have a realistic weight for parsers."""
    lines = "".join(fill("frame.html", "filler_line", n=n) for n in range(60))
    return fill("frame.html", "filler", lines=lines)


@lru_cache(maxsize=1)
def _nav() -> str:
    items = "".join(
        fill("frame.html", "nav_item", path=s.path, name=esc(s.name))
        for s in (*PARENT_SECTIONS, *LEAF_SECTIONS)
    )
    return fill("frame.html", "nav", items=items)


@lru_cache(maxsize=8)
def _footer(seed: int) -> str:
    return fill(
        "frame.html",
        "footer",
        impressum=uuid(seed, "impressum"),
        datenschutz=uuid(seed, "datenschutz"),
        filler=filler(),
    )


def frame(site: Site, title: str, head: str, body: str) -> str:
    return fill(
        "frame.html",
        "page",
        title=esc(title),
        head=head,
        nav=_nav(),
        body=body,
        footer=_footer(site.seed),
    )


def profile_page(site: Site, profile_id: str) -> str:
    return frame(site, "Kommune", "", fill("frame.html", "profile", id=esc(profile_id)))


def static_page(site: Site, name: str) -> str:
    return frame(site, name, "", fill("frame.html", "static", name=esc(name)))


def not_found_page(site: Site) -> str:
    return frame(site, "Seite nicht gefunden", "", fill("frame.html", "not_found"))


# --- teasers and listings ------------------------------------------------------------


def teaser(site: Site, index: int, *, element: str, extra_class: str, order: int) -> str:
    """One teaser in the current design (listings: <article>, related: <div>)."""
    data = site.head(index)
    href = esc(site.teaser_href(data.index, order))
    names = ""
    if data.authors:
        spans = [fill("listing.html", "teaser_name", name=esc(a.name)) for a in data.authors]
        names = fill(
            "listing.html",
            "teaser_names",
            label=esc(data.byline_label or "Von"),
            names=' <span class="typo-r-name-reg">und</span> '.join(spans),
        )
    picture = ""
    if data.picture is not None:
        picture = fill(
            "listing.html",
            "teaser_picture",
            href=href,
            picture_id=data.picture_id,
            slug=data.slug,
            caption=esc(data.picture.caption),
        )
    return fill(
        "listing.html",
        "teaser",
        element=element,
        extra_class=extra_class,
        order=order,
        picture=picture,
        href=href,
        topline=esc(data.topline),
        title=esc(data.title),
        names=names,
        teaser=esc(data.teaser),
        date=data.published.date().isoformat(),
        day=day(data.published.date()),
    )


def page_query(site: Site, page: int) -> str:
    """The query part of a listing's page ``page`` (1-based): "" or "?search_page=N"."""
    return site.page_query(page)


def page_number(site: Site, search_page: str | None) -> int | None:
    """The 1-based page a ``search_page`` value means, or None when it is not a number."""
    if search_page is None or search_page == "":
        return 1
    if not search_page.isdigit():
        return None
    return max(1, int(search_page) - site.page2_param + 2)


def _pagination(site: Site, path: str, page: int, pages: int) -> str:
    if pages <= 1:
        return ""
    links = ""
    if page > 1:
        links += fill("listing.html", "previous", href=path + site.page_query(page - 1))
    if page < pages:
        links += fill("listing.html", "next", href=path + site.page_query(page + 1))
    shown = sorted({1, page - 1, page, page + 1, pages} & set(range(1, pages + 1)))
    items, last = [], 0
    for p in shown:
        if p - last > 1:
            items.append(fill("listing.html", "ellipsis"))
        current = ' is-current" aria-current="page' if p == page else ""
        href = path + site.page_query(p)
        items.append(fill("listing.html", "page_link", current=current, page=p, href=href))
        last = p
    return fill("listing.html", "pagination", links=links, items="".join(items))


def listing_page(
    site: Site, kind: str, object_id: str, path: str, name: str, page: int, intro: str = ""
) -> str:
    """A listing (section, tag or author) page: teasers newest first, 20 a page."""
    pages = site.listing_pages(kind, object_id)
    teasers = "".join(
        teaser(site, i, element="article", extra_class=" is-4 dotted pt-0 ", order=n + 1)
        for n, i in enumerate(site.page_of(kind, object_id, page))
    )
    header = fill("listing.html", "author_header", description=esc(intro)) if intro else ""
    body = fill(
        "listing.html",
        "listing",
        kind=kind,
        page=page,
        pages=pages,
        name=esc(name),
        header=header,
        teasers=teasers,
        pagination=_pagination(site, path, page, pages),
    )
    head = fill("listing.html", "listing_head", path=path, query=site.page_query(page))
    if kind == "section":
        head += fill("listing.html", "listing_feed", feed=path.rstrip("/"))
    return frame(site, name, head, body)


def home_page(site: Site) -> str:
    newest = site.page_of("section", OVERVIEW.id, 1) + site.page_of("section", OVERVIEW.id, 2)[:10]
    teasers = "".join(
        teaser(site, i, element="article", extra_class=" is-4 dotted pt-0 ", order=n + 1)
        for n, i in enumerate(newest)
    )
    hubs = [site.tag("hub", h) for h in range(min(site.n_hubs, 8))]
    body = fill(
        "listing.html",
        "home",
        teasers=teasers,
        page2=site.page2_param,
        sections="".join(
            fill("listing.html", "home_link", path=s.path, name=esc(s.name))
            for s in PARENT_SECTIONS
        ),
        hubs="".join(
            fill("listing.html", "home_link", path=t.path, name=esc(t.name)) for t in hubs
        ),
    )
    head = fill("listing.html", "listing_head", path="/", query="")
    return frame(site, "taz.de", head, body)
