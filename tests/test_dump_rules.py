"""Rendering and reading rules of the dump format, on fixtures written for them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tazarchive.dump import NotADump, dump_date, read_dump, render, rules
from tazarchive.items import Article, Block, Link, LinkSpan, Tag
from tests.conftest import DATA

DUMP = DATA / "dump"


def fixture_text(name: str) -> str:
    return (DUMP / name).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def full() -> Article:
    return read_dump(fixture_text("full.txt"), source="5900123.txt")


def test_date_line_is_the_berlin_day_with_english_month() -> None:
    # 22:30 UTC on 23 Oct is already 24 Oct in Berlin (summer time).
    assert dump_date(datetime(2025, 10, 23, 22, 30, tzinfo=UTC)) == "24 Oct 2025"
    assert dump_date(datetime(2011, 6, 10, 12, 0, tzinfo=UTC)) == "10 Jun 2011"


def test_day_below_ten_follows_the_padding_constant(monkeypatch: pytest.MonkeyPatch) -> None:
    day = datetime(2024, 3, 4, 12, 0, tzinfo=UTC)
    monkeypatch.setattr(rules, "DATE_DAY_ZERO_PADDED", True)
    assert dump_date(day) == "04 Mar 2024"
    monkeypatch.setattr(rules, "DATE_DAY_ZERO_PADDED", False)
    assert dump_date(day) == "4 Mar 2024"


def test_reader_accepts_unpadded_day() -> None:
    article = read_dump(fixture_text("minimal.txt"))
    assert article.published is not None
    assert (article.published.year, article.published.month, article.published.day) == (1996, 1, 7)


def test_cut_keeps_79_bytes_and_adds_ellipsis() -> None:
    line = "a" * 100
    assert rules.cut_line(line) == "a" * 79 + "…"
    assert rules.cut_line("a" * 80) == "a" * 80  # 80 bytes is not "over 80"


def test_cut_never_splits_a_character() -> None:
    line = "a" * 78 + "ä" * 5  # byte 79 is the first half of an "ä"
    cut = rules.cut_line(line)
    assert cut == "a" * 78 + "…"
    cut.encode("utf-8")


def test_text_rendering_reproduces_handwritten_fixture(full: Article) -> None:
    assert render(full, "text") == fixture_text("full.txt")


def test_seed_rendering_reproduces_handwritten_fixture(full: Article) -> None:
    assert render(full, "seed") == fixture_text("full.seed.txt")


def test_cortex_view_reproduces_handwritten_fixture() -> None:
    capture = fixture_text("full.cortex.txt")
    article = read_dump(capture)
    assert render(article, "cortex") == capture.split("\n", 1)[1]


def test_title_splits_into_topline_and_title(full: Article) -> None:
    assert full.topline == "Stadtgarten im Wandel"
    assert full.title == "Kürbisse auf dem Parkdeck"


def test_title_without_topline() -> None:
    article = read_dump(fixture_text("minimal.txt"))
    assert article.topline == ""
    assert article.title == "Was hier nicht steht, steht im Stadtanzeiger"
    assert render(article, "text").splitlines()[0] == fixture_text("minimal.txt").splitlines()[0]


def test_no_teaser_no_picture() -> None:
    article = read_dump(fixture_text("minimal.txt"))
    assert article.teaser == ""
    assert article.picture is None
    assert [b.text for b in article.body] == [
        "Ein einziger kurzer Absatz ohne Dachzeile, ohne Vorspann und ohne Bild."
    ]
    assert "Bild:" not in render(article, "seed")


def test_teaser_lines_join_without_prefix(full: Article) -> None:
    assert full.teaser.startswith("Auf dem alten Parkhaus in Lindenau")
    assert full.teaser.endswith("Die Nachbarschaft erntet gemeinsam.")
    assert "> " not in full.teaser


def test_picture_caption_read_whole_from_text(full: Article) -> None:
    assert full.picture is not None
    assert full.picture.caption.endswith("über die Treppe hinunter")
    assert "picture.caption" not in full.cut


def test_picture_cut_by_proxy_stays_cut_and_is_recorded() -> None:
    article = read_dump(fixture_text("full.seed.txt"))
    assert article.picture is not None
    assert article.picture.caption.endswith("über di…")
    assert article.cut == ["picture.caption"]


def test_subheading_is_its_own_block(full: Article) -> None:
    assert [b.kind for b in full.body] == ["paragraph", "paragraph", "subheading", "paragraph"]
    assert full.body[2].text == "Wer gießt am Wochenende?"


def test_link_wrapping_across_lines_becomes_one_span(full: Article) -> None:
    block = full.body[0]
    (span,) = block.links
    assert block.text[span.start : span.end] == (
        "zwischen verblassten Parkbuchten zweiundvierzig Hochbeete"
    )
    assert full.links[0] == Link(
        "zwischen verblassten Parkbuchten zweiundvierzig Hochbeete",
        "/Gemeinschaftsgaerten/!5900001/",
    )


def test_links_numbered_in_order_with_hrefs_as_written(full: Article) -> None:
    assert [link.href for link in full.links] == [
        "/Gemeinschaftsgaerten/!5900001/",
        "/Giessplan/!t5000002",
        "https://example.org/giessplan",
    ]
    assert [s.n for b in full.body for s in b.links] == [1, 2, 3]


def test_several_authors_and_tags(full: Article) -> None:
    assert [a.name for a in full.authors] == ["Mara Feldkamp", "Jonas Ubbelohde"]
    assert [t.name for t in full.tags] == ["Stadtgrün", "Nachbarschaft"]


def test_related_articles(full: Article) -> None:
    assert [(r.topline, r.title) for r in full.related] == [
        ("Urbanes Gärtnern", "Tomaten zwischen Gleisen"),
        ("Saatgutbörse", "Tauschen statt kaufen"),
    ]
    assert full.related[1].teaser == "Samen vom Balkon gegen Samen aus dem Schrebergarten."


def test_seed_reading_finds_paragraph_ends_without_blank_lines() -> None:
    article = read_dump(fixture_text("full.seed.txt"))
    text = read_dump(fixture_text("full.txt"))
    assert [b.text for b in article.body] == [b.text for b in text.body]
    assert [(r.title, r.teaser) for r in article.related] == [
        (r.title, r.teaser) for r in text.related
    ]


def test_id_from_source_name_or_proxy_address() -> None:
    assert (
        read_dump(fixture_text("minimal.txt"), source="dumps/1996/01/1509999.txt").id == "1509999"
    )
    assert read_dump(fixture_text("minimal.txt")).id == ""
    assert read_dump(fixture_text("full.cortex.txt")).id == "5900123"
    assert read_dump(fixture_text("full.cortex.txt")).url == "https://taz.de/!5900123/"


def test_article_from_dump_says_so(full: Article) -> None:
    assert full.layout == "dump"


def test_link_markers_use_the_span_number_and_links_list_every_link() -> None:
    # span.n indexes Article.links; LINKS lists them all, in order.
    article = Article(
        id="1",
        url="",
        title="T",
        body=[Block("eins zwei", links=[LinkSpan(0, 4, 1), LinkSpan(5, 9, 2)])],
        links=[Link("eins", "/a/!1/"), Link("zwei", "/b/!2/")],
    )
    text = render(article, "text")
    assert "[1][eins] [2][zwei]" in text
    assert "[1] /a/!1/\n[2] /b/!2/\n" in text


def test_link_marker_cut_by_proxy_keeps_its_link() -> None:
    seed = (
        "| # taz.de -- T | |\n"
        # "Vorne [1][" + 40 "ü" + "]" (91 bytes) as the proxy cut it: 78 bytes + "…"
        "| Vorne [1][" + "ü" * 34 + "… | |\n"
        "| 01 Jan 2020 | |\n"
        "| ## LINKS | |\n"
        "| [1] /a/!1/ | |\n"
    )
    article = read_dump(seed)
    assert article.links == [Link("ü" * 34 + "…", "/a/!1/")]
    assert article.cut == ["body.0", "links.0.text"]
    assert render(article, "seed") == seed


def test_link_marker_cut_before_a_four_byte_character_stays_open() -> None:
    # The cut keeps 76 bytes (the emoji does not fit whole into 79), so the
    # cut line is 79 bytes: rendered again it must not get its "]" back.
    link_text = "ä" * 33 + "😀" + "ä" * 5
    article = Article(
        id="",
        url="",
        title="T",
        body=[Block("Vorne " + link_text, links=[LinkSpan(6, 6 + len(link_text), 1)])],
        links=[Link(link_text, "/a/!1/")],
    )
    seed = (
        "| # taz.de -- T | |\n| Vorne [1][" + "ä" * 33 + "… | |\n| ## LINKS | |\n| [1] /a/!1/ | |\n"
    )
    assert render(article, "seed") == seed
    back = read_dump(seed)
    assert back.links == [Link("ä" * 33 + "…", "/a/!1/")]
    assert back.cut == ["body.0", "links.0.text"]
    assert render(back, "seed") == seed


@pytest.mark.parametrize(
    ("kept", "wide"),
    [("ä" * 38, "😀"), ("ä" * 38 + "a", "€")],
    ids=["76-bytes-kept", "77-bytes-kept"],
)
def test_line_cut_short_of_79_bytes_is_recorded_as_cut(kept: str, wide: str) -> None:
    # The character at byte 77..80 does not fit whole: the cut keeps fewer
    # than 79 bytes and the cut line is only 79 or 80 bytes long.
    paragraph = kept + wide + " " + "b" * 30 + " Schluss."
    article = Article(id="", url="", title="T", body=[Block(paragraph)], tags=[Tag("Tag")])
    seed = f"| # taz.de -- T | |\n| {kept}… | |\n| Schluss. | |\n| ## TAGS | |\n| Tag | |\n"
    assert render(article, "seed") == seed
    back = read_dump(seed)
    assert back.cut == ["body.0"]
    assert [b.text for b in back.body] == [kept + "…\nSchluss."]
    assert render(back, "seed") == seed


def _seed_after_cut_marker(*rows: str) -> str:
    """Seed rows: title, a line the proxy cut inside a marker, then ``rows``."""
    # The cut line was "Vorne [1][" + 60 "ü" + … (over 80 bytes): 78 bytes + "…".
    lines = ["# taz.de -- T", "Vorne [1][" + "ü" * 34 + "…", *rows]
    return "".join(f"| {line} | |\n" for line in lines)


def test_cut_link_marker_does_not_swallow_the_next_marker() -> None:
    # The marker closed after the cut; the next line holds link 2's marker.
    seed = _seed_after_cut_marker(
        "dann [2][zwei] hinten", "01 Jan 2020", "## LINKS", "[1] /a/!1/", "[2] /b/!2/"
    )
    article = read_dump(seed)
    assert article.links == [Link("ü" * 34 + "…", "/a/!1/"), Link("zwei", "/b/!2/")]
    assert article.cut == ["body.0", "links.0.text"]
    assert render(article, "seed") == seed


def test_link_text_running_on_after_a_cut_line_stays_one_link() -> None:
    # The link text wrapped: its end and "]" stand on the line after the cut.
    seed = _seed_after_cut_marker("weiter] hinten", "01 Jan 2020", "## LINKS", "[1] /a/!1/")
    article = read_dump(seed)
    assert article.links == [Link("ü" * 34 + "…\nweiter", "/a/!1/")]
    assert article.cut == ["body.0"]
    assert render(article, "seed") == seed


def test_cut_body_line_keeps_its_break_when_rendered_again() -> None:
    # A proxy-cut line is shorter than the line it was: re-wrapping would pull
    # the next word up. The reader keeps the break, so the lines stay.
    long_line = "Größenänderungen über Übergänge \u2013 Äußerungen für Ökonomen und Bürgerämter."
    assert len(long_line) <= 75 < len(long_line.encode())
    seed = (
        "| # taz.de -- T | |\n"
        f"| {rules.cut_line(long_line)} | |\n"
        "| und so weiter. | |\n"
        "| 01 Jan 2020 | |\n"
    )
    article = read_dump(seed)
    assert article.cut == ["body.0"]
    assert render(article, "seed") == seed


def test_unknown_rendering_is_refused(full: Article) -> None:
    with pytest.raises(ValueError, match="unknown dump rendering"):
        render(full, "html")


@pytest.mark.parametrize(
    "text",
    ["", "   \n\n", "hello world\n", "# taz.de -- Politik\nRegierung: Etwas\nTeaser\n"],
    ids=["empty", "blank", "prose", "listing"],
)
def test_non_dumps_raise_not_a_dump(text: str) -> None:
    with pytest.raises(NotADump):
        read_dump(text)


def test_not_a_dump_is_a_value_error() -> None:
    assert issubclass(NotADump, ValueError)
