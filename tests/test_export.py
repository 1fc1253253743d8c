"""``scrapy export`` and articles handed from the archive to a crawl's feeds, unfetched."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from tazarchive.archive import Archive
from tazarchive.dump import render
from tazarchive.items import Article, Author, Block, Link, LinkSpan, Tag
from tazarchive.normalise import normalise

REPO = Path(__file__).resolve().parent.parent
NOWHERE = "http://127.0.0.1:9"  # nothing listens: a request there would fail the test


def _article(article_id: str, text: str = "Ein erfundener Absatz.", day: int = 3) -> Article:
    return normalise(
        Article(
            id=article_id,
            url=f"{NOWHERE}/!{article_id}/",
            title="Ein Titel",
            teaser="Ein Vorspann.",
            authors=[Author("Erika Musterfrau", "1000", "/!a1000/"), Author("Max Beispiel")],
            published=datetime(2025, 6, day, 9, 30, tzinfo=UTC),
            body=[Block(text, links=[LinkSpan(4, 13, 1)]), Block("Zwischentitel", "subheading")],
            links=[Link("erfundener", "https://example.org/x")],
            tags=[Tag("Klima", "2000")],
            layout="2024",
            parser_version="1",
            fetched=datetime(2025, 6, 4, 12, 0, tzinfo=UTC),
        )
    )


def _fill(root: Path) -> list[Article]:
    with Archive.from_settings(
        {"TAZARCHIVE_OUTPUT_DIR": str(root), "TAZARCHIVE_BASE_URL": NOWHERE}
    ) as archive:
        stored = []
        for article in (
            _article("6000001", day=1),
            _article("6000002", day=2),
            _article("6000001", "Ein geänderter Absatz.", day=1),
            _article("6000003", day=30),
        ):
            archive.store(article)
            stored.append(article)
    return stored


def _scrapy(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *args, "-s", f"TAZARCHIVE_OUTPUT_DIR={root}"],
        cwd=REPO,
        capture_output=True,
        timeout=120,
    )


def _jsonl(root: Path) -> list[str]:
    return [
        line
        for path in sorted((root / "jsonl").glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]


def test_export_jsonl_is_the_latest_revision_of_each_article_as_the_store_wrote_it(
    tmp_path: Path,
) -> None:
    _fill(tmp_path)
    written = _jsonl(tmp_path)
    latest = {json.loads(line)["id"]: line for line in written}  # later lines: later revisions
    result = _scrapy(tmp_path, "export")
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode("utf-8").splitlines() == [latest[i] for i in sorted(latest)]
    assert json.loads(latest["6000001"])["revision"] == 2


def test_export_renders_and_filters_to_a_file(tmp_path: Path) -> None:
    stored = _fill(tmp_path)
    out = tmp_path / "june.txt"
    result = _scrapy(
        tmp_path, "export", "--format", "seed", "--since", "2025-06-02", "--until",
        "2025-06-30", "--tag", "klima", "-o", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == b""
    assert out.read_text(encoding="utf-8") == render(stored[1]) + render(stored[3])


def test_export_of_ids_names_those_not_archived(tmp_path: Path) -> None:
    stored = _fill(tmp_path)
    result = _scrapy(tmp_path, "export", "--format", "text", "--ids", "6000002,!6000009")
    assert result.returncode == 1
    assert result.stdout.decode("utf-8") == render(stored[1], "text")
    assert result.stderr.decode("utf-8").splitlines() == ["tazarchive: not archived: 6000009"]


def test_export_without_an_archive_says_so_in_one_line(tmp_path: Path) -> None:
    result = _scrapy(tmp_path / "none", "export")
    assert result.returncode == 1
    assert result.stderr.decode().startswith(f"tazarchive: no archive at {tmp_path / 'none'}")
    assert not (tmp_path / "none").exists()


def test_articles_run_prints_archived_dumps_and_csv_without_a_request(tmp_path: Path) -> None:
    stored = _fill(tmp_path)
    before = _jsonl(tmp_path)
    out_csv = tmp_path / "out.csv"
    result = _scrapy(
        tmp_path, "crawl", "articles", "-a", "ids=6000002,6000001",
        "-s", f"TAZARCHIVE_BASE_URL={NOWHERE}", "-s", "TAZARCHIVE_WARC_ENABLED=False",
        "-o", "-:tazdump", "-o", str(out_csv),
    )  # fmt: skip
    log = result.stderr.decode("utf-8")
    assert result.returncode == 0, log
    assert result.stdout.decode("utf-8") == render(stored[1]) + render(stored[2])
    assert "downloader/request_count" not in log
    assert "'tazarchive/articles/from_archive': 2" in log
    # Not stored again: the archive's JSONL has no line more.
    assert _jsonl(tmp_path) == before
    rows = list(csv.DictReader(io.StringIO(out_csv.read_text(encoding="utf-8"))))
    assert [row["id"] for row in rows] == ["6000002", "6000001"]
    assert rows[0]["authors"] == "Erika Musterfrau; Max Beispiel"
    assert rows[0]["tags"] == "Klima"
    assert rows[1]["body"] == "Ein geänderter Absatz.\n\n## Zwischentitel"
    assert rows[0]["links"] == "[1] https://example.org/x"
    assert "Author(" not in out_csv.read_text(encoding="utf-8")


def test_export_into_a_reader_that_stops_early_ends_without_a_traceback(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    long_text = "Ein erfundener Absatz, der lang genug ist. " * 200  # ~8 KB an article
    with Archive.from_settings(
        {"TAZARCHIVE_OUTPUT_DIR": str(root), "TAZARCHIVE_BASE_URL": NOWHERE}
    ) as archive:
        for n in range(40):  # far more than a pipe's buffer
            archive.store(_article(str(6_100_000 + n), long_text))
    process = subprocess.Popen(
        [sys.executable, "-m", "scrapy", "export", "-s", f"TAZARCHIVE_OUTPUT_DIR={root}"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline().startswith(b"{")
    process.stdout.close()  # as `| head -1` does
    stderr = process.stderr.read().decode()
    process.stderr.close()
    assert process.wait(timeout=60) == 141
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr
