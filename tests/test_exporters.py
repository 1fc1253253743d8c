"""Feed exporters (into BytesIO) and the line-safe local feed storage."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from scrapy.settings import Settings
from scrapy.utils.misc import load_object
from scrapy.utils.test import get_crawler

from tazarchive.dump import GopherOptions, render
from tazarchive.exporters import (
    ArticleJsonLinesExporter,
    LineSafeFileFeedStorage,
    TazDumpExporter,
    cut_partial_last_line,
)
from tazarchive.items import article_from_dict
from tests.conftest import REPO
from tests.runs_spiders import invented_article


class RecordingFile(BytesIO):
    """A BytesIO that remembers every write call."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []

    def write(self, data: Any) -> int:
        self.writes.append(bytes(data))
        return super().write(data)


def export(exporter_cls: type, items: list[Any], **options: Any) -> RecordingFile:
    file = RecordingFile()
    exporter = exporter_cls(file, **options)
    exporter.start_exporting()
    for item in items:
        exporter.export_item(item)
    exporter.finish_exporting()
    return file


def test_jsonl_round_trip_gives_back_the_same_articles() -> None:
    articles = [invented_article(1), invented_article(2)]
    file = export(ArticleJsonLinesExporter, articles)
    lines = file.getvalue().decode("utf-8").split("\n")
    assert lines[-1] == ""
    back = [article_from_dict(json.loads(line)) for line in lines[:-1]]
    assert back == articles
    assert back[0].published is not None
    assert back[0].published.utcoffset() == articles[0].published.utcoffset()  # type: ignore[union-attr]


def test_jsonl_writes_each_record_as_one_complete_line() -> None:
    file = export(ArticleJsonLinesExporter, [invented_article(1), invented_article(2)])
    assert len(file.writes) == 2
    for write in file.writes:
        assert write.endswith(b"\n")
        assert write.count(b"\n") == 1


def test_jsonl_keeps_non_ascii_as_utf8() -> None:
    data = export(ArticleJsonLinesExporter, [invented_article(1)]).getvalue()
    assert "Grüße".encode() in data
    assert b"\\u00fc" not in data


def test_jsonl_line_separators_in_text_do_not_split_the_record() -> None:
    article = invented_article(1)
    article.title = "eins\u2028zwei\u2029drei\x85vier"
    data = export(ArticleJsonLinesExporter, [article, invented_article(2)]).getvalue()
    assert len(data.decode("utf-8").splitlines()) == 2
    assert article_from_dict(json.loads(data.splitlines()[0])).title == article.title


def test_jsonl_exports_other_items_through_itemadapter() -> None:
    @dataclasses.dataclass
    class Note:
        text: str
        count: int

    data = export(ArticleJsonLinesExporter, [{"a": "ä"}, Note("x", 2)]).getvalue()
    assert [json.loads(line) for line in data.splitlines()] == [
        {"a": "ä"},
        {"text": "x", "count": 2},
    ]


def test_jsonl_fields_option_keeps_only_those_keys() -> None:
    data = export(ArticleJsonLinesExporter, [invented_article(3)], fields_to_export=["id", "title"])
    assert json.loads(data.getvalue()) == {
        "id": "7000003",
        "title": "Probelauf Nummer 3: Grüße aus dem Testlabor",
    }


def test_tazdump_output_is_the_dumps_one_after_the_other() -> None:
    articles = [invented_article(1), invented_article(2)]
    data = export(TazDumpExporter, articles).getvalue().decode("utf-8")
    assert data == render(articles[0]) + render(articles[1])


def test_tazdump_renders_the_format_asked_for() -> None:
    article = invented_article(4)
    data = export(TazDumpExporter, [article], dump_format="text").getvalue().decode("utf-8")
    assert data == render(article, "text")
    assert data != render(article, "seed")


def test_tazdump_skips_items_that_are_not_articles() -> None:
    article = invented_article(5)
    data = export(TazDumpExporter, [{"id": "1"}, article]).getvalue().decode("utf-8")
    assert data == render(article)


def test_tazdump_takes_format_and_gopher_options_from_settings() -> None:
    crawler = get_crawler(
        settings_dict={
            "TAZARCHIVE_DUMP_FORMAT": "gophermap",
            "TAZARCHIVE_GOPHER_HOST": "gopher.example",
            "TAZARCHIVE_GOPHER_PORT": 7070,
            "TAZARCHIVE_GOPHER_SELECTOR_PREFIX": "/taz",
        }
    )
    file = BytesIO()
    exporter = TazDumpExporter.from_crawler(crawler, file)
    article = invented_article(6)
    exporter.export_item(article)
    gopher = GopherOptions(host="gopher.example", port=7070, selector_prefix="/taz")
    assert file.getvalue().decode("utf-8") == render(article, "gophermap", gopher=gopher)


def test_project_settings_map_line_formats_and_tazdump_to_our_exporters() -> None:
    settings = Settings()
    settings.setmodule("tazarchive.settings", priority="project")
    exporters = settings.getwithbase("FEED_EXPORTERS")
    for name in ("jsonl", "jsonlines", "jl"):
        assert load_object(exporters[name]) is ArticleJsonLinesExporter
    assert load_object(exporters["tazdump"]) is TazDumpExporter
    storages = settings.getwithbase("FEED_STORAGES")
    assert load_object(storages["file"]) is LineSafeFileFeedStorage
    assert load_object(storages[""]) is LineSafeFileFeedStorage


