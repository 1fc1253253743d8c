"""``scrapy import-dumps``: dump files into the ledger, the dump layout and JSONL."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from tazarchive.archive import Archive, ArchiveLayout, Ledger
from tazarchive.commands.import_dumps import DumpImporter
from tazarchive.dump import render
from tazarchive.extensions import ArchiveLock
from tazarchive.items import Article, Author, Block, article_from_dict
from tests.conftest import SHARED, needs_shared

REPO = Path(__file__).resolve().parent.parent


def _article(article_id: str, text: str = "Ein erfundener Absatz für den Test.") -> Article:
    return Article(
        id=article_id,
        url=f"https://taz.de/!{article_id}/",
        topline="Dach",
        title="Ein Titel",
        teaser="Ein Vorspann.",
        authors=[Author("Erika Musterfrau")],
        published=datetime(2024, 3, 5, 10, 0, tzinfo=UTC),
        body=[Block(text)],
    )


def _write_dump(folder: Path, name: str, article: Article, fmt: str = "text") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(render(article, fmt), encoding="utf-8")
    return path


def _import(tmp_path: Path, *paths: Path) -> tuple[DumpImporter, list[dict[str, object]], str]:
    """Import into tmp_path/out; returns the importer, the run's JSONL records and stderr."""
    layout = ArchiveLayout.from_settings({"TAZARCHIVE_OUTPUT_DIR": str(tmp_path / "out")})
    err = io.StringIO()
    with Archive(layout, ledger=Ledger(layout.ledger), run_name="import") as archive:
        archive.jsonl_path = tmp_path / f"run-{len(list(tmp_path.glob('run-*')))}.jsonl"
        importer = DumpImporter(archive, err=err)
        importer.import_paths([str(p) for p in paths])
        text = archive.jsonl_path.read_text() if archive.jsonl_path.exists() else ""
    records = [json.loads(line) for line in text.splitlines()]
    return importer, records, err.getvalue()


def test_import_records_ledger_dump_and_jsonl(tmp_path: Path) -> None:
    source = _write_dump(tmp_path / "in", "6000001.txt", _article("6000001"))
    importer, records, errors = _import(tmp_path, source)
    assert errors == ""
    assert (importer.summary.new, importer.summary.failed) == (1, 0)
    [record] = records
    assert (record["id"], record["revision"]) == ("6000001", 1)
    assert article_from_dict(record).body[0].text == "Ein erfundener Absatz für den Test."
    stored = tmp_path / "out" / "dumps" / "2024" / "03" / "6000001.txt"
    assert stored.read_text(encoding="utf-8") == render(article_from_dict(record), "seed")
    with Ledger(tmp_path / "out" / "ledger.sqlite3") as ledger:
        current = ledger.current("6000001")
        assert current is not None
        assert (current.revision, current.dump_path) == (1, "dumps/2024/03/6000001.txt")


def test_importing_the_same_dump_again_counts_it_known(tmp_path: Path) -> None:
    source = _write_dump(tmp_path / "in", "6000001.txt", _article("6000001"))
    _import(tmp_path, source)
    importer, records, _ = _import(tmp_path, source)
    assert (importer.summary.new, importer.summary.known) == (0, 1)
    assert records == []


def test_a_changed_dump_becomes_revision_2_beside_the_first(tmp_path: Path) -> None:
    _import(tmp_path, _write_dump(tmp_path / "a", "6000001.txt", _article("6000001", "Alt.")))
    importer, records, _ = _import(
        tmp_path, _write_dump(tmp_path / "b", "6000001.txt", _article("6000001", "Neu."))
    )
    assert importer.summary.revised == 1
    assert [r["revision"] for r in records] == [2]
    folder = tmp_path / "out" / "dumps" / "2024" / "03"
    assert sorted(p.name for p in folder.iterdir()) == ["6000001.r2.txt", "6000001.txt"]


def test_an_archives_own_revision_files_keep_their_id(tmp_path: Path) -> None:
    source = _write_dump(tmp_path / "in", "6000001.r2.txt", _article("6000001"), fmt="seed")
    _, records, errors = _import(tmp_path, source)
    assert errors == ""
    assert [r["id"] for r in records] == ["6000001"]


