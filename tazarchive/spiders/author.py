"""``scrapy crawl author -a author=144060``: every article of one author, all pages."""

from __future__ import annotations

from typing import ClassVar

from tazarchive.spiders.base import ListingSpider, TazBaseSpider


class AuthorSpider(ListingSpider):
    name = "author"
    argument = "author"
    ARGUMENTS: ClassVar[dict[str, str]] = {
        **TazBaseSpider.ARGUMENTS,
        "author": "the author: id (144060), a144060 or author page URL",
    }
