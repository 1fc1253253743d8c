"""The gopher download handler in a real crawl, against servers on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import time
from typing import Any

import pytest

from tazarchive.gopher.handler import is_error, menu_complete
from tazarchive.gopher.urls import article_url, parse_gopher_url, tag_url
from tests.gopher_servers import free_port, gopher_server, probe, reset, slowly

MENU = b"iEine Zeile\t\ttaz.de\t70\r\n1Ein Artikel\t/!6107034\ttaz.de\t70\r\n.\r\n"
TEXT = "Nur Text, äöü.\r\n".encode()


def trickle(sock: socket.socket, selector: str) -> None:
    for _ in range(40):  # 8 s of one byte every 0.2 s: alive, never done
        sock.sendall(b"i")
        time.sleep(0.2)


def endless(sock: socket.socket, selector: str) -> None:
    chunk = b"iviel zu viel\t\ttaz.de\t70\r\n" * 4000
    for _ in range(200):
        sock.sendall(chunk)


def cut_with_reset(sock: socket.socket, selector: str) -> None:
    sock.sendall(MENU[:30])
    reset(sock)


def flaky() -> Any:
    calls = {"n": 0}

    def behave(sock: socket.socket, selector: str) -> None:
        calls["n"] += 1
        if calls["n"] <= 2:
            sock.sendall(MENU[:10])
            reset(sock)
        else:
            sock.sendall(MENU)

    return behave


@pytest.fixture(scope="module")
def crawl() -> dict[str, Any]:
    routes = {
        "/menu": MENU,
        "/text": TEXT,
        "/slow": slowly(6, MENU),
        "/trickle": trickle,
        "/big": endless,
        "/cut": MENU[: MENU.index(b".\r\n")],
        "/reset": cut_with_reset,
        "/garbage": os.urandom(3000).replace(b".\r\n", b"") + b"\r\n.\r\n",
        "/flaky": flaky(),
    }
    with gopher_server(routes) as (port, asked):
        base = f"gopher://127.0.0.1:{port}"
        urls = {
            name.strip("/"): f"{base}/{'0' if name == '/text' else '1'}{name}" for name in routes
        }
        urls["missing"] = f"{base}/1/nothing-here"
        urls["refused"] = f"gopher://127.0.0.1:{free_port()}/1/"
        result = probe(
            list(urls.values()),
            DOWNLOAD_TIMEOUT=2,
            RETRY_TIMES=2,
            TAZARCHIVE_GOPHER_MAXSIZE=100_000,
        )
    result["urls"] = urls
    result["asked"] = asked
    return result


def outcome(crawl: dict[str, Any], name: str) -> dict[str, Any]:
    result: dict[str, Any] = crawl["results"][crawl["urls"][name]]
    return result


def test_menu_arrives_as_text_response_with_gophermap_type(crawl: dict[str, Any]) -> None:
    menu = outcome(crawl, "menu")
    assert menu["status"] == 200
    assert menu["class"] == "TextResponse"
    assert menu["content_type"] == "text/x-gophermap; charset=utf-8"
    assert menu["body"].encode("latin-1") == MENU
    assert menu["protocol"] == "gopher"
    assert menu["ip_address"] == "127.0.0.1"


def test_selector_sent_is_the_url_path_after_the_type(crawl: dict[str, Any]) -> None:
    assert "/menu" in crawl["asked"]
    assert "/text" in crawl["asked"]


def test_text_item_arrives_as_plain_text(crawl: dict[str, Any]) -> None:
    text = outcome(crawl, "text")
    assert text["content_type"] == "text/plain; charset=utf-8"
    assert text["body"].encode("latin-1") == TEXT


def test_server_that_never_answers_times_out_after_retries(crawl: dict[str, Any]) -> None:
    assert outcome(crawl, "slow")["error"] == "DownloadTimeoutError"
    assert crawl["asked"].count("/slow") == 3  # first try + RETRY_TIMES


def test_server_that_trickles_forever_times_out(crawl: dict[str, Any]) -> None:
    assert outcome(crawl, "trickle")["error"] == "DownloadTimeoutError"


def test_answer_over_the_size_limit_is_cancelled_not_retried(crawl: dict[str, Any]) -> None:
    assert outcome(crawl, "big")["error"] == "DownloadCancelledError"
    assert crawl["asked"].count("/big") == 1


def test_menu_without_last_line_is_data_loss(crawl: dict[str, Any]) -> None:
    assert outcome(crawl, "cut")["error"] == "ResponseDataLossError"
    assert crawl["asked"].count("/cut") == 3


def test_connection_reset_mid_answer_fails_the_download(crawl: dict[str, Any]) -> None:
    assert outcome(crawl, "reset")["error"] == "DownloadFailedError"


def test_garbage_is_delivered_byte_for_byte_for_the_reader_to_judge(
    crawl: dict[str, Any],
) -> None:
    garbage = outcome(crawl, "garbage")
    assert garbage["status"] == 200
    assert garbage["body"].encode("latin-1").endswith(b"\r\n.\r\n")


def test_broken_connections_are_retried_until_an_answer_comes(crawl: dict[str, Any]) -> None:
    assert outcome(crawl, "flaky")["body"].encode("latin-1") == MENU
    assert crawl["asked"].count("/flaky") == 3
    assert crawl["stats"]["retry/count"] >= 2 + 2 + 2 + 2  # slow, cut, flaky, reset…


def test_error_item_becomes_not_found(crawl: dict[str, Any]) -> None:
    assert outcome(crawl, "missing")["status"] == 404


def test_refused_connection_is_a_retried_connection_error(crawl: dict[str, Any]) -> None:
    assert outcome(crawl, "refused")["error"] == "DownloadConnectionRefusedError"


def test_downloader_stats_count_gopher_responses(crawl: dict[str, Any]) -> None:
    stats = crawl["stats"]
    assert stats["downloader/response_count"] >= 5
    assert stats["downloader/response_bytes"] > len(MENU)
    assert stats["downloader/exception_type_count/scrapy.exceptions.DownloadTimeoutError"] >= 3


def test_data_loss_accepted_when_configured() -> None:
    cut = MENU[: MENU.index(b".\r\n")]
    with gopher_server({"/cut": cut}) as (port, _):
        url = f"gopher://127.0.0.1:{port}/1/cut"
        result = probe([url], DOWNLOAD_FAIL_ON_DATALOSS=False)
    assert result["results"][url]["flags"] == ["dataloss"]
    assert result["results"][url]["body"].encode("latin-1") == cut


def test_menu_complete_needs_a_lone_dot_line() -> None:
    assert menu_complete(b"iA\t\th\t70\r\n.\r\n")
    assert menu_complete(b"iA\t\th\t70\n.")
    assert not menu_complete(b"iA\t\th\t70\r\n")
    assert not menu_complete(b"i.\t\th\t70\r\n")


def test_error_item_recognised_by_type_and_tab() -> None:
    assert is_error(b"3not found\t\terror.host\t1\r\n.\r\n")
    assert not is_error(b"3 Zeilen Text ohne Tabulator\r\n")


def test_gopher_urls_split_into_type_and_selector() -> None:
    url = parse_gopher_url("gopher://taz.de/1/Politik/%21p4615")
    assert (url.host, url.port, url.type, url.selector) == ("taz.de", 70, "1", "/Politik/!p4615")
    assert parse_gopher_url("gopher://127.0.0.1:7070").selector == ""
    assert parse_gopher_url("gopher://taz.de/robots.txt").selector == "robots.txt"
    assert article_url("gopher://taz.de/1/", "6107034") == "gopher://taz.de/1/!6107034"
    assert tag_url("gopher://h:7070/1/archiv/", "5495296") == "gopher://h:7070/1/archiv/!t5495296"
    with pytest.raises(ValueError, match="not a gopher URL"):
        parse_gopher_url("https://taz.de/!6107034/")
