"""``scrapy crawl gopher``: callbacks on built responses, arguments, and crawls on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request
from scrapy.http import TextResponse
from scrapy.utils.test import get_crawler
from warcio.archiveiterator import ArchiveIterator

from tazarchive import stats
from tazarchive.dump import render
from tazarchive.extract.errors import PageRejected
from tazarchive.items import Article
from tazarchive.replica import SECTIONS, ReplicaServer, Site
from tazarchive.spiders.base import ARTICLE_ID_META, SpiderArgumentError
from tazarchive.spiders.gopher import LISTING_KIND_META, GopherSpider
from tazarchive.warc import iter_responses
from tests.conftest import REPO
from tests.gopher_replica import as_taz_sends, replica_gopher, replica_menu

N_ARTICLES = 60
SITE = Site(N_ARTICLES)


def spider(**arguments: str) -> GopherSpider:
    crawler = get_crawler(
        GopherSpider, {"TAZARCHIVE_GOPHER_URL": "gopher://127.0.0.1:7070/1/archiv/"}
    )
    built: GopherSpider = GopherSpider.from_crawler(crawler, **arguments)
    return built


def menu_response(url: str, text: str, **meta: Any) -> TextResponse:
    request = Request(url, meta=meta)
    return TextResponse(url, body=text.encode("utf-8"), encoding="utf-8", request=request)


def collect(results: AsyncIterator[Any]) -> list[Any]:
    async def gather() -> list[Any]:
        return [item async for item in results]

    return asyncio.run(gather())


def test_ids_become_article_menus_below_the_gopher_url() -> None:
    requests = list(spider(ids="6107034,!5536273").initial_requests())
    assert [r.url for r in requests] == [
        "gopher://127.0.0.1:7070/1/archiv/!6107034",
        "gopher://127.0.0.1:7070/1/archiv/!5536273",
    ]
    assert [r.meta[ARTICLE_ID_META] for r in requests] == ["6107034", "5536273"]


def test_author_and_tag_start_at_their_menus() -> None:
    [author] = spider(author="https://taz.de/Erna/!a1102/").initial_requests()
    [tag] = spider(tag="5495296").initial_requests()
    assert author.url == "gopher://127.0.0.1:7070/1/archiv/!a1102"
    assert tag.url == "gopher://127.0.0.1:7070/1/archiv/!t5495296"
    [root] = spider().initial_requests()
    assert root.url == "gopher://127.0.0.1:7070/1/archiv/"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"author": "1", "tag": "2"}, "exclude each other"),
        ({"tag": "https://example.org/x"}, "not a taz tag"),
        ({"ids": "12,abc"}, "not a taz article id"),
        ({"colour": "blue"}, "unknown argument -a colour"),
    ],
)
def test_unusable_arguments_are_refused_with_one_line(
    arguments: dict[str, str], message: str
) -> None:
    with pytest.raises(SpiderArgumentError, match=message):
        GopherSpider.check_arguments(arguments)
    assert message in (spider(**arguments).argument_error or "")


def test_every_argument_has_help() -> None:
    assert set(GopherSpider.ARGUMENTS) == {"ids", "author", "tag", "refresh"}
    assert all(text.strip() for text in GopherSpider.ARGUMENTS.values())


def test_article_menu_becomes_the_article_with_its_https_url() -> None:
    id_ = next(iter(SITE.article_ids()))
    truth = as_taz_sends(SITE.article(id_))
    response = menu_response(
        f"gopher://127.0.0.1:7070/1/!{id_}", replica_menu(SITE, f"/!{id_}"), taz_article_id=id_
    )
    [article] = collect(spider().parse_article(response))
    assert isinstance(article, Article)
    assert (article.id, article.layout, article.url) == (id_, "gopher", response.url)
    assert article.fetched is not None
    assert render(article, "seed") == render(truth, "seed")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("3nicht gefunden\t\terror.host\t1\r\n.\r\n", "unknown_design"),
        ("i# taz.de -- Titel \ufffd kaputt\t\ttaz.de\t70\r\n.\r\n", "undecodable"),
    ],
)
def test_menus_that_are_no_clean_article_are_rejected(body: str, reason: str) -> None:
    response = menu_response("gopher://h/1/!1", body, taz_article_id="1")
    with pytest.raises(PageRejected) as caught:
        collect(spider().parse_article(response))
    assert caught.value.reason == reason


def test_listing_menu_asks_for_each_article_once() -> None:
    author = SITE.author_ids()[0]
    text = replica_menu(SITE, f"/!a{author}")
    requests = collect(
        spider().parse_menu(
            menu_response("gopher://h/1/!a1", text, **{LISTING_KIND_META: "author"})
        )
    )
    assert [r.meta[ARTICLE_ID_META] for r in requests] == SITE.articles_of_author(author)
    assert all(r.url.startswith("gopher://127.0.0.1:7070/1/archiv/!") for r in requests)


def test_root_menu_leads_to_the_sections() -> None:
    text = replica_menu(SITE, "")
    requests = collect(
        spider().parse_menu(menu_response("gopher://h/1/", text, **{LISTING_KIND_META: "root"}))
    )
    assert {r.url.rsplit("/", 1)[-1] for r in requests} == {"!p4608", "!p4615"} | {
        r.url.rsplit("/", 1)[-1] for r in requests
    }
    assert "gopher://127.0.0.1:7070/1/archiv/!p4615" in [r.url for r in requests]


# --- crawls: `scrapy crawl` in a subprocess, servers in this process ---------


def scrapy_crawl(spider_name: str, output: Path, *args: str, **settings: str) -> str:
    values = {
        "TAZARCHIVE_OUTPUT_DIR": str(output),
        "DOWNLOAD_DELAY": "0",
        "AUTOTHROTTLE_ENABLED": "False",
        "TAZARCHIVE_WARC_ENABLED": "True",
        "TAZARCHIVE_PROGRESS_INTERVAL": "0",
        **settings,
    }
    command = [sys.executable, "-m", "scrapy", "crawl", spider_name, *args]
    for name, value in values.items():
        command += ["-s", f"{name}={value}"]
    done = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stderr


def dumps(output: Path) -> dict[str, bytes]:
    folder = output / "dumps"
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def warc_records(folder: Path) -> list[tuple[str, str, str, bytes]]:
    """(type, target URI, content type, block) of every record in the folder's WARC files."""
    found = []
    for path in sorted(folder.glob("*.warc.gz")):
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                found.append(
                    (
                        record.rec_type,
                        record.rec_headers.get_header("WARC-Target-URI"),
                        record.rec_headers.get_header("Content-Type"),
                        record.content_stream().read(),
                    )
                )
    return found


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[str, str, list[str]]]:
    with ReplicaServer(SITE) as http, replica_gopher(SITE) as (port, asked):
        yield http.base_url, f"gopher://127.0.0.1:{port}/1/", asked


