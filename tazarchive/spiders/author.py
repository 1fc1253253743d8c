"""``scrapy crawl author -a author=144060``: every article of one author, all pages."""

from __future__ import annotations

from tazarchive.spiders.base import ListingSpider


class AuthorSpider(ListingSpider):
    name = "author"
    argument = "author"