def test_storage_file_holds_each_record_as_soon_as_it_is_exported(tmp_path: Path) -> None:
    path = tmp_path / "feeds" / "out.jsonl"
    storage = LineSafeFileFeedStorage(str(path), feed_options={"format": "jsonl"})
    file = storage.open(spider=None)  # type: ignore[arg-type]
    exporter = ArticleJsonLinesExporter(file)
    exporter.export_item(invented_article(1))
    # Not closed, not flushed: what a SIGKILL would leave.
    on_disk = path.read_bytes()
    assert on_disk.endswith(b"\n")
    assert article_from_dict(json.loads(on_disk)) == invented_article(1)
    storage.store(file)


def write_through_storage(path: Path, data: bytes, **feed_options: Any) -> None:
    storage = LineSafeFileFeedStorage(str(path), feed_options=feed_options)
    file = storage.open(spider=None)  # type: ignore[arg-type]
    file.write(data)
    storage.store(file)


def test_storage_overwrite_starts_a_fresh_file(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_bytes(b'{"old": 1}\n')
    write_through_storage(path, b'{"new": 1}\n', format="jsonl", overwrite=True)
    assert path.read_bytes() == b'{"new": 1}\n'


def test_storage_append_cuts_a_partial_line_left_by_a_killed_run(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_bytes(b'{"a": 1}\n{"b": 2}\n{"c": ')
    write_through_storage(path, b'{"d": 4}\n', format="jsonl")
    assert path.read_bytes() == b'{"a": 1}\n{"b": 2}\n{"d": 4}\n'


def test_storage_append_leaves_non_line_formats_alone(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    path.write_bytes(b"no newline at the end")
    write_through_storage(path, b"", format="tazdump")
    assert path.read_bytes() == b"no newline at the end"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", b""),
        (b"a\nb\n", b"a\nb\n"),
        (b"a\nb", b"a\n"),
        (b"no line end at all", b""),
        (b"x" * 50 + b"\n" + b"y" * 300, b"x" * 50 + b"\n"),
    ],
)
def test_cut_partial_last_line(tmp_path: Path, content: bytes, expected: bytes) -> None:
    path = tmp_path / "f.jsonl"
    path.write_bytes(content)
    assert cut_partial_last_line(path, chunk=16) == len(content) - len(expected)
    assert path.read_bytes() == expected


WRITER = """
import sys
from tazarchive.exporters import ArticleJsonLinesExporter, LineSafeFileFeedStorage
from tests.runs_spiders import invented_article

storage = LineSafeFileFeedStorage(sys.argv[1], feed_options={"format": "jsonl"})
exporter = ArticleJsonLinesExporter(storage.open(None))
article = invented_article(1)
blocks = article.body
n = 0
while True:
    n += 1
    article.id = str(n)
    # Records of 1 to 40 kB: some fill a write buffer only partly, some span many pages.
    article.body = blocks * (1 + n % 7 + 200 * (n % 13 == 0))
    exporter.export_item(article)
    print(n, flush=True)  # exported: from here on the line must survive a SIGKILL
"""


def test_sigkill_while_exporting_keeps_every_exported_line_whole(tmp_path: Path) -> None:
    path = tmp_path / "killed.jsonl"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    exported_before = 0
    for round_ in range(5):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path)], cwd=REPO, env=env, stdout=subprocess.PIPE
        )
        assert writer.stdout is not None
        writer.stdout.readline()
        time.sleep(0.02 + 0.031 * round_)
        writer.send_signal(signal.SIGKILL)
        reported = writer.stdout.read().split(b"\n")
        writer.wait()
        writer.stdout.close()
        last_exported = max(int(n) for n in reported[:-1]) if len(reported) > 1 else 1
        whole, _, tail = path.read_bytes().rpartition(b"\n")
        ids = [int(json.loads(line)["id"]) for line in whole.splitlines()[exported_before:]]
        assert ids[:last_exported] == list(range(1, last_exported + 1)), f"round {round_}"
        if tail:
            # The kill stopped the write of a record not yet reported exported (the
            # kernel may end a multi-page write early for a fatal signal): the next
            # append cuts it, as the next round's writer does.
            storage = LineSafeFileFeedStorage(str(path), feed_options={"format": "jsonl"})
            storage.open(spider=None).close()  # type: ignore[arg-type]
            assert path.read_bytes() == whole + b"\n", f"round {round_}: partial line kept"
        exported_before += len(ids)


def test_default_feed_name_carries_output_dir_and_the_run_report_time_format() -> None:
    from scrapy import Spider

    from tazarchive.exporters import archive_uri_params

    crawler = get_crawler(Spider, {"TAZARCHIVE_OUTPUT_DIR": "/srv/taz"})
    spider = Spider.from_crawler(crawler, name="feed")
    params = archive_uri_params({"time": "2025-10-24T08-00-00+00-00", "name": "feed"}, spider)
    assert params["output_dir"] == "/srv/taz"
    assert params["time"] == "2025-10-24T08-00-00Z"


class _FullDisk(BytesIO):
    def write(self, data: Any) -> int:
        raise OSError(28, "No space left on device")


@pytest.mark.parametrize("fmt", ["jsonl", "tazdump", "csv"])
def test_a_failing_feed_write_is_counted_as_a_store_error_and_raised(fmt: str) -> None:
    from scrapy.utils.misc import build_from_crawler

    from tazarchive.settings import FEED_EXPORTERS

    crawler = get_crawler(settings_dict={"TAZARCHIVE_DUMP_FORMAT": "seed"})
    exporter_cls = load_object(FEED_EXPORTERS[fmt])
    exporter = build_from_crawler(exporter_cls, crawler, _FullDisk())
    exporter.start_exporting()
    with pytest.raises(OSError, match="No space"):
        exporter.export_item(invented_article(1))
    assert crawler.stats is not None
    assert crawler.stats.get_value("tazarchive/articles/store_errors") == 1
