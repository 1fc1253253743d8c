"""The gophermap rendering, served by a tiny gopher server on 127.0.0.1."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tazarchive.dump import GopherOptions, read_dump, render
from tests.conftest import DATA, SHARED, needs_shared

SEED = SHARED / "seeds" / "000_b6232123bae38cdf.txt"


@contextmanager
def gopher_server(menus: dict[str, bytes]) -> Iterator[tuple[str, int]]:
    """Serve ``menus`` by selector (RFC 1436: read one CRLF line, answer, close)."""

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            selector = self.rfile.readline().decode("utf-8").rstrip("\r\n")
            self.wfile.write(menus.get(selector, b"3not found\t\terror.host\t1\r\n.\r\n"))

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[0], server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def fetch(host: str, port: int, selector: str) -> bytes:
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(selector.encode("utf-8") + b"\r\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def served_rows(gophermap: str, selector: str = "/!6110749/") -> list[list[str]]:
    with gopher_server({selector: gophermap.encode("utf-8")}) as (host, port):
        data = fetch(host, port, selector)
    assert data == gophermap.encode("utf-8")
    lines = data.decode("utf-8").split("\r\n")
    assert lines[-2:] == [".", ""]
    return [line.split("\t") for line in lines[:-2]]


@needs_shared
def test_seed_article_gophermap_served_and_fetched_line_for_line() -> None:
    article = read_dump(SEED.read_text(encoding="utf-8"))
    options = GopherOptions(host="127.0.0.1", port=7070, selector_prefix="/archiv")
    gophermap = render(article, "gophermap", gopher=options)
    rows = served_rows(gophermap)
    assert all(len(row) == 4 for row in rows)
    assert all(row[2:] == ["127.0.0.1", "7070"] for row in rows)
    # Each row's display text is the text rendering's line, in order.
    assert [row[0][1:] for row in rows] == render(article, "text").split("\n")[:-1]
    by_display = {row[0]: row for row in rows}
    assert (
        rows[0][0]
        == "i# taz.de -- Tagebuch aus Kasachstan: Etwas besseres als Almaty finden sie fast …"
    )
    assert by_display["1[1] /Tagebuch-aus-Kasachstan/!6110749"][1] == (
        "/archiv/Tagebuch-aus-Kasachstan/!6110749"
    )
    assert by_display["h[4] https://myrotvorets.center/"][1] == "URL:https://myrotvorets.center/"
    assert by_display["1Nikita Danilin"][0] == "1Nikita Danilin"
    assert [row[0][0] for row in rows].count("I") == 1
    assert next(row for row in rows if row[0][0] == "I")[0].startswith("IBild: Kooperation")
    assert sum(1 for row in rows if row[0][0] == "1" and ": " in row[0]) == 8  # related


def test_fixture_gophermap_fetched_back_reads_as_same_article() -> None:
    text = (DATA / "dump" / "full.txt").read_text(encoding="utf-8")
    article = read_dump(text)
    gophermap = render(article, "gophermap")
    rows = served_rows(gophermap, selector="/!5900123/")
    assert [row[0][0] for row in rows if row[0][1:] == "Mara Feldkamp"] == ["1"]
    assert [row[1] for row in rows if row[0].startswith("h[3]")] == [
        "URL:https://example.org/giessplan"
    ]
    again = read_dump(gophermap)
    assert render(again, "text") == text


def test_gophermap_uses_settings_defaults() -> None:
    # TAZARCHIVE_GOPHER_HOST / _PORT defaults in tazarchive/settings.py.
    from tazarchive import settings

    options = GopherOptions()
    assert (options.host, options.port, options.selector_prefix) == (
        settings.TAZARCHIVE_GOPHER_HOST,
        settings.TAZARCHIVE_GOPHER_PORT,
        settings.TAZARCHIVE_GOPHER_SELECTOR_PREFIX,
    )


def test_gopher_options_from_scrapy_settings() -> None:
    from scrapy.settings import Settings

    options = GopherOptions.from_settings(
        Settings({"TAZARCHIVE_GOPHER_HOST": "gopher.example", "TAZARCHIVE_GOPHER_PORT": "7071"})
    )
    assert options == GopherOptions("gopher.example", 7071, "")


@pytest.mark.parametrize("ending", ["\r\n.\r\n"])
def test_gophermap_ends_with_dot_line(ending: str) -> None:
    text = (DATA / "dump" / "minimal.txt").read_text(encoding="utf-8")
    assert render(read_dump(text), "gophermap").endswith(ending)


def test_gophermap_read_back_keeps_author_and_related_targets() -> None:
    from tazarchive.items import Article, Author, Related

    article = Article(
        id="1",
        url="",
        title="T",
        teaser="Vorspann.",
        authors=[Author("Nikita Danilin", "144060", "/Nikita-Danilin/!a144060/")],
        related=[Related("6110749", "/Tagebuch-aus-Kasachstan/!6110749", "Dach", "Titel", "Text.")],
    )
    options = GopherOptions(host="127.0.0.1", port=7070, selector_prefix="/archiv")
    gophermap = render(article, "gophermap", gopher=options)
    assert "1Nikita Danilin\t/archiv/Nikita-Danilin/!a144060/\t127.0.0.1\t7070\r\n" in gophermap
    back = read_dump(gophermap, gopher=options)
    assert back.authors == article.authors
    assert back.related == article.related
