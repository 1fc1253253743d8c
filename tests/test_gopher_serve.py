"""``scrapy serve-gopher``: the archive's menus, and the server answering a plain socket client."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tazarchive.dump import GopherOptions, render
from tazarchive.gopher.menus import parse_menu
from tazarchive.gopher.site import GopherArchive
from tazarchive.gopher.source import MemorySource
from tazarchive.items import Article, Author, Block
from tazarchive.replica import ReplicaServer, Site
from tests.conftest import REPO

OPTIONS = GopherOptions(host="127.0.0.1", port=7071)


def article(id_: str, published: datetime | None, title: str = "Titel") -> Article:
    return Article(
        id=id_,
        url=f"https://taz.de/!{id_}/",
        title=title,
        topline="Dach",
        teaser="Ein Anreißer, der kurz bleibt.",
        published=published,
        authors=[Author("Erna Beispiel", "1102", "/Erna-Beispiel/!a1102/")],
        body=[Block("Ein Absatz.")],
    )


ARTICLES = [
    article("6000001", datetime(2025, 10, 24, 9, tzinfo=UTC), "Neu"),
    article("6000002", datetime(2025, 10, 2, 9, tzinfo=UTC), "Älter"),
    article("6000003", datetime(2025, 3, 5, 9, tzinfo=UTC)),
    article("5000004", datetime(2019, 12, 31, 23, 30, tzinfo=UTC), "Silvester"),  # Berlin: 2020
    article("173359", None, "Ohne Datum"),
]


@pytest.fixture
def site() -> GopherArchive:
    return GopherArchive(MemorySource(ARTICLES), OPTIONS)


def items(menu: str) -> list[tuple[str, str]]:
    return [(r.line.text, r.line.selector) for r in parse_menu(menu) if r.line.type == "1"]


def test_root_menu_lists_years_newest_first(site: GopherArchive) -> None:
    assert items(site.menu("")) == [
        ("2025 (3)", "/2025"),
        ("2020 (1)", "/2020"),
        ("undatiert (1)", "/undatiert"),
    ]
    assert site.menu("/") == site.menu("")


def test_year_menu_lists_its_months_by_berlin_date(site: GopherArchive) -> None:
    assert items(site.menu("/2025")) == [
        ("Oktober 2025 (2)", "/2025/10"),
        ("März 2025 (1)", "/2025/03"),
    ]
    assert items(site.menu("/2020")) == [("Januar 2020 (1)", "/2020/01")]


def test_month_menu_lists_its_articles_newest_first_as_taz_lists(site: GopherArchive) -> None:
    menu = site.menu("/2025/10")
    assert items(menu) == [("Dach: Neu", "/!6000001"), ("Dach: Älter", "/!6000002")]
    rows = [r.line.text for r in parse_menu(menu)]
    assert rows[:4] == ["# taz.de -- Oktober 2025", "", "Dach: Neu", ""]
    assert rows[4] == "Ein Anreißer, der kurz bleibt."


def test_article_selector_gives_exactly_its_gophermap(site: GopherArchive) -> None:
    expected = render(ARTICLES[0], "gophermap", gopher=OPTIONS)
    assert site.menu("/!6000001") == expected
    assert site.menu("/Slug/!6000001/") == expected  # the links inside articles


def test_author_selector_lists_the_authors_articles(site: GopherArchive) -> None:
    menu = site.menu("/Erna-Beispiel/!a1102/")
    assert parse_menu(menu)[0].line.text == "# taz.de -- Alle Artikel von Erna Beispiel"
    assert len(items(menu)) == len(ARTICLES)


@pytest.mark.parametrize("selector", ["/!999", "/1999", "/2025/13", "/2025/07", "Unsinn", "/!t5"])
def test_unknown_selectors_get_an_error_item(site: GopherArchive, selector: str) -> None:
    menu = site.menu(selector)
    assert menu.startswith("3") and menu.endswith("\r\n.\r\n")


def test_selector_prefix_is_honoured(site: GopherArchive) -> None:
    prefixed = GopherArchive(MemorySource(ARTICLES), GopherOptions(selector_prefix="/taz"))
    assert ("2025 (3)", "/taz/2025") in items(prefixed.menu(""))
    assert prefixed.menu("/taz/!6000001").startswith("i# taz.de -- Dach: Neu")


# --- the command: a subprocess serving an archive made by the HTML crawl ----------

SITE = Site(30)
IDS = list(SITE.article_ids())[::6]


def run_scrapy(*args: str, **settings: str) -> subprocess.CompletedProcess[bytes]:
    command = [sys.executable, "-m", "scrapy", *args]
    for name, value in settings.items():
        command += ["-s", f"{name}={value}"]
    return subprocess.run(command, cwd=REPO, capture_output=True, timeout=180, check=False)


def gopher_get(port: int, selector: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(selector.encode("utf-8") + b"\r\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path, dict[str, str]]]:
    """serve-gopher over an archive of IDS; yields (port, saved pages folder, gopher settings)."""
    output = tmp_path_factory.mktemp("archive")
    pages = tmp_path_factory.mktemp("pages")
    with ReplicaServer(SITE) as http:
        done = run_scrapy(
            "crawl",
            "articles",
            "-a",
            f"ids={','.join(IDS)}",
            TAZARCHIVE_BASE_URL=http.base_url,
            TAZARCHIVE_OUTPUT_DIR=str(output),
            TAZARCHIVE_WARC_ENABLED="False",
            DOWNLOAD_DELAY="0",
            AUTOTHROTTLE_ENABLED="False",
        )
        assert done.returncode == 0, done.stderr[-3000:]
        for id_ in IDS:
            with urllib.request.urlopen(f"{http.base_url}/!{id_}/", timeout=10) as page:
                (pages / f"{id_}.html").write_bytes(page.read())
    settings = {"TAZARCHIVE_GOPHER_HOST": "127.0.0.1", "TAZARCHIVE_GOPHER_PORT": "7071"}
    command = [sys.executable, "-m", "scrapy", "serve-gopher", "--port", "0"]
    for name, value in {**settings, "TAZARCHIVE_OUTPUT_DIR": str(output)}.items():
        command += ["-s", f"{name}={value}"]
    server = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        found = re.search(r"gopher://127\.0\.0\.1:(\d+)/", first)
        assert found, first
        yield int(found.group(1)), pages, settings
    finally:
        server.terminate()
        server.wait(timeout=20)
        if server.stdout is not None:
            server.stdout.close()


def test_socket_client_gets_exactly_what_extract_prints(
    served: tuple[int, Path, dict[str, str]],
) -> None:
    port, pages, settings = served
    paths = [str(pages / f"{id_}.html") for id_ in IDS]
    extracted = run_scrapy("extract", *paths, "--format", "gophermap", **settings)
    assert extracted.returncode == 0, extracted.stderr
    # extract prints one gophermap after the other, each ending with its "." row
    printed = [menu + b"\r\n.\r\n" for menu in extracted.stdout.split(b"\r\n.\r\n")[:-1]]
    assert len(printed) == len(IDS)
    for id_, menu in zip(IDS, printed, strict=True):
        assert gopher_get(port, f"/!{id_}") == menu, id_


def test_served_root_leads_through_years_and_months_to_every_article(
    served: tuple[int, Path, dict[str, str]],
) -> None:
    port, _, _ = served
    found: list[str] = []
    years = items(gopher_get(port, "").decode("utf-8"))
    assert years and all(re.fullmatch(r"\d{4} \(\d+\)", text) for text, _ in years)
    for _, year in years:
        months = items(gopher_get(port, year).decode("utf-8"))
        assert months
        for _, month in months:
            found += [selector for _, selector in items(gopher_get(port, month).decode("utf-8"))]
    assert sorted(found) == sorted(f"/!{id_}" for id_ in IDS)


def test_served_selector_too_long_or_unknown_gets_an_error_item(
    served: tuple[int, Path, dict[str, str]],
) -> None:
    port, _, _ = served
    assert gopher_get(port, "/nichts").startswith(b"3")
    assert gopher_get(port, "/" + "x" * 5000).startswith(b"3selector too long")
