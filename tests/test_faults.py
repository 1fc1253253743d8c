"""The fault matrix (issue 10): one fault at a time against the replica, then one clean re-run.

Per row: the exit status and the run report's verdict and counts; nothing
garbled or foreign stored; no request off the replica's host; and after the
fault is gone, the same command once more completes the archive so that its
dumps equal those of an uninterrupted run, file for file.

Rows are kept to a 60-article replica so the whole matrix stays a few
minutes of CI.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tazarchive.replica import ReplicaServer, Site
from tests.conftest import REPO

N_ARTICLES = 60
GARBLE = ("\ufffd", "\x1b", "\x9b", "\x7f", "\u202e", "Ã¤")


@dataclass
class Run:
    status: int
    stderr: str
    report: dict[str, Any]

    @property
    def codes(self) -> list[str]:
        return [reason["code"] for reason in self.report["verdict"]["reasons"]]

    def stat(self, key: str) -> int:
        return int(self.report["tazarchive"].get(key, 0) or 0)


@dataclass
class Archive:
    root: Path
    runs: list[Run] = field(default_factory=list)

    def dumps(self) -> dict[str, bytes]:
        folder = self.root / "dumps"
        return {
            str(path.relative_to(folder)): path.read_bytes()
            for path in sorted(folder.rglob("*"))
            if path.is_file()
        }

    def jsonl_ids(self) -> set[str]:
        return {
            json.loads(line)["id"]
            for path in (self.root / "jsonl").glob("*.jsonl")
            for line in path.read_text(encoding="utf-8").splitlines()
        }


def crawl(
    base_url: str, archive: Archive, ids: list[str], *options: str, spider: str = "articles"
) -> Run:
    """``scrapy crawl`` (the ``articles`` spider on ``ids``, or ``spider`` with ``options``)."""
    ids_file = archive.root.parent / f"{archive.root.name}-ids.txt"
    ids_file.write_text("\n".join(ids) + "\n")
    arguments = ["-a", f"file={ids_file}"] if spider == "articles" else []
    before = set((archive.root / "runs").glob("*.json"))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            spider,
            *arguments,
            "-s",
            f"TAZARCHIVE_BASE_URL={base_url}",
            "-s",
            f"TAZARCHIVE_OUTPUT_DIR={archive.root}",
            "-s",
            "TAZARCHIVE_WARC_ENABLED=0",
            "-s",
            "TAZARCHIVE_PROGRESS_INTERVAL=0",
            "-s",
            "DOWNLOAD_DELAY=0",
            "-s",
            "AUTOTHROTTLE_ENABLED=0",
            "-s",
            "CONCURRENT_REQUESTS=16",
            "-s",
            "CONCURRENT_REQUESTS_PER_DOMAIN=16",
            "-s",
            "RETRY_TIMES=1",
            "-s",
            "TAZARCHIVE_RETRY_BACKOFF=0",
            "-s",
            "LOG_LEVEL=INFO",
            *options,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )
    new = sorted(set((archive.root / "runs").glob("*.json")) - before)
    report = json.loads(new[-1].read_text()) if new else {}
    run = Run(done.returncode, done.stderr, report)
    archive.runs.append(run)
    return run


@pytest.fixture(scope="module")
def site() -> Site:
    return Site(N_ARTICLES)


@pytest.fixture(scope="module")
def ids(site: Site) -> list[str]:
    return list(site.article_ids())


@pytest.fixture(scope="module")
def uninterrupted(site: Site, ids: list[str], tmp_path_factory: pytest.TempPathFactory) -> Archive:
    """The archive of one clean run: what every faulty run plus a re-run must equal."""
    archive = Archive(tmp_path_factory.mktemp("uninterrupted") / "archive")
    with ReplicaServer(site) as replica:
        run = crawl(replica.base_url, archive, ids)
    assert run.status == 0, run.stderr[-3000:]
    assert len(archive.dumps()) == N_ARTICLES
    return archive


@pytest.fixture
def replica() -> Iterator[ReplicaServer]:
    """The same site as the uninterrupted run's, its own object: faults stay in one test."""
    with ReplicaServer(Site(N_ARTICLES), foreign=True) as server:
        yield server


def assert_clean_and_on_host(archive: Archive, replica: ReplicaServer) -> None:
    """Nothing garbled or foreign in the archive (dumps, JSONL); the foreign host saw no request."""
    for name, dump in archive.dumps().items():
        text = dump.decode("utf-8")
        assert not any(mark in text for mark in GARBLE), name
    for path in (archive.root / "jsonl").glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            text = json.dumps(json.loads(line), ensure_ascii=False)
            assert not any(mark in text for mark in GARBLE), line[:200]
    assert replica.foreign_log == []


