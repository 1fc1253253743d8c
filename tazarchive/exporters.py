"""Feed exporters and the crash-safe local feed storage.

* ``jsonl`` / ``jsonlines`` / ``jl`` → :class:`ArticleJsonLinesExporter`: one
  lossless JSON line per article (``article_from_dict`` reads it back exactly).
* ``tazdump`` → :class:`TazDumpExporter`: each article's dump, one after the
  other, e.g. ``scrapy crawl articles -a ids=6110749 -O -:tazdump``.
* ``csv`` → :class:`ArticleCsvExporter`: one row per article, nested fields
  flattened into readable text (names joined by "; ", paragraphs by blank lines).
* local files → :class:`LineSafeFileFeedStorage`: unbuffered, so every
  exporter ``write`` is one ``os.write`` of a complete record: a killed run
  neither loses a line it exported nor leaves half a line.

Exporters only write, and count a failed write or rendering
(``tazarchive/articles/store_errors``: the run fails on it) before raising it:
Scrapy only logs an exception from a feed's ``export_item``.
"""

from __future__ import annotations

import io
import json
import logging
import os
from typing import IO, TYPE_CHECKING, Any

from scrapy.exporters import BaseItemExporter, CsvItemExporter
from scrapy.extensions.feedexport import FileFeedStorage
from scrapy.utils.serialize import ScrapyJSONEncoder

from tazarchive import stats as keys
from tazarchive.archive import ArchiveLayout, article_json_line, cut_partial_last_line
from tazarchive.archive.jsonl import escape_line_breakers
from tazarchive.dump import GopherOptions, render
from tazarchive.items import Article, article_to_dict

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

LINE_FORMATS = frozenset({"jsonl", "jsonlines", "jl"})


def _is_utf(encoding: str) -> bool:
    return encoding.lower().replace("-", "").replace("_", "").startswith("utf")


class _FailuresCounted:
    """``export_item`` calls ``_export``; an exception in it is counted, then raised."""

    stats: StatsCollector | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, file: IO[bytes], **kwargs: Any) -> Self:
        exporter = cls(file, **cls.crawler_kwargs(crawler, kwargs))  # type: ignore[call-arg]
        exporter.stats = crawler.stats
        return exporter

    @classmethod
    def crawler_kwargs(cls, crawler: Crawler, kwargs: dict[str, Any]) -> dict[str, Any]:
        return kwargs

    def export_item(self, item: Any) -> None:
        try:
            self._export(item)
        except Exception:
            if self.stats is not None:
                self.stats.inc_value(keys.ARTICLES_STORE_ERRORS)
            raise

    def _export(self, item: Any) -> None:
        raise NotImplementedError


class ArticleJsonLinesExporter(_FailuresCounted, BaseItemExporter):
    """JSON Lines: an :class:`Article` as ``article_to_dict``, other items via ItemAdapter.

    Every record is encoded completely first and written with ONE ``write``
    call of a whole line, so an unbuffered file never holds half a record.
    Honours the feed options ``fields`` (top-level keys) and ``encoding``.
    """

    def __init__(self, file: IO[bytes], **kwargs: Any) -> None:
        super().__init__(dont_fail=True, **kwargs)
        self.file = file
        self.charset: str = self.encoding or "utf-8"
        self._utf = _is_utf(self.charset) and not self._kwargs
        self._kwargs.setdefault("ensure_ascii", not _is_utf(self.charset))
        self._kwargs.setdefault("separators", (",", ":"))
        self.encoder: json.JSONEncoder = ScrapyJSONEncoder(**self._kwargs)

    def _export(self, item: Any) -> None:
        if isinstance(item, Article) and self.fields_to_export is None and self._utf:
            # The archive's own line: a feed of archived articles equals its JSONL.
            line = article_json_line(item)
        elif isinstance(item, Article):
            record = article_to_dict(item)
            if self.fields_to_export is not None:
                record = {name: record[name] for name in self.fields_to_export if name in record}
            line = escape_line_breakers(self.encoder.encode(record))
        else:
            line = escape_line_breakers(self.encoder.encode(dict(self.get_serialized_fields(item))))
        self.file.write((line + "\n").encode(self.charset))


