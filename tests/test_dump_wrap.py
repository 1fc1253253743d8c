"""The dump's line wrap: its plain-words fast path gives textwrap's lines."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tazarchive.dump import rules

_words = st.sampled_from(
    ["a", "taz", "Wörter", "\u201eZitat\u201c", "x" * 30, "y" * 80, "5\u00a0km"]
)
_gaps = st.sampled_from([" ", " ", " ", "  ", "\t", "\r", "\x0c", "\n", "\u00a0"])


@st.composite
def _texts(draw: st.DrawFn) -> str:
    words = draw(st.lists(_words, max_size=25))
    text = "".join(w + draw(_gaps) for w in words)
    return draw(st.sampled_from(["", " "])) + text[: draw(st.integers(0, len(text)))]


def _textwrap_lines(text: str, width: int, prefix: str) -> list[str]:
    """Every segment through textwrap (wrap's general path): the reference."""
    return [
        line
        for segment in text.split("\n")
        for line in rules._textwrap_segment(segment, width, prefix)
    ]


@given(_texts(), st.integers(1, 90), st.sampled_from(["", "> ", "x" * 12]))
def test_wrap_gives_textwraps_lines(text: str, width: int, prefix: str) -> None:
    assert rules.wrap(text, width, prefix) == _textwrap_lines(text, width, prefix)


def test_plain_words_wrap_greedily_at_75() -> None:
    text = " ".join(["Wort"] * 20)  # 99 code points; 15 words are 74
    assert rules.wrap(text, 74) == [" ".join(["Wort"] * 15), " ".join(["Wort"] * 5)]  # exact fit
    assert rules.wrap(text) == [" ".join(["Wort"] * 15), " ".join(["Wort"] * 5)]
    assert rules.wrap(text, prefix="> ") == [
        "> " + " ".join(["Wort"] * 14),
        "> " + " ".join(["Wort"] * 6),
    ]
