"""Control characters, bidi controls and terminal escapes never reach an item."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tazarchive.items import Article, Block, Link, LinkSpan
from tazarchive.normalise import normalise_article, normalise_block, normalise_text, strip_controls

# (Tab, newline, form feed, NEL … are whitespace: they become a space, never stay.)
FORBIDDEN = {chr(c) for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)]}
FORBIDDEN |= {chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]}


def test_terminal_escape_sequences_go_whole() -> None:
    assert normalise_text("rot\x1b[2J\x1b[31m Text\x1b[0m") == "rot Text"
    assert normalise_text("a\x9b1;31mb") == "ab"  # 8-bit CSI
    assert normalise_text("a\x1b]0;Titel\x07b") == "ab"  # OSC: window title
    assert normalise_text("a\x1bcb") == "ab"  # reset


def test_c1_del_and_bidi_controls_are_dropped() -> None:
    assert normalise_text("ab\x7fc\u202ed\u2066e\u2069") == "abcde"
    assert normalise_text("ab\x9b") == "ab"
    assert normalise_text("a\x00b\x08c") == "abc"


def test_whitespace_controls_become_one_space() -> None:
    assert normalise_text("a\x0cb\x85c\x1fd") == "a b c d"


def test_clean_text_is_returned_unchanged() -> None:
    text = "Grüße \u201eaus\u201c Köln \u2013 5\u00a0km"
    assert strip_controls(text) == text


_pieces = ["Wort", "ä", " ", "\u00a0", "\u00ad"]
# (A lone ESC or CSI would swallow the next letter as its final byte: whole sequences only.)
_controls = ["\x1b[31m", "\x9b2J", "\x7f", "\x85", "\u202e", "\u2066", "\x00", "\x0c"]
_texts = st.lists(st.one_of(st.sampled_from(_pieces), st.sampled_from(_controls)), max_size=8).map(
    "".join
)


@given(_texts, _texts, _texts)
def test_link_span_holds_its_own_text_with_controls_around(
    before: str, inside: str, after: str
) -> None:
    text = before + inside + after
    block = normalise_block(
        Block(text, links=[LinkSpan(len(before), len(before) + len(inside), 1)])
    )
    span = block.links[0]
    assert block.text == normalise_text(text)
    assert not set(block.text) & FORBIDDEN
    assert block.text[span.start : span.end] == normalise_text(inside)


def test_no_field_of_a_normalised_article_keeps_a_control() -> None:
    bad = "x\x1b[31m\x9b\x7f\u202ey"
    article = Article(
        id="6000001",
        url=f"https://taz.de/{bad}/!6000001/",
        title=bad,
        topline=bad,
        teaser=bad,
        body=[Block(bad, links=[LinkSpan(0, 2, 1)])],
        links=[Link(bad, f"/{bad}/")],
    )
    normalise_article(article)
    for value in (article.url, article.title, article.topline, article.teaser):
        assert not set(value) & FORBIDDEN, repr(value)
    assert article.title == "xy"
    assert article.body[0].text == "xy"
    assert not set(article.links[0].text + article.links[0].href) & FORBIDDEN
