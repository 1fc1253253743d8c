"""``scrapy reparse`` on every core: the same outcomes, in the same order, as one process."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from tazarchive.commands.reparse import ExtractionPool, batches, worker_count
from tazarchive.items import article_to_dict
from tazarchive.reparse import ARTICLE, Outcome
from tazarchive.replica import Site
from tazarchive.warc import index_warcs
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
