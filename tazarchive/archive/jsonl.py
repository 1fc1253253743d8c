"""The archive's JSONL record of an article: one line, the same bytes wherever written."""

from __future__ import annotations

import json
import re

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


def article_json_line(article: Article) -> str:
    """The article's lossless JSON (``article_to_dict``) as one line, without its newline."""
    return escape_line_breakers(_ENCODER.encode(article_to_dict(article)))
