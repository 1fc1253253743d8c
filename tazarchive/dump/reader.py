"""Dump text -> Article: the seed/text renderings, gophermaps and proxy captures.

Accepted shapes: meulie-table rows (``| line | |``, also without the leading
``| ``), meulie's newer plain layout, taz's text view, the indented proxies
(cortex, kroovy: 7-character label column with `` (DIR) ``/`` (IMG) ``) and
gophermaps. A capture's first line may be the proxy address it came from.
Where a view drops blank lines, paragraph ends are found the way greedy
wrapping made them: a line ends its paragraph when the next line's first
word would still have fitted on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePath
from urllib.parse import unquote

from tazarchive import urls
from tazarchive.dump import rules
from tazarchive.dump.menu import HTML, IMAGE, INFO, MENU, GopherOptions
from tazarchive.dump.views import MEULIE_NEW_HEADER
from tazarchive.items import Article, Author, Block, Link, LinkSpan, Picture, Related, Tag

READER_VERSION = "dump-1"
UNKNOWN = "?"  # item type a proxy view does not show

_DATE_RE = re.compile(r"(\d{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4})")
# "[n][text]" (its text may run on over a cut line end), or "[n][text…" where a
# proxy cut the line inside the marker and its "]" went with the cut. Links do
# not nest, so a closed marker's text never holds the next "[m][".
_LINK_MARK_RE = re.compile(r"\[(\d+)\]\[(?:((?:(?!\[\d+\]\[)[^\]])*)\]|([^\]\n]*…)(?=\n|$))")
_LINK_ROW_RE = re.compile(r"\[(\d+)\] (.*)", re.S)
_LABEL_RE = re.compile(r"^(?: \((DIR|IMG|HTM|TXT|ERR|QRY|BIN|GIF|SND)\) |   (DIR|IMG|HTM|TXT) )")
_LABEL_TYPES = {"DIR": MENU, "IMG": IMAGE, "HTM": HTML}
_TAZ_PATH_RE = re.compile(r"taz\.de(?::70)?/1(/[^\s?#]*)")


class NotADump(ValueError):
    """The text is not an article dump (empty, a listing page, something else)."""


@dataclass(slots=True)
class _Line:
    text: str
    type: str = UNKNOWN
    selector: str = ""
    fragment: bool = False  # the capture store stopped inside this line
    was_cut: bool = False  # the proxy cut the line this one was taken from

    @property
    def blank(self) -> bool:
        return self.text.strip() == "" and self.type in (INFO, UNKNOWN)

    @property
    def cut(self) -> bool:
        return self.was_cut or rules.looks_cut(self.text)


@dataclass(slots=True)
class _Dump:
    lines: list[_Line]
    blanks_kept: bool
    typed: bool
    address: str | None = None
    view: str = "text"  # the name render() takes to give this shape back
    cut: list[str] = field(default_factory=list)


# --- views -> lines -----------------------------------------------------------


def _unframe(raw: list[str], address: str | None) -> _Dump:
    lines = list(raw)
    while lines and not lines[-1].strip():
        lines.pop()
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        raise NotADump("empty dump")
    if len(lines) >= 2 and all("\t" in line for line in lines[:-1] if line != "."):
        return _from_gophermap(lines, address)
    framed = [line for line in lines if line.endswith(" | |")]
    if framed and len(framed) >= (len(lines) - 1) / 2:
        return _from_table(lines, address)
    view = "text"
    if tuple(lines[: len(MEULIE_NEW_HEADER)]) == MEULIE_NEW_HEADER:
        lines = lines[len(MEULIE_NEW_HEADER) :]
        view = "meulie-new"
    if lines and lines[0].startswith("URI:"):  # kroovy's address bar
        lines = lines[1:]
    body = lines[1:]
    if body and sum(1 for line in body if line.startswith(" " * 7) or _LABEL_RE.match(line)) >= (
        len(body) / 2
    ):
        return _from_indented(lines, address)
    plain = [_Line(line) for line in lines]
    blanks_kept = any(line.blank for line in plain)
    return _Dump(plain, blanks_kept, typed=False, address=address, view=view)


def _from_table(lines: list[str], address: str | None) -> _Dump:
    out: list[_Line] = []
    for index, line in enumerate(lines):
        text = line.removeprefix("| ")
        if text.endswith(" | |"):
            out.append(_Line(text[:-4]))
        elif index == len(lines) - 1 and text.endswith(" |"):
            out.append(_Line(text[:-2]))  # the seed's last row lost only its " |"
        elif index == len(lines) - 1:
            out.append(_Line(text, fragment=True))
        else:
            out.append(_Line(text))
    view = "meulie-table" if lines[0].startswith("| ") else "meulie-table-bare"
    return _Dump(out, blanks_kept=False, typed=False, address=address, view=view)


def _from_indented(lines: list[str], address: str | None) -> _Dump:
    out: list[_Line] = [_Line(lines[0].strip(" "), INFO)]
    for line in lines[1:]:
        match = _LABEL_RE.match(line)
        if match:
            label = match.group(1) or match.group(2)
            out.append(_Line(line[match.end() :], _LABEL_TYPES.get(label, MENU)))
        else:
            out.append(_Line(line.removeprefix(" " * 7), INFO))
    return _Dump(out, blanks_kept=True, typed=True, address=address, view="cortex")


def _from_gophermap(lines: list[str], address: str | None) -> _Dump:
    out: list[_Line] = []
    for line in lines:
        if line == ".":
            break
        fields = line.split("\t")
        if not fields[0]:
            continue
        selector = fields[1] if len(fields) > 1 else ""
        out.append(_Line(fields[0][1:], fields[0][0], selector))
    return _Dump(out, blanks_kept=True, typed=True, address=address, view="gophermap")


# --- lines -> article -------------------------------------------------------


def _fits(line: _Line, following: _Line) -> bool:
    """Would ``following``'s first word have fitted on ``line``? Then ``line`` ended a paragraph."""
    first_word = following.text.split(" ", 1)[0]
    return len(line.text) + 1 + len(first_word) <= rules.WRAP_WIDTH


