"""Completeness oracle: does the extracted body say what the page's JSON-LD says?

taz pages in the current design carry the whole article text as JSON-LD
``articleBody``. Compared after normalising whitespace and invisible
characters (and the drop-cap split "S o kalt"), it tells whether the
extractor missed or invented text.
"""

from __future__ import annotations

from tazarchive.extract._html import clean

_CONTEXT = 30  # characters of each side shown around the first difference


def normalise(text: str) -> str:
    return clean(text)


def compare_body(extracted: list[str], article_body: str, *, drop_cap: bool = False) -> str:
    """``""`` when the extracted blocks match ``article_body``, else a short description.

    ``drop_cap``: the first paragraph opened with a drop cap, which JSON-LD
    writes apart from its word ("S o kalt").
    """
    ours = normalise(" ".join(extracted))
    theirs = normalise(article_body)
    if drop_cap and len(theirs) > 2 and theirs[1] == " " and ours[:1] == theirs[:1]:
        theirs = theirs[0] + theirs[2:]
    if ours == theirs:
        return ""
    at = next(
        (i for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b),
        min(len(ours), len(theirs)),
    )
    return (
        f"body differs from JSON-LD articleBody at char {at} "
        f"(extracted {len(ours)} chars, JSON-LD {len(theirs)}): "
        f"extracted {ours[max(0, at - 10) : at + _CONTEXT]!r} vs "
        f"JSON-LD {theirs[max(0, at - 10) : at + _CONTEXT]!r}"
    )