def assert_rerun_completes(
    archive: Archive, uninterrupted: Archive, replica: ReplicaServer, ids: list[str]
) -> None:
    replica.clear_faults()
    run = crawl(replica.base_url, archive, ids)
    assert run.status == 0, run.stderr[-3000:]
    assert run.stderr.splitlines()[-1:] != [] and not run.stderr.splitlines()[-1].startswith(
        "tazarchive:"
    )
    assert archive.dumps() == uninterrupted.dumps()
    assert archive.jsonl_ids() == uninterrupted.jsonl_ids()
    assert_clean_and_on_host(archive, replica)


def one_line_failure(run: Run) -> None:
    """The last stderr line is the report's failure, and the exit status says failed."""
    assert run.status == 1, run.stderr[-3000:]
    assert run.stderr.splitlines()[-1] == f"tazarchive: {run.report['failure']}"
    assert run.report["exit_status"] == 1
    assert "Traceback" not in run.stderr


# --- the rows -------------------------------------------------------------------------


def test_ban_after_n_requests_fails_as_refused_then_a_rerun_completes(
    replica: ReplicaServer, uninterrupted: Archive, ids: list[str], tmp_path: Path
) -> None:
    archive = Archive(tmp_path / "archive")
    replica.set_faults(ban_after=25)
    run = crawl(replica.base_url, archive, ids)
    one_line_failure(run)
    assert run.codes == ["site_refused"]  # its lost pages are in the missing count
    assert run.report["finish_reason"] == "site_refused"
    stored = len(archive.dumps())
    assert 0 < stored < N_ARTICLES
    assert run.report["verdict"]["missing_articles"] == N_ARTICLES - stored
    assert "running the same command again fetches them" in run.report["failure"]
    assert_clean_and_on_host(archive, replica)
    assert_rerun_completes(archive, uninterrupted, replica, ids)


def test_redirect_loops_count_as_lost_and_fail_then_a_rerun_completes(
    replica: ReplicaServer, uninterrupted: Archive, ids: list[str], tmp_path: Path
) -> None:
    archive = Archive(tmp_path / "archive")
    replica.set_faults(redirect_loop=0.1)
    looping = replica.site.hit_ids("redirect_loop")
    assert looping
    run = crawl(replica.base_url, archive, ids, "-s", "REDIRECT_MAX_TIMES=3")
    one_line_failure(run)
    assert run.codes == ["lost"]
    assert run.report["counts"]["lost"] == len(looping)
    assert len(archive.dumps()) == N_ARTICLES - len(looping)
    assert_clean_and_on_host(archive, replica)
    assert_rerun_completes(archive, uninterrupted, replica, ids)


def test_redirects_to_another_host_are_never_followed_then_a_rerun_completes(
    replica: ReplicaServer, uninterrupted: Archive, ids: list[str], tmp_path: Path
) -> None:
    archive = Archive(tmp_path / "archive")
    replica.set_faults(offsite_redirect=0.1)
    moved = replica.site.hit_ids("offsite_redirect")
    assert moved
    run = crawl(replica.base_url, archive, ids)
    one_line_failure(run)
    assert run.codes == ["lost"]
    assert run.stat("offsite/redirect") == len(moved)
    assert run.report["verdict"]["notes"] == {"offsite/redirect": len(moved)}
    stored = {name.rsplit("/", 1)[-1].split(".")[0] for name in archive.dumps()}
    assert stored.isdisjoint(moved)
    assert_clean_and_on_host(archive, replica)  # not even robots.txt of the other host
    assert_rerun_completes(archive, uninterrupted, replica, ids)


def test_bad_setting_is_refused_before_anything_is_created(
    replica: ReplicaServer, ids: list[str], tmp_path: Path
) -> None:
    archive = Archive(tmp_path / "archive")
    run = crawl(replica.base_url, archive, ids, "-s", "TAZARCHIVE_DUMP_FORMAT=nope")
    assert run.status == 2
    assert run.stderr.splitlines() == [
        "tazarchive: TAZARCHIVE_DUMP_FORMAT='nope': expected one of seed, text, gophermap "
        "(dump files and tazdump feed)"
    ]
    assert not archive.root.exists()
    assert replica.request_log == []


REJECTION_ROWS = [
    ("challenge", "challenge"),
    ("cp1252", "rejected"),
    ("gzip_corrupt", "lost"),  # no body to extract: Scrapy cannot decompress it
    ("gzip_truncated", "rejected"),
    ("deep_nesting", "rejected"),
    ("id_mismatch", "rejected"),
    ("long_id", "rejected"),
    ("many_attributes", "rejected"),
]