def _join(lines: list[_Line]) -> str:
    """Join wrapped lines; cut lines and a truncated last line keep their line break."""
    text = ""
    for index, line in enumerate(lines):
        if index:
            text += "\n" if (lines[index - 1].cut or line.fragment) else " "
        text += line.text
    return text


def _marked(lines: list[_Line]) -> bool:
    return any(line.cut or line.fragment for line in lines)


def _paragraphs(lines: list[_Line], blanks_kept: bool) -> list[list[_Line]]:
    """Group lines into paragraphs: by blank lines, or by where greedy wrapping broke."""
    groups: list[list[_Line]] = []
    current: list[_Line] = []
    for line in lines:
        if line.blank:
            if current:
                groups.append(current)
            current = []
            continue
        if current and not blanks_kept:
            previous = current[-1]
            heading = previous.text.startswith(rules.SUBHEADING_PREFIX) or line.text.startswith(
                rules.SUBHEADING_PREFIX
            )
            if heading or (not previous.cut and _fits(previous, line)):
                groups.append(current)
                current = []
        elif current and line.text.startswith(rules.SUBHEADING_PREFIX):
            groups.append(current)
            current = []
        current.append(line)
    if current:
        groups.append(current)
    return groups


def split_title(head: str) -> tuple[str, str]:
    """``"<topline>: <title>"`` -> (topline, title), at the last ": " outside „…“ quotes."""
    positions = [m.start() for m in re.finditer(": ", head)]
    if not rules.TITLE_SPLIT_AT_LAST_COLON:
        positions = positions[:1]
    for pos in reversed(positions):
        before = head[:pos]
        if before.count("„") == before.count("“") and before.count('"') % 2 == 0:
            return before, head[pos + 2 :]
    return "", head


def _is_date(text: str) -> bool:
    return _DATE_RE.fullmatch(text) is not None


def _parse_date(text: str) -> datetime:
    match = _DATE_RE.fullmatch(text)
    assert match is not None
    month = rules.MONTHS.index(match.group(2)) + 1
    return datetime(int(match.group(3)), month, int(match.group(1)), tzinfo=rules.DATE_ZONE)


def _article_id(address: str | None, source: str | None) -> str:
    if address:
        path = _TAZ_PATH_RE.search(unquote(unquote(address)))
        if path:
            found = urls.article_id(path.group(1))
            if found:
                return found
    if source:
        stem = PurePath(source).stem
        bare = stem.removeprefix("!")
        if bare.isdigit():
            return bare
        found = urls.article_id(source)
        if found:
            return found
    return ""


