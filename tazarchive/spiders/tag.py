"""``scrapy crawl tag -a tag=5008150``: every article with one tag, all pages."""

from __future__ import annotations

from tazarchive.spiders.base import ListingSpider


class TagSpider(ListingSpider):
    name = "tag"
    argument = "tag"
