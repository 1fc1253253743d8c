"""The line rules of the taz dump format, and every open choice as one constant.

FORMAT.md (../shared/) names the rules and their evidence. Where it leaves a
choice open, the choice is a constant here; README says which one holds what.
"""

from __future__ import annotations

import re
import textwrap
from datetime import datetime
from zoneinfo import ZoneInfo

# --- fixed by the samples ----------------------------------------------------
WRAP_WIDTH = 75  # body, teaser (including its "> "), related teasers: code points
TITLE_PREFIX = "# taz.de -- "
TEASER_PREFIX = "> "
PICTURE_PREFIX = "Bild: "
SUBHEADING_PREFIX = "## "
SECTION_LINKS = "## LINKS"
SECTION_AUTHORS = "## AUTOREN"
SECTION_TAGS = "## TAGS"
SECTION_RELATED = "## ARTIKEL ZUM THEMA"
SECTIONS = (SECTION_LINKS, SECTION_AUTHORS, SECTION_TAGS, SECTION_RELATED)
# The meulie proxy cuts lines over 80 bytes to 79 bytes + "…".
CUT_OVER_BYTES = 80
CUT_KEEP_BYTES = 79
CUT_MARK = "…"
MAX_CHAR_BYTES = 4  # longest UTF-8 character
DATE_ZONE = ZoneInfo("Europe/Berlin")  # taz dates are Berlin calendar days
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# --- open choices (FORMAT.md leaves them open; README lists them) -------------
# Day of the date line below 10: "04 Oct 2025" (True) or "4 Oct 2025" (False).
# taz's English month names point at a C-locale strftime("%d %b %Y"), which pads.
# The reader accepts both.
DATE_DAY_ZERO_PADDED = True
# Blank lines between the entries of a section (text/cortex/gophermap views;
# the meulie views drop blank lines anyway). 037 shows one link, one author:
# nothing settles it; FORMAT.md's layout lists "[1]"/"[2]" without a blank.
BLANK_BETWEEN_LINKS = False
BLANK_BETWEEN_AUTHORS = False
BLANK_BETWEEN_TAGS = False
# Related articles: title item, blank, teaser, blank (as taz's listings, 003/023).
BLANK_AFTER_RELATED_TITLE = True
# Subheadings are one line, never wrapped (no sample has a long one).
WRAP_SUBHEADINGS = False
# Title "<topline>: <title>" is split at the last ": " outside „…“ quotes when
# read back (001: topline "40 Jahre taz: Die Gründer-Ausgabe").
TITLE_SPLIT_AT_LAST_COLON = True
# A dump ends with its last text line: no trailing blank line.
TRAILING_BLANK_LINE = False
# Sections with no entries are left out (LINKS and AUTOREN per FORMAT.md; TAGS
# and ARTIKEL ZUM THEMA by the same rule).
OMIT_EMPTY_SECTIONS = True


# Where textwrap's rules go beyond "words, one space apart": other ASCII
# whitespace (textwrap's own set), a run of spaces, a space at either end.
_NOT_PLAIN_WORDS = re.compile(r"[\t\x0b\x0c\r]|  |\A | \Z")


def _wrap_words(segment: str, width: int, prefix: str) -> list[str]:
    """textwrap.wrap's result for plain words (see wrap), without its cost.

    Greedy: a line takes as many words as fit, one space apart; a word
    longer than the line stands alone (break_long_words=False). With words
    one space apart, a line ends at the last space within reach, which
    ``str.rfind`` finds in C: the loop runs once per line, not once per word.
    """
    room = width - len(prefix)
    lines: list[str] = []
    pos = 0
    while len(segment) - pos > room:
        cut = segment.rfind(" ", pos, pos + room + 1)
        if cut < 0:  # the next word is longer than the line: it stands alone
            cut = segment.find(" ", pos)
            if cut < 0:
                break
        lines.append(prefix + segment[pos:cut])
        pos = cut + 1
    lines.append(prefix + segment[pos:])
    return lines


def wrap(text: str, width: int = WRAP_WIDTH, prefix: str = "") -> list[str]:
    """Greedy wrap as taz does it; a newline in ``text`` is a kept line break.

    Kept line breaks come from dumps read back: a line a proxy cut short (or
    the truncated last line of a capture) keeps its break, so the lines after
    it wrap as written. Trailing spaces of a paragraph stay on its last line
    (015 shows them).
    """
    lines: list[str] = []
    for segment in text.split("\n"):
        if segment and width > 0 and not _NOT_PLAIN_WORDS.search(segment):
            lines.extend(_wrap_words(segment, width, prefix))
        else:
            lines.extend(_textwrap_segment(segment, width, prefix))
    return lines


def _textwrap_segment(segment: str, width: int, prefix: str) -> list[str]:
    """One line-break-free segment wrapped by textwrap, its trailing spaces kept."""
    trailing = segment[len(segment.rstrip(" ")) :]
    wrapped = textwrap.wrap(
        segment,
        width,
        initial_indent=prefix,
        subsequent_indent=prefix,
        break_long_words=False,
        break_on_hyphens=False,
    )
    if wrapped and trailing:
        wrapped[-1] += trailing
    return wrapped


def dump_date(published: datetime) -> str:
    """The dump's date line: the Berlin calendar day, "24 Oct 2025"."""
    local = published.astimezone(DATE_ZONE) if published.tzinfo else published
    day = f"{local.day:02d}" if DATE_DAY_ZERO_PADDED else str(local.day)
    return f"{day} {MONTHS[local.month - 1]} {local.year}"


def cut_line(line: str) -> str:
    """The meulie proxy's cut: lines over 80 bytes become 79 bytes + "…".

    Cut at a character boundary (the proxy sometimes splits a character, 036;
    we keep UTF-8 valid), so a cut line may hold fewer than 79 bytes.
    """
    data = line.encode("utf-8")
    if len(data) <= CUT_OVER_BYTES:
        return line
    return data[:CUT_KEEP_BYTES].decode("utf-8", errors="ignore") + CUT_MARK


def looks_cut(line: str) -> bool:
    """True when ``line`` ends with "…" where ``cut_line`` puts it.

    ``cut_line`` drops a character that does not fit whole into the 79 bytes,
    so 76 to 79 bytes (a 4-byte character short at most) stand before the mark.
    An uncut line of 79 or 80 bytes ending with "…" reads as cut too: its line
    break is kept, so it renders back the same.
    """
    kept = len(line.removesuffix(CUT_MARK).encode("utf-8"))
    return line.endswith(CUT_MARK) and kept > CUT_KEEP_BYTES - MAX_CHAR_BYTES