def _body_blocks(groups: list[list[_Line]], cut: list[str]) -> tuple[list[Block], dict[int, str]]:
    """Blocks with link spans; returns the link texts by number too."""
    blocks: list[Block] = []
    link_texts: dict[int, str] = {}
    for group in groups:
        index = len(blocks)
        if _marked(group):
            cut.append(f"body.{index}")
        text = _join(group)
        if text.startswith(rules.SUBHEADING_PREFIX):
            blocks.append(Block(text[len(rules.SUBHEADING_PREFIX) :], "subheading"))
            continue
        plain = ""
        spans: list[LinkSpan] = []
        pos = 0
        for match in _LINK_MARK_RE.finditer(text):
            plain += text[pos : match.start()]
            n = int(match.group(1))
            link_text = match.group(2) if match.group(2) is not None else match.group(3)
            if match.group(2) is None:
                # The marker lost its "]": its link text is cut, and the
                # renderer leaves the marker open to give the same line back.
                cut.append(f"links.{n - 1}.text")
            start = len(plain)
            plain += link_text
            spans.append(LinkSpan(start, len(plain), n))
            link_texts.setdefault(n, link_text)
            pos = match.end()
        plain += text[pos:]
        blocks.append(Block(plain, "paragraph", spans))
    return blocks, link_texts


def _section_name(line: _Line) -> str | None:
    text = line.text.rstrip(" ")
    return text if text in rules.SECTIONS and line.type in (INFO, UNKNOWN) else None


def _strip_prefix(selector: str, options: GopherOptions) -> str:
    if options.selector_prefix and selector.startswith(options.selector_prefix):
        return selector[len(options.selector_prefix) :]
    return selector


def _selector_url(selector: str, options: GopherOptions) -> str:
    """The href a gophermap selector points at (``taz_selector`` inverted, up to the host)."""
    if selector.startswith("URL:"):
        return selector[len("URL:") :]
    return _strip_prefix(selector, options)


def _split_address(text: str) -> tuple[str | None, list[str]]:
    raw = text.replace("\r\n", "\n").split("\n")
    if raw and raw[-1] == "":
        raw.pop()
    if raw and raw[0].startswith(("http://", "https://")):
        return raw[0].split()[0], raw[1:]
    return None, raw


def detect_view(text: str) -> str:
    """Which view a dump text is in: a name ``render`` takes ("meulie-table", "cortex", …)."""
    address, raw = _split_address(text)
    return _unframe(raw, address).view


def read_dump(
    text: str, *, source: str | None = None, gopher: GopherOptions | None = None
) -> Article:
    """Read a dump (any rendering or proxy capture) back into an :class:`Article`.

    ``source`` (a file name, say ``6110749.txt``) may carry the article id when
    the text has no proxy address; with neither, the id is "". Raises
    :class:`NotADump` for empty text, listing pages and anything else.
    """
    options = gopher or GopherOptions()
    address, raw = _split_address(text)
    dump = _unframe(raw, address)
    lines = dump.lines
    cut = dump.cut

    title_row = lines[0]
    if not title_row.text.startswith(rules.TITLE_PREFIX):
        raise NotADump("no '# taz.de -- ' title line")
    if title_row.cut or title_row.fragment:
        cut.append("title")
    topline, title = split_title(title_row.text[len(rules.TITLE_PREFIX) :])

    pos = 1

    def skip_blanks() -> None:
        nonlocal pos
        while pos < len(lines) and lines[pos].blank:
            pos += 1

    skip_blanks()
    teaser_lines: list[_Line] = []
    while pos < len(lines) and lines[pos].text.startswith(rules.TEASER_PREFIX.rstrip(" ")):
        row = lines[pos]
        teaser_lines.append(_Line(row.text[2:], fragment=row.fragment, was_cut=row.cut))
        pos += 1
    if _marked(teaser_lines):
        cut.append("teaser")
    teaser = _join(teaser_lines)
    skip_blanks()

    picture = None
    if pos < len(lines) and (
        lines[pos].type == IMAGE
        or (lines[pos].type == UNKNOWN and lines[pos].text.startswith(rules.PICTURE_PREFIX))
    ):
        row = lines[pos]
        if row.cut or row.fragment:
            cut.append("picture.caption")
        picture = Picture(
            caption=row.text.removeprefix(rules.PICTURE_PREFIX),
            url=_selector_url(row.selector, options) if row.selector else None,
        )
        pos += 1
        skip_blanks()

    if dump.typed and pos < len(lines) and lines[pos].type == MENU and not teaser_lines:
        raise NotADump("a listing page (section, tag or author menu)")

    # Body: up to the first section header; the date is its last line when a
    # section (or the end) follows it.
    body_end = next((i for i in range(pos, len(lines)) if _section_name(lines[i])), len(lines))
    published = None
    last = body_end - 1
    while last >= pos and lines[last].blank:
        last -= 1
    if last >= pos and _is_date(lines[last].text) and not lines[last].fragment:
        published = _parse_date(lines[last].text)
        body_lines = lines[pos:last]
    else:
        body_lines = lines[pos:body_end]
    blocks, link_texts = _body_blocks(_paragraphs(body_lines, dump.blanks_kept), cut)

    if not (teaser_lines or picture or published or body_end < len(lines) or link_texts):
        raise NotADump("no teaser, picture, date or sections after the title")

    hrefs: dict[int, str] = {}
    authors: list[Author] = []
    tags: list[Tag] = []
    related: list[Related] = []
    pos = body_end
    while pos < len(lines):
        name = _section_name(lines[pos])
        end = next((i for i in range(pos + 1, len(lines)) if _section_name(lines[i])), len(lines))
        entries = [line for line in lines[pos + 1 : end] if not line.blank]
        if name == rules.SECTION_LINKS:
            for line in entries:
                match = _LINK_ROW_RE.fullmatch(line.text)
                if match:
                    n = int(match.group(1))
                    hrefs[n] = match.group(2)
                    if line.cut or line.fragment:
                        cut.append(f"links.{n - 1}.href")
        elif name == rules.SECTION_AUTHORS:
            for line in entries:
                if line.cut or line.fragment:
                    cut.append(f"authors.{len(authors)}.name")
                selector = _strip_prefix(line.selector, options)
                authors.append(
                    Author(
                        line.text, urls.author_id(selector) if selector else None, selector or None
                    )
                )
        elif name == rules.SECTION_TAGS:
            for line in entries:
                if line.cut or line.fragment:
                    cut.append(f"tags.{len(tags)}.name")
                tags.append(Tag(line.text))
        elif name == rules.SECTION_RELATED:
            related = _related(lines[pos + 1 : end], dump, options, cut)
        pos = end

    links: list[Link] = []
    for n in range(1, max([0, *link_texts, *hrefs]) + 1):
        links.append(Link(link_texts.get(n, ""), hrefs.get(n, "")))

    id_ = _article_id(dump.address, source)
    return Article(
        id=id_,
        url=urls.article_url(urls.DEFAULT_BASE_URL, id_) if id_ else "",
        title=title,
        topline=topline,
        teaser=teaser,
        authors=authors,
        published=published,
        picture=picture,
        body=blocks,
        links=links,
        tags=tags,
        related=related,
        layout="dump",
        parser_version=READER_VERSION,
        cut=cut,
    )


