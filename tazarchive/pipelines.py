"""Item pipelines: thin adapters of the crawl onto the archive.

normalise → validate → store (``Archive.store``: dedup, dump, JSONL, ledger),
in that order in ITEM_PIPELINES (settings.py). Each only handles
:class:`~tazarchive.items.Article` items and lets any other item pass.
Articles the known-articles middleware handed out from the archive pass
validate and store untouched.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DropItem

from tazarchive import stats as keys
from tazarchive.archive.crawl import crawler_archive
from tazarchive.items import Article
from tazarchive.normalise import normalise

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

    from tazarchive.archive import Archive

logger = logging.getLogger(__name__)

# taz ids are decimal numbers of a few digits; an id becomes a file name.
ID_PATTERN = re.compile(r"[0-9]{1,18}")


# --- normalise ------------------------------------------------------------------


class NormalisePipeline:
    """FORMAT.md's character rules on every text field (:func:`tazarchive.normalise.normalise`).

    An article prepared ahead (``scrapy reparse``'s workers) was normalised there.
    """

    def __init__(self, archive: Archive | None = None) -> None:
        self.archive = archive

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler_archive(crawler))

    def process_item(self, item: Any) -> Any:
        ahead = self.archive is not None and self.archive.prepared_ahead(item) is not None
        if isinstance(item, Article) and not ahead:
            normalise(item)
        return item


# --- validate -------------------------------------------------------------------


def rejection_reason(article: Article) -> str | None:
    """Why the archive cannot keep this article (``no_taz_id``, ``bad_id``, …), or None."""
    if not article.id:
        return "no_taz_id"
    if not ID_PATTERN.fullmatch(article.id):
        return "bad_id"  # it becomes a file name: digits only, and not absurdly many
    if not article.title.strip():
        return "no_title"
    if not any(block.text.strip() for block in article.body):
        return "empty_body"
    return None


class ValidatePipeline:
    """Reject articles without a usable id, a title or a body (``Archive.record_reject``).

    Settings: TAZARCHIVE_REJECTS_PATH. Stats: tazarchive/articles/rejected,
    tazarchive/rejected/<reason>, tazarchive/rejected_urls/<reason>,
    tazarchive/extract/body_mismatch.
    """

    def __init__(self, archive: Archive) -> None:
        self.archive = archive

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler_archive(crawler))

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Article) or self.archive.handed_out(item):
            return item
        reason = rejection_reason(item)
        if reason is not None:
            self.archive.take_prepared(item)
            self.archive.record_reject(reason, url=item.url, article=item)
            raise DropItem(f"Rejected article {item.url or item.id!r}: {reason}", log_level="INFO")
        if item.body_mismatch:
            self.archive.stats.inc_value(keys.EXTRACT_BODY_MISMATCH)
            logger.warning("Article %s: body differs from JSON-LD: %s", item.id, item.body_mismatch)
        return item


# --- store ----------------------------------------------------------------------


class StorePipeline:
    """Store each article through ``Archive.store``; drop it when known or when storing failed.

    A failure (full disk, unwritable folder, a bad rendering) is counted
    (``tazarchive/articles/store_errors``, which fails the run) and logged as
    one line; the item goes to no feed. Settings: see ``Archive.from_settings``.
    Stats: tazarchive/articles/{new,revised,known,kept_html,kept_whole,store_errors}.
    """

    # A full disk fails every article: the first few errors say why, the count says how many.
    ERRORS_LOGGED = 10

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self._errors = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler_archive(crawler))

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Article):
            return item
        if self.archive.handed_out(item):
            self.archive.done_with(item)
            return item
        try:
            outcome = self.archive.store(self.archive.take_prepared(item) or item)
        except Exception as error:
            self._log_error(item, error)
            raise DropItem(f"Article {item.id} not stored: {error}", log_level="DEBUG") from None
        if outcome == "known":
            raise DropItem(f"Article {item.id} is already archived", log_level="DEBUG")
        return item

    def _log_error(self, item: Article, error: Exception) -> None:
        self._errors += 1
        level = logging.ERROR if self._errors <= self.ERRORS_LOGGED else logging.DEBUG
        logger.log(level, "Cannot store article %s: %s: %s", item.id, type(error).__name__, error)
        if self._errors == self.ERRORS_LOGGED:
            logger.error("Further store errors are only counted (tazarchive/articles/store_errors)")
