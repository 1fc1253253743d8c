"""The seed sample and the real gopher captures in ../shared/, read and rendered back."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tazarchive.dump import NotADump, read_dump, render
from tazarchive.dump.reader import detect_view
from tests.conftest import SHARED, needs_shared

SEED = SHARED / "seeds" / "000_b6232123bae38cdf.txt"
DUMPS = SHARED / "dumps"


def _captures(article: bool) -> list[object]:
    """INDEX.md rows (file, kind), article captures or the others, one param per file."""
    index = DUMPS / "INDEX.md"
    if not index.is_file():
        return [pytest.param(None, marks=pytest.mark.skip(reason="../shared/ is absent"))]
    params: list[object] = []
    for row in index.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in row.split("|")]
        if len(cells) < 5 or not re.fullmatch(r"\d{3}", cells[1]):
            continue
        if cells[4].startswith("article") == article:
            params.append(pytest.param(DUMPS / f"{cells[1]}.txt", id=cells[1]))
    return params


def _content_lines(lines: list[str]) -> list[str]:
    # Trailing blank lines are layout, not content: 032 ends in an empty
    # "ARTIKEL ZUM THEMA" (cortex hid its items), which an article cannot hold.
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


@needs_shared
def test_seed_sample_renders_back_byte_for_byte() -> None:
    sample = SEED.read_text(encoding="utf-8")
    # The sample's last line lost its closing " |" and newline (FORMAT.md).
    assert render(read_dump(sample, source=SEED.name)) == sample + " |\n"


@needs_shared
def test_seed_sample_article_fields() -> None:
    # Expected values read off the sample by eye.
    article = read_dump(SEED.read_text(encoding="utf-8"))
    assert article.topline == "Tagebuch aus Kasachstan"
    assert article.title == "Etwas besseres als Almaty finden sie fast …"
    assert article.cut[0] == "title"
    assert (article.published.year, article.published.month, article.published.day) == (
        2025,
        10,
        24,
    )
    assert len(article.links) == 9
    assert article.links[3].text == "Myrotvorets"
    assert article.links[3].href == "https://myrotvorets.center/"
    assert [a.name for a in article.authors] == ["Nikita Danilin"]
    assert len(article.tags) == 18
    assert [r.topline for r in article.related][:3] == [
        "Tagebuch aus Kirgistan",
        "Tagebuch aus der Ukraine",
        "Tagebuch aus Estland",
    ]
    assert len(article.related) == 8
    assert [b.text for b in article.body if b.kind == "subheading"] == ["Die Motive der Söldner"]


@pytest.mark.parametrize("path", _captures(article=True))
def test_article_capture_renders_back_in_its_own_view(path: Path) -> None:
    capture = path.read_text(encoding="utf-8")
    article = read_dump(capture, source=path.name)
    view = detect_view(capture)
    captured = capture.split("\n")[1:]  # first line: the proxy address
    if captured and captured[-1] == "":
        captured.pop()
    expected = _content_lines(captured[:-1])  # the last line is where the store cut off
    rendered = render(article, view).split("\n")[: len(expected)]
    for number, (want, got) in enumerate(zip(expected, rendered, strict=False), start=2):
        assert got == want, f"{path.name} line {number} ({view})"
    assert len(rendered) == len(expected), f"{path.name}: rendering ends early"


@pytest.mark.parametrize("path", _captures(article=True))
def test_article_capture_id_comes_from_proxy_address(path: Path) -> None:
    capture = path.read_text(encoding="utf-8")
    address = capture.split("\n", 1)[0]
    assert read_dump(capture).id in address.replace("%21", "!")
    assert read_dump(capture).id.isdigit()


@pytest.mark.parametrize("path", _captures(article=False))
def test_listing_capture_is_not_an_article_dump(path: Path) -> None:
    with pytest.raises(NotADump):
        read_dump(path.read_text(encoding="utf-8", errors="replace"))
