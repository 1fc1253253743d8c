"""``scrapy reparse`` on every core: the same outcomes, in the same order, as one process."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from scrapy import Spider
from scrapy.utils.test import get_crawler

from tazarchive import stats as keys
from tazarchive.commands.reparse import ExtractionPool, article_pages, batches, worker_count
from tazarchive.items import article_to_dict
from tazarchive.reparse import ARTICLE, Outcome
from tazarchive.replica import Site
from tazarchive.warc import HttpMessage, RecordRef, WarcIndex, WarcWriter, index_warcs, warc_files
from tests.test_reparse_damaged import write_pages
from tests.test_warc import scrapy


@pytest.fixture(scope="module")
def warc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("warc")
    write_pages(Site(40), directory)
    return directory


def outcomes(workers: int, warc: Path) -> list[Outcome]:
    pool = ExtractionPool(workers)

    async def collect() -> list[Outcome]:
        return [o async for o in pool.outcomes(index_warcs([warc]).responses)]

    try:
        return asyncio.run(collect())
    finally:
        pool.close()


def test_workers_give_the_outcomes_of_one_process_in_capture_order(warc: Path) -> None:
    alone, shared = outcomes(1, warc), outcomes(2, warc)
    assert [o.kind for o in shared] == [ARTICLE] * 40
    assert [o.url for o in shared] == [o.url for o in alone]
    assert [article_to_dict(o.article) for o in shared if o.article] == [
        article_to_dict(o.article) for o in alone if o.article
    ]


def test_batches_keep_every_record_in_order() -> None:
    chunks = list(batches(range(37), 16))  # type: ignore[arg-type]
    assert [len(c) for c in chunks] == [16, 16, 5]
    assert [n for c in chunks for n in c] == list(range(37))


def test_worker_count_zero_means_one_per_core_that_the_pages_keep_busy() -> None:
    assert worker_count(3, 10) == 3  # as set
    assert worker_count(0, 10) == 1  # a small reparse: this process alone
    cores = len(os.sched_getaffinity(0))
    assert worker_count(0, 1_000_000) == cores


def test_reparse_on_every_core_writes_what_one_process_writes(warc: Path, tmp_path: Path) -> None:
    written = {}
    for workers in (2, 1):
        output = tmp_path / f"output-{workers}"
        result = scrapy(
            "reparse", str(warc), "-s", f"TAZARCHIVE_OUTPUT_DIR={output}",
            "-s", f"TAZARCHIVE_REPARSE_WORKERS={workers}", offline=True,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-3000:]
        dumps = {
            str(p.relative_to(output)): p.read_bytes()
            for p in (output / "dumps").rglob("*")
            if p.is_file()
        }
        [jsonl] = (output / "jsonl").glob("*.jsonl")
        lines = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
        for line in lines:
            line.pop("fetched")
        written[workers] = (dumps, lines)
    assert len(written[2][1]) == 40
    assert written[2] == written[1]


def test_article_pages_are_read_as_asked_for_and_the_total_ends_exact(
    warc: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    second = tmp_path / "second"
    write_pages(Site(10), second)  # a second file, read after the first
    files = [*warc_files([warc]), *warc_files([second])]
    scanned: list[Path] = []
    real_scan = WarcIndex.scan

    def scan(index: WarcIndex, path: Path) -> Iterator[RecordRef]:
        scanned.append(path)
        return real_scan(index, path)

    monkeypatch.setattr(WarcIndex, "scan", scan)
    crawler = get_crawler(Spider)
    stats = crawler.stats
    assert stats is not None
    pages = article_pages(files, stats, logging.getLogger(__name__))
    first = next(pages)
    assert scanned == files[:1]  # the first page comes before the second file is opened
    assert first.url.endswith(f"/!{next(iter(Site(40).article_ids()))}/")
    estimate = stats.get_value(keys.EXPECTED_ARTICLES)
    assert estimate > 1  # scaled by the bytes read so far
    rest = list(pages)
    assert 1 + len(rest) == 50
    assert stats.get_value(keys.EXPECTED_ARTICLES) == 50  # once every file is read: the count
    assert stats.get_value(keys.REPARSE_SKIPPED) == 0
    assert stats.get_value(keys.REPARSE_DAMAGED) == 0


def test_responses_that_are_no_article_page_are_counted_as_skipped_and_done(
    tmp_path: Path,
) -> None:
    writer = WarcWriter(tmp_path, "tazarchive-test")
    request = HttpMessage("GET / HTTP/1.1", [("Host", "127.0.0.1:8000")])
    for path, status in (("/!6000001/", 200), ("/Politik/", 200), ("/!6000002/", 301)):
        response = HttpMessage(f"HTTP/1.1 {status} X", [("Content-Length", "2")], b"ok")
        writer.write_exchange(f"http://127.0.0.1:8000{path}", request, response)
    writer.close()
    stats = get_crawler(Spider).stats
    assert stats is not None
    found = list(article_pages(warc_files([tmp_path]), stats, logging.getLogger(__name__)))
    assert [ref.url for ref in found] == ["http://127.0.0.1:8000/!6000001/"]
    assert stats.get_value(keys.REPARSE_SKIPPED) == 2
    assert stats.get_value(keys.REPARSE_RESPONSES) == 2  # the skipped are done at once
    assert stats.get_value(keys.EXPECTED_ARTICLES) == 1
