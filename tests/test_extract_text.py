"""Text helpers and the completeness oracle, on small hand-written snippets."""

from __future__ import annotations

from tazarchive.extract._html import clean, parse_html, text_with_links, without_comments
from tazarchive.extract.oracle import compare_body


def block(markup: str, **kwargs: object):
    root = parse_html(f"<html><body>{markup}</body></html>")
    assert root is not None
    element = root.find(".//body")[0]
    return text_with_links(element, **kwargs)  # type: ignore[arg-type]


def test_clean_removes_soft_hyphens_zero_width_spaces_and_collapses_nbsp() -> None:
    assert clean("  Geschlechts\u00adeintrag\u200b zu\u00a0teuer \n\t ok ") == (
        "Geschlechtseintrag zu teuer ok"
    )


def test_drop_cap_is_joined_to_its_word() -> None:
    got = block(
        '<p><span class="initial-letter-outer"><span class="initial-letter">S</span></span> '
        '<span class="is-inline">o kalt!</span></p>',
        drop_cap_class="initial-letter",
    )
    assert got.text == "So kalt!"
    assert got.drop_cap


def test_without_drop_cap_class_the_letter_stays_apart() -> None:
    got = block('<p><span class="initial-letter">S</span> <span>o kalt!</span></p>')
    assert got.text == "S o kalt!"
    assert not got.drop_cap


def test_link_spans_point_at_the_link_text_without_surrounding_spaces() -> None:
    got = block(
        '<p>Vor <a href="/x/!1/"> dem Link </a>danach <a href="https://e.org/?a=1&amp;b=2">zwei</a>.</p>'
    )
    assert got.text == "Vor dem Link danach zwei."
    assert [(got.text[s:e], href) for s, e, href in got.spans] == [
        ("dem Link", "/x/!1/"),
        ("zwei", "https://e.org/?a=1&b=2"),
    ]


def test_whitespace_between_inline_elements_collapses_to_one_space() -> None:
    got = block("<p>  <em>eins</em>\n\n  <strong>zwei</strong><br>drei  </p>")
    assert got.text == "eins zwei drei"


def test_dateline_keeps_its_markup_text_as_written() -> None:
    got = block('<p><location>BERLIN</location> <em class="source">taz</em> | Text</p>')
    assert got.text == "BERLIN taz | Text"


def test_scripts_inside_a_paragraph_are_left_out_but_their_tail_kept() -> None:
    got = block("<p>vor<script>var x = 1;</script> nach</p>")
    assert got.text == "vor nach"


def test_oracle_accepts_equal_text_modulo_whitespace_and_soft_hyphens() -> None:
    assert (
        compare_body(["Ein Satz.", "Noch ein\u00adSatz."], "\n  Ein Satz.\n\n Noch einSatz.\n")
        == ""
    )


def test_oracle_handles_the_drop_cap_split_only_when_told() -> None:
    assert compare_body(["So kalt!"], "S o kalt!", drop_cap=True) == ""
    assert compare_body(["So kalt!"], "S o kalt!") != ""


def test_oracle_describes_where_the_texts_differ() -> None:
    verdict = compare_body(["Ein Satz."], "Ein Satz. Ein fehlender Satz.")
    assert "char 9" in verdict
    assert "fehlender" in verdict


def test_comments_section_is_cut_off_before_parsing() -> None:
    page = b'<html><body><article>A</article><div id="kommune"><p>Leser</p></div></body></html>'
    assert without_comments(page) == b"<html><body><article>A</article>"


def test_nothing_is_cut_when_something_read_comes_after_the_comments() -> None:
    page = (
        b'<html><body><div id="kommune"><p>Leser</p></div>'
        b'<section id="articleTeaser"></section></body></html>'
    )
    assert without_comments(page) == page


def test_comment_marker_outside_a_start_tag_does_not_cut() -> None:
    page = b"<html><body><script>var s = '$(\".full community page\")';</script><p>x</p></body>"
    assert without_comments(page) == page


def test_previous_design_community_page_is_cut() -> None:
    page = b'<body><div class="sect sect_tags"></div><div class="full community page n3">x</div>'
    assert without_comments(page) == b'<body><div class="sect sect_tags"></div>'
