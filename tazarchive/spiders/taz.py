"""``scrapy crawl taz``: the whole site, from the home page outwards.

Follows every article, author, tag and section link on listing pages, the
listings' pagination, and from article pages their authors, tags, related
articles and in-text article links. Scrapy's dupefilter keeps it finite:
article and listing URLs are canonical (see ``TazBaseSpider``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from tazarchive import urls
from tazarchive.spiders.base import TazBaseSpider

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response

    from tazarchive.items import Article, Listing


class TazSpider(TazBaseSpider):
    name = "taz"

    def initial_requests(self) -> Iterable[Request]:
        yield self.listing_request(self.site_url("/"))

    def follow_link(self, href: str, page_url: str) -> Request | None:
        """Request for a link the site crawl follows (article or listing), once each."""
        url = self.on_site(href, page_url)
        if url is None:
            return None
        article_id = urls.article_id(url)
        if article_id is not None:
            return self.article_request_once(article_id)
        listing = self.listing_url(url, page_url)
        return self.listing_request_once(listing) if listing is not None else None

    def _follow_all(self, hrefs: Iterable[str], page_url: str) -> Iterator[Request]:
        for href in hrefs:
            if (request := self.follow_link(href, page_url)) is not None:
                yield request

    def follow_from_listing(self, listing: Listing, response: Response) -> Iterable[Request]:
        return self._follow_all(listing.links, response.url)

    def follow_from_article(self, article: Article, response: Response) -> Iterator[Request]:
        follow: list[Request | None] = [
            *(
                self.listing_request_once(urls.author_url(self.base_url, author.id))
                for author in article.authors
                if author.id
            ),
            *(
                self.listing_request_once(urls.tag_url(self.base_url, tag.id))
                for tag in article.tags
                if tag.id
            ),
            *(self.article_request_once(related.id) for related in article.related if related.id),
        ]
        yield from (request for request in follow if request is not None)
        yield from self._follow_all((link.href for link in article.links), response.url)
