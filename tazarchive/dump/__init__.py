"""The taz dump format: render articles as dumps, read dumps back into articles.

Pure: no Scrapy engine. See FORMAT.md (../shared/) and README's dump section.
"""

from __future__ import annotations

from tazarchive.dump.menu import GopherOptions, MenuLine, build_menu
from tazarchive.dump.reader import NotADump, read_dump
from tazarchive.dump.render import OUTPUT_FORMATS, RENDERINGS, VIEWS, render, render_output
from tazarchive.dump.rules import dump_date

__all__ = [
    "OUTPUT_FORMATS",
    "RENDERINGS",
    "VIEWS",
    "GopherOptions",
    "MenuLine",
    "NotADump",
    "build_menu",
    "dump_date",
    "read_dump",
    "render",
    "render_output",
]
