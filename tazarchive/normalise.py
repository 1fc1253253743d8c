"""FORMAT.md's character rules applied to every text field of an article.

No control character, C1 code, bidi override or terminal escape sequence
survives: they would reach dumps, JSONL lines and terminals.

Pure functions, used by the crawl's normalise pipeline and by every command
that turns a page or a dump into an article (``extract``, ``import-dumps``,
``reparse``), so each gives exactly what a crawl stores.
"""

from __future__ import annotations

import bisect
import itertools
import re
import unicodedata
from collections.abc import Callable, Sequence

from tazarchive.items import Article, Block, LinkSpan

# Invisible characters the dumps never carry (FORMAT.md): soft hyphen, zero-width
# space, and the zero-width no-break space (a stray BOM).
INVISIBLE_CHARACTERS = frozenset("\u00ad\u200b\ufeff")
# A single no-break space is typography ("5\u00a0km"); kept unless part of a run.
KEPT_SPACES = frozenset("\u00a0\u202f")


# Controls that are not whitespace (whitespace ones, like form feed or NEL,
# become a space below): C0, DEL, C1, bidi embeddings, overrides and isolates.
_CONTROL_CHARS = "\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069"
_HAS_CONTROL = re.compile(f"[{_CONTROL_CHARS}]")
# What goes: a whole terminal escape sequence (7-bit and 8-bit CSI, a
# terminated OSC, other ESC sequences), else the single control character.
_CONTROLS = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x9b[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]{0,512}(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[ -/]*[0-~]?"
    f"|[{_CONTROL_CHARS}]"
)


def strip_controls(text: str) -> str:
    """``text`` without control characters, bidi controls and terminal escape sequences."""
    return _CONTROLS.sub("", text) if _HAS_CONTROL.search(text) else text


def _strip_controls_mapped(text: str, offsets: Sequence[int]) -> tuple[str, dict[int, int]]:
    """``strip_controls`` and where each of ``offsets`` lands (inside a removed run: its start)."""
    if not _HAS_CONTROL.search(text):
        return text, {o: o for o in offsets}
    runs = [match.span() for match in _CONTROLS.finditer(text)]
    pieces, at = [], 0
    for start, end in runs:
        pieces.append(text[at:start])
        at = end
    pieces.append(text[at:])
    starts = [start for start, _ in runs]
    removed_before = list(itertools.accumulate((end - start for start, end in runs), initial=0))
    mapping = {}
    for offset in offsets:
        run = bisect.bisect_right(starts, offset) - 1
        if run < 0:
            mapping[offset] = offset
        else:
            start, end = runs[run]
            mapping[offset] = offset - removed_before[run] - (min(offset, end) - start)
    return "".join(pieces), mapping


# What the spacing rules below would change in an NFC text (_spacing_to_fix):
# an invisible character or whitespace other than a space or a kept no-break
# space (_ODD_CHARACTER: every other character str.isspace() and the regex \s
# accept), two kept spaces in a row, whitespace at either end.
_ODD_CHARACTER = re.compile(
    "[\u00ad\u200b\ufeff\t\n\x0b\x0c\r\x1c-\x1f\x85\u1680\u2000-\u200a\u2028\u2029\u205f\u3000]"
)
_KEPT_SPACE_RUN = re.compile("[ \u00a0\u202f]{2}")


def _spacing_to_fix(text: str) -> bool:
    """Whether the spacing rules change ``text``; most extracted text: no.

    The test of one regular expression, an alternation of five (the
    reference in tests/test_normalise.py), as two scans for a character
    class: half the time of the alternation, which the regex engine tries at
    every position of every paragraph.
    """
    return bool(text) and (
        text[0].isspace()
        or text[-1].isspace()
        or _ODD_CHARACTER.search(text) is not None
        or _KEPT_SPACE_RUN.search(text) is not None
    )


