"""An article page in taz's previous design ("tazxslt", about 2017 - 2024-10-14),
from templates/article_2019.html."""

from __future__ import annotations

from tazarchive.replica.render import esc, filler, segments_html
from tazarchive.replica.site import (
    LEAF_SECTIONS,
    PARENT_SECTIONS,
    SECTIONS,
    ArticleData,
    Site,
    segments_text,
)
from tazarchive.replica.templates import fill

_FILE = "article_2019.html"


def _part(part: str, /, **values: object) -> str:
    return fill(_FILE, part, **values)


def article_page(site: Site, data: ArticleData) -> str:
    full_title = f"{data.topline}: {data.title}"
    section = data.section
    parent = SECTIONS[section.parent] if section.parent else None
    keywords = [t.name.removeprefix("Schwerpunkt ") for t in data.tags]
    keywords += [section.name] + ([parent.name] if parent else []) + ["taz", "tageszeitung "]
    names = ", ".join(a.name for a in data.authors)
    return _part(
        "page",
        full_title=esc(full_title),
        author_meta=_part("author_meta", names=esc(names)) if data.authors else "",
        teaser=esc(data.teaser),
        keywords=esc(", ".join(keywords)),
        id=data.id,
        tags_meta="".join(
            _part(
                "tag_meta",
                name=esc(t.name),
                id=t.id,
                category=f' data-tag-category="{esc(t.category)}"' if t.category else "",
            )
            for t in data.tags
        ),
        published=data.published.isoformat(),
        path=data.path,
        nav=_nav(),
        main=_main(data),
        wing=_wing(data),
        related=_related(site, data),
        community=_community(data),
        filler=filler(),
    )


def _nav() -> str:
    return "".join(
        _part("nav_item", first="first " if n == 0 else "", path=s.path, id=s.id, name=esc(s.name))
        for n, s in enumerate((*PARENT_SECTIONS, *LEAF_SECTIONS))
    )


def _main(data: ArticleData) -> str:
    picture = ""
    if data.picture is not None:
        picture = _part(
            "picture",
            src=f"/picture/{data.picture_id}",
            slug=data.slug,
            caption=esc(data.picture.caption),
            credit=esc(data.picture.credit),
        )
    genre_class = "subjective commentary" if data.genre == "commentary" else data.genre
    return _part(
        "main",
        id=data.id,
        slug=data.slug,
        genre_class=genre_class,
        topline=esc(data.topline),
        title=esc(data.title),
        teaser=esc(data.teaser),
        picture=picture,
        blocks=_blocks(data),
    )


def _blocks(data: ArticleData) -> str:
    out = []
    count = sum(1 for b in data.blocks if b.kind == "paragraph")
    p_index = -1
    for block in data.blocks:
        if block.kind == "subheading":
            out.append(_part("subheading", text=esc(segments_text(block))))
            continue
        p_index += 1
        classes = ["article"]
        classes += ["first"] if p_index == 0 else []
        classes += ["last"] if p_index == count - 1 else []
        classes.append("odd" if p_index % 2 == 0 else "even")
        classes += ["Initial"] if p_index == 0 and data.drop_cap else []
        inner = esc(data.block_prefix(block)) + segments_html(
            block, lambda text, href: _part("link", href=href, text=text)
        )
        out.append(_part("paragraph", classes=" ".join(classes), inner=inner))
        if p_index == 1 and count > 2:
            out.append(_part("ad"))
    return "".join(out)


def _wing(data: ArticleData) -> str:
    section = data.section
    parent = SECTIONS[section.parent] if section.parent else None
    hub = next((t for t in data.tags if t.kind == "hub"), None)
    rootline = "".join(
        _part("rootline_item", path=s.path, id=s.id, name=esc(s.name))
        for s in ([parent] if parent else []) + [section]
    )
    profiles = "".join(
        _part(
            "profile",
            label=esc(data.byline_label),
            path=a.path,
            name=esc(a.name),
            job=esc(a.job),
            id=a.id,
            description=(
                _part("profile_description", text=esc(a.description)) if a.description else ""
            ),
        )
        for a in data.authors
    )
    other_tags = [t for t in data.tags if t.kind != "hub"]
    tags = ""
    if other_tags:
        items = "".join(_part("tag", path=t.path, name=esc(t.name)) for t in other_tags)
        tags = _part("tags", items=items)
    published = data.published
    return _part(
        "wing",
        hub=_part("hub", name=esc(hub.name), path=hub.path) if hub is not None else "",
        rootline=rootline,
        published=published.isoformat(),
        date=f"{published.day}. {published.month}. {published.year}",
        hour=f"{published:%H:%M}",
        profiles=profiles,
        tags=tags,
    )


def _related(site: Site, data: ArticleData) -> str:
    if not data.related:
        return ""
    items = []
    for j in data.related:
        other = site.head(j)
        names = ", ".join(a.name for a in other.authors)
        items.append(
            _part(
                "related_item",
                genre=other.genre,
                path=other.path,
                id=other.id,
                topline=esc(other.topline),
                title=esc(other.title),
                teaser=esc(other.teaser),
                author=_part("related_author", names=esc(names)) if other.authors else "",
            )
        )
    return _part("related", items="".join(items))


def _community(data: ArticleData) -> str:
    published = data.published
    comments = "".join(
        _part(
            "comment",
            cid=f"{ku}{n}",
            ku=ku,
            nick=esc(nick),
            date=published.date().isoformat(),
            day=f"{published:%d. %m. %Y}",
            text=esc(text),
        )
        for n, (ku, nick, text) in enumerate(data.comments)
    )
    return _part("community", comments=comments)
