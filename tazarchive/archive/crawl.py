"""The archive inside a crawl: one :class:`Archive` per crawler, and the known-articles filter."""

from __future__ import annotations

import logging
import weakref
from typing import TYPE_CHECKING, Any

from scrapy import Request, signals
from scrapy.exceptions import NotConfigured
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware

from tazarchive import stats as keys
from tazarchive.archive.store import Archive, OtherSite

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

ARTICLE_ID_META = "taz_article_id"

_crawler_archives: weakref.WeakKeyDictionary[Crawler, Archive] = weakref.WeakKeyDictionary()


def crawler_archive(crawler: Crawler) -> Archive:
    """The crawler's archive, shared by its pipelines and middlewares, closed when it stops.

    Opening it checks the archive's site (:class:`OtherSite`, one line) and
    completes the JSONL of an archive written by an older version.
    """
    archive = _crawler_archives.get(crawler)
    if archive is None:
        assert crawler.stats is not None
        name = getattr(crawler.spidercls, "name", None) or "crawl"
        try:
            archive = Archive.from_settings(crawler.settings, stats=crawler.stats, run_name=name)
        except OtherSite as error:
            crawler.stats.set_value(keys.FAILURE, str(error))
            raise
        archive.complete_jsonl()
        _crawler_archives[crawler] = archive
        opened = archive

        def close_archive() -> None:
            _crawler_archives.pop(crawler, None)
            opened.close()

        # engine_stopped comes after every item and spider_closed.
        crawler.signals.connect(close_archive, signal=signals.engine_stopped, weak=False)
    return archive


def truthy(value: Any) -> bool:
    """A spider argument as a flag: ``-a refresh=1`` / ``true`` / ``yes`` / ``on``."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


class SeenIds:
    """A set of article ids for one run, compact for taz's numeric ids.

    Numeric ids below :attr:`BITMAP_LIMIT` are bits in a bytearray that grows to
    the highest id seen (taz's ~6,000,000 ids: under 1 MB however many are
    seen); other ids go into a plain set.
    """

    BITMAP_LIMIT = 1 << 28

    def __init__(self) -> None:
        self._bits = bytearray()
        self._others: set[str] = set()

    def add(self, article_id: str) -> bool:
        """Add the id; True if it was not there yet."""
        if article_id.isdigit() and (number := int(article_id)) < self.BITMAP_LIMIT:
            index, bit = divmod(number, 8)
            if index >= len(self._bits):
                self._bits.extend(bytes(index + 1 - len(self._bits)))
            if self._bits[index] & (1 << bit):
                return False
            self._bits[index] |= 1 << bit
            return True
        if article_id in self._others:
            return False
        self._others.add(article_id)
        return True


class KnownArticlesMiddleware(BaseSpiderMiddleware):
    """Keeps spiders from requesting articles the archive already holds.

    An article request (``meta["taz_article_id"]``) for an archived id is
    dropped (``tazarchive/articles/skipped_known``, once per id and run) —
    or, for a spider whose ``hand_out_archived`` attribute is true (the
    one-off ``articles`` spider), replaced by the archived article itself,
    which goes to the user's feeds unfetched and unstored
    (``tazarchive/articles/from_archive``). ``-a refresh=1`` fetches them all.
    Settings: TAZARCHIVE_LEDGER_ENABLED (off: NotConfigured).
    """

    def __init__(
        self,
        archive: Archive,
        stats: StatsCollector,
        *,
        refresh: bool = False,
        hand_out: bool = False,
    ) -> None:
        self.archive = archive
        self.stats = stats
        self.refresh = refresh
        self.hand_out = hand_out
        self._crawler: Crawler | None = None
        self._counted = SeenIds()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("TAZARCHIVE_LEDGER_ENABLED", True):
            raise NotConfigured("TAZARCHIVE_LEDGER_ENABLED is off")
        assert crawler.stats is not None
        middleware = cls(crawler_archive(crawler), crawler.stats)
        middleware._crawler = crawler
        return middleware

    def _spider_flag(self, name: str) -> bool:
        spider = self._crawler.spider if self._crawler is not None else None
        return truthy(getattr(spider, name, False))

    def get_processed_request(self, request: Request, response: Response | None) -> Any:
        article_id = request.meta.get(ARTICLE_ID_META)
        if not article_id or self.refresh or self._spider_flag("refresh"):
            return request
        article_id = str(article_id)
        if not self.archive.knows(article_id):
            return request
        if self.hand_out or self._spider_flag("hand_out_archived"):
            article = self.archive.latest(article_id)
            if article is not None:
                self.stats.inc_value(keys.ARTICLES_FROM_ARCHIVE)
                logger.debug("Article %s comes from the archive, unfetched", article_id)
                return self.archive.hand_out(article)
        if self._counted.add(article_id):
            self.stats.inc_value(keys.ARTICLES_SKIPPED_KNOWN)
            logger.debug("Article %s is in the archive, not fetching %s", article_id, request.url)
        return None
