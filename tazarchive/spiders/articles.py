"""``scrapy crawl articles``: one-off fetch of given articles.

``-a ids=6110749,5928990``, ``-a urls=<url>,<url>`` or ``-a file=list.txt``
(one id or article URL per line; blank lines and ``#`` comments skipped).
Arguments may be combined; each article is fetched once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar

from scrapy import Request

from tazarchive import urls
from tazarchive.spiders.base import SpiderArgumentError, TazBaseSpider, split_list


def article_id_of(entry: str) -> str | None:
    """Article id from an id ("6110749", "!6110749") or an article URL."""
    text = entry.strip()
    bare = text.removeprefix("!")
    return bare if bare.isdigit() else urls.article_id(text)


def read_article_ids(entries: Iterable[tuple[str, str]]) -> list[str]:
    """Ids in first-seen order from (where, entry) pairs; raises on the first bad entry."""
    ids: dict[str, None] = {}
    for where, entry in entries:
        id_ = article_id_of(entry)
        if id_ is None:
            raise SpiderArgumentError(f"{where}: not a taz article id or URL: {entry!r}")
        ids[id_] = None
    return list(ids)


class ArticlesSpider(TazBaseSpider):
    """Fetches exactly the articles given; a 404 for one of them is DISCOVERY_TARGET_MISSING."""

    # Archived ids come from the archive, unfetched (archive.crawl.KnownArticlesMiddleware).
    hand_out_archived = True
    name = "articles"
    ARGUMENTS: ClassVar[dict[str, str]] = {
        **TazBaseSpider.ARGUMENTS,
        "ids": "article ids, comma-separated (6110749,5928990)",
        "urls": "article URLs, comma-separated",
        "file": "a file of article ids or URLs, one a line (# comments)",
    }

    article_ids: list[str]

    @classmethod
    def parse_arguments(cls, args: Mapping[str, Any]) -> dict[str, Any]:
        values = super().parse_arguments(args)
        entries = [("-a ids", entry) for entry in split_list(args.get("ids"))]
        entries += [("-a urls", entry) for entry in split_list(args.get("urls"))]
        if args.get("file"):
            entries += cls._file_entries(str(args["file"]))
        if not entries:
            raise SpiderArgumentError("needs -a ids=<id,...>, -a urls=<url,...> or -a file=<path>")
        return values | {"article_ids": read_article_ids(entries)}

    @staticmethod
    def _file_entries(file: str) -> list[tuple[str, str]]:
        try:
            lines = Path(file).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as error:
            raise SpiderArgumentError(f"-a file={file!r}: cannot read it: {error}") from None
        return [
            (f"{file} line {number}", line.strip())
            for number, line in enumerate(lines, 1)
            if line.strip() and not line.lstrip().startswith("#")
        ]

    def initial_requests(self) -> Iterable[Request]:
        self.set_expected(len(self.article_ids))
        for id_ in self.article_ids:
            yield self.article_request(id_, target=f"article {id_}")
