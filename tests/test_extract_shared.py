"""The real taz pages in ../shared/taz-pages/, checked field by field.

No taz text is stored here: expectations come from independent evidence read
at test time (the page's meta tags and JSON-LD, a plain regex reading of its
markup, the other design's copy of the same article), plus ids, URLs, dates
and counts read off the pages by hand.
"""

from __future__ import annotations

import html
import json
import re
from datetime import datetime
from functools import cache
from pathlib import Path

import pytest

from tazarchive.extract import article_page, extract_article
from tazarchive.extract._html import parse_html, without_comments
from tazarchive.extract.oracle import normalise
from tazarchive.items import Article

from .conftest import SHARED, needs_shared

pytestmark = needs_shared

PAGES = SHARED / "taz-pages"
NEW_5928990 = "article-2024design-5928990.html"
OLD_5928990 = "article-2019design-5928990.html"
OLD_5655255 = "article-2019design-5655255.html"


def raw(name: str) -> str:
    return (PAGES / name).read_text("utf-8")


@cache
def article(name: str) -> Article:
    extracted = extract_article((PAGES / name).read_bytes(), "https://taz.de/")
    assert extracted is not None, name
    return extracted


def metas(page: str, key: str) -> list[re.Match[str]]:
    """<meta> tags whose name/property is ``key``, as regex matches of the whole tag."""
    return [
        m
        for m in re.finditer(r"<meta\b[^>]*>", page)
        if re.search(rf'\b(?:name|property)="{re.escape(key)}"', m.group(0))
    ]


def attr(tag: str, name: str) -> str | None:
    found = re.search(rf'\b{name}="([^"]*)"', tag)
    return html.unescape(found.group(1)) if found else None


def plain(fragment: str) -> str:
    """Markup to text the simple way: tags dropped, entities decoded, whitespace collapsed."""
    return normalise(html.unescape(re.sub(r"<[^>]+>", "", fragment)))


def json_ld_article(page: str) -> dict:
    for block in re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S):
        data = json.loads(block)
        if data.get("@type") == "NewsArticle":
            return data
    raise AssertionError("no NewsArticle JSON-LD")


# --- a regex reading of each design's body, independent of the extractor ------


