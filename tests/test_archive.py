"""The archive: Archive.store's outcomes and order of writes, the rules that keep a poorer
copy out, one site per archive, answers without the site, rejects."""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from scrapy.http import HtmlResponse
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from tazarchive.archive import Archive, ArchiveLayout, Ledger, OtherSite, files
from tazarchive.archive.rejects import RejectedPagesMiddleware
from tazarchive.dump import render
from tazarchive.extract.errors import PageRejected
from tazarchive.items import Article, Author, Block, Tag

REPO = Path(__file__).resolve().parent.parent


def _article(
    article_id: str = "6000001",
    text: str = "Ein erfundener Absatz.",
    *,
    url: str | None = None,
    published: datetime | None = None,
    author: str = "Erika Musterfrau",
    tag: str = "Beispiel",
) -> Article:
    return Article(
        id=article_id,
        url=url or f"https://taz.de/!{article_id}/",
        title="Ein Titel",
        teaser="Ein Vorspann.",
        authors=[Author(author, id="1000")],
        published=published or datetime(2025, 6, 3, 9, 30, tzinfo=UTC),
        body=[Block(text)],
        tags=[Tag(tag, id="2000")],
        layout="2024",
        parser_version="1",
        fetched=datetime(2025, 6, 4, 12, 0, tzinfo=UTC),
    )


def _open(root: Path, **settings: Any) -> Archive:
    return Archive.from_settings({"TAZARCHIVE_OUTPUT_DIR": str(root), **settings})


def _jsonl_lines(root: Path) -> list[str]:
    lines: list[str] = []
    for path in sorted((root / "jsonl").glob("*.jsonl")):
        data = path.read_bytes()
        assert not data or data.endswith(b"\n"), f"{path.name} ends in a partial line"
        lines += data.decode("utf-8").splitlines()
    return lines


# --- store: outcomes ----------------------------------------------------------------


def test_store_gives_new_known_revised_and_writes_dump_jsonl_ledger(tmp_path: Path) -> None:
    with _open(tmp_path) as archive:
        assert archive.store(_article(text="Alt.")) == "new"
        assert archive.store(_article(text="Alt.")) == "known"
        revised = _article(text="Neu.")
        assert archive.store(revised) == "revised"
        assert revised.revision == 2
        assert archive.stats.get_value("tazarchive/articles/new") == 1
        assert archive.stats.get_value("tazarchive/articles/known") == 1
        assert archive.stats.get_value("tazarchive/articles/revised") == 1
        assert archive.latest("6000001") == revised
    folder = tmp_path / "dumps" / "2025" / "06"
    assert sorted(p.name for p in folder.iterdir()) == ["6000001.r2.txt", "6000001.txt"]
    assert [json.loads(line)["revision"] for line in _jsonl_lines(tmp_path)] == [1, 2]


def test_latest_and_the_jsonl_line_are_the_same_bytes(tmp_path: Path) -> None:
    with _open(tmp_path) as archive:
        archive.store(_article(text="Ein Absatz mit \u2028 Zeilentrenner und Ümlaut."))
        [line] = _jsonl_lines(tmp_path)
        assert archive.latest_line("6000001") == line
        latest = archive.latest("6000001")
        assert latest is not None and latest.body[0].text.startswith("Ein Absatz mit \u2028")


def test_iter_latest_filters_by_ids_dates_author_and_tag(tmp_path: Path) -> None:
    with _open(tmp_path) as archive:
        archive.store(_article("6000001", published=datetime(2024, 1, 5, tzinfo=UTC)))
        archive.store(_article("6000002", author="Max Beispiel", tag="Klima"))
        archive.store(_article("6000003", published=datetime(2025, 12, 31, 23, 0, tzinfo=UTC)))
        archive.store(_article("6000002", "Neue Fassung.", author="Max Beispiel", tag="Klima"))

        def ids(**query: Any) -> list[tuple[str, int | None]]:
            return [(a.id, a.revision) for a in archive.iter_latest(**query)]

        assert ids() == [("6000001", 1), ("6000002", 2), ("6000003", 1)]
        assert ids(ids=["6000003", "6000001", "9"]) == [("6000001", 1), ("6000003", 1)]
        assert ids(since=datetime(2025, 1, 1, tzinfo=UTC)) == [("6000002", 2), ("6000003", 1)]
        assert ids(until=datetime(2025, 1, 1, tzinfo=UTC)) == [("6000001", 1)]
        assert ids(author="max beispiel") == [("6000002", 2)]
        assert ids(author="1000") == [("6000001", 1), ("6000002", 2), ("6000003", 1)]
        assert ids(tag="Klima") == [("6000002", 2)]
        assert ids(tag="nirgends") == []
        assert archive.latest("9") is None


