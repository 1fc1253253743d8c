"""Runs a person can follow: lock, progress line, run report, exit status of ``scrapy crawl``."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.test import get_crawler

from tazarchive import stats as keys
from tazarchive.commands.crawl import crawl_verdict
from tazarchive.dump import render
from tazarchive.extensions import (
    REPORT_RESERVE,
    ArchiveBusy,
    ArchiveLock,
    LockFile,
    Progress,
    RunReport,
)
from tazarchive.items import article_from_dict
from tazarchive.verdict import judge_run
from tests.conftest import REPO
from tests.runs_spiders import invented_article

# --- the verdict ----------------------------------------------------------------


def test_finished_run_without_failure_succeeds() -> None:
    verdict = judge_run({"finish_reason": "finished", "downloader/response_count": 3})
    assert (verdict.ok, verdict.exit_status, verdict.failure) == (True, 0, "")


def test_failure_stat_fails_the_run_with_its_line() -> None:
    stats = {"finish_reason": "site_unreachable", keys.FAILURE: "cannot reach x\n  y"}
    verdict = judge_run(stats)
    assert (verdict.exit_status, verdict.failure) == (1, "cannot reach x y")


def test_failure_stat_fails_even_a_finished_run() -> None:
    assert judge_run({"finish_reason": "finished", keys.FAILURE: "robots"}).exit_status == 1


@pytest.mark.parametrize("reason", ["shutdown", "site_unreachable", "closespider_errorcount"])
def test_run_ending_early_fails(reason: str) -> None:
    verdict = judge_run({"finish_reason": reason})
    assert verdict.exit_status == 1
    assert verdict.failure


@pytest.mark.parametrize("reason", ["closespider_itemcount", "closespider_pagecount"])
def test_run_stopped_at_a_user_limit_succeeds(reason: str) -> None:
    assert judge_run({"finish_reason": reason}).ok


def test_run_without_any_response_but_download_errors_fails() -> None:
    stats = {
        "finish_reason": "finished",
        "downloader/exception_count": 4,
        "downloader/exception_type_count/twisted.internet.error.DNSLookupError": 4,
    }
    verdict = judge_run(stats)
    assert verdict.exit_status == 1
    assert "no response" in verdict.failure
    assert "DNSLookupError" in verdict.failure


def test_run_whose_every_response_was_an_http_error_fails() -> None:
    stats = {
        "finish_reason": "finished",
        "downloader/response_count": 5,
        "downloader/response_status_count/503": 4,
        "downloader/response_status_count/404": 1,
    }
    assert (
        judge_run(stats).failure
        == "every response was an HTTP error (status 503: 4, status 404: 1)"
    )


def test_one_good_response_among_http_errors_is_no_failure() -> None:
    stats = {
        "finish_reason": "finished",
        "downloader/response_count": 5,
        "downloader/response_status_count/404": 4,
        "downloader/response_status_count/200": 1,
    }
    assert judge_run(stats).ok


def test_logged_errors_alone_do_not_fail_a_run() -> None:
    stats = {
        "finish_reason": "finished",
        "log_count/ERROR": 7,
        "spider_exceptions/ValueError": 2,
        "downloader/exception_count": 1,
        "downloader/response_count": 10,
    }
    assert judge_run(stats).ok


def test_run_with_no_finish_reason_failed() -> None:
    assert judge_run({}).exit_status == 1


# --- the lock -------------------------------------------------------------------


def test_second_lock_on_the_same_archive_is_busy_and_names_the_holder(tmp_path: Path) -> None:
    first = LockFile(tmp_path / ".lock")
    first.acquire("archive x")
    with pytest.raises(
        ArchiveBusy, match=rf"^archive x is busy \(held by pid {os.getpid()} since "
    ):
        LockFile(tmp_path / ".lock").acquire("archive x")
    first.release()
    again = LockFile(tmp_path / ".lock")
    again.acquire("archive x")
    assert again.held
    again.release()


HOLDER = """
import sys, time
from pathlib import Path
from tazarchive.extensions import LockFile
LockFile(Path(sys.argv[1])).acquire("archive")
print("locked", flush=True)
time.sleep(60)
"""


def test_lock_of_a_killed_run_is_free_again(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path / ".lock")],
        cwd=REPO,
        stdout=subprocess.PIPE,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline() == b"locked\n"
    with pytest.raises(ArchiveBusy, match=f"held by pid {holder.pid} since"):
        LockFile(tmp_path / ".lock").acquire("archive")
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    holder.stdout.close()
    lock = LockFile(tmp_path / ".lock")
    lock.acquire("archive")  # the stale file is no obstacle
    assert (tmp_path / ".lock").read_text().startswith(f"pid {os.getpid()} since ")
    lock.release()


def lock_settings(output: Path, **more: Any) -> dict[str, Any]:
    return {
        "EXTENSIONS": {"tazarchive.extensions.ArchiveLock": -1000},
        "TAZARCHIVE_OUTPUT_DIR": str(output),
        "TAZARCHIVE_LOCK_ENABLED": True,
        **more,
    }


def test_archive_lock_extension_stops_a_second_crawler_at_its_start(tmp_path: Path) -> None:
    first = get_crawler(settings_dict=lock_settings(tmp_path))
    assert first.get_extension(ArchiveLock) is not None
    with pytest.raises(ArchiveBusy, match=f"archive {tmp_path} is busy"):
        get_crawler(settings_dict=lock_settings(tmp_path))
    first.get_extension(ArchiveLock).release()
    get_crawler(settings_dict=lock_settings(tmp_path)).get_extension(ArchiveLock).release()


def test_archive_lock_can_be_switched_off(tmp_path: Path) -> None:
    crawler = get_crawler(settings_dict=lock_settings(tmp_path, TAZARCHIVE_LOCK_ENABLED=False))
    assert crawler.get_extension(ArchiveLock) is None
    assert not (tmp_path / ".lock").exists()


# --- the progress line ----------------------------------------------------------


def progress_with(stats: dict[str, Any]) -> Progress:
    """A Progress started at t=1000 s, with ``stats`` reached since."""
    crawler = get_crawler(settings_dict={"TAZARCHIVE_PROGRESS_INTERVAL": 10})
    progress = Progress(crawler.stats, 10)
    progress.reset(1000.0)
    for key, value in stats.items():
        crawler.stats.set_value(key, value)
    return progress


def test_progress_line_counts_pages_rate_articles_and_errors() -> None:
    progress = progress_with(
        {
            "response_received_count": 30,
            keys.ARTICLES_NEW: 20,
            keys.ARTICLES_KNOWN: 5,
            keys.ARTICLES_REVISED: 2,
            keys.ARTICLES_REJECTED: 1,
            "log_count/ERROR": 3,
        }
    )
    assert progress.line(1010.0) == (
        "30 pages (180/min), 20 new, 5 known, 2 revised, 1 rejected, 3 errors"
    )


def test_progress_line_counts_archived_articles_toward_the_eta() -> None:
    progress = progress_with(
        {
            "response_received_count": 10,
            keys.ARTICLES_NEW: 10,
            keys.ARTICLES_SKIPPED_KNOWN: 30,
            keys.EXPECTED_ARTICLES: 80,
        }
    )
    assert progress.line(1010.0) == (
        "10 pages (60/min), 10 new, 0 known, 0 revised, 0 rejected, 30 skipped known, "
        "0 errors; 40/80 articles, ETA 10s"
    )


def test_progress_rate_is_over_the_last_interval() -> None:
    progress = progress_with({"response_received_count": 30})
    progress.line(1010.0)
    progress.stats.set_value("response_received_count", 35)
    assert progress.line(1020.0).startswith("35 pages (30/min), ")


def test_progress_shows_articles_done_and_eta_when_the_total_is_known() -> None:
    progress = progress_with(
        {
            keys.EXPECTED_ARTICLES: 100,
            keys.ARTICLES_NEW: 20,
            keys.ARTICLES_KNOWN: 5,
        }
    )
    # 25 articles in 50 s: the other 75 take 150 s.
    assert progress.line(1050.0).endswith("; 25/100 articles, ETA 2m30s")


def test_progress_can_be_switched_off() -> None:
    crawler = get_crawler(
        settings_dict={
            "EXTENSIONS": {"tazarchive.extensions.Progress": 500},
            "TAZARCHIVE_PROGRESS_INTERVAL": 0,
        }
    )
    assert crawler.get_extension(Progress) is None


# --- the run report -------------------------------------------------------------


def test_report_carries_counts_errors_and_verdict(tmp_path: Path) -> None:
    crawler = get_crawler(settings_dict={"TAZARCHIVE_PROGRESS_INTERVAL": 10})
    report = RunReport(tmp_path, crawler.stats, spider_args={"ids": "1,2"})
    stats = {
        keys.ARTICLES_NEW: 4,
        keys.ARTICLES_KNOWN: 1,
        keys.EXPECTED_ARTICLES: 5,
        keys.FAILURE: "cannot reach it",
        "downloader/response_count": 6,
        "downloader/response_status_count/200": 5,
        "downloader/response_status_count/503": 1,
        "downloader/exception_type_count/twisted.internet.error.TimeoutError": 2,
        "spider_exceptions/KeyError": 1,
        "log_count/ERROR": 3,
    }
    data = report.report("taz", "site_unreachable", stats, datetime(2026, 1, 1, tzinfo=UTC))
    assert data["spider"] == "taz"
    assert data["args"] == {"ids": "1,2"}
    assert data["finish_reason"] == "site_unreachable"
    assert (data["exit_status"], data["failure"]) == (1, "cannot reach it")
    counts = data["counts"]
    assert (counts["new"], counts["known"], counts["expected"], counts["responses"]) == (4, 1, 5, 6)
    assert data["tazarchive"] == {
        "articles/new": 4,
        "articles/known": 1,
        "expected_articles": 5,
    }
    errors = data["errors"]
    assert errors["http"] == {"503": 1}
    assert errors["download"] == {"twisted.internet.error.TimeoutError": 2}
    assert errors["spider"] == {"KeyError": 1}
    assert errors["logged_errors"] == 3


def test_report_file_is_written_whole_and_never_overwritten(tmp_path: Path) -> None:
    crawler = get_crawler(settings_dict={"TAZARCHIVE_PROGRESS_INTERVAL": 10})
    crawler.stats.set_value("finish_reason", "finished")

    class Spider:
        name = "feed"

    paths = []
    for _ in range(2):  # two runs in the same second
        report = RunReport(tmp_path / "runs", crawler.stats)
        report.spider_opened(Spider())  # type: ignore[arg-type]
        report.spider_closed(Spider(), "finished")  # type: ignore[arg-type]
        paths.append(report.path)
    first, second = paths
    assert first is not None and second is not None and first != second
    for path in (first, second):
        assert path.name.startswith("feed-")
        assert json.loads(path.read_text())["exit_status"] == 0
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == sorted(
        [first.name, second.name]
    )


def test_report_is_there_from_the_start_saying_the_run_has_not_finished(tmp_path: Path) -> None:
    crawler = get_crawler()

    class Spider:
        name = "taz"

    report = RunReport(tmp_path / "runs", crawler.stats)
    report.spider_opened(Spider())  # type: ignore[arg-type]
    assert report.path is not None
    data = json.loads(report.path.read_text())
    assert data["exit_status"] is None
    assert data["verdict"]["ok"] is False
    assert "not finished" in data["failure"]
    assert report.path.stat().st_size >= REPORT_RESERVE


def test_report_is_written_at_the_end_even_when_the_disk_is_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    crawler = get_crawler()
    crawler.stats.set_value("finish_reason", "finished")
    crawler.stats.set_value(keys.ARTICLES_STORE_ERRORS, 3)

    class Spider:
        name = "taz"

    report = RunReport(tmp_path / "runs", crawler.stats, archive={"X": "y" * 1000})
    report.spider_opened(Spider())  # type: ignore[arg-type]

    def disk_full(path: Path, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("tazarchive.extensions.write_atomic", disk_full)
    report.spider_closed(Spider(), "finished")  # type: ignore[arg-type]
    assert report.path is not None
    data = json.loads(report.path.read_text())
    assert data["exit_status"] == 1
    assert data["verdict"]["reasons"][0]["code"] == "store_errors"
    assert data["verdict"]["reasons"][0]["count"] == 3
    assert data["archive"] == {"X": "y" * 1000}
    assert crawler.stats.get_value(keys.RUN_REPORT) == str(report.path)


# --- real `scrapy crawl` runs ----------------------------------------------------------


def crawl_command(output: Path, spider: str, *options: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "scrapy",
        "crawl",
        spider,
        "-s",
        "SPIDER_MODULES=tests.runs_spiders",
        "-s",
        f"TAZARCHIVE_OUTPUT_DIR={output}",
        "-s",
        "TELNETCONSOLE_ENABLED=0",
        "-s",
        "REMOTE_CONTROL_ENABLED=0",
        # Only what this file tests (the store writes the archive's JSONL);
        # the pipelines have tests of their own.
        "-s",
        'ITEM_PIPELINES={"tazarchive.pipelines.StorePipeline": 300}',
        *options,
    ]


def crawl(output: Path, spider: str, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        crawl_command(output, spider, *options),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def reports(output: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((output / "runs").glob("*.json"))]


def test_successful_crawl_exits_0_with_default_jsonl_feed_progress_and_report(
    tmp_path: Path,
) -> None:
    done = crawl(
        tmp_path,
        "runs_articles",
        "-a",
        "n=3",
        "-a",
        "delay=0.2",
        "-s",
        "TAZARCHIVE_PROGRESS_INTERVAL=0.15",
    )
    assert done.returncode == 0, done.stderr
    assert "tazarchive:" not in done.stderr
    assert "progress: 0 pages (0/min), 0 new, 0 known, 0 revised, 0 rejected, 0 errors; " in (
        done.stderr
    )
    (feed,) = (tmp_path / "jsonl").glob("runs_articles-*.jsonl")
    articles = [article_from_dict(json.loads(line)) for line in feed.read_text().splitlines()]
    assert [a.revision for a in articles] == [1, 1, 1]
    assert [replace(a, revision=None, content_hash=None) for a in articles] == [
        invented_article(n) for n in (1, 2, 3)
    ]
    (report,) = reports(tmp_path)
    assert report["spider"] == "runs_articles"
    assert report["args"] == {"n": "3", "delay": "0.2"}
    assert report["settings"]["TAZARCHIVE_OUTPUT_DIR"] == str(tmp_path)
    assert (report["finish_reason"], report["exit_status"], report["failure"]) == (
        "finished",
        0,
        None,
    )
    assert report["counts"]["items_scraped"] == 3
    assert report["counts"]["expected"] == 3


def test_crawl_with_failure_stat_exits_1_with_one_line(tmp_path: Path) -> None:
    done = crawl(tmp_path, "runs_failing")
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert lines[-1] == "tazarchive: cannot reach http://127.0.0.1:9: connection refused"
    assert sum(line.startswith("tazarchive:") for line in lines) == 1
    assert "Traceback" not in done.stderr
    (report,) = reports(tmp_path)
    assert report["finish_reason"] == "site_unreachable"
    assert report["exit_status"] == 1
    assert report["failure"] == "cannot reach http://127.0.0.1:9: connection refused"


def test_second_run_on_a_busy_archive_exits_at_once_saying_busy(tmp_path: Path) -> None:
    first = subprocess.Popen(
        crawl_command(tmp_path, "runs_articles", "-a", "n=3", "-a", "delay=1"),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lock = tmp_path / ".lock"
        deadline = time.monotonic() + 30
        while not (lock.exists() and lock.read_text().startswith(f"pid {first.pid} ")):
            assert time.monotonic() < deadline, "the first run never took the lock"
            time.sleep(0.05)
        started = time.monotonic()
        second = crawl(tmp_path, "runs_articles", "-a", "n=1")
        took = time.monotonic() - started
        assert second.returncode == 1
        assert second.stderr.splitlines()[-1].startswith(
            f"tazarchive: archive {tmp_path} is busy (held by pid {first.pid} since "
        )
        assert "Traceback" not in second.stderr
        assert took < 10
        assert first.poll() is None, "the first run should still be running"
    finally:
        _, first_log = first.communicate(timeout=60)
    assert first.returncode == 0, first_log
    # The busy run wrote nothing: one report, one feed, both the first run's.
    (report,) = reports(tmp_path)
    assert report["counts"]["items_scraped"] == 3
    assert len(list((tmp_path / "jsonl").iterdir())) == 1


def test_dash_capital_o_tazdump_prints_the_dumps_to_stdout(tmp_path: Path) -> None:
    done = crawl(tmp_path, "runs_articles", "-a", "n=2", "-O", "-:tazdump")
    assert done.returncode == 0, done.stderr
    assert done.stdout == render(invented_article(1)) + render(invented_article(2))
    # Scrapy adds -o/-O feeds to FEEDS: the archive's own JSONL feed stays complete.
    (feed,) = (tmp_path / "jsonl").glob("runs_articles-*.jsonl")
    assert len(feed.read_text().splitlines()) == 2


def test_dash_capital_o_jsonl_file_is_lossless_and_replaces_the_file(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text("old content\n")
    done = crawl(tmp_path / "archive", "runs_articles", "-a", "n=2", "-O", str(out))
    assert done.returncode == 0, done.stderr
    lines = out.read_text().splitlines()
    articles = [article_from_dict(json.loads(line)) for line in lines]
    assert [replace(a, revision=None, content_hash=None) for a in articles] == [
        invented_article(1),
        invented_article(2),
    ]


# --- scheduled runs: pause and resume with JOBDIR ----------------------------------


def test_jobdir_pause_and_resume_completes_an_author_crawl(tmp_path: Path) -> None:
    from tazarchive.replica import ReplicaServer, Site

    site = Site(60)
    author = max(site.author_ids(), key=lambda id_: len(site.articles_of_author(id_)))
    expected = set(site.articles_of_author(author))
    with ReplicaServer(site) as replica:
        options = [
            "-a",
            f"author={author}",
            "-s",
            "SPIDER_MODULES=tazarchive.spiders",
            "-s",
            f"TAZARCHIVE_BASE_URL={replica.base_url}",
            "-s",
            f"JOBDIR={tmp_path / 'job'}",
            "-s",
            "TAZARCHIVE_WARC_ENABLED=0",
            "-s",
            "DOWNLOAD_DELAY=0",
            "-s",
            "AUTOTHROTTLE_ENABLED=0",
            "-s",
            "CONCURRENT_REQUESTS_PER_DOMAIN=8",
        ]
        # A run that stops early (here: after 6 pages; by hand: one Ctrl-C) ...
        paused = crawl(
            tmp_path,
            "author",
            *options,
            "-s",
            "CONCURRENT_REQUESTS=1",
            "-s",
            "CLOSESPIDER_PAGECOUNT=6",
        )
        assert paused.returncode == 0, paused.stderr
        first = {
            json.loads(line)["id"]
            for f in (tmp_path / "jsonl").glob("*.jsonl")
            for line in f.read_text().splitlines()
        }
        assert 0 < len(first) < len(expected)
        # ... and the same command again resumes it from the job directory.
        resumed = crawl(tmp_path, "author", *options)
        assert resumed.returncode == 0, resumed.stderr
        assert "Resuming crawl" in resumed.stderr
        assert "unserializable" not in resumed.stderr + paused.stderr
    ids = [
        json.loads(line)["id"]
        for f in (tmp_path / "jsonl").glob("*.jsonl")
        for line in f.read_text().splitlines()
    ]
    assert sorted(ids) == sorted(expected)


# --- the crawl command's verdict -----------------------------------------------------


def test_busy_archive_at_start_gives_its_line_without_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    busy = ArchiveBusy("archive out is busy (held by pid 1 since x)")
    verdict = crawl_verdict(get_crawler(), [busy])
    assert (verdict.exit_status, verdict.failure) == (1, str(busy))
    assert not caplog.records


def test_unexpected_error_at_start_is_logged_and_named(caplog: pytest.LogCaptureFixture) -> None:
    verdict = crawl_verdict(get_crawler(), [RuntimeError("boom\nsecond line")])
    assert (verdict.exit_status, verdict.failure) == (
        1,
        "crawl could not start: RuntimeError: boom second line",
    )
    assert caplog.records[0].exc_info is not None


def test_crawl_that_ended_is_judged_by_its_stats() -> None:
    crawler = get_crawler()
    crawler.stats.set_value("finish_reason", "finished")
    assert crawl_verdict(crawler, []).ok
    crawler.stats.set_value(keys.FAILURE, "robots.txt forbids everything")
    assert crawl_verdict(crawler, []).failure == "robots.txt forbids everything"


def test_unknown_spider_exits_1_with_one_line(tmp_path: Path) -> None:
    done = crawl(tmp_path, "no_such_spider")
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        "tazarchive: no spider named 'no_such_spider' (scrapy list)"
    )
    assert "Traceback" not in done.stderr


def test_progress_counts_warc_records_as_pages_during_reparse() -> None:
    progress = progress_with(
        {keys.REPARSE_RESPONSES: 40, keys.EXPECTED_ARTICLES: 80, keys.ARTICLES_NEW: 40}
    )
    assert progress.line(1020.0) == (
        "40 pages (120/min), 40 new, 0 known, 0 revised, 0 rejected, 0 errors; "
        "40/80 articles, ETA 20s"
    )


def test_progress_says_its_last_line_at_the_end_and_sets_logstats_rates(
    caplog: pytest.LogCaptureFixture,
) -> None:
    progress = progress_with({"response_received_count": 30, "item_scraped_count": 15})
    with caplog.at_level("INFO", logger="tazarchive.extensions"):
        progress.finish(1060.0)  # a minute after the start
    assert caplog.messages[-1] == (
        "progress at the end: 30 pages (30/min), 0 new, 0 known, 0 revised, 0 rejected, 0 errors"
    )
    assert progress.stats.get_value("responses_per_minute") == 30
    assert progress.stats.get_value("items_per_minute") == 15


def test_project_settings_replace_scrapys_logstats_by_the_one_progress_line() -> None:
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("tazarchive.settings", priority="project")
    extensions = settings.getwithbase("EXTENSIONS")
    assert extensions["scrapy.extensions.logstats.LogStats"] is None
    assert extensions["tazarchive.extensions.Progress"] is not None
