# ruff: noqa: E501  (markup lines mirror taz's class lists; splitting them hurts more than it helps)
"""Pages of the replica in taz's markup: articles (2024 and 2019 designs),
listings, feeds, sitemaps, robots.txt. All text is invented (see site.py).

The structure follows the real pages described in ../shared/taz-pages/NOTES.md:
the same elements and classes where parsers look, simplified elsewhere.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from functools import lru_cache
from html import escape
from xml.sax.saxutils import escape as xml_escape

from tazarchive.replica.site import (
    FEED_SIZE,
    LEAF_SECTIONS,
    OVERVIEW,
    PARENT_SECTIONS,
    SECTIONS,
    ArticleData,
    BodyBlock,
    Section,
    Site,
    _hash,
    segments_text,
)

ZWSP = "\u200b"


@lru_cache(maxsize=16384)  # the same sentences and names recur on many pages
def _e(text: str) -> str:
    return escape(text, quote=True)


def _day(d: date) -> str:
    return f"{d.day}.{d.month}.{d.year}"


def _naive(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S")


def _uuid(seed: int, *parts: int | str) -> str:
    h = f"{_hash(seed, 'uuid', *parts):016x}{_hash(seed, 'uuid2', *parts):016x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


# --- shared page frame (current design) ---------------------------------------

_HEAD_COMMON = (
    '<meta name="viewport" content="initial-scale=1, maximum-scale=3, width=device-width">\n'
    '<meta http-equiv="content-type" content="text/html; charset=UTF-8">\n'
    '<link rel="stylesheet" type="text/css" media="screen, print" '
    'href="/lib/taz-site/css/styles__news.min.css">\n'
    '<link rel="icon" type="image/png" sizes="32x32" href="/lib/taz-site/favicon-32x32.png">\n'
)

# A constant chunk of page furniture (menus, scripts) so pages have a
# realistic weight for parsers and benchmarks.
_SCRIPT_FILLER = (
    "<script>\nwindow.tazReplica = window.tazReplica || {};\n"
    + "".join(
        f"tazReplica.slot{n} = {{ id: 'zone_{n}', sizes: [[300, 250], [728, 90]], lazy: true }};\n"
        for n in range(60)
    )
    + "</script>\n"
)


@lru_cache(maxsize=1)
def _nav() -> str:
    items = "".join(
        f'<li class="navbar-item"><a href="{s.path}" class="typo-link">{_e(s.name)}</a></li>'
        for s in (*PARENT_SECTIONS, *LEAF_SECTIONS)
    )
    return (
        '<header class="header"><nav class="navbar" role="navigation" aria-label="Hauptmenü">'
        f'<a class="navbar-brand" href="/" aria-label="Startseite">taz</a><ul class="menu">{items}'
        '<li class="navbar-item"><a href="/!p4608/">Ressorts</a></li></ul>'
        '<form class="search" role="search" action="/!s=/" method="POST">'
        '<input type="text" name="s" placeholder="suchen"></form></nav></header>\n'
    )


def _footer(site: Site) -> str:
    return _footer_for_seed(site.seed)


@lru_cache(maxsize=8)
def _footer_for_seed(seed: int) -> str:
    static = _uuid(seed, "impressum")
    return (
        '<footer class="footer columns is-multiline">'
        f'<a href="/Impressum/!v={static}/">Impressum</a> '
        f'<a href="/Datenschutz/!v={_uuid(seed, "datenschutz")}/?vp=1">Datenschutz</a> '
        '<a href="/!p4608;rss/">RSS</a> '
        '<a href="https://www.example.org/taz-shop/" rel="noopener">Shop</a>'
        "</footer>\n" + _SCRIPT_FILLER
    )


def _frame(site: Site, title: str, head: str, body: str) -> str:
    return (
        '<!DOCTYPE html><html lang="de" prefix="og: http://ogp.me/ns# fb: http://ogp.me/ns/fb# ">\n'
        f"<head>\n<title>{_e(title)} | taz.de </title>\n{_HEAD_COMMON}{head}</head>\n"
        '<body x-data="{menuIsActive: false}">\n'
        f"{_nav()}<main>\n{body}</main>\n{_footer(site)}</body></html>\n"
    )


# --- article, current design ---------------------------------------------------


def _slug_id(text: str) -> str:
    from tazarchive.replica.site import slugify

    return slugify(text).lower()


def _paragraph_html(block: BodyBlock, inner_segments: str) -> str:
    if block.dateline:
        place, source = block.dateline
        return (
            f'<location>{_e(place)}</location> <em class="source">{_e(source)}</em> | '
            + inner_segments
        )
    return _e(block.lead) + inner_segments


def _segments_html(block: BodyBlock, link_attrs: str) -> str:
    parts = []
    for seg in block.segments:
        if isinstance(seg, str):
            parts.append(_e(seg))
        else:
            parts.append(f'<a href="{_e(seg[1])}"{link_attrs}>{_e(seg[0])}</a>')
    return "".join(parts)


def _body_2024(data: ArticleData) -> tuple[str, str]:
    """The corpus HTML and the JSON-LD articleBody text."""
    out = []
    ld = ["\n      \n      "]
    order = 0
    paragraphs = [b for b in data.blocks if b.kind == "paragraph" and not b.box]
    p_index = -1
    for block in data.blocks:
        order += 1
        mob = f"mobile-order-{order}"
        if block.box == "bio":
            text = segments_text(block)
            out.append(
                f'      <div data-pos="{order}" data-for="webelement_bio" class="column is-12 '
                f'webelement-wrapper webelement_bio webelement-pos-{order} {mob}">\n'
                f'<div class="bio-box is-8-tablet mgh-auto-tablet"><p class="typo-bodytext">{_e(text)}'
                "</p></div>\n</div>\n"
            )
            ld.append(text + "\n      ")
            continue
        if block.kind == "subheading":
            text = segments_text(block)
            out.append(
                f'      <h2 class="typo-head-small headline column pv-0  is-8-tablet mgh-auto-tablet'
                f'   {mob}" id="{_slug_id(text)}">{_e(text)}</h2>\n'
            )
            ld.append(text + "\n      ")
            continue
        p_index += 1
        is_first, is_last = p_index == 0, p_index == len(paragraphs) - 1
        inner = _segments_html(block, ' target="_blank" class="link in-text-link"')
        plain = data.block_text(block)
        if is_first and data.drop_cap:
            first_seg = block.segments[0]
            assert isinstance(first_seg, str)
            initial, rest_seg = first_seg[0], first_seg[1:]
            rest = _e(rest_seg) + _segments_html(
                BodyBlock("paragraph", block.segments[1:]),
                ' target="_blank" class="link in-text-link"',
            )
            html = (
                f'<p class="Initial paragraph first  typo-bodytext is-block column pv-0 is-8-tablet '
                f'mgh-auto-tablet {mob}" pos="{order}"><span class="initial-letter-outer ">'
                f'<span class="initial-letter  typo-r-initial-meinung pl-xsmall pr-small ">{_e(initial)}'
                f'</span></span> <span class="is-inline">{rest}</span></p>\n'
            )
            ld.append(f"{initial} {plain[1:]}\n      ")
        else:
            classes = (
                "bodytext paragraph" + (" first" if is_first else "") + (" last" if is_last else "")
            )
            html = (
                f'      <p class="{classes}  typo-bodytext is-block column pv-0 is-8-tablet '
                f'mgh-auto-tablet {mob}" pos="{order}">{_paragraph_html(block, inner)}</p>\n'
            )
            ld.append(plain + "\n      ")
        out.append(html)
        if p_index in (1, 5) and not is_last:
            order += 1
            out.append(
                f'      <div data-pos="{order}" data-for="webelement_adzone" class="column is-12 pv-0 '
                f'mgt-0 webelement-wrapper webelement_adzone webelement-pos-{order} mobile-order-{order}">\n'
                '<div class="is-flex full is-justify-content-center ad_zone-container-inner">'
                f'<span id="ad_bin_artikel_medrec_{p_index}" class="ad_bin sold contentad">'
                f'<div id="ad_zone_artikel_medrec_{p_index}" class="ad_zone ad_zone_contentad">'
                "</div></span></div>\n</div>\n"
            )
            ld.append("\n\n\n\n      ")
        if p_index == 3 and not is_last and data.index % 5 == 1:
            # A pull quote repeats a sentence of the text: not article text.
            order += 1
            quote = plain.split(". ")[0].rstrip(".")
            speaker = data.authors[0].name if data.authors else "taz"
            out.append(
                f'      <div data-pos="{order}" data-for="webelement_citation" class="column is-12 '
                f'webelement-wrapper webelement_citation webelement-pos-{order} mobile-order-{order}">\n'
                '<blockquote class="citation is-8-tablet mgh-auto-tablet typo-citation">\n'
                f"<p>„{_e(quote)}“</p>\n"
                f'<footer class="typo-name-detail">{_e(speaker)}</footer>\n</blockquote>\n</div>\n'
            )
    ld[-1] = ld[-1].rstrip(" ") + "    "
    corpus = (
        '<div class="column main-article-corpus is-12 pt-0 mgt-xlarge mgt-large-mobile mobile-order-6">\n'
        '<div class="columns is-multiline">\n' + "".join(out) + "</div>\n</div>\n"
    )
    return corpus, "".join(ld)


def _picture_url(data: ArticleData, width: int) -> str:
    return f"https://taz.de/picture/{data.picture_id}/{width}/{data.slug}-1.jpeg"


def _picture_2024(data: ArticleData) -> str:
    if data.picture is None:
        return ""
    pic = data.picture
    base = f"https://taz.de/picture/{data.picture_id}"
    name = f"{data.slug}-1.jpeg"
    sources = "".join(
        f'<source srcset="{base}/{w}/{name}" media="(min-width: {w}px)" type="image/jpeg"></source>\n'
        for w in (665, 410, 300, 140)
    )
    credit = pic.credit.removeprefix("Foto: ")
    return (
        '<div data-pos="not-numeric" data-for="picture" class="column is-12-tablet is-flex '
        'mgt-medium webelement-wrapper picture webelement-pos-0 mobile-order-5">\n'
        '<figure id="lightbox--standard" class=" image full pswp-gallery ">\n'
        f'<a class="slides icon maximize_opahov large pswp-slides pl-0" href="{base}/1900/{name}" '
        f'data-pswp-width="1900">\n<picture style="display: block;" alt="{_e(pic.caption)}">\n{sources}'
        f'<img src="{base}/14/{name}" alt="{_e(pic.caption)}" title="{_e(pic.caption)}"></img>\n'
        "</picture>\n</a>\n</figure>\n"
        '<figcaption class="mgt-xsmall typo-caption caption full typo-r-caption-detail ">\n\n'
        f"{_e(pic.caption)}\n\n<span>&ensp;</span>\n\n"
        '<span class="  typo-fotocredit  ">\n<span class="credit-name ">\n'
        f"Foto: \n{_e(credit)}\n</span>\n</span>\n</figcaption>\n</div>\n"
    )


def _teaser_block(site: Site, index: int, *, element: str, extra_class: str, order: int) -> str:
    """One teaser in the current design (listings: <article>, related: <div>)."""
    data = site.head(index)
    href = _listing_href(site, data, order)
    names = ""
    if data.authors:
        label = data.byline_label or "Von"
        names = (
            '<div class="is-flex is-justify-content-top"><div class="mgb-small is-flex is-align-items-center">'
            f'<div><span class="typo-r-name-reg">{_e(label)}</span> '
            + ' <span class="typo-r-name-reg">und</span> '.join(
                f'<span class="typo-r-name">{_e(a.name)}</span>' for a in data.authors
            )
            + "</div></div></div>\n"
        )
    picture = ""
    if data.picture is not None:
        picture = (
            f'<div class="column is-12 pt-0 item mobile-order-1"><a class="teaser-link " href="{_e(href)}">'
            f'<figure class=" image is-3by2"><picture><img src="https://taz.de/picture/{data.picture_id}/14/'
            f'{data.slug}-1.jpeg" alt="{_e(data.picture.caption)}" loading="lazy"></img></picture>'
            "</figure></a></div>\n"
        )
    return (
        f'<{element} class="column article-teaser {extra_class} mobile-order-{order}">\n'
        '<div class="columns is-multiline">\n'
        f"{picture}"
        '<div class="column is-12 mgt-0 item mobile-order-2">\n'
        f'<a href="{_e(href)}" class="mgt-small-medium-mobile teaser-link">\n<span class=" ">\n'
        f'<p class=" mgb-small typo-r-topline mgr-small">\n{_e(data.topline)}\n</p>\n'
        f'<p class="headline link typo-r-head-small mgb-small">\n{_e(data.title)}\n</p>\n'
        "</span>\n</a>\n"
        f"{names}"
        f'<div class=" typo-r-subline mgt-xsmall-mobile">\n{_e(data.teaser)}\n</div>\n'
        f'<time datetime="{data.published.date().isoformat()}" class="typo-meta-data">'
        f"{_day(data.published.date())}</time>\n"
        "</div>\n</div>\n"
        f"</{element}>\n"
    )


def _listing_href(site: Site, data: ArticleData, salt: int) -> str:
    return site.teaser_href(data.index, salt)


def article_2024(site: Site, data: ArticleData) -> str:
    host = "https://taz.de"
    canonical = f"{host}{data.path}"
    full_title = f"{data.topline}: {data.title}"
    head = [
        '<meta name="robots" content="index, follow, max-image-preview:large ">\n',
        f'<link rel="canonical" href="{canonical}">\n',
        f'<meta name="description" content="{_e(data.teaser)}">\n',
        '<meta property="og:site_name" content="taz.de">\n',
        f'<meta property="og:url" content="{canonical}">\n',
        f'<meta property="og:title" content="{_e(full_title)}">\n',
        f'<meta property="og:description" content="{_e(data.teaser)}">\n',
        f'<meta name="taz:title" data-id="{data.id}" content="{_e(full_title)}{ZWSP}">\n',
        '<meta property="og:type" content="article">\n',
    ]
    for tag in data.tags:
        category = f' data-tag-category="{_e(tag.category)}"' if tag.category else ""
        head.append(
            f'<meta property="article:tag" name="taz:tag" data-id="{tag.id}" data-tag-id="{tag.id}"'
            f'{category} content="{_e(tag.name)}">\n'
        )
    for author in data.authors:
        head.append(f'<meta property="article:author" content="{_e(author.name)}">\n')
    head.append(f'<meta property="article:published_time" content="{_naive(data.published)}">\n')
    if data.picture is not None:
        head.append(f'<meta property="og:image" content="{_picture_url(data, 1200)}">\n')
    head.append(
        '<script type="application/ld+json">\n'
        + json.dumps(
            {"@context": "https://schema.org/", "@type": "WebPage", "url": f"{host}/"},
            ensure_ascii=False,
        )
        + "\n</script>\n"
    )
    crumbs = [("Startseite", f"{host}/")]
    section = data.section
    if section.parent:
        parent = SECTIONS[section.parent]
        crumbs.append((parent.name, f"{host}{parent.path}"))
    crumbs.append((section.name, f"{host}{section.path}"))
    crumbs.append((full_title, canonical))
    breadcrumb = {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": n + 1, "name": name, "item": url}
            for n, (name, url) in enumerate(crumbs)
        ],
    }
    bylines = "".join(
        '<div class="author-container column is-flex is-flex-wrap-wrap mgt-xlarge p-0 pl-small-medium '
        'is-8-tablet mgh-auto-tablet-only mgh-auto-desktop mobile-order-2">\n'
        '<div class=" author-pic-name-wrapper is-flex is-flex-wrap-wrap is-align-items-center ">\n'
        f'<figure class="pr-small is-flex-shrink-0" title="{_e(a.name)}">\n'
        f'<img class="image is-rounded author-profile " src="https://taz.de/kommune/files/images/'
        f'profile/192x192/{a.id}.png" alt="{_e(a.name)} "></img></figure>\n'
        '<div class="typo-name-detail pr-xsmall pv-small">\n'
        f'<span class="typo-name-detail ">{_e(data.byline_label)} </span>\n'
        f'<a class="teaser-link" href="{a.path}">\n'
        f'<span class="typo-name-detail-bold link ">{_e(a.name)}</span></a>\n'
        "</div>\n</div>\n</div>\n"
        for a in data.authors
    )
    corpus, article_body = _body_2024(data)
    published = data.published
    meta_data = (
        '<div class="meta-data-container column is-flex is-align-items-center is-8-tablet '
        'mgh-auto-tablet-only mgh-auto-desktop mgt-large mgb-0 mobile-order-4 ">\n'
        f'<time datetime="{published.date().isoformat()}" class="has-text-text-icon-grey '
        f' typo-meta-data pr-small">\n{_day(published.date())}\n</time>\n'
        f'<time datetime="{published:%H:%M}" class="has-text-text-icon-grey typo-meta-data">\n'
        f"{published:%H:%M} Uhr\n</time>\n"
        '<button class=" mgl-auto js-modal-trigger icon-link-wrapper" aria-label="Teilen">'
        '<span class="icon-link-text typo-meta-data  ">teilen</span></button>\n</div>\n'
    )
    donation = (
        '<div x-data="{}" class="tzi-bottom-container is-12 pt-large pb-xlarge has-background-'
        'highlighted typo-bodytext column mgt-medium mgb-0 mobile-order-7">\n'
        '<div class="sect_text tziBottom columns is-multiline">\n'
        '<p class="column is-8 headline typo-head-small pv-xsmall mobile-order-1">'
        "Freie Presse braucht freie Leser*innen</p>\n"
        '<p class="article column first is-8 mobile-order-2">\n'
        "Diese Seite bleibt ohne Bezahlschranke, weil viele Leser*innen freiwillig etwas geben. "
        "Machen Sie mit, schon mit kleinen Beträgen.\n"
        f'<a href="/Unterstuetzen/!v={_uuid(site.seed, "tzi")}/#matomo:pk_campaign=tzi-Bottom" '
        'class="button primary-button typo-button-text" role="link">\nJetzt unterstützen\n</a>\n'
        "</p>\n</div>\n</div>\n"
    )
    author_boxes = "".join(
        '<div class="author-container column mgt-medium mgb-medium-large pl-small-medium is-7 '
        'is-offset-2 mobile-order-8">\n'
        '<div class="author-pic-name-wrapper is-flex is-justify-content-flex-start">\n'
        f'<figure class="pr-large is-flex-shrink-0" title="{_e(a.name)}">\n'
        f'<img class=" image author-profile is-rounded large" src="https://taz.de/kommune/files/'
        f'images/profile/192x192/{a.id}.png" alt="{_e(a.name)} "></img></figure>\n'
        '<div class="author-name-wrapper ">\n'
        f'<a class="teaser-link" href="{a.path}">\n<p class=" typo-short-text-head link ">\n'
        f"{_e(a.name)}</p>\n</a>\n"
        f'<span class="is-flex typo-name-detail ">\n{_e(a.job)}\n</span>\n'
        '<div class="author-description typo-short-text pb-small pt-small-medium ">\n'
        f"{_e(a.description)}\n</div>\n"
        "</div>\n</div>\n</div>\n"
        for a in data.authors
        if a.description
    )
    tags_box = ""
    if data.tags:
        tag_links = "".join(
            f'<a href="https://taz.de{t.path}" class="pr-small-medium">\n'
            f"#{_e(t.name.removeprefix('Schwerpunkt '))}\n</a>"
            for t in data.tags
        )
        tags_box = (
            '<section class="columns is-multiline p-0 force-full-dotted ">\n'
            '<div class="column is-8 mgh-auto-tablet-only mgh-auto-desktop pt-0 mgt-medium '
            'tags-bottom-container mobile-order-1">\n<div id="content_nav">\n'
            '<span class="pr-small-medium typo-teaser-text-bold">Themen</span>\n'
            f'<span class="has-text-text-icon-grey typo-link link">\n{tag_links}</span>\n'
            "</div>\n</div>\n</section>\n"
        )
    feedback = (
        '<section class="columns pb-0 mgb-large-desktop mgt-medium">\n'
        '<div class="column pv-0 is-8 error-note-container mobile-order-1">\n'
        '<div class="pr-small-medium typo-teaser-text-bold">Feedback\n'
        '<span class="has-text-text-icon-grey typo-link link">\n'
        '<a href="#kommune" class="ph-small-medium">\nKommentieren\n</a>\n'
        f'<a href="/redaktion/Leserbrief/!v={_uuid(site.seed, "leserbrief")}/" class="pr-small-medium">\n'
        "Fehlerhinweis\n</a>\n</span>\n</div>\n</div>\n</section>\n"
    )
    related = ""
    if data.related:
        related = (
            '<section class="columns force-full-dotted is-multiline " id="articleTeaser">\n'
            '<header class="column is-12 typo-r-sectiontitle mgb-small-mobile mobile-order-1">\n'
            "Mehr zum Thema\n</header>\n"
            + "".join(
                _teaser_block(site, j, element="div", extra_class=" is-4 dotted pt-0 ", order=n + 2)
                for n, j in enumerate(data.related)
            )
            + "</section>\n"
        )
    news_article: dict[str, object] = {
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
        news_article["image"] = _picture_url(data, 948)
    news_article["author"] = [
        {"@type": "Person", "name": a.name, "url": f"{host}{a.path}"} for a in data.authors
    ]
    news_article["publisher"] = {"@type": "Organization", "name": "taz"}
    news_article["datePublished"] = published.isoformat()
    comments = "".join(
        f'<li class="member column pt-0-tablet is-12-tablet mobile-order-1 comment mgt-medium" '
        f'id="bb_message_{ku}{n}" data-cid="{ku}{n}">\n<div class="columns is-mobile">\n'
        f'<div class="column is-1-tablet is-offset-2"><a href="/!ku{ku}/"><div class="image '
        f'is-rounded author-profile"><span>{_e(nick[:2].upper())}</span></div></a></div>\n'
        '<div class="column is-7-tablet is-10-mobile mobile-order-2">\n'
        f'<div><a href="/!ku{ku}/">\n<span class="author typo-short-text-bold">{_e(nick)}</span>\n'
        "</a></div>\n"
        f'<time datetime="{published.date().isoformat()}T21:0{n}:00+01:00" class="typo-meta-data">'
        f'<span class="date">{published:%d.%m.%Y}</span></time>\n'
        '<div class="typo-short-text text pt-small message-text-container hyphens break-word">\n'
        f"<p>{_e(text)}</p>\n</div>\n</div>\n</div>\n</li>\n"
        for n, (ku, nick, text) in enumerate(data.comments)
    )
    most = "".join(
        f'<li><a href="{_listing_href(site, site.head(j), 50 + n)}" class="teaser-link">'
        f'<p class="typo-r-topline">{_e(site.head(j).topline)}</p>'
        f'<p class="headline">{_e(site.head(j).title)}</p></a></li>'
        for n, j in enumerate(data.most_commented)
    )
    community = (
        '<section class="columns is-multiline ">\n'
        '<div id="kommune" name="kommune" class="mini news community page column is-12 mobile-order-1">\n'
        f'<ul class="comments-list comments-container columns is-multiline ">\n{comments}</ul>\n'
        "</div>\n"
        '<div class="column most-commented-container mobile-order-2">\n'
        '<header class="column is-12"><p class="typo-r-sectiontitle">meistkommentiert</p></header>\n'
        f"<ul>{most}</ul>\n</div>\n</section>\n"
    )
    body = (
        '<script type="application/ld+json">\n'
        + json.dumps(breadcrumb, ensure_ascii=False)
        + "\n</script>\n"
        '<section class="outerwrapper   contains-module-article  has-no-background    ">\n'
        '<article class="module columns is-multiline article module-article   contains-article '
        f'is-first  mgt-large pb-0  article article-type-{data.genre}">\n'
        '<div class="metadata is-hidden " itemscope="">\n'
        f'<meta itemprop="cms-article-ID" content="{data.id}"></meta>\n'
        f'<meta itemprop="url-ID" content="{data.id}"></meta>\n'
        f'<span id="cmsArticleID">{data.id}</span>\n</div>\n'
        '<h1 class="column is-8-tablet mgh-auto-tablet-only pv-0 mgt-xlarge mgh-auto-desktop '
        'mobile-order-1">\n'
        f'<span class="is-flex headline typo-r-topline-detail">{_e(data.topline)}</span>'
        '<span class="is-hidden">: </span>'
        f'<span class="is-flex headline typo-r-head-detail">{_e(data.title)}</span>\n</h1>\n'
        f"{bylines}"
        '<p class="column mgt-large is-8-desktop is-8-tablet mgh-auto-tablet-only mgh-auto-desktop '
        f'typo-r-subline-detail mobile-order-3">\n{_e(data.teaser)}\n</p>\n'
        f"{meta_data}{_picture_2024(data)}{corpus}{donation}{author_boxes}"
        "</article>\n"
        f"{tags_box}{feedback}{related}</section>\n"
        '<script type="application/ld+json">\n'
        + json.dumps(news_article, ensure_ascii=False)
        + "\n</script>\n"
        f"{community}"
    )
    return _frame(site, full_title, "".join(head), body)


# --- article, previous design ("tazxslt") -------------------------------------


def article_2019(site: Site, data: ArticleData) -> str:
    full_title = f"{data.topline}: {data.title}"
    published = data.published
    section = data.section
    parent = SECTIONS[section.parent] if section.parent else None
    keywords = [t.name.removeprefix("Schwerpunkt ") for t in data.tags]
    keywords += [section.name] + ([parent.name] if parent else []) + ["taz", "tageszeitung "]
    tags_meta = "".join(
        f'<meta name="taz:tag" content="{_e(t.name)}" data-tag-id="{t.id}"'
        + (f' data-tag-category="{_e(t.category)}"' if t.category else "")
        + "></meta>"
        for t in data.tags
    )
    head = (
        '<!DOCTYPE html>\n<html xmlns="http://www.w3.org/1999/xhtml" lang=""><head>'
        '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\n'
        '<meta name="robots" content="index,follow,noarchive"></meta>'
        '<meta name="language" content="de"></meta>'
        f"<title>{_e(full_title)} - taz.de</title>"
        + (
            f'<meta name="author" content="{_e(", ".join(a.name for a in data.authors))}"></meta>'
            if data.authors
            else ""
        )
        + f'<meta name="description" content="{_e(data.teaser)}"></meta>'
        f'<meta name="keywords" content="{_e(", ".join(keywords))}"></meta>'
        f'<meta name="taz:title" data-id="{data.id}" content="{_e(full_title)}"></meta>'
        f"{tags_meta}"
        '<meta name="generator" content="tazxslt, 0.55; "></meta>'
        f'<meta property="og:url" content="https://taz.de/!{data.id}/"></meta>'
        '<meta property="og:type" content="article"></meta>'
        f'<meta property="og:title" content="{_e(full_title)}"></meta>'
        f'<meta property="article:published_time" content="{published.isoformat()}"></meta>\n'
        f'<link rel="canonical" href="https://taz.de{data.path}">\n'
        '<link rel="stylesheet" href="/lib/ch/web/css/news.css">\n'
        "</head>\n<body>\n"
    )
    nav = (
        '<div id="pages" class="news"><ul role="navigation" id="globalnavigation" class="navbar">'
        + "".join(
            f'<li class="{"first " if n == 0 else ""}odd trodd"><a href="{s.path}" '
            f'id="menu_p{s.id}"><span>{_e(s.name)}</span></a></li>'
            for n, s in enumerate((*PARENT_SECTIONS, *LEAF_SECTIONS))
        )
        + '</ul><form class="search" role="search" action="/!s=/" method="POST">'
        '<input type="text" class="text preset" name="s"></input></form></div>\n'
    )
    body = []
    paragraphs = [b for b in data.blocks if b.kind == "paragraph"]
    p_index = -1
    for block in data.blocks:
        if block.kind == "subheading":
            text = segments_text(block)
            body.append(f'      <h6 xmlns="">{_e(text)}</h6>\n')
            continue
        p_index += 1
        parity = "odd" if p_index % 2 == 0 else "even"
        classes = ["article"]
        if p_index == 0:
            classes.append("first")
        if p_index == len(paragraphs) - 1:
            classes.append("last")
        classes.append(parity)
        if p_index == 0 and data.drop_cap:
            classes.append("Initial")
        inner = _e(data.block_prefix(block))
        inner += _segments_html(block, "").replace("<a href=", '<a target="_blank" href=')
        body.append(f'      <p xmlns="" class="{" ".join(classes)}">{inner}</p>\n')
        if p_index == 1 and len(paragraphs) > 2:
            body.append(
                '      <span id="ad_bin_artikel_medrec_1" class="ad_bin sold contentad">'
                '<div id="ad_zone_artikel_medrec_1" name="artikel_medrec-1" class="ad_zone '
                'ad_zone_contentad"></div></span>\n'
            )
    picture = ""
    if data.picture is not None:
        pic = data.picture
        src = f"/picture/{data.picture_id}"
        picture = (
            f'      <a xmlns="" class="full picture" href="{src}/948/{data.slug}-1.jpeg" '
            'target="fullImage" itemprop="image">'
            f'<img src="{src}/624/{data.slug}-1.jpeg" alt="{_e(pic.caption)}" '
            f'title="{_e(pic.caption)}"></a><p xmlns="" class="caption">{_e(pic.caption)} '
            f'<span class="credit"> {_e(pic.credit)}</span></p>\n'
        )
    genre_class = "subjective commentary" if data.genre == "commentary" else data.genre
    main = (
        '<span class="body" role="main"><div class="main rack">\n'
        '<div xmlns="" class="metadata" itemscope="">\n'
        f'<a id="articleURL" href="/!{data.id}"></a><a id="speakingURL" href="/{data.slug}/!{data.id}"></a>'
        f'<meta itemprop="cms-article-ID" content="{data.id}"></meta>'
        f'<span id="cmsArticleID">{data.id}</span>\n</div>\n'
        f'<div role="region" id="" class="odd sect sect_article news {genre_class}">'
        '<article class="sectbody" itemprop="articleBody"><h1 xmlns="" itemprop="headline">\n'
        f'<span class="kicker">{_e(data.topline)}</span><span class="hide">: </span>'
        f"<span>{_e(data.title)}</span>\n</h1>\n"
        f'<p xmlns="" itemprop="description" class="intro ">{_e(data.teaser)}</p>\n'
        f"{picture}" + "".join(body) + "    </article></div>\n"
        '<div role="region" id="" class="odd sect "><div class="sectbody">'
        '<a xmlns="" id="reward" shape="rect">Einmal zahlen</a></div></div>\n'
        "</div></span>"
    )
    hub = next((t for t in data.tags if t.kind == "hub"), None)
    wing = ['<span class="wing" role="contentinfo"><div class="rack first_rack">\n']
    if hub is not None:
        wing.append(
            '<div role="region" id="" class="odd sect sect_description decorated focus directory '
            f'no_body"><div class="secthead" role="heading"><h2><a name="{_e(hub.name)}" '
            f'href="{hub.path}/"><span>{_e(hub.name)}</span></a></h2></div>'
            '<div class="sectbody"></div></div>\n'
        )
    rootline = "".join(
        f'<li class="selected"><a href="{s.path}" id="menu_p{s.id}"><span>{_e(s.name)}</span></a></li>'
        for s in ([parent] if parent else []) + [section]
    )
    wing.append(
        '<div role="region" id="" class="even sect sect_meta "><div class="sectbody">'
        f'<ul role="navigation" class="left rootline toolbar">{rootline}</ul>'
        '<ul role="navigation" class="right toolbar">'
        f'<li class="date" itemprop="datePublished" content="{published.isoformat()}">'
        f"{published.day}. {published.month}. {published.year}<span>, {published:%H:%M} Uhr</span>"
        "</li></ul></div></div>\n"
    )
    for a in data.authors:
        wing.append(
            '<div role="region" id="" class="odd sect sect_profile big pictured "><div class="secthead" '
            f'role="heading"><h2><a name="{_e(data.byline_label)}"><span>{_e(data.byline_label)}</span>'
            '</a></h2></div><div class="sectbody" itemscope="itemscope" itemtype="http://schema.org/'
            'Person" itemprop="author"><a rel="author" class="big pictured author community person '
            f'objlink" itemprop="url" href="https://taz.de{a.path}"><h4 itemprop="name">{_e(a.name)}'
            f'</h4><h5 itemprop="jobTitle">{_e(a.job)}</h5><img itemprop="image" src="/kommune/'
            f'files/images/profile/138x138/{a.id}.png" alt="{_e(a.name)}"></img></a></div></div>'
        )
        if a.description:
            wing.append(
                '<div role="region" id="" class="odd sect sect_profile-descr "><p class="sectbody">'
                f"{_e(a.description)}</p></div>"
            )
        wing.append("\n")
    other_tags = [t for t in data.tags if t.kind != "hub"]
    if other_tags:
        wing.append(
            '<div role="region" id="" class="even sect sect_tags "><div class="secthead" '
            'role="heading"><h2><a name="Themen"><span>Themen</span></a></h2></div>'
            '<ul role="directory" class="news directory sectbody">'
            + "".join(
                f'<li class="tag"><a role="link" href="https://taz.de{t.path}" class="tag dirlink">'
                f"<span>{_e(t.name)}</span></a></li>"
                for t in other_tags
            )
            + "</ul></div>\n"
        )
    wing.append("</div></span>\n")
    related = ""
    if data.related:
        items = []
        for j in data.related:
            other = site.head(j)
            author = (
                f'  <span class="author">{_e(", ".join(a.name for a in other.authors))}</span>'
                if other.authors
                else ""
            )
            items.append(
                f'<li class=" {other.genre} article leaded"><a href="{other.path}" '
                f'ratioURL-ressource="{other.id}" class="objlink {other.genre} article leaded" '
                f'role="link"><h4>{_e(other.topline)}</h4><h3>{_e(other.title)}</h3>'
                f"<p>{_e(other.teaser)}{author}</p></a></li>"
            )
        related = (
            '<div class="full no_rightbar below news page even n2"><span class="body" role="main">'
            '<div class="rack first_rack"><div role="region" id="" class="first last odd sect '
            'sect_thema clip_small plain style_clip_small plain "><div class="secthead" '
            'role="heading"><h2><a name="Mehr zum Thema"><span>Mehr zum Thema</span></a></h2></div>'
            '<ul role="directory" class="sectbody news  directory">'
            + "".join(items)
            + "</ul></div></div></span></div>\n"
        )
    comments = "".join(
        f'<li class="member " id="bb_message_{ku}{n}"><a class="author person" href="/!ku{ku}/">'
        f'<h4>{_e(nick)}</h4></a><time datetime="{published.date().isoformat()}T20:29:00+01:00">'
        f'{published:%d. %m. %Y}</time><div class="objlink nolead" role="link"><p xmlns="" '
        f'class="first last odd">{_e(text)}</p></div></li>'
        for n, (ku, nick, text) in enumerate(data.comments)
    )
    community = (
        '<div class="full community page last odd n3"><span class="body" role="main">'
        '<div class="rack first_rack"><div role="region" id="" class="even sect sect_commentlinks '
        'style_commentlinks "><div class="secthead" role="heading"><h2><a name="Leserkommentare">'
        '<span>Leserkommentare</span></a></h2></div><ul role="directory" class="sectbody directory">'
        f"{comments}</ul></div></div></span></div>\n"
    )
    return (
        head
        + nav
        + '<div class="sect_page">'
        + main
        + "".join(wing)
        + "</div>\n"
        + related
        + community
        + _SCRIPT_FILLER
        + "</body></html>\n"
    )


def article_page(site: Site, index: int, data: ArticleData | None = None) -> str:
    data = site.data(index) if data is None else data
    return article_2019(site, data) if data.layout == "2019" else article_2024(site, data)


# --- listings ------------------------------------------------------------------


def page_query(site: Site, page: int) -> str:
    """The query part of a listing's page ``page`` (1-based): "" or "?search_page=N"."""
    return _page_param(site, page)