# --- JSONL and ledger agree ------------------------------------------------------------


def test_disk_full_mid_line_leaves_no_half_line_no_ledger_row_and_counts_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = os.write

    def half_write(fd: int, data: bytes) -> int:
        return real_write(fd, bytes(data)[: len(data) // 2])  # the disk took only half

    with _open(tmp_path) as archive:
        archive.store(_article("6000001"))
        monkeypatch.setattr(files.os, "write", half_write)
        with pytest.raises(OSError) as raised:
            archive.store(_article("6000002"))
        assert raised.value.errno == errno.ENOSPC
        assert archive.stats.get_value("tazarchive/articles/store_errors") == 1
        assert not archive.knows("6000002")
        assert [json.loads(line)["id"] for line in _jsonl_lines(tmp_path)] == ["6000001"]
        # The disk has room again: the same article is stored whole, once.
        monkeypatch.setattr(files.os, "write", real_write)
        assert archive.store(_article("6000002")) == "new"
    assert [json.loads(line)["id"] for line in _jsonl_lines(tmp_path)] == ["6000001", "6000002"]


def test_disk_full_on_the_dump_writes_nothing_and_counts_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with _open(tmp_path) as archive:
        monkeypatch.setattr(files.os, "fsync", no_space)
        with pytest.raises(OSError, match="No space"):
            archive.store(_article())
        assert archive.stats.get_value("tazarchive/articles/store_errors") == 1
        assert not archive.knows("6000001")
    assert _jsonl_lines(tmp_path) == [] if (tmp_path / "jsonl").exists() else True
    assert [p for p in (tmp_path / "dumps").rglob("*") if p.is_file()] == []


def test_an_unwritable_dumps_folder_fails_every_store_and_keeps_the_ledger_empty(
    tmp_path: Path,
) -> None:
    (tmp_path / "dumps").write_text("a file where the dumps folder should be\n")
    with _open(tmp_path) as archive:
        for n in range(3):
            with pytest.raises(OSError):
                archive.store(_article(f"600000{n}"))
        assert archive.stats.get_value("tazarchive/articles/store_errors") == 3
        assert archive.ledger is not None and len(archive.ledger) == 0
    assert not (tmp_path / "jsonl").exists()


def _v1_ledger(path: Path, rows: list[tuple[str, int]]) -> None:
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
        PRAGMA user_version=1;
        """
    )
    for article_id, revision in rows:
        rest = ("h", "d", "2024", "1", "t", "t")
        db.execute(
            "INSERT INTO revisions VALUES (?,?,?,?,?,?,?,?,?)", (article_id, revision, "u", *rest)
        )
        db.execute(
            "INSERT OR REPLACE INTO articles VALUES (?,?,?,?,?,?,?,?,?)",
            (article_id, "u", revision, *rest),
        )
    db.commit()
    db.close()


def test_the_next_run_completes_the_jsonl_of_an_older_archive(tmp_path: Path) -> None:
    # An archive of the old code after a full disk: 3 ledger ids, a JSONL with
    # 2 whole lines and half of the third's.
    _v1_ledger(tmp_path / "ledger.sqlite3", [("6000001", 1), ("6000002", 1), ("6000003", 1)])
    (tmp_path / "jsonl").mkdir()
    whole = [json.dumps({"id": f"600000{n}", "revision": 1, "title": "T"}) for n in (1, 2)]
    (tmp_path / "jsonl" / "old.jsonl").write_text("\n".join(whole) + '\n{"id":"6000003","rev')
    with _open(tmp_path) as archive:
        assert archive.complete_jsonl() == 1
        assert archive.ledger is not None
        assert archive.ledger.json_line("6000001", 1) == whole[0]
        assert not archive.knows("6000003")  # forgotten: the next crawl stores it again
        assert archive.complete_jsonl() == 0  # once per archive
        assert archive.store(_article("6000003")) == "new"
    assert sorted(json.loads(line)["id"] for line in _jsonl_lines(tmp_path)) == [
        "6000001",
        "6000002",
        "6000003",
    ]


# --- poorer copies never replace richer ones ------------------------------------------


def test_a_gopher_copy_never_replaces_an_html_revision(tmp_path: Path) -> None:
    with _open(tmp_path) as archive:
        archive.store(_article(text="Aus dem HTML."))
        from_gopher = _article(text="Aus dem Gophermenü.", url="gopher://taz.de/1/!6000001")
        assert archive.store(from_gopher) == "known"
        assert archive.stats.get_value("tazarchive/articles/kept_html") == 1
        assert archive.stats.get_value("tazarchive/articles/known") is None
        current = archive.ledger.current("6000001")  # type: ignore[union-attr]
        assert current is not None and (current.revision, current.source) == (1, "html")


def test_html_replaces_a_gopher_revision_and_sources_are_recorded(tmp_path: Path) -> None:
    with _open(tmp_path) as archive:
        archive.store(_article(text="Gopher.", url="gopher://taz.de/1/!6000001"))
        archive.store(_article(text="Aus dem HTML."))
        sources = [r.source for r in archive.ledger.revisions("6000001")]  # type: ignore[union-attr]
        assert sources == ["gopher", "html"]


def test_a_cut_copy_is_taken_in_as_cut_but_never_replaces_a_whole_one(tmp_path: Path) -> None:
    cut = _article(text="Ein erfundener Absatz, den ein Proxy abgeschnitt…")
    cut.cut = ["body.0"]
    with _open(tmp_path) as archive:
        assert archive.store(cut) == "new"
        latest = archive.latest("6000001")
        assert latest is not None and latest.cut == ["body.0"]
        assert archive.store(_article()) == "revised"  # the whole article follows the cut one
        again = _article(text="Ein erfundener Absatz, den ein Proxy abgeschnitt…")
        again.cut = ["body.0"]
        assert archive.store(again) == "known"
        assert archive.stats.get_value("tazarchive/articles/kept_whole") == 1
        latest = archive.latest("6000001")
        assert latest is not None and (latest.revision, latest.cut) == (2, [])


# --- one archive, one site -----------------------------------------------------------


def test_an_archive_refuses_another_base_url_unless_allowed(tmp_path: Path) -> None:
    _open(tmp_path, TAZARCHIVE_BASE_URL="https://taz.de/").close()
    with pytest.raises(OtherSite) as refused:
        _open(tmp_path, TAZARCHIVE_BASE_URL="http://127.0.0.1:8000")
    assert "\n" not in str(refused.value)
    assert "holds https://taz.de, not http://127.0.0.1:8000" in str(refused.value)
    _open(tmp_path, TAZARCHIVE_BASE_URL="https://taz.de").close()  # a trailing "/" is the same
    _open(
        tmp_path, TAZARCHIVE_BASE_URL="http://127.0.0.1:8000", TAZARCHIVE_ALLOW_OTHER_SITE=True
    ).close()
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        assert ledger.get_meta("base_url") == "https://taz.de"


def test_a_local_server_on_another_port_is_the_same_site(tmp_path: Path) -> None:
    _open(tmp_path, TAZARCHIVE_BASE_URL="http://127.0.0.1:8000").close()
    _open(tmp_path, TAZARCHIVE_BASE_URL="http://127.0.0.1:39211/").close()
    with pytest.raises(OtherSite):
        _open(tmp_path, TAZARCHIVE_BASE_URL="https://127.0.0.1:8000")
    with pytest.raises(OtherSite):
        _open(tmp_path, TAZARCHIVE_BASE_URL="https://taz.de")


def test_a_crawl_into_another_sites_archive_stops_at_once_with_one_line(tmp_path: Path) -> None:
    _open(tmp_path, TAZARCHIVE_BASE_URL="https://taz.de").close()
    result = subprocess.run(
        [
            sys.executable, "-m", "scrapy", "crawl", "articles", "-a", "ids=6000001",
            "-s", f"TAZARCHIVE_OUTPUT_DIR={tmp_path}",
            "-s", "TAZARCHIVE_BASE_URL=http://127.0.0.1:9",
            "-s", "TAZARCHIVE_WARC_ENABLED=False",
        ],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    last = result.stderr.splitlines()[-1]
    assert last.startswith(f"tazarchive: archive {tmp_path} holds https://taz.de, not ")
    assert "downloader/request_count" not in result.stderr


# --- store errors in a crawl ------------------------------------------------------------


def test_a_crawl_whose_store_fails_counts_each_error_in_one_line_each(tmp_path: Path) -> None:
    source = tmp_path / "source.jsonl"
    from tazarchive.items import article_to_dict

    source.write_text(
        "".join(json.dumps(article_to_dict(_article(f"600000{n}"))) + "\n" for n in range(3))
    )
    result = subprocess.run(
        [
            sys.executable, "-m", "scrapy", "runspider", str(REPO / "tests" / "archive_spiders.py"),
            "-a", f"source={source}",
            "-s", f"TAZARCHIVE_OUTPUT_DIR={tmp_path / 'out'}",
            "-s", "TAZARCHIVE_DUMP_FORMAT=nope",
        ],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert "'tazarchive/articles/store_errors': 3" in result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "Cannot store article" in line]
    assert len(errors) == 3
    with Ledger(tmp_path / "out" / "ledger.sqlite3") as ledger:
        assert len(ledger) == 0


# --- rejects -------------------------------------------------------------------------


def _response(url: str = "https://taz.de/!6000001/") -> HtmlResponse:
    return HtmlResponse(url, body=b"<html></html>", encoding="utf-8")


def test_rejected_page_is_counted_listed_written_and_swallowed(tmp_path: Path) -> None:
    crawler = get_crawler(settings_dict={"TAZARCHIVE_OUTPUT_DIR": str(tmp_path)})
    middleware = build_from_crawler(RejectedPagesMiddleware, crawler)
    assert crawler.stats is not None
    for n in range(25):
        error = PageRejected("unknown_design", "no page object matched", f"https://taz.de/!{n}/")
        assert middleware.process_spider_exception(_response(), error) == []
    stats = crawler.stats.get_stats()
    assert stats["tazarchive/articles/rejected"] == 25
    assert stats["tazarchive/rejected/unknown_design"] == 25
    assert stats["tazarchive/extract/unknown_design"] == 25
    urls = stats["tazarchive/rejected_urls/unknown_design"]
    assert urls[:2] == ["https://taz.de/!0/", "https://taz.de/!1/"] and len(urls) == 20
    lines = (tmp_path / "rejects.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 25
    record = json.loads(lines[0])
    assert (record["reason"], record["detail"], record["url"]) == (
        "unknown_design",
        "no page object matched",
        "https://taz.de/!0/",
    )
    assert not (tmp_path / "ledger.sqlite3").exists()


def test_a_crawl_records_rejected_pages_and_logs_no_spider_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable, "-m", "scrapy", "runspider", str(REPO / "tests" / "reject_spiders.py"),
            "-a", "n=3",
            "-s", f"TAZARCHIVE_OUTPUT_DIR={tmp_path}", "-s", "TAZARCHIVE_WARC_ENABLED=False",
        ],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "'tazarchive/rejected/challenge': 3" in result.stderr
    assert "Spider error processing" not in result.stderr
    assert "spider_exceptions" not in result.stderr
    lines = (tmp_path / "rejects.jsonl").read_text(encoding="utf-8").splitlines()
    assert sorted(json.loads(line)["url"] for line in lines) == [
        "https://taz.de/!<p>0</p>/",
        "https://taz.de/!<p>1</p>/",
        "https://taz.de/!<p>2</p>/",
    ]


def test_other_spider_exceptions_pass_the_rejects_middleware(tmp_path: Path) -> None:
    crawler = get_crawler(settings_dict={"TAZARCHIVE_OUTPUT_DIR": str(tmp_path)})
    middleware = build_from_crawler(RejectedPagesMiddleware, crawler)
    assert middleware.process_spider_exception(_response(), ValueError("bug")) is None
    no_url = PageRejected("challenge")
    middleware.process_spider_exception(_response("https://taz.de/!5/"), no_url)
    assert crawler.stats is not None
    assert crawler.stats.get_value("tazarchive/rejected_urls/challenge") == ["https://taz.de/!5/"]


def test_dumps_render_in_the_configured_format(tmp_path: Path) -> None:
    with _open(tmp_path, TAZARCHIVE_DUMP_FORMAT="gophermap") as archive:
        article = _article()
        archive.store(article)
    [dump] = (tmp_path / "dumps").rglob("*.gph")
    assert dump.read_bytes() == render(article, "gophermap").encode("utf-8")
    layout = ArchiveLayout.from_settings({"TAZARCHIVE_OUTPUT_DIR": str(tmp_path)})
    assert dump == layout.dump_path(article, 1, "gophermap")