class TazDumpExporter(_FailuresCounted, BaseItemExporter):
    """Each article's dump text, one after the other (every dump ends with a newline).

    ``dump_format`` (feed option ``item_export_kwargs``) picks the rendering;
    by default the ``TAZARCHIVE_DUMP_FORMAT`` setting. Items that are not an
    :class:`Article` have no dump and are skipped with a warning.
    """

    def __init__(
        self,
        file: IO[bytes],
        *,
        dump_format: str = "seed",
        gopher: GopherOptions | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.file = file
        self.charset: str = self.encoding or "utf-8"
        self.dump_format = dump_format
        self.gopher = gopher
        self._warned_types: set[type] = set()

    @classmethod
    def crawler_kwargs(cls, crawler: Crawler, kwargs: dict[str, Any]) -> dict[str, Any]:
        kwargs.setdefault("dump_format", crawler.settings["TAZARCHIVE_DUMP_FORMAT"])
        kwargs.setdefault("gopher", GopherOptions.from_settings(crawler.settings))
        return kwargs

    def _export(self, item: Any) -> None:
        if not isinstance(item, Article):
            if type(item) not in self._warned_types:
                self._warned_types.add(type(item))
                logger.warning(
                    "tazdump feed: skipping %s items, only articles have dumps", type(item).__name__
                )
            return
        dump = render(item, self.dump_format, gopher=self.gopher)
        self.file.write(dump.encode(self.charset))


class _WholeWriteFile(io.FileIO):
    """An unbuffered file whose ``write`` returns only once all bytes are written.

    One exporter record is one ``write`` here, which is one ``os.write`` unless
    the kernel writes less (a full disk); the loop finishes the record then.
    """

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        total = len(view)
        while view:
            written = super().write(view)
            if written is None:  # pragma: no cover - only for non-blocking fds
                continue
            view = view[written:]
        return total


class LineSafeFileFeedStorage(FileFeedStorage):
    """Scrapy's local-file storage, unbuffered: what an exporter wrote is in the file.

    Scrapy's ``FileFeedStorage`` opens a buffered file, so a killed run loses
    the records still in the buffer, although the ledger already counted them
    as stored (it commits on ``item_scraped``, after the feed's write). Here
    each exporter ``write`` is one ``os.write`` of a whole record (``O_APPEND``
    when appending). Should a kill still cut a record short (the kernel may
    stop a multi-page write for a fatal signal), appending to that line-format
    file (``-o``) first cuts it back to its last complete line.
    """

    def __init__(self, uri: str, *, feed_options: dict[str, Any] | None = None) -> None:
        super().__init__(uri, feed_options=feed_options)
        self.repair_tail = str((feed_options or {}).get("format", "")) in LINE_FORMATS

    def open(self, spider: Spider) -> IO[bytes]:
        path = self.path
        dirname = os.path.dirname(path)
        if dirname:
            os.makedirs(dirname, exist_ok=True)
        if self.write_mode == "ab" and self.repair_tail:
            cut_partial_last_line(path)
        return _WholeWriteFile(path, "ab" if self.write_mode == "ab" else "wb")


def archive_uri_params(params: dict[str, Any], spider: Spider) -> dict[str, Any]:
    """FEEDS ``uri_params``: adds ``%(output_dir)s`` (the archive folder) to the URI params.

    ``%(time)s`` is written as every archive file name writes it
    (``2025-10-24T08-00-00Z``), not Scrapy's ``…+00-00``.
    """
    params["output_dir"] = os.fspath(ArchiveLayout.from_settings(spider.crawler.settings).root)
    params["time"] = str(params.get("time", "")).replace("+00-00", "Z")
    return params


# Nested fields as readable text in one CSV cell each.
def _csv_row(article: Article) -> dict[str, Any]:
    record = article_to_dict(article)
    record["authors"] = "; ".join(a.name for a in article.authors)
    record["tags"] = "; ".join(t.name for t in article.tags)
    record["picture"] = (
        " ".join(filter(None, [article.picture.caption, article.picture.credit]))
        if article.picture
        else ""
    )
    record["body"] = "\n\n".join(
        ("## " + b.text) if b.kind == "subheading" else b.text for b in article.body
    )
    record["links"] = "\n".join(f"[{n}] {link.href}" for n, link in enumerate(article.links, 1))
    record["related"] = "\n".join(
        f"{r.topline}: {r.title}" if r.topline else r.title for r in article.related
    )
    record["cut"] = "; ".join(article.cut)
    return record


class ArticleCsvExporter(_FailuresCounted, CsvItemExporter):
    """CSV with one readable cell per field: an article's nested fields flattened as text.

    Authors and tags: names joined by "; "; body: paragraphs split by a blank
    line (subheadings with "## "); links: "[n] href" lines; related: their
    titles; picture: caption and credit. The JSONL feed keeps everything.
    """

    def _export(self, item: Any) -> None:
        CsvItemExporter.export_item(self, _csv_row(item) if isinstance(item, Article) else item)