def _page_param(site: Site, page: int) -> str:
    return "" if page == 1 else f"?search_page={page - 2 + site.page2_param}"


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
    links = []
    if page > 1:
        links.append(
            f'<a class="pagination-previous" href="{path}{_page_param(site, page - 1)}">zurück</a>'
        )
    if page < pages:
        links.append(
            f'<a class="pagination-next" href="{path}{_page_param(site, page + 1)}">weiter</a>'
        )
    shown = sorted({1, page - 1, page, page + 1, pages} & set(range(1, pages + 1)))
    items, last = [], 0
    for p in shown:
        if p - last > 1:
            items.append('<li><span class="pagination-ellipsis">&hellip;</span></li>')
        current = ' is-current" aria-current="page' if p == page else ""
        items.append(
            f'<li><a class="pagination-link{current}" aria-label="Seite {p}" '
            f'href="{path}{_page_param(site, p)}">{p}</a></li>'
        )
        last = p
    return (
        '<nav class="pagination is-centered column is-12" role="navigation" aria-label="pagination">'
        + "".join(links)
        + f'<ul class="pagination-list">{"".join(items)}</ul></nav>\n'
    )


def listing_page(
    site: Site, kind: str, object_id: str, path: str, name: str, page: int, header: str = ""
) -> str:
    """A listing (section, tag or author) page: teasers newest first, 20 a page."""
    indexes = site.page_of(kind, object_id, page)
    pages = site.listing_pages(kind, object_id)
    teasers = "".join(
        _teaser_block(site, i, element="article", extra_class=" is-4 dotted pt-0 ", order=n + 1)
        for n, i in enumerate(indexes)
    )
    body = (
        f'<section class="columns is-multiline listing listing-{kind}" data-page="{page}" '
        f'data-pages="{pages}">\n'
        f'<header class="column is-12 typo-r-sectiontitle"><h1 class="typo-head-large">{_e(name)}'
        f"</h1></header>\n{header}{teasers}{_pagination(site, path, page, pages)}</section>\n"
    )
    head = f'<link rel="canonical" href="https://taz.de{path}{_page_param(site, page)}">\n'
    head += (
        f'<link rel="alternate" type="application/rss+xml" href="{path.rstrip("/")};rss/">\n'
        if kind == "section"
        else ""
    )
    return _frame(site, name, head, body)


