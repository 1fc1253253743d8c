"""Real captures (../shared/dumps/) turned back into gophermaps and served on 127.0.0.1.

``scrapy crawl gopher`` reads them into the archive; each archived article
renders back to its capture in the capture's own view; ``scrapy verify``
against the same menus cut where their capture stopped counts only the rows
they hold.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tazarchive.dump import read_dump, render
from tazarchive.dump.reader import detect_view
from tazarchive.items import article_from_dict
from tazarchive.normalise import normalise_article
from tests.conftest import REPO, SHARED, needs_shared
from tests.gopher_servers import gopher_server

DUMPS = SHARED / "dumps"

pytestmark = needs_shared


def article_captures() -> dict[str, Path]:
    """Article id -> capture file, for the article rows of INDEX.md."""
    found = {}
    for row in (DUMPS / "INDEX.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in row.split("|")]
        if len(cells) > 4 and re.fullmatch(r"\d{3}", cells[1]) and cells[4].startswith("article"):
            found[cells[3].removeprefix("!")] = DUMPS / f"{cells[1]}.txt"
    return found


def run_scrapy(*args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "scrapy", *args]
    values = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False", **settings}
    for name, value in values.items():
        command += ["-s", f"{name}={value}"]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    """The captures served as gophermaps and crawled; yields (archive, id -> gophermap)."""
    captures = article_captures()
    menus = {
        id_: render(read_dump(path.read_text(encoding="utf-8"), source=path.name), "gophermap")
        for id_, path in captures.items()
    }
    output = tmp_path_factory.mktemp("archive")
    routes = {f"/!{id_}": menu.encode("utf-8") for id_, menu in menus.items()}
    with gopher_server(dict(routes)) as (port, _):
        done = run_scrapy(
            "crawl",
            "gopher",
            "-a",
            f"ids={','.join(menus)}",
            TAZARCHIVE_GOPHER_URL=f"gopher://127.0.0.1:{port}/1/",
            TAZARCHIVE_OUTPUT_DIR=str(output),
        )
    assert done.returncode == 0, done.stderr[-3000:]
    yield output, menus


def test_every_article_capture_is_archived_from_its_gophermap(
    crawled: tuple[Path, dict[str, str]],
) -> None:
    output, menus = crawled
    records = [
        json.loads(line)
        for path in (output / "jsonl").glob("*.jsonl")
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    assert sorted(r["id"] for r in records) == sorted(menus)
    captures = article_captures()
    for record in records:
        article = article_from_dict(record)
        capture = captures[article.id].read_text(encoding="utf-8")
        view = detect_view(capture)
        captured = capture.split("\n")[1:]  # first line: the proxy address
        if captured and captured[-1] == "":
            captured.pop()
        expected = captured[:-1]  # the last line is where the store cut off
        while expected and not expected[-1].strip():
            expected.pop()
        # The archive normalises what it stores (trailing spaces of a paragraph
        # go, 015 shows some): the same as importing the capture gives.
        imported = normalise_article(read_dump(capture, source=captures[article.id].name))
        assert render(article, view) == render(imported, view), article.id
        rendered = render(article, view).split("\n")[: len(expected)]
        assert [r.rstrip() for r in rendered] == [e.rstrip() for e in expected], article.id


def test_verify_counts_only_the_rows_of_menus_cut_where_their_capture_stopped(
    crawled: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    output, menus = crawled
    # The archive normalises (015's trailing spaces go): serve what it holds,
    # so that only the cut is tested here.
    menus = {
        id_: render(
            normalise_article(read_dump(path.read_text(encoding="utf-8"), source=path.name)),
            "gophermap",
        )
        for id_, path in article_captures().items()
    }
    # As a proxy's store cuts them: the first rows (up to 25), the next one
    # half, no "." row.
    cut, held = {}, {}
    for id_, menu in menus.items():
        rows = menu.split("\r\n")[:-2]  # without the "." row and the empty rest
        keep = min(25, len(rows) - 1)
        cut[f"/!{id_}"] = ("\r\n".join(rows[:keep]) + "\r\n" + rows[keep][:10]).encode("utf-8")
        held[id_] = keep + 1
    report = tmp_path / "verify.json"
    with gopher_server(cut) as (port, _):
        done = run_scrapy(
            "verify",
            *menus,
            "--report",
            str(report),
            TAZARCHIVE_GOPHER_URL=f"gopher://127.0.0.1:{port}/1/",
            TAZARCHIVE_OUTPUT_DIR=str(output),
        )
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    result = json.loads(report.read_text(encoding="utf-8"))
    for article in result["articles"]:
        assert article["complete"] is False
        assert article["lines_compared"] == article["lines_identical"] == held[article["id"]]
    assert result["summary"]["byte_identical"] == 0
