"""``scrapy crawl tag -a tag=5008150``: every article with one tag, all pages."""

from __future__ import annotations

from typing import ClassVar

from tazarchive.spiders.base import ListingSpider, TazBaseSpider


class TagSpider(ListingSpider):
    name = "tag"
    argument = "tag"
    ARGUMENTS: ClassVar[dict[str, str]] = {
        **TazBaseSpider.ARGUMENTS,
        "tag": "the tag: id (5008150), t5008150 or tag page URL",
    }