def read_blocks(region: str, pattern: str) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(kind, text, [(href, link text)]) per match of ``pattern`` (paragraph | heading group)."""
    blocks = []
    for para, heading in re.findall(pattern, region, re.S):
        fragment = para or heading
        links = [
            (html.unescape(href), plain(text))
            for href, text in re.findall(
                r'<a\b[^>]*\bhref="([^"]*)"[^>]*>(.*?)</a>', fragment, re.S
            )
        ]
        blocks.append(("paragraph" if para else "subheading", plain(fragment), links))
    return blocks


def corpus_2024(page: str) -> list[tuple[str, str, list[tuple[str, str]]]]:
    start = page.index("main-article-corpus")
    region = page[start : page.index("tzi-bottom-container", start)]
    # The drop cap's letter and the rest of its word are separate spans.
    region = re.sub(r'</span></span>\s*<span class="is-inline">', "", region)
    pattern = r'<p class="(?:Initial|bodytext) paragraph[^"]*"[^>]*>(.*?)</p>|<h2\b[^>]*>(.*?)</h2>'
    return read_blocks(region, pattern)


def corpus_2019(page: str) -> list[tuple[str, str, list[tuple[str, str]]]]:
    start = page.index('itemprop="articleBody"')
    region = page[start : page.index("</article>", start)]
    return read_blocks(
        region, r'<p xmlns="" class="article[^"]*">(.*?)</p>|<h6 xmlns="">(.*?)</h6>'
    )


def blocks_of(extracted: Article) -> list[tuple[str, str, list[tuple[str, str]]]]:
    result = []
    for block in extracted.body:
        links = [(extracted.links[s.n - 1].href, block.text[s.start : s.end]) for s in block.links]
        result.append((block.kind, block.text, links))
    return result


# --- current design -----------------------------------------------------------


def test_2024_page_identity_and_design() -> None:
    got = article(NEW_5928990)
    assert got.id == "5928990"
    assert got.url == "https://taz.de/Entwurf-des-Selbstbestimmungsgesetzes/!5928990/"
    assert got.layout == "2024"
    assert got.genre == "commentary"


def test_2024_title_and_topline_are_the_taz_title_meta_without_zero_width_space() -> None:
    page = raw(NEW_5928990)
    meta_title = attr(metas(page, "taz:title")[0].group(0), "content") or ""
    assert meta_title.endswith("\u200b")  # the page's quirk this guards against
    got = article(NEW_5928990)
    assert "\u200b" not in got.title
    assert f"{got.topline}: {got.title}" == meta_title.rstrip("\u200b")
    assert got.topline and got.title


def test_2024_teaser_is_the_meta_description() -> None:
    page = raw(NEW_5928990)
    assert article(NEW_5928990).teaser == attr(metas(page, "description")[0].group(0), "content")


def test_2024_authors_are_the_json_ld_authors_with_their_ids() -> None:
    ld = json_ld_article(raw(NEW_5928990))
    got = article(NEW_5928990).authors
    assert [a.name for a in got] == [a["name"] for a in ld["author"]]
    assert [a.id for a in got] == ["52218"]
    assert [a.url for a in got] == ["/Nicole-Opitz/!a52218/"]


def test_2024_published_has_the_json_ld_offset() -> None:
    got = article(NEW_5928990).published
    assert got == datetime.fromisoformat(json_ld_article(raw(NEW_5928990))["datePublished"])
    assert got is not None and got.isoformat() == "2023-04-28T18:41:00+02:00"


def test_2024_picture_caption_without_credit_and_largest_picture_url() -> None:
    page = raw(NEW_5928990)
    figcaption = re.search(r"<figcaption\b[^>]*>(.*?)</figcaption>", page, re.S).group(1)
    caption_markup, credit_markup = figcaption.split("<span>&ensp;</span>")
    picture = article(NEW_5928990).picture
    assert picture is not None
    assert picture.caption == plain(caption_markup)
    assert picture.credit == plain(credit_markup)
    assert picture.credit.startswith("Foto:")
    assert picture.url == (
        "https://taz.de/picture/6236752/1900/Buschmann-Paus-Transsexuelle-Selbstbestimmungsrecht-1.jpeg"
    )


def test_2024_body_blocks_and_links_match_the_markup_in_order() -> None:
    got = blocks_of(article(NEW_5928990))
    assert got == corpus_2024(raw(NEW_5928990))
    assert [kind for kind, _, _ in got].count("subheading") == 1
    assert len(got) == 8


def test_2024_drop_cap_is_joined_to_its_word() -> None:
    page = raw(NEW_5928990)
    letter = re.search(r'<span class="initial-letter [^"]*">(\w)</span>', page).group(1)
    rest = re.search(r'<span class="is-inline">(\w+)', page).group(1)
    assert article(NEW_5928990).body[0].text.startswith(letter + rest + " ")


def test_2024_in_text_links_keep_their_href_as_written() -> None:
    assert [link.href for link in article(NEW_5928990).links] == [
        "/Einigung-auf-Gesetzentwurf/!5931168/",
        "/Transrechte-in-Deutschland/!5903898/",
        "/Expert_in-ueber-Selbstbestimmungsgesetz/!5926716/",
        "/Debatten-ueber-Selbstbestimmungsgesetz/!5905243/",
        "/Entwurf-zum-Selbstbestimmungsgesetz/!5921977/",
    ]


def test_2024_body_has_no_soft_hyphen_zero_width_space_or_nbsp() -> None:
    assert "\u00ad" in raw(NEW_5928990)  # the page has them; the item must not
    for block in article(NEW_5928990).body:
        assert not set(block.text) & {"\u00ad", "\u200b", "\u00a0"}


def test_2024_body_matches_json_ld_article_body() -> None:
    got = article(NEW_5928990)
    assert got.body_mismatch == ""
    body = normalise(json_ld_article(raw(NEW_5928990))["articleBody"])
    ours = normalise(" ".join(b.text for b in got.body))
    # JSON-LD keeps the drop cap apart: "X yz" for our "Xyz".
    assert body[1] == " " and body[0] + body[2:] == ours


def test_2024_leaves_out_donation_box_author_box_comments_and_ads() -> None:
    page = raw(NEW_5928990)
    description = re.search(r'<div class="author-description[^"]*">(.*?)</div>', page, re.S)
    donation = re.search(r'<p class="article column first[^"]*">(.*?)<a', page, re.S)
    text = " ".join(b.text for b in article(NEW_5928990).body)
    assert plain(description.group(1)) not in text
    assert plain(donation.group(1))[:40] not in text
    comments = re.findall(
        r'class="typo-short-text text [^"]*message-text-container[^"]*"[^>]*>(.*?)</',
        page[page.index('id="kommune"') :],
        re.S,
    )
    assert len(comments) >= 3  # NOTES.md: 3 reader comments
    for comment in comments:
        assert plain(comment)[:40] not in text


def test_2024_tags_are_the_taz_tag_metas() -> None:
    tags = [m.group(0) for m in metas(raw(NEW_5928990), "taz:tag")]
    got = article(NEW_5928990).tags
    assert [(t.name, t.id, t.category) for t in got] == [
        (attr(t, "content"), attr(t, "data-tag-id"), attr(t, "data-tag-category")) for t in tags
    ]
    assert [t.id for t in got] == ["5025674", "5523976"]
    assert got[0].category == "Schwerpunkt"


def test_2024_related_articles_are_the_mehr_zum_thema_section() -> None:
    related = article(NEW_5928990).related
    assert [r.id for r in related] == ["5937342", "5938231", "5931168"]
    assert all(r.topline and r.title and r.teaser for r in related)


# --- the same article in both designs -----------------------------------------


def test_both_designs_of_5928990_give_the_same_paragraphs_and_links() -> None:
    new, old = article(NEW_5928990), article(OLD_5928990)
    assert [(b.kind, b.text) for b in new.body] == [(b.kind, b.text) for b in old.body]
    assert [(link.text, link.href) for link in new.links] == [
        (link.text, link.href) for link in old.links
    ]
    assert [[(s.start, s.end, s.n) for s in b.links] for b in new.body] == [
        [(s.start, s.end, s.n) for s in b.links] for b in old.body
    ]


def test_both_designs_of_5928990_give_the_same_headline_teaser_authors_and_time() -> None:
    new, old = article(NEW_5928990), article(OLD_5928990)
    assert (new.topline, new.title, new.teaser) == (old.topline, old.title, old.teaser)
    assert [(a.name, a.id) for a in new.authors] == [(a.name, a.id) for a in old.authors]
    assert new.published == old.published
    assert (new.id, new.url, new.genre) == (old.id, old.url, old.genre)
    assert new.picture is not None and old.picture is not None
    assert (new.picture.caption, new.picture.credit) == (old.picture.caption, old.picture.credit)
    assert [t.id for t in new.tags] == [t.id for t in old.tags]


# --- previous design ------------------------------------------------------------


def test_2019_body_blocks_match_the_markup_for_both_pages() -> None:
    for name, blocks, subheadings in ((OLD_5928990, 8, 1), (OLD_5655255, 12, 2)):
        got = blocks_of(article(name))
        assert got == corpus_2019(raw(name)), name
        assert len(got) == blocks, name
        assert [kind for kind, _, _ in got].count("subheading") == subheadings, name


def test_2019_headline_teaser_and_time_match_the_meta_tags() -> None:
    for name in (OLD_5928990, OLD_5655255):
        page = raw(name)
        got = article(name)
        og_title = attr(metas(page, "og:title")[0].group(0), "content")
        assert f"{got.topline}: {got.title}" == og_title, name
        assert got.teaser == attr(metas(page, "description")[0].group(0), "content"), name
        published = attr(metas(page, "article:published_time")[0].group(0), "content") or ""
        assert got.published == datetime.fromisoformat(published), name
        assert got.layout == "2019" and got.body_mismatch == "", name


def test_2019_5655255_identity_authors_tags_and_links() -> None:
    got = article(OLD_5655255)
    page = raw(OLD_5655255)
    assert got.id == "5655255"
    assert got.url == "https://taz.de/Siemens-und-die-Kohlemine-Adani/!5655255/"
    assert got.published is not None and got.published.isoformat() == "2020-01-13T18:54:00+01:00"
    assert [a.name for a in got.authors] == [attr(metas(page, "author")[0].group(0), "content")]
    assert [(a.id, a.url) for a in got.authors] == [("132", "/Ingo-Arzt/!a132/")]
    tags = [m.group(0) for m in metas(page, "taz:tag")]
    assert [(t.name, t.id, t.category) for t in got.tags] == [
        (attr(t, "content"), attr(t, "data-tag-id"), attr(t, "data-tag-category")) for t in tags
    ]
    assert len(got.tags) == 5
    assert [link.href for link in got.links] == [
        "/Fridays-for-Future/!5655137/",
        "/Siemens-haelt-an-Kohleprojekt-fest/!5655233/",
        "/Carmichael-Kohlemine-in-Australien/!5654891/",
    ]
    assert [r.id for r in got.related] == ["5654384", "5655402", "5655233"]
    assert got.picture is not None and got.picture.credit.startswith("Foto:")
    assert got.picture.url == (
        "https://taz.de/picture/3905628/948/Neubauer-Kaeser-Siemens-Kohle-Australien-FFF-1.jpeg"
    )


def test_2019_5928990_related_come_from_sect_thema() -> None:
    assert [r.id for r in article(OLD_5928990).related] == ["5931168", "5923451", "5923521"]


def test_2019_related_teaser_leaves_out_the_author_line() -> None:
    page = raw(OLD_5928990)
    author_names = re.findall(r'<span class="author">(.*?)</span>', page, re.S)
    related = article(OLD_5928990).related
    assert related[0].teaser and related[2].teaser
    for name in map(plain, author_names):
        assert all(not r.teaser.endswith(name) for r in related)


@pytest.mark.parametrize("name", [NEW_5928990, OLD_5928990, OLD_5655255])
def test_real_page_given_as_text_gives_the_same_article(name: str) -> None:
    as_text = extract_article(raw(name), "https://taz.de/")
    assert as_text == article(name)


def test_shared_pages_folder_holds_the_three_pages() -> None:
    assert {p.name for p in Path(PAGES).glob("article-*.html")} >= {
        NEW_5928990,
        OLD_5928990,
        OLD_5655255,
    }


@pytest.mark.parametrize("name", [NEW_5928990, OLD_5928990, OLD_5655255])
def test_leaving_comments_unparsed_changes_nothing_extracted(name: str) -> None:
    data = (PAGES / name).read_bytes()
    assert len(without_comments(data)) < len(data)  # the shortcut applies to real pages
    root = parse_html(data)  # the whole page
    assert root is not None
    page = article_page(root, "https://taz.de/")
    assert page is not None
    assert page.to_item() == article(name)


# --- older tazxslt design (2015 copy of a 2011 article) -------------------------

OLDER_68884 = "article-2015design-68884.html"


def corpus_2008(page: str) -> list[tuple[str, str, list[tuple[str, str]]]]:
    start = page.index('class="odd sect sect_article')
    region = page[start : page.index('<div class="sectfoot">', start)]
    # The paywall box sits inside the body; a regex reading drops it by its markers.
    box = region.index('<div id="tzi_paywall"')
    region = region[:box] + region[region.index("</script>", box) :]
    return read_blocks(region, r'<p class="article[^"]*">(.*?)</p>|<h6>(.*?)</h6>')


def test_2008_identity_headline_teaser_and_date() -> None:
    page = raw(OLDER_68884)
    got = article(OLDER_68884)
    assert (got.id, got.layout, got.genre) == ("68884", "2008", "report")
    assert got.url == "http://www.taz.de/!68884/"
    h4 = re.search(r'<div class="sectbody"><h4>(.*?)</h4><h1>(.*?)</h1>', page)
    assert (got.topline, got.title) == (plain(h4.group(1)), plain(h4.group(2)))
    assert got.teaser == attr(metas(page, "description")[0].group(0), "content")
    assert got.published is not None and got.published.date().isoformat() == "2011-04-10"
    assert [(a.name, a.id) for a in got.authors] == [
        (attr(metas(page, "author")[0].group(0), "content"), "151")
    ]


def test_2008_body_is_every_paragraph_and_subheading_without_the_paywall_box() -> None:
    page = raw(OLDER_68884)
    got = blocks_of(article(OLDER_68884))
    assert got == corpus_2008(page)
    assert [kind for kind, _, _ in got].count("subheading") == 2
    box = page.index('<div id="tzi_paywall"')
    paywall = plain(page[box : page.index("</form>", box)])
    text = " ".join(b.text for b in article(OLDER_68884).body)
    pieces = [
        plain(p) for p in re.findall(r">([^<>]{8,})<", page[box : page.index("</form>", box)])
    ]
    assert len(pieces) >= 4 and paywall
    for piece in pieces:  # the question, the answers, the heading
        assert piece not in text, piece
    assert article(OLDER_68884).body_mismatch == ""


def test_2008_picture_caption_and_credit() -> None:
    page = raw(OLDER_68884)
    caption = re.search(r'<p class="caption">(.*?)<span class="credit">(.*?)</span>', page, re.S)
    picture = article(OLDER_68884).picture
    assert picture is not None
    assert (picture.caption, picture.credit) == (plain(caption.group(1)), plain(caption.group(2)))


def test_link_numbers_count_only_kept_links_on_every_real_page() -> None:
    for name in (NEW_5928990, OLD_5928990, OLD_5655255, OLDER_68884):
        got = article(name)
        numbers = [s.n for b in got.body for s in b.links]
        assert numbers == list(range(1, len(got.links) + 1)), name
