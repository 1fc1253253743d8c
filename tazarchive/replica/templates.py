"""The replica's page templates: files in ``templates/``, filled with ``string.Template``.

A file holds one page or several named parts, each introduced by a line
``<!--- name --->``. A part is the text up to the next such line, less its
last newline (a part that ends with a newline ends with an empty line).
Slots are ``$name``; values are escaped by the caller (HTML, XML), never here.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files
from string import Template

_PART = re.compile(r"^<!--- (\w+) --->\n", re.M)


@cache
def _text(name: str) -> str:
    return (files("tazarchive.replica") / "templates" / name).read_text("utf-8")


@cache
def template(name: str) -> Template:
    """A whole file as one template."""
    return Template(_text(name))


@cache
def parts(name: str) -> dict[str, Template]:
    """The named parts of a file."""
    pieces = _PART.split(_text(name))
    return {
        key: Template(body.removesuffix("\n"))
        for key, body in zip(pieces[1::2], pieces[2::2], strict=True)
    }


def fill(file: str, part: str, /, **values: object) -> str:
    """Part ``part`` of ``file`` with its slots filled."""
    return parts(file)[part].substitute(values)
