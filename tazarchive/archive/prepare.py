"""An article made ready to store: the pure part of ``Archive.store``, done ahead where it pays.

:func:`prepare` hashes an article and renders its dump and JSONL line (all
pure functions of the article). ``Archive.store`` prepares each article it is
given in its own process; ``scrapy reparse`` prepares them in its worker
processes and hands ``Archive.store`` the :class:`Prepared` article, so the
main process only decides, writes and records.
"""

from __future__ import annotations

from dataclasses import dataclass

from tazarchive.archive.jsonl import json_head
from tazarchive.archive.ledger import content_hash_of
from tazarchive.dump import GopherOptions, render
from tazarchive.items import Article, article_to_dict


@dataclass(frozen=True, slots=True)
class PrepareOptions:
    """What the rendering depends on (an archive's settings): compared before use."""

    fmt: str = "seed"
    gopher: GopherOptions | None = None
    store_dumps: bool = True


@dataclass(slots=True)
class Prepared:
    """A (normalised) article with its content hash, dump bytes and JSONL line head.

    ``dump`` is None when dumps are not stored, or not rendered yet
    (``Archive.store`` renders it only for an article it stores).
    """

    article: Article
    content_hash: str
    json_head: str  # jsonl.finish_json_line adds the revision once it is known
    options: PrepareOptions
    dump: bytes | None = None


def prepare(article: Article, options: PrepareOptions, *, render_dump: bool = True) -> Prepared:
    """The article's content hash, JSONL line head and (``render_dump``) dump, from one dict."""
    data = article_to_dict(article)
    prepared = Prepared(article, content_hash_of(data), json_head(data), options)
    if render_dump:
        render_dump_of(prepared)
    return prepared


def render_dump_of(prepared: Prepared) -> bytes | None:
    """The prepared article's dump, rendered now if it was not (None: dumps are off)."""
    options = prepared.options
    if prepared.dump is None and options.store_dumps:
        text = render(prepared.article, options.fmt, gopher=options.gopher)
        prepared.dump = text.encode("utf-8")
    return prepared.dump
