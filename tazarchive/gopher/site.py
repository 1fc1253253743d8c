"""The archive as a gopher site: which menu answers which selector (pure, no sockets).

- ``""`` or ``/``: the root menu, one item per year;
- ``/<year>``: one item per month of that year; ``/<year>/<month>``: its articles;
- ``/!<id>`` (and any selector ending in an article's ``!<id>``, such as the
  ``/Slug/!<id>`` links in articles): the article, exactly its ``gophermap``
  rendering under the TAZARCHIVE_GOPHER_* settings;
- ``/!a<id>``: the author's articles, as taz lists them;
- anything else: a type 3 error item.

Listing menus are shaped as taz's (FORMAT.md "Listing pages"): title line,
then per article its ``<topline>: <title>`` item, a blank, the teaser wrapped
at 75, a blank.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from tazarchive import urls
from tazarchive.dump import GopherOptions, MenuLine, render
from tazarchive.dump.menu import INFO, MENU, related_title
from tazarchive.dump.rules import DATE_ZONE, TITLE_PREFIX, wrap
from tazarchive.dump.views import gophermap_view
from tazarchive.gopher.source import ArticleSource
from tazarchive.items import Article

ROOT_TITLE = "tazarchive"
UNDATED = "undatiert"
MONTH_NAMES = (
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
)
ERROR_HOST = "error.host"
_YEAR_RE = re.compile(r"/?(\d{4}|" + UNDATED + r")/?")
_MONTH_RE = re.compile(r"/?(\d{4})/(\d{1,2})/?")


@dataclass(slots=True)
class Entry:
    """What a listing menu shows of an article."""

    id: str
    topline: str
    title: str
    teaser: str
    published: str  # ISO time, for ordering ("" when undated)


@dataclass(slots=True)
class ArchiveIndex:
    """Years, months and authors of the archive's latest articles, for the menus."""

    months: dict[str, dict[int, list[Entry]]] = field(default_factory=lambda: defaultdict(dict))
    authors: dict[str, tuple[str, list[Entry]]] = field(default_factory=dict)

    @classmethod
    def of(cls, articles: Iterable[Article]) -> ArchiveIndex:
        index = cls()
        for article in articles:
            published = article.published
            entry = Entry(
                article.id,
                article.topline,
                article.title,
                article.teaser,
                published.isoformat() if published else "",
            )
            if published is None:
                year, month = UNDATED, 0
            else:
                local = published.astimezone(DATE_ZONE) if published.tzinfo else published
                year, month = f"{local.year:04d}", local.month
            index.months[year].setdefault(month, []).append(entry)
            for author in article.authors:
                if author.id:
                    index.authors.setdefault(author.id, (author.name, []))[1].append(entry)
        for months in index.months.values():
            for entries in months.values():
                entries.sort(key=lambda e: (e.published, e.id), reverse=True)  # newest first
        for _, entries in index.authors.values():
            entries.sort(key=lambda e: (e.published, e.id), reverse=True)
        return index


def listing_lines(heading: str, entries: Iterable[Entry], options: GopherOptions) -> list[MenuLine]:
    """A listing menu as taz shapes it: title, then item, blank, teaser, blank per article."""
    lines = [MenuLine(INFO, TITLE_PREFIX + heading), MenuLine(INFO, "")]
    for entry in entries:
        selector = f"{options.selector_prefix}/!{entry.id}"
        lines.append(MenuLine(MENU, related_title(entry.topline, entry.title), selector))
        lines.append(MenuLine(INFO, ""))
        if entry.teaser:
            lines.extend(MenuLine(INFO, line) for line in wrap(entry.teaser))
            lines.append(MenuLine(INFO, ""))
    while lines and lines[-1].blank:
        lines.pop()
    return lines


def error_menu(text: str) -> str:
    """RFC 1436's answer to a selector that leads nowhere: one type 3 item."""
    return f"3{text}\t\t{ERROR_HOST}\t1\r\n.\r\n"


class GopherArchive:
    """Answers selectors from an archive: ``respond(selector) -> bytes``."""

    def __init__(
        self, source: ArticleSource, options: GopherOptions, index: ArchiveIndex | None = None
    ) -> None:
        self.source = source
        self.options = options
        self.index = index if index is not None else ArchiveIndex.of(source.iter_latest())

    def respond(self, selector: str) -> bytes:
        return self.menu(selector).encode("utf-8")

    def menu(self, selector: str) -> str:
        selector = selector.split("\t", 1)[0]  # a search string is not used here
        prefix = self.options.selector_prefix
        if prefix and selector.startswith(prefix):
            selector = selector[len(prefix) :]
        if selector in ("", "/"):
            return self._map(self._root())
        target = urls.classify(selector)
        if target is not None and target.kind == "article":
            article = self.source.latest(target.id)
            if article is None:
                return error_menu(f"Artikel {target.id} ist nicht im Archiv")
            return render(article, "gophermap", gopher=self.options)
        if target is not None and target.kind == "author" and target.id in self.index.authors:
            name, entries = self.index.authors[target.id]
            return self._map(listing_lines(f"Alle Artikel von {name}", entries, self.options))
        if match := _MONTH_RE.fullmatch(selector):
            year, month = match.group(1), int(match.group(2))
            of_month = self.index.months.get(year, {}).get(month)
            if of_month and 1 <= month <= len(MONTH_NAMES):
                heading = f"{MONTH_NAMES[month - 1]} {year}"
                return self._map(listing_lines(heading, of_month, self.options))
        elif match := _YEAR_RE.fullmatch(selector):
            year = match.group(1)
            if year == UNDATED and UNDATED in self.index.months:
                return self._map(
                    listing_lines(UNDATED, self.index.months[UNDATED][0], self.options)
                )
            if year in self.index.months:
                return self._map(self._year(year))
        return error_menu(f"Nicht gefunden: {selector}")

    def _map(self, lines: list[MenuLine]) -> str:
        return gophermap_view(lines, self.options)

    def _root(self) -> list[MenuLine]:
        prefix = self.options.selector_prefix
        lines = [MenuLine(INFO, TITLE_PREFIX + ROOT_TITLE), MenuLine(INFO, "")]
        years = sorted(self.index.months, key=lambda year: (year != UNDATED, year), reverse=True)
        for year in years:  # newest first, undated last
            count = sum(len(entries) for entries in self.index.months[year].values())
            lines.append(MenuLine(MENU, f"{year} ({count})", f"{prefix}/{year}"))
        return lines

    def _year(self, year: str) -> list[MenuLine]:
        prefix = self.options.selector_prefix
        lines = [MenuLine(INFO, TITLE_PREFIX + year), MenuLine(INFO, "")]
        for month in sorted(self.index.months[year], reverse=True):
            entries = self.index.months[year][month]
            text = f"{MONTH_NAMES[month - 1]} {year} ({len(entries)})"
            lines.append(MenuLine(MENU, text, f"{prefix}/{year}/{month:02d}"))
        return lines
