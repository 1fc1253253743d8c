"""Pages and articles kept out of the archive: counted, listed, written to rejects.jsonl.

One recording function, :func:`record_reject`, for both ways a page is kept
out: extraction raising :class:`~tazarchive.extract.errors.PageRejected`
(caught here by :class:`RejectedPagesMiddleware`) and the validate pipeline
refusing an item. A reject never reaches the ledger, so the next run
fetches the page again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from tazarchive import stats as keys
from tazarchive.archive.files import append_line
from tazarchive.archive.jsonl import escape_line_breakers
from tazarchive.extract.errors import PageRejected
from tazarchive.items import Article, article_to_dict

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

REJECTED_URLS_KEPT = 20  # URLs listed per reason in the stats (and so the run report)


class Stats(Protocol):
    """What the archive needs of a stats collector (Scrapy's, or :class:`CountingStats`)."""

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None: ...

    def get_value(self, key: str, default: Any = None) -> Any: ...

    def set_value(self, key: str, value: Any) -> None: ...


class CountingStats:
    """A plain stats collector for commands that run without a crawler."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self.values[key] = self.values.get(key, start) + count

    def get_value(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def set_value(self, key: str, value: Any) -> None:
        self.values[key] = value

    def get_stats(self) -> dict[str, Any]:
        return dict(self.values)


def record_reject(
    stats: Stats,
    rejects_path: Path | None,
    reason: str,
    *,
    url: str = "",
    detail: str = "",
    article: Article | None = None,
) -> None:
    """Count a page or article kept out, list its URL, and append a line to rejects.jsonl.

    A failing rejects file is logged, never raised: the reject is counted either way.
    """
    stats.inc_value(keys.ARTICLES_REJECTED)
    stats.inc_value(keys.rejected(reason))
    if reason == "unknown_design":
        stats.inc_value(keys.EXTRACT_UNKNOWN_DESIGN)
    url = url or (article.url if article is not None else "")
    listed = list(stats.get_value(keys.rejected_urls(reason)) or [])
    if len(listed) < REJECTED_URLS_KEPT:
        stats.set_value(keys.rejected_urls(reason), [*listed, url])
    logger.info("Rejected %s: %s%s", url or "an article", reason, f" ({detail})" if detail else "")
    if rejects_path is None:
        return
    record: dict[str, Any] = {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "reason": reason,
        "detail": detail,
        "url": url,
    }
    if article is not None:
        record["article"] = article_to_dict(article)
    line = json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str)
    try:
        append_line(rejects_path, escape_line_breakers(line))
    except OSError as error:
        logger.error("Cannot write %s: %s", rejects_path, error)


class RejectedPagesMiddleware:
    """Catches :class:`PageRejected` from spider callbacks and records it (:func:`record_reject`).

    Settings: TAZARCHIVE_REJECTS_PATH, TAZARCHIVE_OUTPUT_DIR. Stats:
    tazarchive/articles/rejected, tazarchive/rejected/<reason>,
    tazarchive/rejected_urls/<reason>, tazarchive/extract/unknown_design.
    """

    def __init__(self, stats: Stats, rejects_path: Path | None) -> None:
        self.stats = stats
        self.rejects_path = rejects_path

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        from tazarchive.archive.layout import ArchiveLayout

        assert crawler.stats is not None
        return cls(crawler.stats, ArchiveLayout.from_settings(crawler.settings).rejects)

    def process_spider_exception(
        self, response: Response, exception: Exception
    ) -> Iterable[Any] | None:
        if not isinstance(exception, PageRejected):
            return None
        record_reject(
            self.stats,
            self.rejects_path,
            exception.reason,
            url=exception.url or response.url,
            detail=exception.detail,
        )
        return []
