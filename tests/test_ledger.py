"""The ledger: revisions per article, the current-revision lookup, staging, the content hash."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from scrapy import Request, Spider
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from tazarchive.items import Article, Block
from tazarchive.ledger import (
    VOLATILE_FIELDS,
    KnownArticlesMiddleware,
    Ledger,
    SeenIds,
    content_hash,
    crawler_ledger,
    ledger_path,
    truthy,
)


def _article(article_id: str = "6000001", text: str = "Ein Absatz.") -> Article:
    return Article(
        id=article_id,
        url=f"https://taz.de/!{article_id}/",
        title="Ein Titel",
        body=[Block(text)],
        published=datetime(2025, 6, 3, 9, 30, tzinfo=UTC),
        layout="2024",
        parser_version="1",
    )


class _Stats:
    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self.values[key] = self.values.get(key, start) + count


def test_content_hash_ignores_fetch_time_url_and_parser() -> None:
    article = _article()
    moved = dataclasses.replace(
        article,
        url="http://127.0.0.1:8000/!6000001/",
        fetched=datetime(2026, 1, 1, tzinfo=UTC),
        layout="2019",
        parser_version="2",
        body_mismatch="differs",
        revision=3,
        content_hash="sha256:x",
    )
    assert content_hash(moved) == content_hash(article)
    assert {"url", "fetched", "layout", "parser_version"} <= VOLATILE_FIELDS


def test_content_hash_changes_with_a_changed_word() -> None:
    assert content_hash(_article(text="Ein Absatz.")) != content_hash(_article(text="Ein Satz."))


def test_record_makes_revisions_and_current_follows_the_highest(tmp_path: Path) -> None:
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        first = _article(text="alt")
        ledger.record(first, revision=1, content_hash="h1", dump_path="dumps/2025/06/6000001.txt")
        ledger.record(
            _article(text="neu"), revision=2, content_hash="h2", dump_path="dumps/x.r2.txt"
        )
        current = ledger.current("6000001")
        assert current is not None
        assert (current.revision, current.content_hash, current.dump_path) == (
            2,
            "h2",
            "dumps/x.r2.txt",
        )
        assert [r.revision for r in ledger.revisions("6000001")] == [1, 2]
        assert ledger.revisions("6000001")[0].dump_path == "dumps/2025/06/6000001.txt"
        assert len(ledger) == 1
        assert ledger.count_revisions() == 2


def test_first_seen_stays_and_last_seen_moves(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        ledger.record(
            _article(),
            revision=1,
            content_hash="h",
            dump_path=None,
            seen=datetime(2025, 1, 1, tzinfo=UTC),
        )
        ledger.touch("6000001", datetime(2025, 2, 1, tzinfo=UTC))
        current = ledger.current("6000001")
        assert current is not None
        assert current.first_seen.startswith("2025-01-01")
        assert current.last_seen.startswith("2025-02-01")
        assert ledger.revisions("6000001")[0].last_seen.startswith("2025-02-01")


def test_ledger_persists_across_connections_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    with Ledger(path) as ledger:
        ledger.record(_article(), revision=1, content_hash="h", dump_path=None)
    with Ledger(path) as reopened:
        assert reopened.knows("6000001")
        assert not reopened.knows("6000002")
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_staged_revision_is_unknown_until_committed(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        article = _article()
        ledger.stage(article, revision=1, content_hash="h")
        ledger.stage_dump(article, "dumps/a.txt")
        assert not ledger.knows("6000001")
        entry = ledger.commit_staged(article)
        assert entry is not None and entry.dump_path == "dumps/a.txt"
        assert ledger.knows("6000001")
        assert ledger.staged("6000001") is None


def test_unstaged_revision_never_reaches_the_ledger(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        article = _article()
        ledger.stage(article, revision=1, content_hash="h")
        ledger.unstage(article)
        assert ledger.commit_staged(article) is None
        assert not ledger.knows("6000001")


def test_a_lower_revision_committed_late_does_not_become_current(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        ledger.record(_article(text="zwei"), revision=2, content_hash="h2", dump_path="b")
        ledger.record(_article(text="eins"), revision=1, content_hash="h1", dump_path="a")
        current = ledger.current("6000001")
        assert current is not None and current.revision == 2
        assert ledger.count_revisions() == 2


def test_ledger_path_defaults_into_the_output_folder(tmp_path: Path) -> None:
    crawler = get_crawler(settings_dict={"TAZARCHIVE_OUTPUT_DIR": str(tmp_path / "out")})
    assert ledger_path(crawler.settings) == tmp_path / "out" / "ledger.sqlite3"
    crawler = get_crawler(settings_dict={"TAZARCHIVE_LEDGER_PATH": str(tmp_path / "x.db")})
    assert ledger_path(crawler.settings) == tmp_path / "x.db"


@pytest.mark.parametrize(
    ("value", "expected"), [("1", True), ("true", True), ("0", False), ("", False), (True, True)]
)
def test_refresh_argument_reads_as_a_flag(value: object, expected: bool) -> None:
    assert truthy(value) is expected


def _requests() -> list[Request]:
    return [
        Request("http://127.0.0.1/!6000001/", meta={"taz_article_id": "6000001"}),
        Request("http://127.0.0.1/!6000002/", meta={"taz_article_id": "6000002"}),
        Request("http://127.0.0.1/!p4615/"),
    ]


def test_middleware_drops_requests_for_known_articles_only(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        ledger.record(_article("6000001"), revision=1, content_hash="h", dump_path=None)
        stats = _Stats()
        middleware = KnownArticlesMiddleware(ledger, stats)  # type: ignore[arg-type]
        kept = [r for r in _requests() if middleware.get_processed_request(r, None) is not None]
        assert [r.url for r in kept] == ["http://127.0.0.1/!6000002/", "http://127.0.0.1/!p4615/"]
        assert stats.values == {"tazarchive/articles/known": 1}


def test_middleware_lets_known_articles_through_when_refreshing(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        ledger.record(_article("6000001"), revision=1, content_hash="h", dump_path=None)
        stats = _Stats()
        middleware = KnownArticlesMiddleware(ledger, stats, refresh=True)  # type: ignore[arg-type]
        kept = [r for r in _requests() if middleware.get_processed_request(r, None) is not None]
        assert len(kept) == 3
        assert stats.values == {}


def test_middleware_counts_a_known_article_once_however_often_linked(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        ledger.record(_article("6000001"), revision=1, content_hash="h", dump_path=None)
        stats = _Stats()
        middleware = KnownArticlesMiddleware(ledger, stats)  # type: ignore[arg-type]
        for request in _requests() + _requests():
            middleware.get_processed_request(request, None)
        assert stats.values == {"tazarchive/articles/known": 1}


def test_seen_ids_remember_numeric_and_other_ids() -> None:
    seen = SeenIds()
    assert seen.add("6110749") is True
    assert seen.add("6110749") is False
    assert seen.add("6110748") is True
    assert seen.add("x-1") is True
    assert seen.add("x-1") is False
    assert seen.add(str(SeenIds.BITMAP_LIMIT + 5)) is True
    assert seen.add(str(SeenIds.BITMAP_LIMIT + 5)) is False


def test_middleware_from_crawler_shares_the_ledger_and_reads_spider_refresh(
    tmp_path: Path,
) -> None:
    crawler = get_crawler(settings_dict={"TAZARCHIVE_OUTPUT_DIR": str(tmp_path)})
    middleware = build_from_crawler(KnownArticlesMiddleware, crawler)
    ledger = crawler_ledger(crawler)
    assert middleware.ledger is ledger
    ledger.record(_article("6000001"), revision=1, content_hash="h", dump_path=None)
    request = _requests()[0]
    crawler.spider = Spider.from_crawler(crawler, name="plain")
    assert middleware.get_processed_request(request, None) is None
    crawler.spider = Spider.from_crawler(crawler, name="refreshing", refresh="1")
    assert middleware.get_processed_request(request, None) is request
    ledger.close()