def _related(
    lines: list[_Line], dump: _Dump, options: GopherOptions, cut: list[str]
) -> list[Related]:
    """ARTIKEL ZUM THEMA: per article a title item, then its teaser lines."""
    entries: list[tuple[_Line, list[_Line]]] = []
    if dump.typed:
        for line in lines:
            if line.type == MENU:
                entries.append((line, []))
            elif entries and not line.blank:
                entries[-1][1].append(line)
    else:
        groups = _paragraphs(lines, dump.blanks_kept)
        if dump.blanks_kept:
            # title, teaser, title, teaser … each its own paragraph
            for index in range(0, len(groups), 2):
                teaser = groups[index + 1] if index + 1 < len(groups) else []
                head, *rest = groups[index]
                entries.append((head, rest + teaser))
        else:
            # A title is never wrapped: the first line of each group is the title
            # when the teaser before it ended; the greedy test finds that end.
            for group in _paragraphs_after_titles(lines):
                entries.append((group[0], group[1:]))
    related: list[Related] = []
    for index, (head, teaser_lines) in enumerate(entries):
        topline, title = split_title(head.text)
        if head.cut or head.fragment:
            cut.append(f"related.{index}.title")
        if _marked(teaser_lines):
            cut.append(f"related.{index}.teaser")
        selector = _strip_prefix(head.selector, options)
        related.append(
            Related(
                id=urls.article_id(selector) if selector else None,
                url=selector or None,
                topline=topline,
                title=title,
                teaser=_join(teaser_lines),
            )
        )
    return related


_SENTENCE_END = (".", "!", "?", "“", "…", '"')


def _looks_like_title(previous: _Line, line: _Line) -> bool:
    # A full teaser line hides the paragraph end from the greedy test; a
    # teaser ends a sentence, and a related title reads "<topline>: <title>".
    return previous.text.rstrip(" ").endswith(_SENTENCE_END) and bool(split_title(line.text)[0])


def _paragraphs_after_titles(lines: list[_Line]) -> list[list[_Line]]:
    """Related entries without blank lines: title line, then teaser lines to the paragraph end."""
    groups: list[list[_Line]] = []
    for line in lines:
        if line.blank:
            continue
        if not groups:
            groups.append([line])
            continue
        group = groups[-1]
        if len(group) == 1:  # right after a title: the teaser starts
            group.append(line)
        elif not group[-1].cut and (_fits(group[-1], line) or _looks_like_title(group[-1], line)):
            groups.append([line])
        else:
            group.append(line)
    return groups
