"""Pure extraction: taz.de HTML -> :class:`~tazarchive.items.Article` or listing.

One page object per site design (:mod:`.page2024`, :mod:`.page2019`), chosen
by what the page contains. No Scrapy engine here: spiders call

    item = extract_article(response.body, response.url)

and get None for pages that are not articles.
"""

from __future__ import annotations

import logging
from datetime import datetime

from tazarchive.extract._html import Element, parse_html
from tazarchive.extract.base import PARSER_VERSION, ArticlePage, read_head
from tazarchive.extract.listing import ListingPage
from tazarchive.extract.page2019 import ArticlePage2019
from tazarchive.extract.page2024 import ArticlePage2024
from tazarchive.items import Article, Listing

__all__ = [
    "DESIGNS",
    "PARSER_VERSION",
    "ArticlePage2019",
    "ArticlePage2024",
    "extract_article",
    "extract_listing",
]

logger = logging.getLogger(__name__)

# Tried in this order; the first whose article element the page has wins.
DESIGNS: tuple[type[ArticlePage], ...] = (ArticlePage2024, ArticlePage2019)


def article_page(root: Element, url: str) -> ArticlePage | None:
    """The page object for an article page, or None when the page is no article."""
    for design in DESIGNS:
        article = design.find(root)
        if article is not None:
            return design(root, article, url, read_head(root))
    return None


def extract_article(
    html: bytes | str, url: str, *, fetched: datetime | None = None
) -> Article | None:
    """The article on a taz.de page, or None when the page is not an article.

    Never raises: a page that cannot be read is "not an article" (logged).
    """
    try:
        root = parse_html(html, skip_comments=True)
        if root is None:
            return None
        page = article_page(root, url)
        return page.to_item(fetched) if page is not None else None
    except Exception:  # a broken page must not stop a crawl; the log names it
        logger.exception("extraction failed for %s", url)
        return None


def extract_listing(html: bytes | str, url: str) -> Listing | None:
    """The teasers and next-page link of a listing page; None for articles and unreadable pages."""
    try:
        root = parse_html(html)
        if root is None or article_page(root, url) is not None:
            return None
        return ListingPage(root, url).to_listing()
    except Exception:  # see extract_article
        logger.exception("listing extraction failed for %s", url)
        return None
