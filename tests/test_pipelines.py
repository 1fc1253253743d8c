"""Pipelines: normalise, validate, store through the archive (``Archive.store``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scrapy.exceptions import DropItem
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from tazarchive.archive import Archive, ArchiveLayout, Ledger, dump_relpath, write_atomic
from tazarchive.archive.crawl import crawler_archive
from tazarchive.dump import render
from tazarchive.items import (
    Article,
    Author,
    Block,
    Link,
    LinkSpan,
    Picture,
    Related,
    Tag,
    article_to_dict,
)
from tazarchive.normalise import (
    _collapse_spaces_mapped,
    _compose_pieces,
    _normalise_mapped,
    normalise_block,
    normalise_text,
)
from tazarchive.pipelines import NormalisePipeline, StorePipeline, ValidatePipeline

REPO = Path(__file__).resolve().parent.parent


def _archive(root: Path, **options: Any) -> Archive:
    layout = ArchiveLayout.from_settings({"TAZARCHIVE_OUTPUT_DIR": str(root)})
    return Archive(layout, ledger=Ledger(layout.ledger), **options)


def _article(article_id: str = "6000001", text: str = "Ein Absatz mit Inhalt.") -> Article:
    return Article(
        id=article_id,
        url=f"https://taz.de/!{article_id}/",
        topline="Dach",
        title="Ein Titel",
        teaser="Ein Vorspann.",
        authors=[Author("Erika Musterfrau")],
        published=datetime(2025, 6, 3, 9, 30, tzinfo=UTC),
        body=[Block(text)],
        tags=[Tag("Beispiel")],
        layout="2024",
        parser_version="1",
        fetched=datetime(2025, 6, 4, 12, 0, tzinfo=UTC),
    )


# --- normalise ------------------------------------------------------------------


def test_normalise_removes_soft_hyphens_and_zero_width_spaces() -> None:
    assert normalise_text("Geschlechts\u00adeintrag\u200b") == "Geschlechtseintrag"


def test_normalise_composes_to_nfc() -> None:
    assert normalise_text("Cafe\u0301") == "Caf\u00e9"


def test_normalise_collapses_and_trims_whitespace() -> None:
    assert normalise_text("  zwei \t\n Wörter  ") == "zwei Wörter"


def test_normalise_keeps_a_lone_no_break_space_but_collapses_runs() -> None:
    assert normalise_text("5\u00a0km") == "5\u00a0km"
    assert normalise_text("5 \u00a0 km\u00a0") == "5 km"


def test_normalise_pipeline_covers_every_text_field() -> None:
    article = Article(
        id="6000001",
        url="https://taz.de/!6000001/",
        title=" Ti\u00adtel ",
        topline="Dach\u200b ",
        teaser="Vor  spann",
        authors=[Author(" Erika  Musterfrau ")],
        picture=Picture(" Ein  Bild ", " Foto:  Agentur "),
        body=[Block(" Ab\u00adsatz  eins ")],
        links=[Link(" hier ", "/x/!6000002/")],
        tags=[Tag(" Bei  spiel ")],
        related=[Related("6000002", None, " D ", " T\u00ad ", " V  w ")],
    )
    item = NormalisePipeline().process_item(article)
    assert (item.title, item.topline, item.teaser) == ("Titel", "Dach", "Vor spann")
    assert item.authors[0].name == "Erika Musterfrau"
    assert item.picture is not None
    assert (item.picture.caption, item.picture.credit) == ("Ein Bild", "Foto: Agentur")
    assert item.body[0].text == "Absatz eins"
    assert item.links[0].text == "hier"
    assert item.links[0].href == "/x/!6000002/"
    assert item.tags[0].name == "Bei spiel"
    assert (item.related[0].topline, item.related[0].title, item.related[0].teaser) == (
        "D",
        "T",
        "V w",
    )


def test_link_spans_move_with_the_normalised_text() -> None:
    text = "  Lies  das\u00ad  hier \u200bweiter."
    start = text.index("das")
    end = text.index("weiter")
    block = normalise_block(Block(text, links=[LinkSpan(start, end, 1)]))
    assert block.text == "Lies das hier weiter."
    span = block.links[0]
    assert block.text[span.start : span.end] == "das hier"


def test_normalise_drops_blocks_left_empty_but_keeps_linked_ones() -> None:
    article = _article()
    article.body = [Block("Text"), Block(" \u200b "), Block(" ", links=[LinkSpan(0, 1, 1)])]
    NormalisePipeline().process_item(article)
    assert [b.text for b in article.body] == ["Text", ""]


_texts = st.text(alphabet="ab \n\t\u00a0\u00ad\u200b", max_size=30)


@given(_texts, _texts, _texts)
def test_a_link_span_holds_its_own_normalised_text(before: str, inside: str, after: str) -> None:
    text = before + inside + after
    block = normalise_block(
        Block(text, links=[LinkSpan(len(before), len(before) + len(inside), 1)])
    )
    span = block.links[0]
    assert block.text == normalise_text(text)
    assert block.text[span.start : span.end] == normalise_text(inside)


# Mostly clean text (words, single spaces, a kept no-break space), with now and
# then something to fix: spaces of every kind, invisible characters, accents to compose.
_pieces = ["Wort", "ab", "\u00e9", " ", " ", " ", "\u00a0", "\u202f", "\u201e", "\u201c"]
_faults = ["e\u0301", "\n", "\t", "\r", "\x0b", "\x1c", "\x85", "\u2028", "\u3000"]
_faults += ["\u00ad", "\u200b", "\ufeff"]
_any_texts = st.lists(
    st.one_of(st.sampled_from(_pieces), st.sampled_from(_pieces), st.sampled_from(_faults)),
    max_size=12,
).map("".join)


def _character_loop(text: str, offsets: list[int]) -> tuple[str, dict[int, int]]:
    """The general path: piecewise NFC, then the character loop, for every text."""
    bounds = sorted({0, len(text), *(o for o in offsets if 0 <= o <= len(text))})
    nfc, composed_at = _compose_pieces(text, bounds)
    result, out_at = _collapse_spaces_mapped(nfc)
    return result, {o: min(out_at[composed_at[o]], len(result)) for o in bounds}


@given(_any_texts, st.lists(st.integers(min_value=0, max_value=40), max_size=4))
def test_the_fast_paths_give_what_the_character_loop_gives(text: str, offsets: list[int]) -> None:
    assert _normalise_mapped(text, offsets) == _character_loop(text, offsets)
    # (An offset between a letter and its accent keeps them apart: compare without.)
    assert normalise_text(text) == _character_loop(text, [])[0]


def test_clean_text_keeps_its_link_offsets() -> None:
    text = "Lies\u00a0das hier \u201eweiter\u201c."
    assert _normalise_mapped(text, [5, 13]) == (text, {0: 0, 5: 5, 13: 13, len(text): len(text)})


def test_normalise_passes_other_items_untouched() -> None:
    item = {"title": "  x  "}
    assert NormalisePipeline().process_item(item) == {"title": "  x  "}


# --- validate -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"id": ""}, "no_taz_id"),
        ({"id": "../etc"}, "bad_id"),
        ({"id": "6000001x"}, "bad_id"),
        ({"id": "9" * 300}, "bad_id"),
        ({"title": ""}, "no_title"),
        ({"body": [Block("")]}, "empty_body"),
        ({"body": []}, "empty_body"),
    ],
)
def test_validate_rejects_with_reason_stats_and_rejects_file(
    tmp_path: Path, change: dict[str, object], reason: str
) -> None:
    article = _article()
    for name, value in change.items():
        setattr(article, name, value)
    with _archive(tmp_path) as archive:
        pipeline = ValidatePipeline(archive)
        with pytest.raises(DropItem, match=reason):
            pipeline.process_item(article)
        assert archive.stats.get_stats() == {  # type: ignore[attr-defined]
            "tazarchive/articles/rejected": 1,
            f"tazarchive/rejected/{reason}": 1,
            f"tazarchive/rejected_urls/{reason}": ["https://taz.de/!6000001/"],
        }
        assert not archive.knows(article.id)
    [line] = (tmp_path / "rejects.jsonl").read_text(encoding="utf-8").splitlines()
    record = json.loads(line)
    assert record["reason"] == reason
    assert record["article"]["url"] == "https://taz.de/!6000001/"
    # An id that is no file name never became one.
    assert not (tmp_path / "dumps").exists()


def test_validate_passes_a_complete_article_and_counts_body_mismatch(tmp_path: Path) -> None:
    with _archive(tmp_path) as archive:
        pipeline = ValidatePipeline(archive)
        article = _article()
        assert pipeline.process_item(article) is article
        article.body_mismatch = "JSON-LD has 2 more paragraphs"
        assert pipeline.process_item(article) is article
        article.body_mismatch = ""
        pipeline.process_item(article)
        assert archive.stats.get_stats() == {"tazarchive/extract/body_mismatch": 1}  # type: ignore[attr-defined]
    assert not (tmp_path / "rejects.jsonl").exists()


# --- store ----------------------------------------------------------------------


def test_store_pipeline_passes_new_and_revised_articles_and_drops_known(tmp_path: Path) -> None:
    with _archive(tmp_path) as archive:
        pipeline = StorePipeline(archive)
        item = pipeline.process_item(_article(text="Alte Fassung."))
        assert item.revision == 1
        with pytest.raises(DropItem) as dropped:
            pipeline.process_item(_article(text="Alte Fassung."))
        assert dropped.value.log_level == "DEBUG"
        assert pipeline.process_item(_article(text="Neue Fassung.")).revision == 2
        assert archive.stats.get_stats() == {  # type: ignore[attr-defined]
            "tazarchive/articles/new": 1,
            "tazarchive/articles/known": 1,
            "tazarchive/articles/revised": 1,
            "tazarchive/dumps/written": 2,
        }


def test_store_pipeline_counts_a_failed_store_and_drops_the_item(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with _archive(tmp_path, fmt="nope") as archive:
        pipeline = StorePipeline(archive)
        with pytest.raises(DropItem):
            pipeline.process_item(_article())
        assert archive.stats.get_value("tazarchive/articles/store_errors") == 1
        assert not archive.knows("6000001")
    [record] = [r for r in caplog.records if r.levelname == "ERROR"]
    assert "6000001" in record.getMessage() and "\n" not in record.getMessage()


def test_store_pipeline_logs_the_first_errors_and_counts_them_all(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with _archive(tmp_path, fmt="nope") as archive:
        pipeline = StorePipeline(archive)
        for n in range(25):
            with pytest.raises(DropItem):
                pipeline.process_item(_article(f"60{n:05d}"))
        assert archive.stats.get_value("tazarchive/articles/store_errors") == 25
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == StorePipeline.ERRORS_LOGGED + 1
    assert errors[-1].startswith("Further store errors are only counted")


def test_store_pipeline_passes_archived_articles_unstored(tmp_path: Path) -> None:
    with _archive(tmp_path) as archive:
        archive.store(_article())
        handed = archive.hand_out(archive.latest("6000001"))  # type: ignore[arg-type]
        assert ValidatePipeline(archive).process_item(handed) is handed
        assert StorePipeline(archive).process_item(handed) is handed
        assert not archive.handed_out(handed)
        assert archive.stats.get_value("tazarchive/articles/known") is None
        assert archive.ledger is not None and archive.ledger.count_revisions() == 1


def test_dump_path_uses_berlin_publication_month_and_revision_suffix() -> None:
    article = _article()
    article.published = datetime(2025, 6, 30, 22, 30, tzinfo=UTC)  # 1 July, 00:30 in Berlin
    assert dump_relpath(article, 1) == "dumps/2025/07/6000001.txt"
    assert dump_relpath(article, 3) == "dumps/2025/07/6000001.r3.txt"
    assert dump_relpath(article, 1, "gophermap") == "dumps/2025/07/6000001.gph"
    article.published = None
    assert dump_relpath(article, None) == "dumps/undated/6000001.txt"


def test_store_writes_each_revision_beside_the_previous(tmp_path: Path) -> None:
    with _archive(tmp_path) as archive:
        first = _article(text="Alte Fassung.")
        second = _article(text="Neue Fassung.")
        StorePipeline(archive).process_item(first)
        StorePipeline(archive).process_item(second)
        current = archive.ledger.current("6000001")  # type: ignore[union-attr]
        assert current is not None and current.dump_path == "dumps/2025/06/6000001.r2.txt"
    folder = tmp_path / "dumps" / "2025" / "06"
    assert sorted(p.name for p in folder.iterdir()) == ["6000001.r2.txt", "6000001.txt"]
    assert (folder / "6000001.txt").read_text(encoding="utf-8") == render(first, "seed")
    assert (folder / "6000001.r2.txt").read_text(encoding="utf-8") == render(second, "seed")


def test_write_atomic_leaves_the_old_file_when_interrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "a.txt"
    write_atomic(target, b"old\n")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk gone"):
        write_atomic(target, b"new\n")
    assert target.read_bytes() == b"old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


# --- through Scrapy -------------------------------------------------------------


def test_pipelines_are_built_from_crawler_settings_and_share_one_archive(tmp_path: Path) -> None:
    crawler = get_crawler(
        settings_dict={"TAZARCHIVE_OUTPUT_DIR": str(tmp_path), "TAZARCHIVE_DUMP_FORMAT": "text"}
    )
    store = build_from_crawler(StorePipeline, crawler)
    validate = build_from_crawler(ValidatePipeline, crawler)
    assert store.archive is validate.archive is crawler_archive(crawler)
    assert store.archive.fmt == "text"
    assert store.archive.layout.root == tmp_path
    assert store.archive.ledger is not None
    assert store.archive.ledger.path == tmp_path / "ledger.sqlite3"
    assert store.archive.layout.rejects == tmp_path / "rejects.jsonl"
    assert ArchiveLayout.from_settings(crawler.settings).root == tmp_path
    store.archive.close()


def test_disabled_ledger_still_stores_dumps_and_jsonl(tmp_path: Path) -> None:
    crawler = get_crawler(
        settings_dict={"TAZARCHIVE_OUTPUT_DIR": str(tmp_path), "TAZARCHIVE_LEDGER_ENABLED": False}
    )
    store = build_from_crawler(StorePipeline, crawler)
    assert store.archive.ledger is None
    assert store.process_item(_article()).revision is None
    assert store.process_item(_article()).revision is None  # no ledger: nothing is known
    assert (tmp_path / "dumps" / "2025" / "06" / "6000001.txt").is_file()
    [jsonl] = (tmp_path / "jsonl").iterdir()
    assert len(jsonl.read_text(encoding="utf-8").splitlines()) == 2


def _run_spider(
    tmp_path: Path, articles: list[Article], *extra: str
) -> subprocess.CompletedProcess[str]:
    source = tmp_path / "source.jsonl"
    source.write_text(
        "".join(json.dumps(article_to_dict(a), ensure_ascii=False) + "\n" for a in articles),
        encoding="utf-8",
    )
    command = [
        sys.executable, "-m", "scrapy", "runspider", str(REPO / "tests" / "archive_spiders.py"),
        "-a", f"source={source}",
        "-s", f"TAZARCHIVE_OUTPUT_DIR={tmp_path / 'out'}",
        "-O", str(tmp_path / "feed.jsonl"),
        *extra,
    ]  # fmt: skip
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)


def test_crawl_stores_valid_articles_once_and_rejects_the_rest(tmp_path: Path) -> None:
    no_title = _article("6000003")
    no_title.title = ""
    articles = [_article("6000001"), _article("6000002"), _article("6000001"), no_title]
    result = _run_spider(tmp_path, articles)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    dumps = sorted(p.name for p in (out / "dumps" / "2025" / "06").iterdir())
    assert dumps == ["6000001.txt", "6000002.txt"]
    feed = [json.loads(line) for line in (tmp_path / "feed.jsonl").read_text().splitlines()]
    assert [(r["id"], r["revision"]) for r in feed] == [("6000001", 1), ("6000002", 1)]
    # The archive's own JSONL holds the same records, byte for byte.
    [archive_jsonl] = (out / "jsonl").iterdir()
    assert archive_jsonl.read_bytes() == (tmp_path / "feed.jsonl").read_bytes()
    with Ledger(out / "ledger.sqlite3") as ledger:
        assert len(ledger) == 2
    rejects = (out / "rejects.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(r)["reason"] for r in rejects] == ["no_title"]
    assert "'tazarchive/articles/new': 2" in result.stderr
    assert "'tazarchive/articles/known': 1" in result.stderr
    assert "'tazarchive/rejected/no_title': 1" in result.stderr


def test_ledger_records_an_article_only_after_its_jsonl_line_is_written(tmp_path: Path) -> None:
    probe = tmp_path / "probe.jsonl"
    articles = [_article(f"600000{n}") for n in range(1, 6)]
    result = _run_spider(tmp_path, articles, "-a", f"probe={probe}")
    assert result.returncode == 0, result.stderr
    commits = [json.loads(line) for line in probe.read_text().splitlines()]
    assert len(commits) == 5
    # When the n-th commit happens, the archive's JSONL holds n lines, this one's last.
    for number, commit in enumerate(commits, start=1):
        assert commit["jsonl_lines"] == number, commits
        assert commit["last_id"] == commit["id"], commits
