"""``scrapy reparse`` on damaged input: skip the damaged record, count it, read on.

The WARC files are generated here: article pages of a small replica site,
written by :class:`tazarchive.warc.WarcWriter` as a crawl writes them, then
damaged on purpose (a corrupt gzip member mid-file, a cut tail, a broken
record header in an uncompressed WARC, gzipped text that is no WARC at all).
"""

from __future__ import annotations

import gzip
import json
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from scrapy.utils.test import get_crawler

from tazarchive import stats as keys
from tazarchive.commands.reparse import count_rejected
from tazarchive.reparse import ARTICLE, DAMAGED, extract_record
from tazarchive.replica import Site, respond
from tazarchive.warc import HttpMessage, RecordRef, WarcWriter, index_warcs
from tests.test_warc import run_counts, scrapy

START = datetime(2025, 10, 24, 8, 0, tzinfo=UTC)
ARTICLES = 30
DAMAGED_AT = 15  # the response record damaged mid-file


@pytest.fixture(scope="module")
def site() -> Site:
    return Site(ARTICLES)


def write_pages(site: Site, directory: Path, *, encoding: str = "") -> Path:
    """One response + request pair per article page of ``site``; the file's path."""
    writer = WarcWriter(directory, "tazarchive-test", started=START)
    for n, article_id in enumerate(site.article_ids()):
        path = f"/!{article_id}/"
        body = respond(site, path).body
        headers = [("Content-Type", "text/html; charset=utf-8")]
        if encoding:
            body = gzip.compress(body)
            headers.append(("Content-Encoding", encoding))
        headers.append(("Content-Length", str(len(body))))
        request = HttpMessage(f"GET {path} HTTP/1.1", [("Host", "127.0.0.1:8000")])
        writer.write_exchange(
            f"http://127.0.0.1:8000{path}",
            request,
            HttpMessage("HTTP/1.1 200 OK", headers, body),
            date=START + timedelta(seconds=n),
        )
    writer.close()
    [path] = writer.paths
    return path


def members(data: bytes) -> list[tuple[int, int]]:
    """(offset, length) of each gzip member of ``data``."""
    found, position = [], 0
    while position < len(data):
        decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
        decompressor.decompress(data[position:])
        length = len(data) - position - len(decompressor.unused_data)
        found.append((position, length))
        position += length
    return found


def damage_member(path: Path, member: int) -> None:
    """Overwrite bytes in the middle of one gzip member (its CRC no longer matches)."""
    data = bytearray(path.read_bytes())
    offset, length = members(bytes(data))[member]
    middle = offset + length // 2
    data[middle : middle + 40] = bytes(b ^ 0x5A for b in data[middle : middle + 40])
    path.write_bytes(bytes(data))


def response_member(n: int) -> int:
    return 1 + 2 * n  # after the warcinfo record: response, request, response, …


def stored_ids(output: Path) -> list[str]:
    lines = []
    for path in sorted((output / "jsonl").glob("*.jsonl")):
        lines += path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["id"] for line in lines]


def report_stats(output: Path) -> dict[str, object]:
    [report] = sorted((output / "runs").glob("reparse-*.json"))
    stats: dict[str, object] = json.loads(report.read_text())["tazarchive"]
    return stats


# --- indexing ---------------------------------------------------------------------


def test_index_skips_a_damaged_member_mid_file_and_finds_every_record_after_it(
    tmp_path: Path, site: Site
) -> None:
    path = write_pages(site, tmp_path)
    damaged_offset, _ = members(path.read_bytes())[response_member(DAMAGED_AT)]
    damage_member(path, response_member(DAMAGED_AT))
    index = index_warcs([tmp_path])
    assert index.damaged == 1
    assert index.unreadable == 0
    ids = list(site.article_ids())
    expected = [f"http://127.0.0.1:8000/!{i}/" for i in ids[:DAMAGED_AT] + ids[DAMAGED_AT + 1 :]]
    assert [ref.url for ref in index.responses] == expected
    assert index.problems == [f"{path}: damaged record skipped at offset {damaged_offset}"]


