"""``scrapy crawl taz``: the whole site, from the home page outwards.

Follows every article, author, tag and section link on every page it
fetches (listings and articles alike), found by taz's URL patterns whatever
the markup, and the listings' pagination (see ``TazBaseSpider``). Scrapy's
dupefilter keeps it finite: article and listing URLs are canonical.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from tazarchive.spiders.base import START_META, TazBaseSpider

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response


class TazSpider(TazBaseSpider):
    name = "taz"

    def initial_requests(self) -> Iterable[Request]:
        home = self.site_url("/")
        self._requested.add(home)
        yield self.listing_request(home, {START_META: "the home page"})

    def follows_listing(self, url: str) -> bool:
        return True

    def follow_from_article(self, response: Response) -> Iterator[Request]:
        links = self.page_links(response)
        for id_ in links.articles:
            if (request := self.article_request_once(id_)) is not None:
                yield request
        for url in links.listings:
            if (request := self.listing_request_once(url)) is not None:
                yield request