# A whitespace run as the character loop sees it: whitespace, then any
# whitespace and invisible characters up to the next visible one.
_SPACE_RUN = re.compile(r"\s[\s\u00ad\u200b\ufeff]*")
_DROP_INVISIBLE = dict.fromkeys(map(ord, INVISIBLE_CHARACTERS))
_KEPT_SPACES_TEXT = "".join(sorted(KEPT_SPACES))


def _compose_pieces(text: str, bounds: Sequence[int]) -> tuple[str, dict[int, int]]:
    """NFC applied piecewise between ``bounds``, and where each bound lands."""
    if len(bounds) <= 2:
        nfc = unicodedata.normalize("NFC", text)
        return nfc, {0: 0, len(text): len(nfc)}
    composed: list[str] = []
    composed_at: dict[int, int] = {}
    length = 0
    for start, end in itertools.pairwise(bounds):
        composed_at[start] = length
        piece = unicodedata.normalize("NFC", text[start:end])
        composed.append(piece)
        length += len(piece)
    composed_at[len(text)] = length
    return "".join(composed), composed_at


def _collapse_spaces_mapped(nfc: str) -> tuple[str, list[int]]:
    """Drop invisible characters, collapse and trim whitespace; where each index lands."""
    out: list[str] = []
    out_at = [0] * (len(nfc) + 1)
    pending_space = False
    i = 0
    while i < len(nfc):
        char = nfc[i]
        if char.isspace():
            run_end = i
            while run_end < len(nfc) and (
                nfc[run_end].isspace() or nfc[run_end] in INVISIBLE_CHARACTERS
            ):
                run_end += 1
            run = [c for c in nfc[i:run_end] if c not in INVISIBLE_CHARACTERS]
            if len(run) == 1 and run[0] in KEPT_SPACES and out:
                for j in range(i, run_end):
                    out_at[j] = len(out)
                out.append(run[0])
            else:
                for j in range(i, run_end):
                    out_at[j] = len(out) + (1 if j > i and out else 0)
                pending_space = True
            i = run_end
            continue
        out_at[i] = len(out) + (1 if pending_space and out else 0)
        if char not in INVISIBLE_CHARACTERS:
            if pending_space and out:
                out.append(" ")
            pending_space = False
            out.append(char)
        i += 1
    while out and out[-1] in KEPT_SPACES:
        out.pop()
    out_at[len(nfc)] = len(out)
    return "".join(out), out_at


def _normalise_mapped(text: str, offsets: Sequence[int]) -> tuple[str, dict[int, int]]:
    """Normalise ``text`` and map each of ``offsets`` (code points) into the result.

    NFC is applied piecewise between the offsets, so each offset keeps a place;
    then invisible characters go and whitespace runs become one space, trimmed
    at both ends.
    """
    bounds = sorted({0, len(text), *(o for o in offsets if 0 <= o <= len(text))})
    nfc, composed_at = _compose_pieces(text, bounds)
    if not _spacing_to_fix(nfc):
        # Nothing to drop or collapse: every index stays where NFC put it.
        return nfc, {o: composed_at[o] for o in bounds}
    result, out_at = _collapse_spaces_mapped(nfc)
    mapping = {o: min(out_at[composed_at[o]], len(result)) for o in bounds}
    return result, mapping


def _single_space(run: re.Match[str]) -> str:
    kept = run.group().translate(_DROP_INVISIBLE)
    return kept if len(kept) == 1 and kept in KEPT_SPACES else " "


def normalise_text(text: str) -> str:
    """FORMAT.md's character rules: NFC, no soft hyphens / zero-width spaces, one space.

    Control characters, bidi controls and terminal escape sequences go first.
    """
    nfc = unicodedata.normalize("NFC", strip_controls(text))
    if not _spacing_to_fix(nfc):
        return nfc
    # The character loop's result without its index map: each run becomes its
    # lone kept no-break space or one space, the invisible rest goes, the ends
    # lose their spaces (a leading or trailing run never survives the loop).
    collapsed = _SPACE_RUN.sub(_single_space, nfc).translate(_DROP_INVISIBLE)
    return collapsed.strip(" " + _KEPT_SPACES_TEXT)


