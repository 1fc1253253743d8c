"""Pure extraction: taz.de HTML -> :class:`~tazarchive.items.Article` or listing.

One page object per site design (:mod:`.page2024`, :mod:`.page2019`,
:mod:`.page2008`), chosen by what the page contains. No Scrapy engine here:
spiders call

    item = extract_article(response.text, response.url, requested_id=...)

and get None for pages that are not articles, or :class:`PageRejected` for
pages that must not be stored (see :mod:`.checks`).
"""

from __future__ import annotations

import logging
from datetime import datetime

from tazarchive.extract._html import Element, as_bytes, parse_html, parse_page
from tazarchive.extract.base import PARSER_VERSION, ArticlePage, read_head
from tazarchive.extract.checks import check_bounds, check_id, is_cut_short, looks_like_wall
from tazarchive.extract.errors import PageRejected
from tazarchive.extract.listing import ListingPage
from tazarchive.extract.page2008 import ArticlePage2008
from tazarchive.extract.page2019 import ArticlePage2019
from tazarchive.extract.page2024 import ArticlePage2024
from tazarchive.items import Article, Listing

__all__ = [
    "DESIGNS",
    "PARSER_VERSION",
    "ArticlePage2008",
    "ArticlePage2019",
    "ArticlePage2024",
    "PageRejected",
    "extract_article",
    "extract_listing",
]

logger = logging.getLogger(__name__)

# Tried in this order; the first whose article element the page has wins.
DESIGNS: tuple[type[ArticlePage], ...] = (ArticlePage2024, ArticlePage2019, ArticlePage2008)


def article_page(root: Element, url: str) -> ArticlePage | None:
    """The page object for an article page, or None when the page is no article."""
    for design in DESIGNS:
        article = design.find(root)
        if article is not None:
            return design(root, article, url, read_head(root))
    return None


def extract_article(
    html: bytes | str,
    url: str,
    *,
    fetched: datetime | None = None,
    requested_id: str | None = None,
) -> Article | None:
    """The article on a taz.de page; None when the page is not an article.

    Raises :class:`PageRejected` for a page that must not be stored: too big
    or complex to parse (``too_complex``), a tree libxml2 could not build
    whole (``parse_incomplete``), cut short (``truncated``), text not clean
    after decoding (``undecodable``, ``mojibake``), an id that is no taz id
    (``bad_id``). With ``requested_id`` (the id the page was fetched for) a
    page claiming another id raises ``id_mismatch``, a page of no known
    design ``challenge`` (a consent or bot wall) or ``unknown_design``; a
    page without an id takes ``requested_id``. Other errors are logged and
    give None.
    """
    if requested_id is not None:
        check_id(requested_id, url, "requested")
    data, encoding = as_bytes(html)
    check_bounds(data, url)
    try:
        root, whole = parse_page(data, encoding, skip_comments=True)
    except Exception:  # a broken page must not stop a crawl; the log names it
        logger.exception("parsing failed for %s", url)
        root, whole = None, True
    if not whole:
        raise PageRejected(
            "parse_incomplete", "the parser gave up part-way (nesting too deep?)", url
        )
    if root is None:
        if requested_id is not None:
            raise PageRejected("truncated", "empty page", url)
        return None
    page = article_page(root, url)
    if page is None:
        if requested_id is None:
            return None
        if is_cut_short(data):
            raise PageRejected("truncated", "no </body> or </html> at the end", url)
        if looks_like_wall(root):
            raise PageRejected("challenge", "a consent, captcha or bot wall", url)
        raise PageRejected("unknown_design", "no page object recognises this page", url)
    if is_cut_short(data):
        raise PageRejected("truncated", "no </body> or </html> at the end", url)
    if page.container_unclosed(data):
        raise PageRejected("truncated", "the article container is never closed", url)
    try:
        return page.to_item(fetched, requested_id)
    except PageRejected:
        raise
    except Exception:  # see above
        logger.exception("extraction failed for %s", url)
        return None


def extract_listing(html: bytes | str, url: str) -> Listing | None:
    """The teasers and next-page link of a listing page; None for articles and unreadable pages."""
    try:
        data, _ = as_bytes(html)
        check_bounds(data, url)
        root = parse_html(data)
        if root is None or article_page(root, url) is not None:
            return None
        return ListingPage(root, url).to_listing()
    except PageRejected as rejected:
        logger.warning("listing page rejected: %s (%s)", url, rejected)
        return None
    except Exception:  # see extract_article
        logger.exception("listing extraction failed for %s", url)
        return None
