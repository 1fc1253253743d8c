"""How many pages/s the replica serves in process mode (the crawl benchmark's server).

    python bench/replica.py [--articles 10000] [--connections 8]

Starts ``ReplicaServer(mode="process")`` three ways (rendering on demand,
with a page cache, pre-rendered), fetches every article page once plus every
section listing page over keep-alive connections from an asyncio client in
this process, and prints pages/s and MB/s side by side. The client runs on
the other core; its own ceiling is printed too (the same pages fetched a
second time from the pre-rendered server).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from urllib.parse import urlsplit

from tazarchive.replica import ReplicaServer, Site
from tazarchive.replica.site import OVERVIEW, SECTIONS


async def _fetch_all(base_url: str, targets: list[str], connections: int) -> tuple[int, int]:
    """GET every target (keep-alive); returns (responses with status 200, body bytes)."""
    parts = urlsplit(base_url)
    queue: asyncio.Queue[str] = asyncio.Queue()
    for target in targets:
        queue.put_nowait(target)
    ok = 0
    size = 0

    async def worker() -> None:
        nonlocal ok, size
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            while not queue.empty():
                target = queue.get_nowait()
                writer.write(f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode())
                status_line = await reader.readline()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                body = await reader.readexactly(length)
                ok += status_line.split()[1] == b"200"
                size += len(body)
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return ok, size


def _targets(site: Site) -> list[str]:
    targets = [f"/!{article_id}/" for article_id in site.article_ids()]
    for section in SECTIONS.values():
        if section.id == OVERVIEW.id:
            continue
        for page in range(1, site.listing_pages("section", section.id) + 1):
            targets.append(section.path + site.page_query(page))
    return targets


def _run(site: Site, targets: list[str], connections: int, **options: bool) -> list[str]:
    rows = []
    started = time.perf_counter()
    with ReplicaServer(site, mode="process", log_requests=False, **options) as server:
        ready = time.perf_counter() - started
        for attempt in ("first fetch", "second fetch") if options.get("prerender") else ("",):
            began = time.perf_counter()
            ok, size = asyncio.run(_fetch_all(server.base_url, targets, connections))
            elapsed = time.perf_counter() - began
            assert ok == len(targets), (ok, len(targets))
            name = "+".join(k for k, v in options.items() if v) or "on demand"
            rows.append(
                f"{name + (' ' + attempt if attempt else ''):<28} {len(targets):>7} "
                f"{len(targets) / elapsed:>9.0f} {size / elapsed / 1e6:>7.1f} {ready:>8.1f}"
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    site = Site(args.articles)
    targets = _targets(site)
    print(f"replica of {args.articles} articles, {args.connections} keep-alive connections")
    print(f"{'server':<28} {'pages':>7} {'pages/s':>9} {'MB/s':>7} {'start s':>8}")
    for options in ({}, {"cache": True}, {"prerender": True}):
        for row in _run(site, targets, args.connections, **options):
            print(row)


if __name__ == "__main__":
    main()
