"""``scrapy extract``: saved pages to dumps or JSONL, failures named on stderr."""

from __future__ import annotations

import html
import io
import json
import re
import subprocess
import sys
from pathlib import Path

from tazarchive.commands.extract import extract_paths
from tazarchive.dump import GopherOptions
from tazarchive.extract import extract_article
from tazarchive.items import article_from_dict

from .conftest import DATA, REPO, SHARED, needs_shared

REPORT = DATA / "extract" / "article-2024-report.html"
OLD = DATA / "extract" / "article-2019-report.html"
SCRAPY = [sys.executable, "-m", "scrapy.cmdline"]


def run_scrapy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SCRAPY, "extract", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


def test_seed_rendering_of_a_fixture_starts_with_title_and_dateline() -> None:
    done = run_scrapy(str(REPORT), "--format", "seed")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert (
        lines[0] == "| # taz.de -- Neue Radwege in Musterstadt: Die Stadt tritt in die Pedale | |"
    )
    assert "| MUSTERSTADT taz | Die Stadt baut zwölf Kilometer neue Radwege. Der | |" in lines
    assert "| Bild: Frisch markiert: ein neuer Radweg am Marktplatz | |" in lines


def test_jsonl_is_the_lossless_item() -> None:
    done = run_scrapy(str(REPORT), str(OLD), "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [row["id"] for row in rows] == ["6012345", "5800001"]
    assert article_from_dict(rows[0]) == extract_article(REPORT.read_bytes(), "https://taz.de/")
    assert "ö" in done.stdout  # ensure_ascii=False


def test_non_article_file_is_named_on_stderr_others_still_done_exit_1(tmp_path: Path) -> None:
    listing = DATA / "extract" / "listing-section.html"
    missing = tmp_path / "missing.html"
    done = run_scrapy(str(listing), str(REPORT), str(missing), "--format", "text")
    assert done.returncode == 1
    assert f"{listing}: not an article page" in done.stderr
    assert f"{missing}: cannot read" in done.stderr
    assert done.stdout.startswith("# taz.de -- Neue Radwege in Musterstadt: Die Stadt tritt")


def test_url_option_is_used_when_the_page_names_none(tmp_path: Path) -> None:
    page = REPORT.read_text("utf-8")
    page = re.sub(r'<link rel="canonical"[^>]*>', "", page)
    page = re.sub(r'<meta property="og:url"[^>]*>', "", page)
    saved = tmp_path / "page.html"
    saved.write_text(page, "utf-8")
    out = io.BytesIO()
    failures = extract_paths(
        [str(saved)], "jsonl", GopherOptions(), out, io.StringIO(), "https://taz.de/!6012345/"
    )
    assert failures == 0
    assert json.loads(out.getvalue())["url"] == "https://taz.de/!6012345/"


def test_gophermap_rendering_is_written(tmp_path: Path) -> None:
    out, err = io.BytesIO(), io.StringIO()
    assert extract_paths([str(REPORT)], "gophermap", GopherOptions(), out, err) == 0
    assert out.getvalue() and not err.getvalue()


@needs_shared
def test_done_check_on_the_real_2024_page() -> None:
    name = SHARED / "taz-pages" / "article-2024design-5928990.html"
    page = name.read_text("utf-8")
    meta = re.search(r'<meta name="taz:title"[^>]*content="([^"]*)"', page).group(1)
    letter = re.search(r'<span class="initial-letter [^"]*">(\w)</span>', page).group(1)
    rest = re.search(r'<span class="is-inline">([^<]*)<a', page).group(1)
    done = run_scrapy(str(name), "--format", "seed")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"| # taz.de -- {html.unescape(meta).rstrip(chr(0x200B))} | |"
    opening = f"| {letter}{rest.strip()} [1]["
    assert any(line.startswith(opening) for line in lines), opening
