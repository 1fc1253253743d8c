"""Archive.store with articles prepared ahead (reparse's workers) and durable writes in batches."""

from __future__ import annotations

import errno
import json
import pickle
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tazarchive.archive import Archive, files
from tazarchive.archive.jsonl import article_json_line
from tazarchive.archive.ledger import Ledger
from tazarchive.archive.prepare import PrepareOptions, prepare
from tazarchive.dump import render
from tazarchive.items import Article, Author, Block, Tag


def _article(article_id: str = "6000001", text: str = "Ein erfundener Absatz.") -> Article:
    return Article(
        id=article_id,
        url=f"https://taz.de/!{article_id}/",
        title="Ein Titel",
        topline="Oben",
        teaser="Ein Vorspann\u2028mit Zeilentrenner.",
        authors=[Author("Erika Musterfrau", id="1000")],
        published=datetime(2025, 6, 3, 9, 30, tzinfo=UTC),
        body=[Block(text)],
        tags=[Tag("Beispiel", id="2000")],
        layout="2024",
        parser_version="1",
        fetched=datetime(2025, 6, 4, 12, 0, tzinfo=UTC),
    )


def _open(root: Path, **settings: Any) -> Archive:
    return Archive.from_settings({"TAZARCHIVE_OUTPUT_DIR": str(root), **settings})


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted((root / "dumps").rglob("*"))
        if p.is_file()
    }


def _jsonl(root: Path) -> list[str]:
    paths = sorted((root / "jsonl").glob("*.jsonl"))
    return [line for path in paths for line in path.read_text().splitlines()]


def _store_a_batch_of_two_that_fails(archive: Archive) -> None:
    archive.write_in_batches(size=2)
    archive.store(_article("6000001"))
    archive.store(_article("6000002"))
    archive.flush()
    assert archive.stats.get_value("tazarchive/articles/store_errors") == 2
    assert not archive.knows("6000001") and not archive.knows("6000002")