@pytest.mark.parametrize(("fault", "code"), REJECTION_ROWS)
def test_pages_that_must_not_be_stored_are_rejected_and_fail_then_a_rerun_completes(
    fault: str,
    code: str,
    replica: ReplicaServer,
    uninterrupted: Archive,
    ids: list[str],
    tmp_path: Path,
) -> None:
    archive = Archive(tmp_path / "archive")
    replica.set_faults(**{fault: 0.2})
    hit = replica.site.hit_ids(fault)
    assert hit
    run = crawl(replica.base_url, archive, ids)
    one_line_failure(run)
    assert code in run.codes
    # A damaged body Scrapy cannot decompress is lost; one it can is rejected.
    assert run.report["counts"]["rejected"] + run.report["counts"]["lost"] == len(hit)
    assert len(archive.dumps()) == N_ARTICLES - len(hit)
    assert_clean_and_on_host(archive, replica)
    assert_rerun_completes(archive, uninterrupted, replica, ids)


def test_control_characters_never_reach_a_dump(
    replica: ReplicaServer, ids: list[str], tmp_path: Path
) -> None:
    archive = Archive(tmp_path / "archive")
    replica.set_faults(control_chars=1.0)
    crawl(replica.base_url, archive, ids[:5])
    assert archive.dumps()
    assert_clean_and_on_host(archive, replica)


def test_author_that_does_not_exist_fails_as_target_missing(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    archive = Archive(tmp_path / "archive")
    run = crawl(replica.base_url, archive, [], "-a", "author=999999999", spider="author")
    one_line_failure(run)
    assert run.codes == ["target_missing"]
    assert archive.dumps() == {}


def test_dumps_folder_that_cannot_be_written_fails_then_a_rerun_completes(
    replica: ReplicaServer, uninterrupted: Archive, ids: list[str], tmp_path: Path
) -> None:
    archive = Archive(tmp_path / "archive")
    archive.root.mkdir(parents=True)
    (archive.root / "dumps").write_text("a file where the dumps folder should be\n")
    run = crawl(replica.base_url, archive, ids)
    one_line_failure(run)
    assert "store_errors" in run.codes
    store_errors = next(r for r in run.report["verdict"]["reasons"] if r["code"] == "store_errors")
    assert store_errors["count"] == N_ARTICLES
    assert run.stderr.count("Traceback") <= 1  # not one per article
    (archive.root / "dumps").unlink()
    assert_rerun_completes(archive, uninterrupted, replica, ids)


def test_articles_of_an_unknown_design_are_reported_not_stored_then_a_rerun_completes(
    replica: ReplicaServer, uninterrupted: Archive, ids: list[str], tmp_path: Path
) -> None:
    archive = Archive(tmp_path / "archive")
    replica.configure(unknown_design=0.1)
    unknown = replica.site.hit_ids("unknown_design")
    assert unknown
    run = crawl(replica.base_url, archive, ids)
    one_line_failure(run)
    assert "unknown_design" in run.codes
    assert run.stat("extract/unknown_design") == len(unknown)
    reported = run.report["tazarchive"]["rejected_urls/unknown_design"]
    assert sorted(url.rstrip("/").rsplit("!", 1)[-1] for url in reported) == sorted(unknown)
    stored = {name.rsplit("/", 1)[-1].split(".")[0] for name in archive.dumps()}
    assert len(stored) == N_ARTICLES - len(unknown) and stored.isdisjoint(unknown)
    replica.configure(unknown_design=0.0)
    assert_rerun_completes(archive, uninterrupted, replica, ids)


def test_a_ban_fails_the_sitemap_spider_too_then_a_rerun_completes(
    replica: ReplicaServer, uninterrupted: Archive, ids: list[str], tmp_path: Path
) -> None:
    archive = Archive(tmp_path / "archive")
    replica.set_faults(ban_after=25)
    run = crawl(replica.base_url, archive, ids, spider="sitemap")
    one_line_failure(run)
    assert run.codes == ["site_refused"]
    assert 0 < len(archive.dumps()) < N_ARTICLES
    assert_clean_and_on_host(archive, replica)
    assert_rerun_completes(archive, uninterrupted, replica, ids)


def test_consent_walls_instead_of_articles_fail_the_feed_spider(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    archive = Archive(tmp_path / "archive")
    replica.set_faults(challenge=1.0)
    run = crawl(replica.base_url, archive, [], spider="feed")
    one_line_failure(run)
    assert "challenge" in run.codes
    assert archive.dumps() == {}