def test_listings_non_dumps_and_id_less_dumps_fail_with_a_message_each(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    good = _write_dump(folder, "6000001.txt", _article("6000001"))
    _write_dump(folder, "no-id.txt", _article("6000002"))
    (folder / "notes.txt").write_text("Einkaufsliste\nBrot\n", encoding="utf-8")
    (folder / "empty.txt").write_text("", encoding="utf-8")
    importer, records, errors = _import(tmp_path, folder)
    assert importer.summary.failed == 3
    assert [r["id"] for r in records] == ["6000001"]
    lines = errors.splitlines()
    assert len(lines) == 3
    assert any("no-id.txt: no article id" in line for line in lines)
    assert any("notes.txt: not an article dump" in line for line in lines)
    assert any("empty.txt: not an article dump: empty file" in line for line in lines)
    assert good.exists()


def test_import_into_a_relative_output_dir_writes_the_archive_there(tmp_path: Path) -> None:
    source = _write_dump(tmp_path / "in", "6000001.txt", _article("6000001"))
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "import-dumps", str(source),
         "-s", "TAZARCHIVE_OUTPUT_DIR=rel/out"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**os.environ, "SCRAPY_SETTINGS_MODULE": "tazarchive.settings",
             "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "import-dumps: 1 new, 0 revised, 0 known, 0 failed"
    out = tmp_path / "rel" / "out"
    assert (out / "dumps" / "2024" / "03" / "6000001.txt").is_file()
    [jsonl] = (out / "jsonl").iterdir()
    assert re.fullmatch(r"import-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ\.jsonl", jsonl.name)


def _index_article_ids() -> set[str]:
    """Ids of the captures INDEX.md marks as articles (kind column starts with "article")."""
    ids = set()
    for line in (SHARED / "dumps" / "INDEX.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and cells[3].startswith("article") and re.fullmatch(r"!\d+", cells[2]):
            ids.add(cells[2][1:])
    return ids


def _scrapy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


@needs_shared
def test_import_of_shared_captures_records_every_article_id(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _scrapy(
        "import-dumps", str(SHARED / "seeds"), str(SHARED / "dumps"),
        "-s", f"TAZARCHIVE_OUTPUT_DIR={out}",
    )  # fmt: skip
    # The captures include listing pages and web-text files: reported, exit 1.
    assert result.returncode == 1
    assert "003.txt: not an article dump" in result.stderr
    expected = _index_article_ids()
    assert len(expected) >= 10
    with Ledger(out / "ledger.sqlite3") as ledger:
        for article_id in sorted(expected):
            assert ledger.knows(article_id), article_id
    [jsonl] = (out / "jsonl").iterdir()
    ids = {json.loads(line)["id"] for line in jsonl.read_text(encoding="utf-8").splitlines()}
    assert ids == expected

    # A crawl of an imported id does not fetch it: the ledger knows it.
    known_id = sorted(expected)[0]
    crawl = _scrapy(
        "crawl", "articles", "-a", f"ids={known_id}",
        "-s", f"TAZARCHIVE_OUTPUT_DIR={out}",
        "-s", "TAZARCHIVE_BASE_URL=http://127.0.0.1:9",  # nothing may be fetched
        "-s", "TAZARCHIVE_WARC_ENABLED=False",
    )  # fmt: skip
    assert crawl.returncode == 0, crawl.stderr
    assert "'tazarchive/articles/from_archive': 1" in crawl.stderr
    assert "downloader/request_count" not in crawl.stderr


def test_import_refuses_a_busy_archive(tmp_path: Path) -> None:
    out = tmp_path / "out"
    source = _write_dump(tmp_path / "in", "6000001.txt", _article("6000001"))
    lock = ArchiveLock(out)
    lock.acquire()
    try:
        result = _scrapy("import-dumps", str(source), "-s", f"TAZARCHIVE_OUTPUT_DIR={out}")
    finally:
        lock.release()
    assert result.returncode == 1
    assert result.stderr.startswith("tazarchive: ")
    assert "busy" in result.stderr
    assert not (out / "ledger.sqlite3").exists()