def test_index_counts_a_cut_last_record_as_damaged_and_keeps_the_records_before(
    tmp_path: Path, site: Site
) -> None:
    path = write_pages(site, tmp_path)
    data = path.read_bytes()
    offset, length = members(data)[response_member(ARTICLES - 1)]
    path.write_bytes(data[: offset + length // 2])  # the last response cut in half
    index = index_warcs([path])
    assert index.damaged == 1
    assert len(index.responses) == ARTICLES - 1


def test_index_of_gzipped_text_finds_no_record_and_counts_the_file_unreadable(
    tmp_path: Path,
) -> None:
    path = tmp_path / "notes.warc.gz"
    path.write_bytes(gzip.compress(b"Invented notes, not a WARC file.\n" * 200))
    index = index_warcs([path])
    assert (index.unreadable, index.damaged, index.records, index.responses) == (1, 0, 0, [])


def test_index_of_an_uncompressed_warc_resyncs_at_the_next_record_header(
    tmp_path: Path, site: Site
) -> None:
    gz = write_pages(site, tmp_path / "gz")
    data = gz.read_bytes()
    records = [zlib.decompress(data[o : o + n], zlib.MAX_WBITS | 16) for o, n in members(data)]
    target = response_member(DAMAGED_AT)
    records[target] = b"XXXX" + records[target][4:]  # its WARC/1.1 line broken
    plain = tmp_path / "plain.warc"
    plain.write_bytes(b"".join(records))
    index = index_warcs([plain])
    assert index.damaged == 1
    assert len(index.responses) == ARTICLES - 1
    assert index.responses[DAMAGED_AT].url.endswith(f"!{list(site.article_ids())[DAMAGED_AT + 1]}/")


# --- reading one record --------------------------------------------------------------


def test_a_record_whose_body_cannot_be_decoded_is_damaged_not_fatal(
    tmp_path: Path, site: Site
) -> None:
    path = write_pages(site, tmp_path, encoding="br")  # gzip bytes labelled brotli
    first, second = index_warcs([path]).responses[:2]
    outcome = extract_record(first)
    assert outcome.kind == DAMAGED
    assert str(path) in outcome.detail
    ref = RecordRef(second.path, second.offset, second.length, second.url, 200, second.date)
    assert extract_record(ref).kind == DAMAGED


def test_a_readable_record_becomes_its_article_with_the_warc_date_as_fetched(
    tmp_path: Path, site: Site
) -> None:
    path = write_pages(site, tmp_path)
    ref = index_warcs([path]).responses[3]
    outcome = extract_record(ref)
    assert outcome.kind == ARTICLE
    assert outcome.article is not None
    assert outcome.article.id == list(site.article_ids())[3]
    assert outcome.article.fetched == START + timedelta(seconds=3)


def test_rejected_pages_are_counted_as_the_crawl_counts_them() -> None:
    crawler = get_crawler()
    stats = crawler.stats
    assert stats is not None
    stats.open_spider()
    for n in range(25):
        count_rejected(stats, "unknown_design", f"http://127.0.0.1:8000/!{600000 + n}/")
    count_rejected(stats, "id_mismatch", "http://127.0.0.1:8000/!600100/")
    assert stats.get_value(keys.ARTICLES_REJECTED) == 26
    assert stats.get_value(keys.rejected("unknown_design")) == 25
    assert stats.get_value(keys.rejected("id_mismatch")) == 1
    assert stats.get_value(keys.EXTRACT_UNKNOWN_DESIGN) == 25
    kept = stats.get_value(keys.rejected_urls("unknown_design"))
    assert kept == [f"http://127.0.0.1:8000/!{600000 + n}/" for n in range(20)]


# --- the command -----------------------------------------------------------------------


def test_reparse_of_a_warc_damaged_mid_file_stores_every_other_article(
    tmp_path: Path, site: Site
) -> None:
    path = write_pages(site, tmp_path / "warc")
    damage_member(path, response_member(DAMAGED_AT))
    output = tmp_path / "output"
    result = scrapy("reparse", str(path), "-s", f"TAZARCHIVE_OUTPUT_DIR={output}", offline=True)
    assert "NETWORK USE" not in result.stderr
    ids = list(site.article_ids())
    assert stored_ids(output) == ids[:DAMAGED_AT] + ids[DAMAGED_AT + 1 :]
    stats = report_stats(output)
    assert stats["reparse/damaged"] == 1
    assert stats["reparse/responses"] == ARTICLES - 1
    [counts] = run_counts(output, "reparse")
    assert counts["new"] == ARTICLES - 1


def test_reparse_of_gzipped_text_counts_it_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "notes.warc.gz"
    path.write_bytes(gzip.compress(b"Invented notes, not a WARC file.\n" * 200))
    output = tmp_path / "output"
    result = scrapy("reparse", str(path), "-s", f"TAZARCHIVE_OUTPUT_DIR={output}", offline=True)
    assert "NETWORK USE" not in result.stderr
    stats = report_stats(output)
    assert stats["reparse/unreadable"] == 1
    assert stats["reparse/responses"] == 0
    assert stored_ids(output) == []


def test_reparse_of_gzipped_text_fails_the_run_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "notes.warc.gz"
    path.write_bytes(gzip.compress(b"Invented notes, not a WARC file.\n" * 200))
    output = tmp_path / "output"
    result = scrapy("reparse", str(path), "-s", f"TAZARCHIVE_OUTPUT_DIR={output}", offline=True)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith("tazarchive: ")
