"""Where verify and serve-gopher read archived articles from.

The archive (``tazarchive.archive.Archive``) answers ``latest(id)`` and
``iter_latest()``; :class:`MemorySource` answers the same from a list.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Protocol

from tazarchive.archive import Archive
from tazarchive.items import Article


class ArticleSource(Protocol):
    def latest(self, article_id: str) -> Article | None: ...

    def iter_latest(self) -> Iterator[Article]: ...


class MemorySource:
    """Articles held in memory; of one id the highest revision counts."""

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


def open_source(settings: Mapping[str, Any]) -> Archive:
    """The archive of these settings, for reading (any site it was made for)."""
    return Archive.from_settings(settings, check_site=False)
