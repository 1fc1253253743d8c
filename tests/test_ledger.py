"""The ledger: revisions per article, the current-revision lookup, the content hash;
the known-articles middleware that reads it."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from scrapy import Request, Spider
from scrapy.exceptions import NotConfigured
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from tazarchive.archive import Archive, ArchiveLayout
from tazarchive.archive.crawl import KnownArticlesMiddleware, SeenIds, crawler_archive, truthy
from tazarchive.archive.ledger import VOLATILE_FIELDS, Ledger, content_hash
from tazarchive.items import Article, Block


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


def test_a_v1_ledger_is_migrated_in_place_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE revisions (id TEXT NOT NULL, revision INTEGER NOT NULL, url TEXT NOT NULL,
            content_hash TEXT NOT NULL, dump_path TEXT, layout TEXT NOT NULL,
            parser_version TEXT NOT NULL, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL,
            PRIMARY KEY (id, revision)) WITHOUT ROWID;
        CREATE TABLE articles (id TEXT PRIMARY KEY, url TEXT NOT NULL, revision INTEGER NOT NULL,
            content_hash TEXT NOT NULL, dump_path TEXT, layout TEXT NOT NULL,
            parser_version TEXT NOT NULL, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL)
            WITHOUT ROWID;
        INSERT INTO revisions VALUES ('6000001', 1, 'u', 'h', 'd', '2024', '1', 't', 't');
        INSERT INTO articles VALUES ('6000001', 'u', 1, 'h', 'd', '2024', '1', 't', 't');
        PRAGMA user_version=1;
        """
    )
    db.close()
    with Ledger(path) as ledger:
        assert ledger.migrated_from == 1
        current = ledger.current("6000001")
        assert current is not None and (current.content_hash, current.source) == ("h", "html")
        assert ledger.revisions_without_data() == [("6000001", 1)]
        assert ledger.get_meta("base_url") is None


def test_record_keeps_the_json_line_compressed_and_gives_it_back(tmp_path: Path) -> None:
    line = '{"id":"6000001","title":"Über"}'
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        ledger.record(_article(), revision=1, content_hash="h", dump_path=None, json_line=line)
        assert ledger.json_line("6000001", 1) == line
        assert ledger.json_line("6000001", 2) is None
    raw = sqlite3.connect(tmp_path / "l.sqlite3").execute("SELECT data FROM revisions").fetchone()
    assert line.encode() not in raw[0]  # stored compressed


def test_forget_drops_a_revision_and_the_previous_becomes_current(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        ledger.record(_article(text="eins"), revision=1, content_hash="h1", dump_path="a")
        ledger.record(_article(text="zwei"), revision=2, content_hash="h2", dump_path="b")
        ledger.forget("6000001", 2)
        current = ledger.current("6000001")
        assert current is not None and (current.revision, current.content_hash) == (1, "h1")
        ledger.forget("6000001", 1)
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
    assert (
        ArchiveLayout.from_settings(crawler.settings).ledger == tmp_path / "out" / "ledger.sqlite3"
    )
    crawler = get_crawler(settings_dict={"TAZARCHIVE_LEDGER_PATH": str(tmp_path / "x.db")})
    assert ArchiveLayout.from_settings(crawler.settings).ledger == tmp_path / "x.db"


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


def _archive(tmp_path: Path) -> Archive:
    archive = Archive(ArchiveLayout.from_settings({"TAZARCHIVE_OUTPUT_DIR": str(tmp_path)}))
    archive.ledger = Ledger(tmp_path / "l.sqlite3")
    archive.store(_article("6000001"))
    return archive


def test_middleware_drops_requests_for_known_articles_only(tmp_path: Path) -> None:
    with _archive(tmp_path) as archive:
        stats = _Stats()
        middleware = KnownArticlesMiddleware(archive, stats)  # type: ignore[arg-type]
        kept = [r for r in _requests() if middleware.get_processed_request(r, None) is not None]
        assert [r.url for r in kept] == ["http://127.0.0.1/!6000002/", "http://127.0.0.1/!p4615/"]
        assert stats.values == {"tazarchive/articles/skipped_known": 1}


def test_middleware_lets_known_articles_through_when_refreshing(tmp_path: Path) -> None:
    with _archive(tmp_path) as archive:
        stats = _Stats()
        middleware = KnownArticlesMiddleware(archive, stats, refresh=True)  # type: ignore[arg-type]
        kept = [r for r in _requests() if middleware.get_processed_request(r, None) is not None]
        assert len(kept) == 3
        assert stats.values == {}


def test_middleware_counts_a_known_article_once_however_often_linked(tmp_path: Path) -> None:
    with _archive(tmp_path) as archive:
        stats = _Stats()
        middleware = KnownArticlesMiddleware(archive, stats)  # type: ignore[arg-type]
        for request in _requests() + _requests():
            middleware.get_processed_request(request, None)
        assert stats.values == {"tazarchive/articles/skipped_known": 1}


def test_middleware_hands_out_the_archived_article_instead_of_fetching_it(tmp_path: Path) -> None:
    with _archive(tmp_path) as archive:
        stats = _Stats()
        middleware = KnownArticlesMiddleware(archive, stats, hand_out=True)  # type: ignore[arg-type]
        results = [middleware.get_processed_request(r, None) for r in _requests()]
        assert isinstance(results[0], Article)
        assert results[0] == archive.latest("6000001")
        assert archive.handed_out(results[0])
        assert [r.url for r in results[1:]] == [  # type: ignore[union-attr]
            "http://127.0.0.1/!6000002/",
            "http://127.0.0.1/!p4615/",
        ]
        assert stats.values == {"tazarchive/articles/from_archive": 1}


def test_seen_ids_remember_numeric_and_other_ids() -> None:
    seen = SeenIds()
    assert seen.add("6110749") is True
    assert seen.add("6110749") is False
    assert seen.add("6110748") is True
    assert seen.add("x-1") is True
    assert seen.add("x-1") is False
    assert seen.add(str(SeenIds.BITMAP_LIMIT + 5)) is True
    assert seen.add(str(SeenIds.BITMAP_LIMIT + 5)) is False


def test_middleware_from_crawler_shares_the_archive_and_reads_spider_flags(
    tmp_path: Path,
) -> None:
    crawler = get_crawler(settings_dict={"TAZARCHIVE_OUTPUT_DIR": str(tmp_path)})
    middleware = build_from_crawler(KnownArticlesMiddleware, crawler)
    archive = crawler_archive(crawler)
    assert middleware.archive is archive
    archive.store(_article("6000001"))
    request = _requests()[0]
    crawler.spider = Spider.from_crawler(crawler, name="plain")
    assert middleware.get_processed_request(request, None) is None
    crawler.spider = Spider.from_crawler(crawler, name="refreshing", refresh="1")
    assert middleware.get_processed_request(request, None) is request
    crawler.spider = Spider.from_crawler(crawler, name="one_off", hand_out_archived=True)
    assert isinstance(middleware.get_processed_request(request, None), Article)
    archive.close()


def test_middleware_is_off_without_the_ledger(tmp_path: Path) -> None:
    crawler = get_crawler(
        settings_dict={"TAZARCHIVE_OUTPUT_DIR": str(tmp_path), "TAZARCHIVE_LEDGER_ENABLED": False}
    )
    with pytest.raises(NotConfigured):
        build_from_crawler(KnownArticlesMiddleware, crawler)
