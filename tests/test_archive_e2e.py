"""The archive end to end: ``scrapy crawl sitemap`` against the local replica.

Each crawl is a subprocess (as users run it); the replica runs in a thread of
the test process and logs every path it served.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tazarchive.archive import Ledger
from tazarchive.replica import ReplicaServer, Site

REPO = Path(__file__).resolve().parent.parent
ARTICLE_PATH = re.compile(r"!\d+")  # article pages; authors/tags/sections are !a/!t/!p


def _command(server: ReplicaServer, output: Path, *spider_args: str) -> list[str]:
    return [
        sys.executable, "-m", "scrapy", "crawl", "sitemap", *spider_args,
        "-s", f"TAZARCHIVE_BASE_URL={server.base_url}",
        "-s", f"TAZARCHIVE_OUTPUT_DIR={output}",
        "-s", "DOWNLOAD_DELAY=0",
        "-s", "AUTOTHROTTLE_ENABLED=False",
        "-s", "CONCURRENT_REQUESTS=16",
        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16",
        "-s", "TAZARCHIVE_WARC_ENABLED=False",
        "-s", "TELNETCONSOLE_ENABLED=False",
    ]  # fmt: skip


def _crawl(server: ReplicaServer, output: Path, *spider_args: str) -> dict[str, Any]:
    """Run a crawl to its end; returns its run report."""
    before = set((output / "runs").glob("*.json")) if (output / "runs").exists() else set()
    result = subprocess.run(
        _command(server, output, *spider_args),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    [report] = set((output / "runs").glob("*.json")) - before
    return json.loads(report.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _dumps(output: Path) -> dict[str, bytes]:
    folder = output / "dumps"
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def _jsonl_records(output: Path) -> list[dict[str, Any]]:
    """Every record of every JSONL file; fails on a line that is not a whole JSON record."""
    records = []
    for path in sorted((output / "jsonl").glob("*.jsonl")):
        data = path.read_bytes()
        assert not data or data.endswith(b"\n"), f"{path.name} ends in a partial line"
        for number, line in enumerate(data.decode("utf-8").splitlines(), 1):
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                pytest.fail(f"{path.name} line {number} is broken: {line[:120]!r}")
    return records


def _dump_count(output: Path) -> int:
    """How many dump files are on disk (cheap enough to poll)."""
    return sum(1 for _ in (output / "dumps").rglob("*.txt"))


def _article_requests(server: ReplicaServer) -> list[str]:
    return [target for target in server.request_log if ARTICLE_PATH.search(target)]


def test_rerun_fetches_no_article_and_refresh_records_exactly_the_revised(
    tmp_path: Path,
) -> None:
    site = Site(500)
    output = tmp_path / "output"
    with ReplicaServer(site) as server:
        first = _crawl(server, output)
        assert first["counts"]["new"] == 500
        dumps = _dumps(output)
        assert len(dumps) == 500
        records = _jsonl_records(output)
        assert len(records) == 500
        assert {r["id"] for r in records} == set(site.article_ids())
        assert len(_article_requests(server)) == 500

        # Round trip: the crawl's dumps imported into a fresh archive (a relative
        # path) are the same dumps, byte for byte.
        imported = subprocess.run(
            [sys.executable, "-m", "scrapy", "import-dumps", str(output / "dumps"),
             "-s", "TAZARCHIVE_OUTPUT_DIR=imported"],
            cwd=tmp_path, capture_output=True, text=True, timeout=240,
            env={**os.environ, "SCRAPY_SETTINGS_MODULE": "tazarchive.settings",
                 "PYTHONPATH": str(REPO)},
        )  # fmt: skip
        assert imported.returncode == 0, imported.stderr[-3000:]
        assert imported.stdout.strip() == "import-dumps: 500 new, 0 revised, 0 known, 0 failed"
        assert _dumps(tmp_path / "imported") == dumps

        server.clear_log()
        second = _crawl(server, output)
        assert _article_requests(server) == []
        assert server.request_log, "the re-run still reads the sitemaps"
        # Never requested: skipped as known, not "fetched and unchanged".
        assert second["tazarchive"]["articles/skipped_known"] == 500
        assert second["counts"]["known"] == 0
        assert second["counts"]["new"] == 0
        assert _dumps(output) == dumps
        assert len(_jsonl_records(output)) == 500

        revised = sorted(site.article_ids())[:5]
        server.revise(revised)
        third = _crawl(server, output, "-a", "refresh=1")
        assert third["counts"]["revised"] == 5
        assert third["counts"]["new"] == 0
        assert third["counts"]["known"] == 495

    after = _dumps(output)
    assert {name: data for name, data in after.items() if name in dumps} == dumps
    new_files = sorted(set(after) - set(dumps))
    assert [Path(name).name for name in new_files] == [f"{i}.r2.txt" for i in revised]
    latest = _jsonl_records(output)
    assert sorted((r["id"], r["revision"]) for r in latest[500:]) == [(i, 2) for i in revised]
    old_hashes = {r["id"]: r["content_hash"] for r in latest[:500]}
    assert all(r["content_hash"] != old_hashes[r["id"]] for r in latest[500:])
    with Ledger(output / "ledger.sqlite3") as ledger:
        assert len(ledger) == 500
        assert ledger.count_revisions() == 505
        for article_id in revised:
            old, new = ledger.revisions(article_id)
            assert old.content_hash != new.content_hash
            assert new.dump_path is not None and new.dump_path.endswith(".r2.txt")


def _without_fetch_time(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "fetched"}


def _deduped(records: list[dict[str, Any]]) -> dict[tuple[str, int], dict[str, Any]]:
    """What a JSONL consumer keeps: one record per id + revision (the last one read)."""
    return {(r["id"], r["revision"]): _without_fetch_time(r) for r in records}


def test_sigkilled_crawls_leave_no_partial_file_and_the_next_run_completes_the_archive(
    tmp_path: Path,
) -> None:
    site = Site(300)
    rng = random.Random(os.environ.get("TAZARCHIVE_TEST_SEED", "sigkill"))
    reference = tmp_path / "reference"
    killed = tmp_path / "killed"
    with ReplicaServer(site) as server:
        _crawl(server, reference)
        expected_dumps = _dumps(reference)
        expected_records = _deduped(_jsonl_records(reference))
        assert len(expected_dumps) == 300

        kills = 0
        stored_after_kill: list[int] = []
        log = tmp_path / "killed-run.log"
        for _ in range(8):
            with log.open("wb") as log_file:
                process = subprocess.Popen(
                    _command(server, killed),
                    cwd=REPO,
                    stdout=subprocess.DEVNULL,
                    stderr=log_file,
                )
            # A random moment while it stores articles: after a random number
            # of dumps more than the last run left are on disk, plus a random
            # fraction of a second. (Dumps trail the fetching by the pages in
            # the worker process's queue, so pages served would be too early.)
            stored = _dump_count(killed)
            dumps = stored + rng.randint(3, 25)
            deadline = time.monotonic() + 60
            while (
                process.poll() is None
                and _dump_count(killed) < dumps
                and time.monotonic() < deadline
            ):
                time.sleep(0.005)
            time.sleep(rng.uniform(0.0, 0.05))
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                kills += 1
            process.wait()
            partial = _dumps(killed)
            # Every dump file present is complete: the same bytes as the reference's.
            for name, data in partial.items():
                assert data == expected_dumps[name], f"{name} is partial after a kill"
            _jsonl_records(killed)  # fails on a broken line
            stored_after_kill.append(len(partial))
            if kills >= 5 and len(partial) < len(expected_dumps):
                break
        assert kills >= 5, (stored_after_kill, log.read_text(errors="replace")[-3000:])
        print("dumps stored after each kill:", stored_after_kill)

        _crawl(server, killed)
    assert _dumps(killed) == expected_dumps
    assert _deduped(_jsonl_records(killed)) == expected_records
    with Ledger(killed / "ledger.sqlite3") as ledger:
        assert len(ledger) == 300
        assert ledger.count_revisions() == 300
    # A temp file a kill left behind was replaced when its article was stored again.
    assert list((killed / "dumps").rglob(".*.tmp")) == []
    # The kills hit crawls that were storing articles, not only starting ones.
    assert len([n for n in stored_after_kill if 0 < n < 300]) >= 3, stored_after_kill
