"""Scrapy's log messages, with a stored article logged as one short line."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy.logformatter import LogFormatter

from tazarchive.items import Article

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.logformatter import LogFormatterResult
    from twisted.python.failure import Failure


class ArchiveLogFormatter(LogFormatter):
    """Logs a scraped article as ``Scraped article <id> <url>``, not its whole text.

    Scrapy logs every scraped item whole at DEBUG; an article is pages of
    text. Below DEBUG (``LOG_LEVEL``, INFO by default) no message is made at
    all: Scrapy builds the log record even when no handler shows it, which
    costs a bulk ``reparse`` about a twentieth of its main process's time.
    """

    def __init__(self, debug: bool = True) -> None:
        self.debug = debug

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("LOG_ENABLED"):  # the user's own logging: log as Scrapy does
            return cls()
        level = settings.get("LOG_LEVEL")
        if isinstance(level, str):
            level = logging.getLevelName(level.upper())
        return cls(debug=not isinstance(level, int) or level <= logging.DEBUG)

    def scraped(  # type: ignore[override]  # Scrapy documents None: "suppress logging"
        self, item: Any, response: Response | Failure | None, spider: Spider
    ) -> LogFormatterResult | None:
        if not self.debug:
            return None
        if isinstance(item, Article):
            return {
                "level": logging.DEBUG,
                "msg": "Scraped article %(id)s %(url)s",
                "args": {"id": item.id, "url": item.url},
            }
        return super().scraped(item, response, spider)
