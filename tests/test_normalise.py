"""The spacing rules' quick test agrees with its definition as one regular expression."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from tazarchive import normalise

# The definition: an invisible character, whitespace other than a space or a
# kept no-break space, a run of whitespace, whitespace at either end.
REFERENCE = re.compile(r"[\u00ad\u200b\ufeff]|[^\S \u00a0\u202f]|\s\s|\A\s|\s\Z")

WHITESPACE = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
_characters = st.sampled_from([*WHITESPACE, "\u00ad", "\u200b", "\ufeff", "a", "ß", "\u0301"])


def test_every_single_character_is_judged_as_the_definition_judges_it() -> None:
    for code in range(0x110000):
        text = f"a{chr(code)}b"
        assert normalise._spacing_to_fix(text) == bool(REFERENCE.search(text)), hex(code)


@given(st.text(_characters, max_size=12))
def test_any_text_is_judged_as_the_definition_judges_it(text: str) -> None:
    assert normalise._spacing_to_fix(text) == bool(REFERENCE.search(text))


def test_whitespace_of_str_and_of_the_regex_is_the_same_set() -> None:
    assert "".join(chr(c) for c in range(0x110000) if re.match(r"\s", chr(c))) == WHITESPACE
