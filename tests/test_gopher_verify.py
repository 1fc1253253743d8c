"""``scrapy verify``: row-by-row comparison, and the command against a local gopher server."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tazarchive.dump import render
from tazarchive.gopher.verify import (
    Comparison,
    compare_menus,
    passed,
    report_lines,
    summarise,
)
from tazarchive.replica import ReplicaServer, Site
from tests.conftest import REPO
from tests.gopher_replica import as_taz_sends, replica_gopher

SITE = Site(40)
IDS = list(SITE.article_ids())[:: 40 // 8][:8]


def ours(id_: str) -> str:
    return render(as_taz_sends(SITE.article(id_)), "gophermap")


def rows(menu: str) -> list[str]:
    return menu.split("\r\n")[:-1]


def joined(menu_rows: list[str]) -> str:
    return "".join(row + "\r\n" for row in menu_rows)


def body_row(menu_rows: list[str]) -> int:
    """Index of the first body row that holds several words and has a body row after it."""
    seen_blank = 0
    for index, row in enumerate(menu_rows):
        text = row.split("\t")[0][1:]
        if row.startswith("i") and not text:
            seen_blank += 1
        elif seen_blank >= 2 and text.count(" ") > 3 and menu_rows[index + 1].split("\t")[0][1:]:
            return index
    raise AssertionError("no body row")


def change_word(menu: str) -> tuple[str, int]:
    menu_rows = rows(menu)
    index = body_row(menu_rows)
    text, rest = menu_rows[index].split("\t", 1)
    words = text.split(" ")
    words[2] = "Zebrastreifen"
    menu_rows[index] = " ".join(words) + "\t" + rest
    return joined(menu_rows), index + 1


def drop_paragraph(menu: str) -> tuple[str, list[int]]:
    """Drop the paragraph holding the first body row, and the blank row after it."""
    menu_rows = rows(menu)
    start = body_row(menu_rows)
    while menu_rows[start - 1].split("\t")[0] != "i":
        start -= 1
    end = start
    while menu_rows[end].split("\t")[0] != "i":
        end += 1
    del menu_rows[start : end + 1]
    return joined(menu_rows), list(range(start + 1, end + 2))


def rewrap(menu: str) -> tuple[str, list[int]]:
    """Move the last word of a body row to the start of the next row."""
    menu_rows = rows(menu)
    index = body_row(menu_rows)
    first, rest1 = menu_rows[index].split("\t", 1)
    second, rest2 = menu_rows[index + 1].split("\t", 1)
    head, last = first.rsplit(" ", 1)
    menu_rows[index] = head + "\t" + rest1
    menu_rows[index + 1] = "i" + last + " " + second[1:] + "\t" + rest2
    return joined(menu_rows), [index + 1, index + 2]


# --- comparison ---------------------------------------------------------------


def test_identical_menus_are_byte_identical_with_every_line_counted() -> None:
    menu = ours(IDS[0])
    result = compare_menus(IDS[0], menu, menu.encode())
    assert result.byte_identical and result.complete
    assert result.lines_identical == result.lines_compared == len(rows(menu))
    assert result.differences == []


def test_changed_word_is_named_by_its_line() -> None:
    menu = ours(IDS[0])
    theirs, line = change_word(menu)
    result = compare_menus(IDS[0], menu, theirs.encode())
    assert not result.byte_identical
    assert [d.line for d in result.differences] == [line]
    assert "Zebrastreifen" in (result.differences[0].theirs or "")
    assert result.lines_identical == result.lines_compared - 1


def test_missing_paragraph_is_one_gap_not_every_later_line() -> None:
    menu = ours(IDS[1])
    theirs, lines = drop_paragraph(menu)
    result = compare_menus(IDS[1], menu, theirs.encode())
    named = [d.line for d in result.differences]
    # A paragraph and the blank after it, or the blank before it and the
    # paragraph: the same gap; either way it is one run of rows.
    assert named in (lines, [n - 1 for n in lines])
    paragraph = [row for row in rows(menu)[lines[0] - 1 : lines[-1]] if not row.startswith("i\t")]
    assert [d.ours for d in result.differences if not (d.ours or "").startswith("i\t")] == paragraph
    assert all(d.theirs is None for d in result.differences)
    assert result.lines_identical == len(rows(menu)) - len(lines)


def test_different_wrap_names_both_rows() -> None:
    menu = ours(IDS[2])
    theirs, lines = rewrap(menu)
    result = compare_menus(IDS[2], menu, theirs.encode())
    assert [d.line for d in result.differences] == lines
    assert all(d.ours and d.theirs for d in result.differences)


def test_menu_cut_short_counts_only_the_rows_it_holds() -> None:
    menu = ours(IDS[3])
    held = rows(menu)[:12]
    result = compare_menus(IDS[3], menu, joined(held).encode())
    assert not result.complete
    assert result.lines_compared == result.lines_identical == 12
    cut_inside = joined(held) + rows(menu)[12][:20]
    result = compare_menus(IDS[3], menu, cut_inside.encode())
    assert result.lines_compared == result.lines_identical == 13


def test_verdict_needs_every_article_and_enough_lines() -> None:
    good = Comparison("1", True, True, 10, 10)
    weak = Comparison("2", False, True, 10, 8)
    assert passed(summarise([good]), 0.99)
    assert not passed(summarise([good, weak]), 0.99)
    assert passed(summarise([good, weak]), 0.9)
    assert not passed(summarise([good, Comparison("3", error="fetch failed")]), 0.5)
    assert not passed(summarise([]), 0.0)


def test_printed_report_shows_both_rows_of_a_difference() -> None:
    menu = ours(IDS[0])
    theirs, line = change_word(menu)
    printed = "\n".join(report_lines(compare_menus(IDS[0], menu, theirs.encode())))
    assert f"line {line}: ours" in printed
    assert "taz  " in printed and "Zebrastreifen" in printed


# --- the command ------------------------------------------------------------------


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An archive made by the HTML crawl of IDS from the replica."""
    output = tmp_path_factory.mktemp("archive")
    with ReplicaServer(SITE) as http:
        run_scrapy(
            ["crawl", "articles", "-a", f"ids={','.join(IDS)}"],
            TAZARCHIVE_BASE_URL=http.base_url,
            TAZARCHIVE_OUTPUT_DIR=str(output),
            TAZARCHIVE_WARC_ENABLED="False",
            check=True,
        )
    yield output