def home_page(site: Site) -> str:
    newest = site.page_of("section", OVERVIEW.id, 1) + site.page_of("section", OVERVIEW.id, 2)[:10]
    teasers = "".join(
        _teaser_block(site, i, element="article", extra_class=" is-4 dotted pt-0 ", order=n + 1)
        for n, i in enumerate(newest)
    )
    hubs = "".join(
        f'<li><a href="{site.tag("hub", h).path}">{_e(site.tag("hub", h).name)}</a></li>'
        for h in range(min(site.n_hubs, 8))
    )
    sections = "".join(f'<li><a href="{s.path}">{_e(s.name)}</a></li>' for s in PARENT_SECTIONS)
    body = (
        '<section class="columns is-multiline listing listing-home">\n'
        '<header class="column is-12 typo-r-sectiontitle">Aktuelle Artikel</header>\n'
        f"{teasers}"
        '<p class="column is-12"><a class="typo-link" href="/!p4608/?search_page='
        f'{site.page2_param}">Ältere Artikel</a></p>\n'
        f'</section>\n<section class="columns"><ul class="column">{sections}</ul>'
        f'<ul class="column themes">{hubs}</ul></section>\n'
    )
    return _frame(site, "taz.de", '<link rel="canonical" href="https://taz.de/">\n', body)