def _record_fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the files fsynced from now on, in order."""
    synced: list[str] = []
    real_fsync = files.os.fsync

    def fsync(fd: int) -> None:
        real_fsync(fd)
        synced.append(Path(f"/proc/self/fd/{fd}").resolve().name)

    monkeypatch.setattr(files.os, "fsync", fsync)
    return synced


def _ledger_rows(root: Path) -> list[tuple[Any, ...]]:
    with Ledger(root / "ledger.sqlite3") as ledger:
        return [
            (e.id, e.revision, e.content_hash, e.dump_path)
            for e in ledger.revisions("6000001") + ledger.revisions("6000002")
        ]


def test_a_prepared_article_is_stored_as_the_article_itself_would_be(tmp_path: Path) -> None:
    stored: list[list[str]] = []
    for name, ahead in (("in-process", False), ("ahead", True)):
        root = tmp_path / name
        with _open(root) as archive:
            outcomes = []
            for text in ("Erste Fassung.", "Erste Fassung.", "Zweite Fassung."):
                article = _article(text=text)
                if ahead:  # as a worker process would: prepared, pickled, sent back
                    prepared = pickle.loads(pickle.dumps(prepare(article, archive.prepare_options)))
                    outcomes.append(archive.store(prepared))
                else:
                    outcomes.append(archive.store(article))
            assert outcomes == ["new", "known", "revised"]
        stored.append([json.dumps(_files(root), default=repr), *_jsonl(root)])
        stored[-1].append(repr(_ledger_rows(root)))
    in_process, ahead = stored
    assert ahead == in_process
    assert json.loads(in_process[2])["revision"] == 2


def test_json_line_made_ahead_is_the_line_of_the_stored_article(tmp_path: Path) -> None:
    with _open(tmp_path) as archive:
        article = _article()
        archive.store(prepare(article, archive.prepare_options))
        [line] = _jsonl(tmp_path)
    assert line == article_json_line(article)
    assert "\\u2028" in line  # line breakers JSON leaves raw are escaped in the head too


def test_an_article_prepared_for_other_settings_is_rendered_for_this_archive(
    tmp_path: Path,
) -> None:
    with _open(tmp_path, TAZARCHIVE_DUMP_FORMAT="text") as archive:
        other = prepare(_article(), PrepareOptions(fmt="seed"))
        assert archive.store(other) == "new"
    [data] = _files(tmp_path).values()
    assert data.decode() == render(_article(), "text")
    assert data != render(_article(), "seed").encode()


def test_in_batches_the_ledger_records_an_article_only_after_its_files_are_synced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced = _record_fsyncs(monkeypatch)
    real_commit = Ledger.commit
    seen_at_commit: list[list[str]] = []

    def commit(ledger: Ledger, changes: list[Any]) -> None:
        seen_at_commit.append(list(synced))
        real_commit(ledger, changes)

    monkeypatch.setattr(Ledger, "commit", commit)
    with _open(tmp_path) as archive:
        archive.write_in_batches(size=2)
        assert archive.store(_article("6000001")) == "new"
        assert archive.store(_article("6000001")) == "known"  # its batch is not recorded yet
        assert archive.store(_article("6000002")) == "new"
        archive.flush()
        assert archive.ledger is not None and len(archive.ledger) == 2
    assert seen_at_commit, "nothing was committed"
    first = seen_at_commit[0]
    assert ".6000001.txt.tmp" in first and any(name.endswith(".jsonl") for name in first)
    last = seen_at_commit[-1]
    assert ".6000002.txt.tmp" in last
    assert last.index(".6000002.txt.tmp") < max(
        i for i, name in enumerate(last) if name.endswith(".jsonl")
    )


def test_a_batch_that_cannot_be_written_is_counted_and_kept_out_of_the_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_fsync = files.os.fsync
    failing = {"on": True}

    def fsync(fd: int) -> None:
        if failing["on"]:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(files.os, "fsync", fsync)
    with _open(tmp_path) as archive:
        _store_a_batch_of_two_that_fails(archive)
        failing["on"] = False  # room again: both are stored whole when met again
        assert archive.store(_article("6000001")) == "new"
        assert archive.store(_article("6000002")) == "new"
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        assert len(ledger) == 2
    ids = [json.loads(line)["id"] for line in _jsonl(tmp_path)]
    assert ids == ["6000001", "6000002"]


@pytest.mark.skipif(files._SYNCFS is None, reason="syncfs(2) is Linux only")
def test_a_batch_of_dumps_is_synced_before_its_renames_and_again_before_the_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    real_sync, real_replace = files.sync_filesystem, files.os.replace

    def sync_filesystem(directory: Path) -> None:
        real_sync(directory)
        events.append("sync")

    def replace(source: Any, target: Any) -> None:
        real_replace(source, target)
        events.append("rename " + Path(target).name)

    def commit(ledger: Ledger, changes: list[Any]) -> None:
        events.append("commit")
        real_commit(ledger, changes)

    real_commit = Ledger.commit
    monkeypatch.setattr(files, "sync_filesystem", sync_filesystem)
    monkeypatch.setattr(files.os, "replace", replace)
    monkeypatch.setattr(Ledger, "commit", commit)
    with _open(tmp_path) as archive:
        archive.write_in_batches(size=3)
        for article_id in ("6000001", "6000002", "6000003"):
            assert archive.store(_article(article_id)) == "new"
        archive.flush()
    assert events == [
        "sync",
        "rename 6000001.txt",
        "rename 6000002.txt",
        "rename 6000003.txt",
        "sync",
        "commit",
    ]
    assert len(_files(tmp_path)) == 3
    assert not list((tmp_path / "dumps").rglob(".*.tmp"))


@pytest.mark.skipif(files._SYNCFS is None, reason="syncfs(2) is Linux only")
def test_a_batch_whose_sync_fails_leaves_no_dump_no_temp_and_no_ledger_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def sync_filesystem(directory: Path) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(files, "sync_filesystem", sync_filesystem)
    with _open(tmp_path) as archive:
        _store_a_batch_of_two_that_fails(archive)
    assert [p for p in (tmp_path / "dumps").rglob("*") if p.is_file()] == []
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        assert len(ledger) == 0


def test_without_syncfs_each_dump_of_a_batch_is_fsynced_on_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "_SYNCFS", None)
    synced = _record_fsyncs(monkeypatch)
    with _open(tmp_path) as archive:
        archive.write_in_batches(size=2)
        archive.store(_article("6000001"))
        archive.store(_article("6000002"))
        archive.flush()
    assert {".6000001.txt.tmp", ".6000002.txt.tmp"} <= set(synced)
    assert len(_files(tmp_path)) == 2
