"""JSON Schemas of what tazarchive writes for other programs.

``article.schema.json`` (JSON Schema 2020-12) describes one JSONL record:
:func:`tazarchive.items.article_to_dict` of an article, as the JSONL feeds,
``scrapy extract --format jsonl`` and ``scrapy convert-dumps --format jsonl``
write it.
"""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

ARTICLE_SCHEMA = "article.schema.json"


def article_schema() -> dict[str, Any]:
    """The JSON Schema of one JSONL record (a fresh dict each call)."""
    text = files("tazarchive.schema").joinpath(ARTICLE_SCHEMA).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
