"""Reparse's pure part: archived response records in, extraction outcomes out, a batch at a time.

:func:`extract_batch` runs in ``scrapy reparse``'s worker processes (see
:mod:`tazarchive.commands.reparse`), so this module imports no part of
Scrapy's engine and opens nothing but the WARC files. Each worker reads its
records itself, by byte range, so only offsets go to it and only articles
come back.
"""

from __future__ import annotations

import logging
import pickle
from typing import TYPE_CHECKING, NamedTuple

from tazarchive import urls
from tazarchive.archive.prepare import Prepared, PrepareOptions, prepare
from tazarchive.extract import extract_article
from tazarchive.extract.errors import PageRejected
from tazarchive.normalise import normalise
from tazarchive.warc import RecordRef, read_response

if TYPE_CHECKING:
    import io

    from tazarchive.items import Article

logger = logging.getLogger(__name__)

ARTICLE = "article"
NOT_ARTICLE = "not_article"
REJECTED = "rejected"
DAMAGED = "damaged"


class Outcome(NamedTuple):
    """What became of one archived page: an article, no article, a rejected or damaged page."""

    kind: str
    url: str
    article: Article | None = None
    reason: str = ""  # PageRejected's reason
    detail: str = ""  # PageRejected's detail, or why the record could not be read
    prepared: Prepared | None = None  # the article normalised and prepared for the archive


def extract_record(
    ref: RecordRef,
    stream: io.BufferedReader | None = None,
    options: PrepareOptions | None = None,
) -> Outcome:
    """Read the response record ``ref`` points at and extract its article.

    The id in the record's target URI is the id asked for, as in a crawl: a
    page claiming another id, or of no known design, is rejected. With
    ``options`` the article is also normalised and prepared for the archive
    (``Archive.store`` then only decides and writes).
    """
    try:
        page = read_response(ref, stream)
    except Exception as exc:  # warcio, zlib, brotli … each fail in their own way
        return Outcome(DAMAGED, ref.url, detail=f"{ref.path} @{ref.offset}: {exc}")
    try:
        article = extract_article(
            page.body, page.url, fetched=page.date, requested_id=urls.article_id(page.url)
        )
    except PageRejected as exc:
        return Outcome(REJECTED, ref.url, reason=exc.reason, detail=exc.detail)
    if article is None:
        return Outcome(NOT_ARTICLE, ref.url, detail=f"{ref.path} @{ref.offset}")
    if options is None:
        return Outcome(ARTICLE, ref.url, article)
    prepared = prepare(normalise(article), options)
    return Outcome(ARTICLE, ref.url, article, prepared=prepared)


def extract_batch(refs: list[RecordRef], options: PrepareOptions | None = None) -> list[Outcome]:
    """:func:`extract_record` over ``refs``, in order, each file opened once."""
    streams: dict[str, io.BufferedReader] = {}
    try:
        outcomes = []
        for ref in refs:
            stream = streams.get(ref.path)
            if stream is None:
                stream = streams[ref.path] = open(ref.path, "rb")  # noqa: SIM115  (closed below)
            outcomes.append(extract_record(ref, stream, options))
        return outcomes
    finally:
        for stream in streams.values():
            stream.close()


def extract_batch_pickled(refs: list[RecordRef], options: PrepareOptions | None = None) -> bytes:
    """:func:`extract_batch`, pickled here in the worker.

    The pool's result thread in the main process then only passes bytes on,
    and the articles are unpickled where they are used: no second thread
    competes for the main process's GIL while the pipelines run.
    """
    return pickle.dumps(extract_batch(refs, options), protocol=pickle.HIGHEST_PROTOCOL)
