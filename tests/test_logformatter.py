"""Scraped articles are logged as one short line, and not at all above DEBUG."""

from __future__ import annotations

import logging

from scrapy import Spider
from scrapy.utils.test import get_crawler

from tazarchive import settings as project_settings
from tazarchive.items import Article, Block
from tazarchive.logformatter import ArchiveLogFormatter


def _formatter(**settings: object) -> ArchiveLogFormatter:
    return ArchiveLogFormatter.from_crawler(get_crawler(Spider, settings))


def _article() -> Article:
    return Article(
        id="6000001",
        url="https://taz.de/!6000001/",
        title="Ein Titel",
        body=[Block("Ein erfundener Absatz, der nicht ins Log gehört.")],
    )


def test_the_project_uses_the_archive_log_formatter() -> None:
    assert project_settings.LOG_FORMATTER == "tazarchive.logformatter.ArchiveLogFormatter"


def test_above_debug_no_message_is_made_for_a_scraped_item() -> None:
    spider = Spider("s")
    assert _formatter(LOG_LEVEL="INFO").scraped(_article(), None, spider) is None
    assert _formatter(LOG_LEVEL=logging.WARNING).scraped({"a": 1}, None, spider) is None


def test_at_debug_an_article_is_logged_by_id_and_url_without_its_text() -> None:
    result = _formatter(LOG_LEVEL="DEBUG").scraped(_article(), None, Spider("s"))
    assert result is not None
    message = result["msg"] % result["args"]
    assert message == "Scraped article 6000001 https://taz.de/!6000001/"
    assert result["level"] == logging.DEBUG


def test_at_debug_other_items_are_logged_as_scrapy_logs_them() -> None:
    result = _formatter(LOG_LEVEL="DEBUG").scraped({"a": 1}, None, Spider("s"))
    assert result is not None and result["args"]["item"] == {"a": 1}


def test_with_scrapy_logging_off_the_users_own_logging_gets_every_message() -> None:
    result = _formatter(LOG_ENABLED=False, LOG_LEVEL="INFO").scraped(_article(), None, Spider("s"))
    assert result is not None
