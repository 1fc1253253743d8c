"""Round trips never change text: a dump read back (as ``import-dumps`` reads it) renders
to the same bytes, in every rendering, lines the seed rendering cuts included."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tazarchive.archive import Archive, ArchiveLayout, Ledger
from tazarchive.cli.import_dumps import DumpImporter
from tazarchive.dump import RENDERINGS, read_dump, render
from tazarchive.items import Article, Author, Block, Picture
from tazarchive.normalise import normalise, normalise_article
from tests.test_dump_properties import EXAMPLES, article, recognisable

# Long words of 2-byte letters: lines of 75 code points run past the seed's 80 bytes.
_CUT_PARAGRAPH = (
    "„Das öffnet uns nicht“, sagt eine Sprecherin der Gutachten. „Das begrüßt "
    "uns nicht“, sagt eine Sprecherin der Ausschuss. „Das zählt uns nicht“, sagt "
    "eine Sprecherin der Grenze. Immerhin kritisiert die Debatte am Dienstag eine "
    "vorläufige Verkehrswende."
)


def _cut_article(article_id: str = "6000001") -> Article:
    return Article(
        id=article_id,
        url=f"https://taz.de/!{article_id}/",
        title="Ein Titel",
        teaser="„Das kürzt uns nicht“, sagt eine Sprecherin der Straßenbahn. „Das öffnet "
        "uns nicht“, sagt eine Sprecherin der Straßenbahn.",
        authors=[Author("Erika Musterfrau", "1000", "/!a1000/")],
        picture=Picture("Ein erfundenes Bild", url="https://taz.de/picture/1/a.jpeg"),
        published=datetime(2025, 6, 3, 9, 30, tzinfo=UTC),
        body=[Block(_CUT_PARAGRAPH), Block("Ein zweiter Absatz.")],
    )


def _read_back(dump: str, fmt: str) -> Article:
    """What import-dumps makes of a dump file: read, then normalised like a crawled article."""
    return normalise(read_dump(dump, source="6000001.txt"))


@pytest.mark.parametrize("fmt", RENDERINGS)
def test_a_line_the_seed_cuts_keeps_the_word_after_it(fmt: str) -> None:
    original = normalise(_cut_article())
    dump = render(original, fmt)
    assert render(_read_back(dump, fmt), fmt) == dump


def test_plain_normalisation_would_lose_the_word_after_a_cut_line() -> None:
    # Why normalise() keeps the kept line breaks: the whitespace rule makes them spaces.
    dump = render(normalise(_cut_article()), "seed")
    collapsed = normalise_article(read_dump(dump, source="6000001.txt"))
    assert render(collapsed, "seed") != dump


@settings(max_examples=EXAMPLES, deadline=None)
@given(article().filter(recognisable), st.sampled_from(RENDERINGS))
def test_every_rendering_reads_back_to_the_same_bytes(generated: Article, fmt: str) -> None:
    original = normalise(dataclasses.replace(generated, id="6000001"))
    dump = render(original, fmt)
    assert render(_read_back(dump, fmt), fmt) == dump


@pytest.mark.parametrize("fmt", RENDERINGS)
def test_crawl_then_import_into_a_fresh_archive_gives_the_same_dumps(
    tmp_path: Path, fmt: str
) -> None:
    def archive(root: Path) -> Archive:
        layout = ArchiveLayout.from_settings({"TAZARCHIVE_OUTPUT_DIR": str(root)})
        return Archive(layout, ledger=Ledger(layout.ledger), fmt=fmt)

    with archive(tmp_path / "crawled") as crawled:
        for n in range(1, 4):
            crawled.store(normalise(_cut_article(f"600000{n}")))
    with archive(tmp_path / "imported") as imported:
        summary = DumpImporter(imported).import_paths([str(tmp_path / "crawled" / "dumps")])
        assert (summary.new, summary.failed) == (3, 0)

    def dumps(root: Path) -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in (root / "dumps").rglob("*.*")}

    assert dumps(tmp_path / "imported") == dumps(tmp_path / "crawled")


def test_a_dump_cut_short_is_imported_as_cut_never_as_a_revision_of_the_whole(
    tmp_path: Path,
) -> None:
    whole = normalise(_cut_article())
    seed = render(whole, "seed")
    truncated = tmp_path / "in" / "6000001.txt"
    truncated.parent.mkdir()
    truncated.write_text(seed[: seed.index("Ein zweiter")] + "Ein zw", encoding="utf-8")
    layout = ArchiveLayout.from_settings({"TAZARCHIVE_OUTPUT_DIR": str(tmp_path / "a")})
    with Archive(layout, ledger=Ledger(layout.ledger)) as archive:
        archive.store(whole)
        assert DumpImporter(archive).import_file(truncated) == "known"
        assert archive.stats.get_value("tazarchive/articles/kept_whole") == 1
    with Archive(
        layout.__class__.from_settings({"TAZARCHIVE_OUTPUT_DIR": str(tmp_path / "b")})
    ) as fresh:
        fresh.ledger = Ledger(tmp_path / "b" / "ledger.sqlite3")
        assert DumpImporter(fresh).import_file(truncated) == "new"
        stored = fresh.latest("6000001")
        assert stored is not None and stored.cut  # taken in as cut
        assert stored.body[-1].text.endswith("Ein zw")
