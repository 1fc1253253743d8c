"""An article page in taz's current design (live since 2024-10-15).

Filled from templates/article_2024.html.
"""

from __future__ import annotations

import json

from tazarchive.replica.render import (
    ZWSP,
    day,
    esc,
    frame,
    naive,
    picture_url,
    segments_html,
    teaser,
    uuid,
)
from tazarchive.replica.site import (
    SECTIONS,
    ArticleData,
    AuthorInfo,
    BodyBlock,
    Site,
    segments_text,
    slugify,
)
from tazarchive.replica.templates import fill

_FILE = "article_2024.html"
_HOST = "https://taz.de"


def _part(part: str, /, **values: object) -> str:
    return fill(_FILE, part, **values)


def article_page(site: Site, data: ArticleData) -> str:
    full_title = f"{data.topline}: {data.title}"
    corpus, article_body = _body(data)
    body = _part(
        "body",
        breadcrumb=json.dumps(_breadcrumb(data, full_title), ensure_ascii=False),
        genre=data.genre,
        id=data.id,
        topline=esc(data.topline),
        title=esc(data.title),
        bylines="".join(_byline(data, a) for a in data.authors),
        teaser=esc(data.teaser),
        meta_data=_part(
            "meta_data",
            date=data.published.date().isoformat(),
            day=day(data.published.date()),
            hour=f"{data.published:%H:%M}",
        ),
        picture=_picture(data),
        corpus=corpus,
        donation=_part("donation", uuid=uuid(site.seed, "tzi")),
        author_boxes="".join(_author_box(a) for a in data.authors if a.description),
        tags_box=_tags_box(data),
        feedback=_part("feedback", uuid=uuid(site.seed, "leserbrief")),
        related=_related(site, data),
        news_article=json.dumps(_news_article(data, full_title, article_body), ensure_ascii=False),
        community=_community(site, data),
    )
    return frame(site, full_title, _head(data, full_title), body)


def _head(data: ArticleData, full_title: str) -> str:
    tags = "".join(
        _part(
            "head_tag",
            id=t.id,
            category=f' data-tag-category="{esc(t.category)}"' if t.category else "",
            name=esc(t.name),
        )
        for t in data.tags
    )
    image = _part("head_image", url=picture_url(data, 1200)) if data.picture else ""
    webpage = {"@context": "https://schema.org/", "@type": "WebPage", "url": f"{_HOST}/"}
    return _part(
        "head",
        canonical=f"{_HOST}{data.path}",
        teaser=esc(data.teaser),
        full_title=esc(full_title),
        zwsp=ZWSP,
        id=data.id,
        tags=tags,
        authors="".join(_part("head_author", name=esc(a.name)) for a in data.authors),
        published=naive(data.published),
        image=image,
        webpage=json.dumps(webpage, ensure_ascii=False),
    )


def _breadcrumb(data: ArticleData, full_title: str) -> dict[str, object]:
    crumbs = [("Startseite", f"{_HOST}/")]
    section = data.section
    if section.parent:
        parent = SECTIONS[section.parent]
        crumbs.append((parent.name, f"{_HOST}{parent.path}"))
    crumbs.append((section.name, f"{_HOST}{section.path}"))
    crumbs.append((full_title, f"{_HOST}{data.path}"))
    return {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": n + 1, "name": name, "item": url}
            for n, (name, url) in enumerate(crumbs)
        ],
    }


def _news_article(data: ArticleData, full_title: str, article_body: str) -> dict[str, object]:
    canonical = f"{_HOST}{data.path}"
    found: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "articleBody": article_body,
        "isAccessibleForFree": "true",
        "mainEntityOfPage": canonical,
        "url": canonical,
        "headline": full_title,
        "description": data.teaser,
    }
    if data.picture is not None:
        found["image"] = picture_url(data, 948)
    found["author"] = [
        {"@type": "Person", "name": a.name, "url": f"{_HOST}{a.path}"} for a in data.authors
    ]
    found["publisher"] = {"@type": "Organization", "name": "taz"}
    found["datePublished"] = data.published.isoformat()
    return found


def _byline(data: ArticleData, a: AuthorInfo) -> str:
    return _part("byline", name=esc(a.name), id=a.id, label=esc(data.byline_label), path=a.path)


def _author_box(a: AuthorInfo) -> str:
    return _part(
        "author_box",
        name=esc(a.name),
        id=a.id,
        path=a.path,
        job=esc(a.job),
        description=esc(a.description),
    )


