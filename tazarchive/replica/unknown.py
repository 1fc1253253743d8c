"""Markup no extractor knows: plain listings and an invented article redesign.

``Site(listing_markup="plain")`` links the articles of home, section, tag and
author pages in bare ``<div><span><a href=…>`` markup, pagination as bare
``?search_page=N`` links; ``Site(unknown_design=FRACTION)`` serves that share
of articles in a made-up "tz-story" design (no taz meta, no known classes).
Discovery by link pattern must cope with the first; extraction must refuse
the second as ``unknown_design`` without storing it.
"""

from __future__ import annotations

from html import escape

from tazarchive.replica.site import OVERVIEW, PARENT_SECTIONS, ArticleData, Site, segments_text
from tazarchive.replica.templates import template


def _e(text: str) -> str:
    return escape(text, quote=True)


def _link(href: str, text: str, extra: str = "") -> str:
    return f'<div><span><a href="{_e(href)}">{_e(text)}</a></span>{extra}</div>\n'


def _items(site: Site, indexes: list[int]) -> str:
    found = []
    for n, index in enumerate(indexes):
        head = site.head(index)
        href = site.teaser_href(index, n + 1)
        found.append(
            _link(href, f"{head.topline}: {head.title}", f"<span>{_e(head.teaser)}</span>")
        )
    return "".join(found)


def _nav() -> str:
    return "".join(f'<span><a href="{s.path}">{_e(s.name)}</a></span>' for s in PARENT_SECTIONS)


def _pages(site: Site, path: str, page: int, pages: int) -> str:
    if pages <= 1:
        return ""
    shown = sorted({1, page - 1, page, page + 1, pages} & set(range(1, pages + 1)))
    if page > 1:
        shown.insert(0, page - 1)
    if page < pages:
        shown.append(page + 1)
    links = "".join(f'<span><a href="{path}{site.page_query(p)}">{p}</a></span>' for p in shown)
    return f"<div>{links}</div>\n"


def listing_page(
    site: Site, kind: str, object_id: str, path: str, name: str, page: int, intro: str = ""
) -> str:
    """A section, tag or author listing page in plain markup."""
    indexes = site.page_of(kind, object_id, page)
    pages = site.listing_pages(kind, object_id)
    return template("plain_frame.html").substitute(
        title=_e(name),
        nav=_nav(),
        heading=_e(name),
        header=f"<div><span>{_e(intro)}</span></div>\n" if intro else "",
        items=_items(site, indexes),
        pages=_pages(site, path, page, pages),
        more="",
    )


def home_page(site: Site) -> str:
    newest = site.page_of("section", OVERVIEW.id, 1) + site.page_of("section", OVERVIEW.id, 2)[:10]
    hubs = [site.tag("hub", h) for h in range(min(site.n_hubs, 8))]
    more = "".join(f'<span><a href="{t.path}">{_e(t.name)}</a></span>' for t in hubs)
    more += f'<span><a href="{OVERVIEW.path}{site.page_query(2)}">Ältere Artikel</a></span>'
    return template("plain_frame.html").substitute(
        title="taz.de",
        nav=_nav(),
        heading="Aktuelle Artikel",
        header="",
        items=_items(site, newest),
        pages="",
        more=more,
    )


def article_page(site: Site, data: ArticleData) -> str:
    """An article in the invented "tz-story" design: its text, in elements no page object knows."""
    blocks = []
    for block in data.blocks:
        if block.kind == "subheading":
            blocks.append(f'<div class="tz-block tz-block--sub">{_e(segments_text(block))}</div>\n')
        else:
            blocks.append(
                f'<div class="tz-block tz-block--txt">{_e(data.block_text(block))}</div>\n'
            )
    people = "".join(
        f'<li class="tz-person"><a href="{a.path}">{_e(a.name)}</a></li>' for a in data.authors
    )
    chips = "".join(f'<li><a href="{t.path}">{_e(t.name)}</a></li>' for t in data.tags)
    return template("unknown_article.html").substitute(
        title_text=_e(f"{data.topline}: {data.title}"),
        path=data.path,
        id=data.id,
        nav=_nav(),
        genre=data.genre,
        topline=_e(data.topline),
        title=_e(data.title),
        teaser=_e(data.teaser),
        people=people,
        timestamp=int(data.published.timestamp()),
        day=f"{data.published:%d.%m.%Y}",
        blocks="".join(blocks),
        chips=chips,
    )
