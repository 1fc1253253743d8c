"""What each step of the full crawl costs per page, timed alone on replica pages.

    python bench/steps.py [--articles 300]

The steps are those the full crawl does besides fetching (bench/crawl.py
compares the whole against a bare fetch): extraction of article and listing
pages, the WARC records of an exchange, normalisation, content hash, JSONL
line, dump rendering and the atomic dump write (temp file, fsync, rename),
that write alone, and the same without its fsync.
Each runs in this process over the same pages, one after the other; CPU ms
per call is process time (the fsync's kernel time included), wall ms beside
it. No server, no network: pages come from the replica's rendering.
"""

from __future__ import annotations

import argparse
import copy
import io
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tazarchive.archive import ArchiveLayout, content_hash, write_atomic
from tazarchive.dump import render
from tazarchive.exporters import ArticleJsonLinesExporter
from tazarchive.extract import extract_article, extract_listing
from tazarchive.items import Article
from tazarchive.normalise import normalise_article
from tazarchive.replica import Site
from tazarchive.replica.server import respond
from tazarchive.warc import HttpMessage, exchange_records

BASE = "http://127.0.0.1:8000"


def _store_dump(root: Path, item: Article) -> None:
    """Render and write one dump where the archive puts it (what Archive.store does for it)."""
    layout = ArchiveLayout.from_settings({"TAZARCHIVE_OUTPUT_DIR": str(root)})
    write_atomic(layout.dump_path(item, item.revision), render(item, "seed").encode("utf-8"))


def timed(name: str, step: Callable[[Any], object], inputs: Sequence[Any]) -> None:
    wall, cpu = time.perf_counter(), time.process_time()
    for value in inputs:
        step(value)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    calls = len(inputs)
    print(f"{name:<34} {calls:>6} {1000 * cpu / calls:>10.3f} {1000 * wall / calls:>10.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=300)
    options = parser.parse_args()

    site = Site(max(options.articles, 10))
    ids = list(site.article_ids())[: options.articles]
    articles = [(f"{BASE}/!{id_}/", respond(site, f"/!{id_}/").body) for id_ in ids]
    tags = list(site.tag_ids())[: max(1, options.articles // 10)]
    listings = [(f"{BASE}/!t{tag}/", respond(site, f"/!t{tag}/").body) for tag in tags]
    extracted = [extract_article(body, url) for url, body in articles]
    items: list[Article] = [item for item in extracted if item is not None]
    exporter = ArticleJsonLinesExporter(io.BytesIO())

    print(f"replica: {len(articles)} article pages, {len(listings)} tag listing pages")
    print(f"{'step':<34} {'calls':>6} {'CPU ms':>10} {'wall ms':>10}")
    timed("extract_article", lambda page: extract_article(page[1], page[0]), articles)
    timed("extract_listing", lambda page: extract_listing(page[1], page[0]), listings)
    request = HttpMessage("GET / HTTP/1.1", [("Host", "127.0.0.1:8000")])
    timed(
        "exchange_records (WARC, gzip)",
        lambda page: exchange_records(
            page[0], request, HttpMessage("HTTP/1.1 200 OK", [], page[1])
        ),
        articles,
    )
    copies = [copy.deepcopy(item) for item in items]
    timed("normalise_article", normalise_article, copies)
    timed("content_hash", content_hash, copies)
    timed("JSONL line (export_item)", exporter.export_item, copies)
    timed("render seed dump", lambda item: render(item, "seed"), copies)
    dumps = [render(item, "seed").encode() for item in copies]
    with tempfile.TemporaryDirectory(prefix="tazarchive-steps-") as tmp:
        timed(
            "store_dump (render + fsync write)", lambda item: _store_dump(Path(tmp), item), copies
        )
        numbered = list(enumerate(dumps))
        folder = Path(tmp, "write_atomic")
        timed(
            "write_atomic (temp, fsync, rename)",
            lambda n: write_atomic(folder / f"{n[0]}", n[1]),
            numbered,
        )
        folder = Path(tmp, "unsynced")
        timed(
            "  the same without fsync",
            lambda n: _write_unsynced(folder / f"{n[0]}", n[1]),
            numbered,
        )


def _write_unsynced(path: Path, data: bytes) -> None:
    """write_atomic without its fsync: what the fsync costs is the difference."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_bytes(data)
    os.replace(temp, path)


if __name__ == "__main__":
    main()
