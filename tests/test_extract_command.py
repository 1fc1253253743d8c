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
from tazarchive.normalise import normalise_article

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
    extracted = extract_article(REPORT.read_bytes(), "https://taz.de/")
    assert extracted is not None
    assert article_from_dict(rows[0]) == normalise_article(extracted)
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


# --- as a crawl stores it, folders, one line per failure ------------------------


def test_output_is_normalised_as_a_crawl_stores_it(tmp_path: Path) -> None:
    page = REPORT.read_text("utf-8").replace(
        "Die Bauarbeiten sollen", "Die \x1b[31mBau\u00adarbeiten\u202e  sollen\x7f"
    )
    saved = tmp_path / "page.html"
    saved.write_text(page, "utf-8")
    out, err = io.BytesIO(), io.StringIO()
    assert extract_paths([str(saved)], "jsonl", GopherOptions(), out, err) == 0, err.getvalue()
    row = json.loads(out.getvalue())
    assert row["body"][-1]["text"] == "Die Bauarbeiten sollen im Mai beginnen."
    assert not any(c in out.getvalue().decode() for c in "\x1b\x9b\u202e\u00ad")


def test_folder_gives_every_html_page_inside_sorted(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "zwei.htm").write_bytes(OLD.read_bytes())
    (tmp_path / "a.html").write_bytes(REPORT.read_bytes())
    (tmp_path / "notiz.txt").write_text("keine Seite", "utf-8")
    out, err = io.BytesIO(), io.StringIO()
    assert extract_paths([str(tmp_path)], "jsonl", GopherOptions(), out, err) == 0
    rows = [json.loads(line) for line in out.getvalue().decode().splitlines()]
    assert [row["id"] for row in rows] == ["6012345", "5800001"]


def test_empty_folder_is_one_failure_line(tmp_path: Path) -> None:
    out, err = io.BytesIO(), io.StringIO()
    assert extract_paths([str(tmp_path)], "text", GopherOptions(), out, err) == 1
    assert err.getvalue() == f"extract: {tmp_path}: no .html or .htm files in this folder\n"


def test_rejected_page_is_one_line_naming_the_reason(tmp_path: Path) -> None:
    saved = tmp_path / "cut.html"
    data = REPORT.read_bytes()
    saved.write_bytes(data[: data.rindex(b"Die Opposition")])
    done = run_scrapy(str(saved), str(REPORT), "--format", "text")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"extract: {saved}: not an article page: ")
    assert "a crawl would reject it (truncated: " in lines[0]
    assert "Traceback" not in done.stderr
    assert done.stdout.startswith("# taz.de -- Neue Radwege")


def test_missing_path_is_one_line_no_traceback(tmp_path: Path) -> None:
    done = run_scrapy(str(tmp_path / "fehlt.html"))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"extract: {tmp_path / 'fehlt.html'}: cannot read: No such file or directory"
    ]


def test_control_characters_in_a_file_name_are_escaped_on_stderr(tmp_path: Path) -> None:
    saved = tmp_path / "x\x1b[31m.html"
    saved.write_text("<html><body><p>keine taz-Seite</p></body></html>", "utf-8")
    out, err = io.BytesIO(), io.StringIO()
    assert extract_paths([str(saved)], "text", GopherOptions(), out, err) == 1
    assert "\x1b" not in err.getvalue() and "\\x1b[31m" in err.getvalue()


@needs_shared
def test_done_check_of_issue_12_on_the_older_design_page() -> None:
    name = SHARED / "taz-pages" / "article-2015design-68884.html"
    page = name.read_text("utf-8")
    done = run_scrapy(str(name), "--format", "text")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == (
        "# taz.de -- Protestkultur in Japan nach der Katastrophe: Anti-Atomkraft? Nein danke!"
    )
    flat = " ".join(" ".join(line.removeprefix("> ") for line in lines).split())
    description = re.search(r'<meta name="description" content="([^"]*)"', page).group(1)
    assert html.unescape(description) in flat
    start = page.index("sect_article")
    body = page[start : page.index('<div class="sectfoot">', start)]
    paragraphs = re.findall(r'<p class="article[^"]*">(.*?)</p>', body, re.S)
    headings = re.findall(r"<h6>(.*?)</h6>", body, re.S)
    caption = re.search(r'<p class="caption">(.*?)<span', body, re.S).group(1)
    assert len(paragraphs) == 14 and len(headings) == 2
    for fragment in [*paragraphs, *headings, caption]:
        text = " ".join(html.unescape(re.sub(r"<[^>]+>", "", fragment)).split())
        assert text[:60] in flat, text[:60]
    box = page.index('<div id="tzi_paywall"')
    for piece in re.findall(r">([^<>]{8,})<", page[box : page.index("</form>", box)]):
        assert " ".join(piece.split()) not in flat, piece
