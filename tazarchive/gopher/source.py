"""Where verify and serve-gopher read archived articles from.

The archive (``tazarchive.archive.Archive``, HELPERS.md contract 4) answers
``latest(id)`` and ``iter_latest()``. Until it is there, the archive's
JSONL files stand in: every stored revision is one line in them, the last
revision of an id is its latest.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Protocol

from tazarchive.archive import ArchiveLayout
from tazarchive.items import Article, article_from_dict


class ArticleSource(Protocol):
    def latest(self, article_id: str) -> Article | None: ...

    def iter_latest(self) -> Iterator[Article]: ...


class MemorySource:
    """Articles held in memory (tests, and the JSONL stand-in)."""

    def __init__(self, articles: Iterable[Article]) -> None:
        self.articles: dict[str, Article] = {}
        for article in articles:
            known = self.articles.get(article.id)
            if known is None or (article.revision or 0) >= (known.revision or 0):
                self.articles[article.id] = article

    def latest(self, article_id: str) -> Article | None:
        return self.articles.get(article_id)

    def iter_latest(self) -> Iterator[Article]:
        return iter(list(self.articles.values()))


def jsonl_source(layout: ArchiveLayout) -> MemorySource:
    """The latest revision of every article in the archive's JSONL files."""

    def lines() -> Iterator[Article]:
        for path in sorted(layout.jsonl.glob("*.jsonl")) if layout.jsonl.is_dir() else []:
            with path.open(encoding="utf-8") as handle:
                for line in handle:
                    if line.strip():
                        yield article_from_dict(json.loads(line))

    return MemorySource(lines())


def open_source(settings: Mapping[str, Any]) -> ArticleSource:
    """The archive of these settings, read-only."""
    try:
        from tazarchive.archive import Archive  # type: ignore[attr-defined]  # h-archive's
    except ImportError:
        return jsonl_source(ArchiveLayout.from_settings(settings))
    source: ArticleSource = Archive.from_settings(settings)
    return source