def _picture(data: ArticleData) -> str:
    if data.picture is None:
        return ""
    base = f"https://taz.de/picture/{data.picture_id}"
    name = f"{data.slug}-1.jpeg"
    sources = "".join(
        _part("picture_source", base=base, width=w, name=name) for w in (665, 410, 300, 140)
    )
    return _part(
        "picture",
        base=base,
        name=name,
        caption=esc(data.picture.caption),
        sources=sources,
        credit=esc(data.picture.credit.removeprefix("Foto: ")),
    )


def _tags_box(data: ArticleData) -> str:
    if not data.tags:
        return ""
    links = "".join(
        _part("tag_link", path=t.path, name=esc(t.name.removeprefix("Schwerpunkt ")))
        for t in data.tags
    )
    return _part("tags_box", links=links)


def _related(site: Site, data: ArticleData) -> str:
    if not data.related:
        return ""
    teasers = "".join(
        teaser(site, j, element="div", extra_class=" is-4 dotted pt-0 ", order=n + 2)
        for n, j in enumerate(data.related)
    )
    return _part("related", teasers=teasers)


def _community(site: Site, data: ArticleData) -> str:
    published = data.published
    comments = "".join(
        _part(
            "comment",
            cid=f"{ku}{n}",
            ku=ku,
            initials=esc(nick[:2].upper()),
            nick=esc(nick),
            date=published.date().isoformat(),
            n=n,
            day=f"{published:%d.%m.%Y}",
            text=esc(text),
        )
        for n, (ku, nick, text) in enumerate(data.comments)
    )
    most = "".join(
        _part(
            "most_commented",
            href=site.teaser_href(j, 50 + n),
            topline=esc(site.head(j).topline),
            title=esc(site.head(j).title),
        )
        for n, j in enumerate(data.most_commented)
    )
    return _part("community", comments=comments, most=most)


# --- the body: paragraphs, subheadings and boxes, and the JSON-LD text of it ---------


def _body(data: ArticleData) -> tuple[str, str]:
    """The corpus HTML and the JSON-LD articleBody text."""
    out: list[str] = []
    ld = ["\n      \n      "]
    order = 0
    paragraphs = [b for b in data.blocks if b.kind == "paragraph" and not b.box]
    p_index = -1
    for block in data.blocks:
        order += 1
        if block.box == "bio" or block.kind == "subheading":
            text = segments_text(block)
            if block.box == "bio":
                out.append(_part("bio", order=order, text=esc(text)))
            else:
                anchor = slugify(text).lower()
                out.append(_part("subheading", order=order, text=esc(text), anchor=anchor))
            ld.append(text + "\n      ")
            continue
        p_index += 1
        html, text = _paragraph(data, block, order, p_index, len(paragraphs))
        out.append(html)
        ld.append(text + "\n      ")
        is_last = p_index == len(paragraphs) - 1
        if p_index in (1, 5) and not is_last:
            order += 1
            out.append(_part("adzone", order=order, n=p_index))
            ld.append("\n\n\n\n      ")
        if p_index == 3 and not is_last and data.index % 5 == 1:
            # A pull quote repeats a sentence of the text: not article text.
            order += 1
            quote = data.block_text(block).split(". ")[0].rstrip(".")
            speaker = data.authors[0].name if data.authors else "taz"
            out.append(_part("citation", order=order, quote=esc(quote), speaker=esc(speaker)))
    ld[-1] = ld[-1].rstrip(" ") + "    "
    return _part("corpus", blocks="".join(out)), "".join(ld)


def _paragraph(
    data: ArticleData, block: BodyBlock, order: int, p_index: int, count: int
) -> tuple[str, str]:
    """One paragraph's HTML and its JSON-LD text."""
    plain = data.block_text(block)
    if p_index == 0 and data.drop_cap:
        first = block.segments[0]
        assert isinstance(first, str)
        rest = esc(first[1:]) + _links(BodyBlock("paragraph", block.segments[1:]))
        html = _part("drop_cap", order=order, initial=esc(first[0]), rest=rest)
        return html, f"{first[0]} {plain[1:]}"
    classes = "bodytext paragraph" + (" first" if p_index == 0 else "")
    classes += " last" if p_index == count - 1 else ""
    inner = _links(block)
    if block.dateline:
        place, source = block.dateline
        inner = _part("dateline", place=esc(place), source=esc(source)) + inner
    else:
        inner = esc(block.lead) + inner
    return _part("paragraph", classes=classes, order=order, inner=inner), plain


def _links(block: BodyBlock) -> str:
    return segments_html(block, lambda text, href: _part("link", href=href, text=text))
