"""``scrapy convert-dumps`` through the real command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tazarchive.dump import read_dump, render
from tazarchive.items import article_from_dict
from tests.conftest import DATA, REPO, SHARED, needs_shared

FULL = DATA / "dump" / "full.txt"
MINIMAL = DATA / "dump" / "minimal.txt"


def convert(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "scrapy.cmdline", "convert-dumps", *args],
        cwd=REPO,
        capture_output=True,
        timeout=120,
        check=False,
    )


@needs_shared
def test_seed_sample_printed_byte_for_byte() -> None:
    seed = SHARED / "seeds" / "000_b6232123bae38cdf.txt"
    result = convert(str(seed), "--format", "seed")
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == seed.read_bytes() + b" |\n"
    assert result.stderr == b""


def test_text_fixture_to_seed_matches_handwritten_seed() -> None:
    result = convert(str(FULL), "--format", "seed")
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == (DATA / "dump" / "full.seed.txt").read_bytes()


def test_gophermap_output_keeps_crlf() -> None:
    result = convert(str(FULL), "--format", "gophermap")
    assert result.returncode == 0
    assert result.stdout.endswith(b"\r\n.\r\n")
    assert b"\n" not in result.stdout.replace(b"\r\n", b"")


def test_jsonl_one_line_per_article_readable_back(tmp_path: Path) -> None:
    result = convert(str(FULL), str(MINIMAL), "--format", "jsonl")
    assert result.returncode == 0
    lines = result.stdout.decode("utf-8").splitlines()
    assert len(lines) == 2
    first = article_from_dict(json.loads(lines[0]))
    assert first.title == "Kürbisse auf dem Parkdeck"
    assert "Kürbisse" in lines[0]  # ensure_ascii=False
    assert render(first, "text") == FULL.read_text(encoding="utf-8")


def test_folder_walked_in_sorted_order(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "2.txt").write_bytes(MINIMAL.read_bytes())
    (tmp_path / "a.txt").write_bytes(FULL.read_bytes())
    result = convert(str(tmp_path), "--format", "text")
    assert result.returncode == 0
    expected = render(read_dump(FULL.read_text("utf-8")), "text") + render(
        read_dump(MINIMAL.read_text("utf-8")), "text"
    )
    assert result.stdout.decode("utf-8") == expected


def test_bad_files_named_on_stderr_good_ones_printed_exit_1(tmp_path: Path) -> None:
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("# taz.de -- Grüße\n\n> Vorspann\n".encode("latin-1"))
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    prose = tmp_path / "notes.txt"
    prose.write_text("Einkaufsliste: Milch, Brot\n", encoding="utf-8")
    missing = tmp_path / "missing.txt"
    result = convert(str(FULL), str(latin1), str(empty), str(prose), str(missing), str(MINIMAL))
    assert result.returncode == 1
    err = result.stderr.decode("utf-8").splitlines()
    assert len(err) == 4
    assert f"{latin1}: not UTF-8" in err[0]
    assert f"{empty}: not an article dump: empty file" in err[1]
    assert f"{prose}: not an article dump" in err[2]
    assert f"{missing}: cannot read" in err[3]
    good = render(read_dump(FULL.read_text("utf-8"))) + render(
        read_dump(MINIMAL.read_text("utf-8"))
    )
    assert result.stdout.decode("utf-8") == good


@needs_shared
def test_listing_capture_reported_as_not_an_article() -> None:
    listing = SHARED / "dumps" / "003.txt"
    result = convert(str(listing), str(FULL))
    assert result.returncode == 1
    assert f"{listing}: not an article dump: a listing page" in result.stderr.decode()
    assert result.stdout.decode("utf-8").startswith("| # taz.de -- Stadtgarten im Wandel")


def test_no_paths_is_a_usage_error() -> None:
    result = convert()
    assert result.returncode == 2


@pytest.mark.parametrize("fmt", ["seed", "text", "gophermap", "jsonl"])
def test_every_format_accepted(fmt: str) -> None:
    assert convert(str(MINIMAL), "--format", fmt).returncode == 0