def run_scrapy(
    args: list[str], check: bool = False, **settings: str
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "scrapy", *args]
    values = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False", **settings}
    for name, value in values.items():
        command += ["-s", f"{name}={value}"]
    done = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=180, check=False
    )
    if check:
        assert done.returncode == 0, done.stderr[-3000:]
    return done


def verify(
    archive: Path,
    tmp_path: Path,
    change: Callable[[str, str], str] | None,
    *ids: str,
    **settings: str,
) -> tuple[int, str, dict[str, Any]]:
    report = tmp_path / "verify.json"
    with replica_gopher(SITE, change) as (port, _):
        done = run_scrapy(
            ["verify", *ids, "--report", str(report)],
            TAZARCHIVE_GOPHER_URL=f"gopher://127.0.0.1:{port}/1/",
            TAZARCHIVE_OUTPUT_DIR=str(archive),
            **settings,
        )
    assert report.is_file(), done.stderr[-3000:]
    return done.returncode, done.stdout, json.loads(report.read_text(encoding="utf-8"))


def test_verify_reports_identical_where_the_server_sends_what_taz_would(
    archive: Path, tmp_path: Path
) -> None:
    code, out, report = verify(archive, tmp_path, None, *IDS)
    assert code == 0, out
    summary = report["summary"]
    assert summary["articles"] == summary["byte_identical"] == len(IDS)
    assert summary["lines_identical"] == summary["lines_compared"] > 0
    assert f"verify: {len(IDS)}/{len(IDS)} articles byte-identical" in out


def test_verify_without_ids_samples_the_archive(archive: Path, tmp_path: Path) -> None:
    code, _, report = verify(archive, tmp_path, None, "--sample", "3", "--seed", "1")
    assert code == 0
    assert len(report["articles"]) == 3
    assert {a["id"] for a in report["articles"]} <= set(IDS)


def test_verify_names_the_lines_of_planted_differences(archive: Path, tmp_path: Path) -> None:
    word_id, paragraph_id, wrap_id, cut_id = IDS[:4]
    planted: dict[str, list[int]] = {}
    word_menu, line = change_word(ours(word_id))
    planted[word_id] = [line]
    paragraph_menu, planted[paragraph_id] = drop_paragraph(ours(paragraph_id))
    wrap_menu, planted[wrap_id] = rewrap(ours(wrap_id))
    cut_menu = joined(rows(ours(cut_id))[:15])
    served = {
        word_id: word_menu,
        paragraph_id: paragraph_menu,
        wrap_id: wrap_menu,
        cut_id: cut_menu,
    }

    def change(selector: str, menu: str) -> str:
        return served.get(selector.removeprefix("/!"), menu)

    code, out, report = verify(archive, tmp_path, change, *IDS, TAZARCHIVE_VERIFY_MIN_LINES="1.0")
    by_id = {a["id"]: a for a in report["articles"]}
    for id_, lines in planted.items():
        named = [d["line"] for d in by_id[id_]["differences"]]
        shifted = [n - 1 for n in lines] if id_ == paragraph_id else lines  # see above
        assert named in (lines, shifted), id_
        assert f"  line {named[0]}: ours" in out
    assert by_id[cut_id]["complete"] is False
    assert by_id[cut_id]["lines_compared"] == by_id[cut_id]["lines_identical"] == 15
    assert report["summary"]["byte_identical"] == len(IDS) - 4
    assert code == 1  # below TAZARCHIVE_VERIFY_MIN_LINES


def test_verify_counts_articles_taz_does_not_have_as_failures(
    archive: Path, tmp_path: Path
) -> None:
    def gone(selector: str, menu: str) -> str:
        return "3nicht gefunden\t\terror.host\t1\r\n.\r\n" if selector == f"/!{IDS[0]}" else menu

    code, _, report = verify(archive, tmp_path, gone, IDS[0], IDS[1], "999999")
    errors = {a["id"]: a["error"] for a in report["articles"]}
    assert "not on taz's gopher service" in errors[IDS[0]]
    assert errors[IDS[1]] == ""
    assert errors["999999"] == "not in the archive"
    assert code == 1


def test_menu_cut_short_after_a_difference_counts_no_rows_beyond_the_cut() -> None:
    menu = ours(IDS[4])
    theirs_rows = rows(menu)[:20]
    theirs_rows[19] = theirs_rows[19].replace("i", "iX", 1)
    result = compare_menus(IDS[4], menu, joined(theirs_rows).encode())
    assert result.lines_compared == 20
    assert [d.line for d in result.differences] == [20]
