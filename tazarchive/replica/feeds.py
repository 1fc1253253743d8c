"""The replica's feeds, sitemaps and robots.txt, from templates/feeds.xml and robots.txt."""

from __future__ import annotations

from datetime import date, datetime
from itertools import islice
from xml.sax.saxutils import escape as xml_escape

from tazarchive.replica.site import FEED_SIZE, Section, Site
from tazarchive.replica.templates import fill, template

_FILE = "feeds.xml"
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _rfc822(dt: datetime) -> str:
    return (
        f"{_DAYS[dt.weekday()]}, {dt.day:02d} {_MONTHS[dt.month - 1]} {dt.year} "
        f"{dt:%H:%M:%S} {dt:%z}"
    )


def feed(site: Site, section: Section) -> str:
    """The RSS feed of a section: its newest FEED_SIZE articles."""
    items = []
    for index in islice(site.listing("section", section.id), FEED_SIZE):
        data = site.head(index)
        names = ", ".join(a.name for a in data.authors)
        items.append(
            fill(
                _FILE,
                "item",
                title=xml_escape(f"{data.topline}: {data.title}"),
                url=xml_escape(f"{site.link_host}{data.path}"),
                teaser=xml_escape(data.teaser),
                date=_rfc822(data.published),
                id=data.id,
                creator=fill(_FILE, "creator", names=xml_escape(names)) if names else "",
                categories="".join(
                    fill(_FILE, "category", name=xml_escape(t.name)) for t in data.tags
                ),
            )
        )
    return fill(
        _FILE,
        "rss",
        name=xml_escape(section.name),
        host=site.link_host,
        path=section.path,
        feed=section.path.rstrip("/"),
        items="".join(items),
    )


def sitemap_index(site: Site) -> str:
    entries = [f"{site.link_host}/sitemap-google-news.xml"]
    entries += [
        f"{site.link_host}/sitemap-article-online-{first.isoformat()}-{last.isoformat()}.xml"
        for first, last in site.months()
    ]
    found = "".join(fill(_FILE, "sitemap_entry", url=xml_escape(u)) for u in entries)
    return fill(_FILE, "sitemap_index", entries=found)


def sitemap_month(site: Site, first: date, last: date) -> str:
    urls = "".join(
        fill(
            _FILE,
            "url",
            url=xml_escape(site.link_host + site.head(i).path),
            date=site.head(i).published.isoformat(),
        )
        for i in site.month_indexes(first, last)
    )
    return fill(_FILE, "urlset", urls=urls)


def sitemap_news(site: Site) -> str:
    urls = []
    for article_id in site.news_sitemap_ids():
        data = site.head(site.index_of(article_id))  # type: ignore[arg-type]
        urls.append(
            fill(
                _FILE,
                "news_url",
                url=xml_escape(site.link_host + data.path),
                date=data.published.isoformat(),
                title=xml_escape(data.title),
            )
        )
    return fill(_FILE, "news_urlset", urls="".join(urls))


def robots_txt(site: Site) -> str:
    rules = "Disallow: /" if site.disallow_all else "Disallow: /kommune/\nDisallow: /!s="
    delay = f"\nCrawl-delay: {site.crawl_delay:g}" if site.crawl_delay else ""
    return template("robots.txt").substitute(rules=rules, delay=delay, host=site.link_host)