def profile_page(site: Site, profile_id: str) -> str:
    body = (
        '<section class="columns community profile"><h1 class="typo-head-large">'
        f"Profil {_e(profile_id)}</h1><p>Dieses Profil ist nicht öffentlich.</p></section>\n"
    )
    return _frame(site, "Kommune", "", body)


def static_page(site: Site, name: str) -> str:
    body = (
        f'<section class="columns static"><h1 class="typo-head-large">{_e(name)}</h1>'
        "<p>Eine Serviceseite, kein Artikel.</p></section>\n"
    )
    return _frame(site, name, "", body)


def not_found_page(site: Site) -> str:
    return _frame(site, "Seite nicht gefunden", "", "<h1>404 \u2013 Seite nicht gefunden</h1>\n")


# --- feeds, sitemaps, robots ----------------------------------------------------


def _rfc822(dt: datetime) -> str:
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    offset = dt.strftime("%z")
    return (
        f"{days[dt.weekday()]}, {dt.day:02d} {months[dt.month - 1]} {dt.year} "
        f"{dt:%H:%M:%S} {offset}"
    )


def feed(site: Site, section: Section) -> str:
    items = []
    for index in _feed_indexes(site, section):
        data = site.head(index)
        url = f"{site.link_host}{data.path}"
        creator = ", ".join(a.name for a in data.authors)
        items.append(
            "<item>"
            f"<title>{xml_escape(data.topline + ': ' + data.title)}</title>"
            f"<link>{xml_escape(url)}</link>"
            f"<description>{xml_escape(data.teaser)}</description>"
            f"<pubDate>{_rfc822(data.published)}</pubDate>"
            f'<guid isPermaLink="false">{data.id}</guid>'
            + (f"<dc:creator>{xml_escape(creator)}</dc:creator>" if creator else "")
            + "".join(f"<category>{xml_escape(t.name)}</category>" for t in data.tags)
            + "</item>\n"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>\n'
        f"<title>taz.de - {xml_escape(section.name)}</title>\n"
        f"<link>{site.link_host}{section.path}</link>\n"
        f'<atom:link href="{site.link_host}{section.path.rstrip("/")};rss/" rel="self" '
        'type="application/rss+xml"/>\n'
        "<description>Nachrichten der taz</description>\n<language>de-de</language>\n"
        + "".join(items)
        + "</channel>\n</rss>\n"
    )