def test_gopher_crawl_archives_the_same_seed_dumps_as_the_html_crawl(
    servers: tuple[str, str, list[str]], tmp_path: Path
) -> None:
    http, gopher, asked = servers
    ids = ",".join(list(SITE.article_ids())[:: N_ARTICLES // 12])
    scrapy_crawl("articles", tmp_path / "html", "-a", f"ids={ids}", TAZARCHIVE_BASE_URL=http)
    scrapy_crawl("gopher", tmp_path / "gopher", "-a", f"ids={ids}", TAZARCHIVE_GOPHER_URL=gopher)
    from_html, from_gopher = dumps(tmp_path / "html"), dumps(tmp_path / "gopher")
    assert len(from_gopher) == len(ids.split(","))
    assert from_gopher == from_html
    assert {f"/!{id_}" for id_ in ids.split(",")} <= set(asked)  # it really went over gopher
    records = warc_records(tmp_path / "gopher" / "warc")
    resources = {uri: body for kind, uri, _, body in records if kind == "resource"}
    for id_ in ids.split(","):
        url = f"{gopher}!{id_}"
        assert resources[url] == replica_menu(SITE, f"/!{id_}").encode("utf-8")
    requests = [(uri, body) for kind, uri, _, body in records if kind == "request"]
    assert (f"{gopher}!{ids.split(',')[0]}", f"/!{ids.split(',')[0]}\r\n".encode()) in requests
    assert {ctype for kind, _, ctype, _ in records if kind == "resource"} == {
        "text/x-gophermap; charset=utf-8",
        "text/plain; charset=utf-8",  # robots.txt, a type 0 item
    }
    assert not [r for r in records if r[0] == "response"]  # no made-up HTTP headers
    assert list(iter_responses(sorted((tmp_path / "gopher" / "warc").iterdir()))) == []


def test_gopher_author_crawl_archives_every_article_of_the_author(
    servers: tuple[str, str, list[str]], tmp_path: Path
) -> None:
    _, gopher, asked = servers
    author = SITE.author_ids()[1]
    scrapy_crawl("gopher", tmp_path, "-a", f"author={author}", TAZARCHIVE_GOPHER_URL=gopher)
    records = [
        json.loads(line)
        for path in (tmp_path / "jsonl").glob("*.jsonl")
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    assert sorted(r["id"] for r in records) == sorted(SITE.articles_of_author(author))
    assert {r["layout"] for r in records} == {"gopher"}
    assert f"/!a{author}" in asked


def test_gopher_copy_never_replaces_the_html_revision(
    servers: tuple[str, str, list[str]], tmp_path: Path
) -> None:
    http, gopher, _ = servers
    ids = list(SITE.article_ids())[1:4]
    scrapy_crawl("articles", tmp_path, "-a", f"ids={','.join(ids)}", TAZARCHIVE_BASE_URL=http)
    before = dumps(tmp_path)
    scrapy_crawl(
        "gopher",
        tmp_path,
        "-a",
        f"ids={','.join(ids)}",
        "-a",
        "refresh=1",
        TAZARCHIVE_GOPHER_URL=gopher,
        TAZARCHIVE_BASE_URL=http,
    )
    assert dumps(tmp_path) == before
    [report] = sorted((tmp_path / "runs").glob("gopher-*.json"))
    run = json.loads(report.read_text(encoding="utf-8"))
    assert run["counts"]["revised"] == run["counts"]["new"] == 0
    # the run report lists tazarchive/… keys without their prefix
    assert run["tazarchive"][stats.ARTICLES_KEPT_HTML.removeprefix("tazarchive/")] == 3


def test_gopher_crawl_without_arguments_walks_root_and_sections(
    servers: tuple[str, str, list[str]], tmp_path: Path
) -> None:
    _, gopher, _ = servers
    scrapy_crawl("gopher", tmp_path, TAZARCHIVE_GOPHER_URL=gopher, CONCURRENT_REQUESTS="16")
    records = [
        json.loads(line)
        for path in (tmp_path / "jsonl").glob("*.jsonl")
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    listed = {id_ for section in SECTIONS for id_ in SITE.articles_of_section(section)}
    assert listed
    assert sorted(r["id"] for r in records) == sorted(listed)