def normalise_block(block: Block) -> Block:
    """The block with its text normalised and its link spans moved along with it."""
    offsets = [o for span in block.links for o in (span.start, span.end)]
    text = block.text
    if (
        not _HAS_CONTROL.search(text)
        and not _spacing_to_fix(text)
        and unicodedata.is_normalized("NFC", text)
    ):
        # Most extracted text: nothing to change, every offset stays (a piece of
        # an NFC text is NFC: composition depends on neighbours inside the piece).
        stripped_at = {o: o for o in offsets}
        mapping = {o: o for o in offsets if 0 <= o <= len(text)}
    else:
        stripped, stripped_at = _strip_controls_mapped(text, offsets)
        text, mapping = _normalise_mapped(stripped, list(stripped_at.values()))
    spans = []
    for span in block.links:
        start = mapping.get(stripped_at[span.start], 0)
        end = max(start, mapping.get(stripped_at[span.end], len(text)))
        # A link's own edge spaces stay outside it.
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        spans.append(LinkSpan(start, end, span.n))
    return Block(text, block.kind, spans)


def normalise_article(article: Article) -> Article:
    """Apply :func:`normalise_text` to every text field of the article, in place."""
    article.title = normalise_text(article.title)
    article.topline = normalise_text(article.topline)
    article.teaser = normalise_text(article.teaser)
    article.url = strip_controls(article.url)
    article.genre = strip_controls(article.genre) if article.genre else article.genre
    for author in article.authors:
        author.name = normalise_text(author.name)
        author.url = strip_controls(author.url) if author.url else author.url
    if article.picture is not None:
        if article.picture.url:
            article.picture.url = strip_controls(article.picture.url)
        article.picture.caption = normalise_text(article.picture.caption)
        article.picture.credit = normalise_text(article.picture.credit)
    blocks = [normalise_block(block) for block in article.body]
    # An emptied block would be a stray blank line; one holding a link keeps its place.
    article.body = [b for b in blocks if b.text or b.links]
    for link in article.links:
        link.text = normalise_text(link.text)
        link.href = strip_controls(link.href)
    for tag in article.tags:
        tag.name = normalise_text(tag.name)
        tag.category = strip_controls(tag.category) if tag.category else tag.category
    for related in article.related:
        related.url = strip_controls(related.url) if related.url else related.url
        related.topline = normalise_text(related.topline)
        related.title = normalise_text(related.title)
        related.teaser = normalise_text(related.teaser)
    return article


# An article read from a dump keeps a line break ("\n") after each line a proxy
# cut, so the lines after it wrap as they were written; normalising whitespace
# would make it a space and the rendering would wrap (and cut) words differently.
_KEPT_BREAK = "\ue000"  # private use: no taz text holds it


def _map_texts(article: Article, change: Callable[[str], str]) -> None:
    article.title, article.topline, article.teaser = map(
        change, (article.title, article.topline, article.teaser)
    )
    if article.picture is not None:
        article.picture.caption = change(article.picture.caption)
        article.picture.credit = change(article.picture.credit)
    for block in article.body:
        block.text = change(block.text)
    for author in article.authors:
        author.name = change(author.name)
    for link in article.links:
        link.text = change(link.text)
    for tag in article.tags:
        tag.name = change(tag.name)
    for related in article.related:
        related.topline, related.title, related.teaser = map(
            change, (related.topline, related.title, related.teaser)
        )


def normalise(article: Article) -> Article:
    """``normalise_article``, keeping the line breaks a cut dump's text holds (in place).

    What the archive stores: the crawl's normalise pipeline, reparse's workers,
    ``scrapy extract`` and ``import-dumps`` all call it.
    """
    if not article.cut:
        return normalise_article(article)
    _map_texts(article, lambda text: text.replace("\n", _KEPT_BREAK))
    normalise_article(article)
    _map_texts(article, lambda text: text.replace(_KEPT_BREAK, "\n"))
    return article