def _feed_indexes(site: Site, section: Section) -> list[int]:
    from itertools import islice

    return list(islice(site.listing("section", section.id), FEED_SIZE))


def sitemap_index(site: Site) -> str:
    entries = [f"{site.link_host}/sitemap-google-news.xml"]
    entries += [
        f"{site.link_host}/sitemap-article-online-{first.isoformat()}-{last.isoformat()}.xml"
        for first, last in site.months()
    ]
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        + "".join(f"<sitemap><loc>{xml_escape(u)}</loc></sitemap>\n" for u in entries)
        + "</sitemapindex>\n"
    )


def sitemap_month(site: Site, first: date, last: date) -> str:
    urls = []
    for index in site.month_indexes(first, last):
        data = site.head(index)
        urls.append(
            f"<url><loc>{xml_escape(site.link_host + data.path)}</loc>"
            f"<lastmod>{data.published.isoformat()}</lastmod></url>\n"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        + "".join(urls)
        + "</urlset>\n"
    )


def sitemap_news(site: Site) -> str:
    urls = []
    for article_id in site.news_sitemap_ids():
        data = site.head(site.index_of(article_id))  # type: ignore[arg-type]
        urls.append(
            f"<url><loc>{xml_escape(site.link_host + data.path)}</loc><news:news>"
            "<news:publication><news:name>taz</news:name><news:language>de</news:language>"
            f"</news:publication><news:publication_date>{data.published.isoformat()}"
            f"</news:publication_date><news:title>{xml_escape(data.title)}</news:title>"
            "</news:news></url>\n"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n'
        + "".join(urls)
        + "</urlset>\n"
    )


def robots_txt(site: Site) -> str:
    lines = ["User-agent: *"]
    if site.disallow_all:
        lines.append("Disallow: /")
    else:
        lines += ["Disallow: /kommune/", "Disallow: /!s="]
    if site.crawl_delay:
        lines.append(f"Crawl-delay: {site.crawl_delay:g}")
    lines.append(f"Sitemap: {site.link_host}/sitemap-index.xml")
    return "\n".join(lines) + "\n"
