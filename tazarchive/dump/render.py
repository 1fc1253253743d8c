"""Article -> dump text, in one of the renderings (or a proxy view)."""

from __future__ import annotations

import json

from tazarchive.dump.menu import GopherOptions, build_menu
from tazarchive.dump.views import PROXY_VIEWS, gophermap_view
from tazarchive.items import Article, article_to_dict

RENDERINGS = ("seed", "text", "gophermap")
# What commands print: a rendering, or the article's lossless JSON line.
OUTPUT_FORMATS = (*RENDERINGS, "jsonl")
# Every name ``render`` takes: the renderings plus the proxy views captures use.
VIEWS = (*RENDERINGS, *(name for name in PROXY_VIEWS if name not in RENDERINGS))


def render(article: Article, fmt: str = "seed", *, gopher: GopherOptions | None = None) -> str:
    """The article as dump text: ``seed`` (default), ``text``, ``gophermap`` or a proxy view."""
    menu = build_menu(article, gopher)
    if fmt == "gophermap":
        return gophermap_view(menu, gopher)
    try:
        view = PROXY_VIEWS[fmt]
    except KeyError:
        raise ValueError(f"unknown dump rendering {fmt!r}; choose one of {VIEWS}") from None
    return view(menu)


def render_output(article: Article, fmt: str, *, gopher: GopherOptions | None = None) -> str:
    """``render`` plus "jsonl": one JSON line (``article_to_dict``, UTF-8 kept)."""
    if fmt == "jsonl":
        return json.dumps(article_to_dict(article), ensure_ascii=False) + "\n"
    return render(article, fmt, gopher=gopher)
