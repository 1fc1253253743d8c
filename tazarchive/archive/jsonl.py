"""The archive's JSONL record of an article: one line, the same bytes wherever written."""

from __future__ import annotations

import json
import re
from typing import Any

from tazarchive.items import Article, article_to_dict

# Characters str.splitlines() (and so many JSONL readers) treat as line ends
# that JSON leaves raw inside strings (it escapes those below U+0020 itself).
# Escaping them keeps one record per line for every reader, not only for "\n".
_LINE_BREAKERS = {ord(c): f"\\u{ord(c):04x}" for c in "\x85\u2028\u2029"}
# str.translate with a dict is slow on long non-ASCII lines; most have none of them.
_HAS_LINE_BREAKER = re.compile("[\x85\u2028\u2029]")

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def escape_line_breakers(line: str) -> str:
    """``line`` with the line ends JSON leaves raw escaped, so it stays one line for any reader."""
    return line.translate(_LINE_BREAKERS) if _HAS_LINE_BREAKER.search(line) else line


# What the archive sets when it stores an article: the last fields of Article,
# so a line is its head (everything else) plus these, spliced in once known.
_STORED_FIELDS = ("revision", "content_hash")


def article_json_line(article: Article) -> str:
    """The article's lossless JSON (``article_to_dict``) as one line, without its newline."""
    return finish_json_line(json_head(article_to_dict(article)), article)


def json_head(data: dict[str, Any]) -> str:
    """The JSON line of ``article_to_dict`` output up to the fields the archive sets.

    It can be made before the revision is known (in a reparse worker);
    :func:`finish_json_line` completes it.
    """
    if tuple(data)[-len(_STORED_FIELDS) :] != _STORED_FIELDS:
        raise ValueError("article_to_dict output must end with revision, content_hash")
    head = _ENCODER.encode({k: v for k, v in data.items() if k not in _STORED_FIELDS})
    return escape_line_breakers(head[:-1])  # without the closing brace


def finish_json_line(head: str, article: Article) -> str:
    """:func:`json_head`'s line with the article's revision and content hash."""
    tail = "".join(f',"{n}":{_ENCODER.encode(getattr(article, n))}' for n in _STORED_FIELDS)
    return f"{head}{tail}}}"
