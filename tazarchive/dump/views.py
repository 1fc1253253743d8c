"""Views of an article's gopher menu: the renderings and the proxies' shapes.

``text`` is what taz's gopher server shows; ``seed`` is the meulie proxy's
table (the archive's default dump); the other proxy views exist so dumps
captured from them can be read and rendered back line for line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tazarchive.dump import rules
from tazarchive.dump.menu import HTML, IMAGE, MENU, GopherOptions, MenuLine

# meulie's newer layout starts with its navigation bar (029, 012, 036).
MEULIE_NEW_HEADER = ("Introduction", "Introduction Statistics Contact Development Disclaimer Help")
# cortex (bbs.cortex-media.info) puts a 7-character label column before every line.
CORTEX_INDENT = " " * 7
CORTEX_LABELS = {IMAGE: " (IMG) ", MENU: " (DIR) ", HTML: " (HTM) "}


def _joined(lines: Sequence[str]) -> str:
    return "".join(line + "\n" for line in lines)


def text_view(menu: Sequence[MenuLine]) -> str:
    """taz's server view: display texts, blank lines kept, nothing cut."""
    return _joined([line.text for line in menu])


def _meulie_lines(menu: Sequence[MenuLine]) -> list[str]:
    return [rules.cut_line(line.text) for line in menu if not line.blank]


def seed_view(menu: Sequence[MenuLine]) -> str:
    """meulie-table: ``| line | |`` rows, blank lines dropped, long lines cut."""
    return _joined([f"| {line} | |" for line in _meulie_lines(menu)])


def meulie_bare_view(menu: Sequence[MenuLine]) -> str:
    """meulie-table rows as some captures store them: without the leading ``| `` (016, 039)."""
    return _joined([f"{line} | |" for line in _meulie_lines(menu)])


def meulie_new_view(menu: Sequence[MenuLine]) -> str:
    """meulie's newer layout: navigation bar, then plain lines, blanks dropped, cut."""
    return _joined([*MEULIE_NEW_HEADER, *_meulie_lines(menu)])


def cortex_view(menu: Sequence[MenuLine]) -> str:
    """cortex: 7-space indent for info lines, `` (DIR) ``/`` (IMG) `` labels, blanks kept.

    The captures store the page with its leading whitespace stripped, so the
    first line (the title) has no indent.
    """
    lines = [CORTEX_LABELS.get(line.type, CORTEX_INDENT) + line.text for line in menu]
    if lines:
        lines[0] = lines[0].lstrip(" ")
    return _joined(lines)


def gophermap_view(menu: Sequence[MenuLine], options: GopherOptions | None = None) -> str:
    """RFC 1436 menu: type+display TAB selector TAB host TAB port, CRLF, final ``.``."""
    options = options or GopherOptions()
    rows = []
    for line in menu:
        display = _gopher_field(line.text)
        rows.append(
            f"{line.type}{display}\t{_gopher_field(line.selector)}\t{options.host}\t{options.port}\r\n"
        )
    return "".join(rows) + ".\r\n"


def _gopher_field(value: str) -> str:
    # TAB and line ends separate fields and rows in a gophermap.
    return value.replace("\t", " ").replace("\r", " ").replace("\n", " ")


# Proxy views by name (the renderings "seed" and "text" are two of them).
PROXY_VIEWS: dict[str, Callable[[Sequence[MenuLine]], str]] = {
    "seed": seed_view,
    "meulie-table": seed_view,
    "meulie-table-bare": meulie_bare_view,
    "meulie-new": meulie_new_view,
    "cortex": cortex_view,
    "text": text_view,
}
