"""Requests per stored article, per spider, against the replica on 127.0.0.1.

    python bench/requests.py [--articles 10000] [--listing-markup taz|plain] [--spiders taz,sitemap]

Starts the replica (child process) and runs ``scrapy crawl <spider>`` for
taz, sitemap, feed, author and tag (the replica's busiest author and tag),
each into a fresh temporary archive, with no item pipelines, feeds or WARC
(their cost is not the point) and the replica's politeness overrides. Reads
Scrapy's final stats from each log: ``downloader/request_count`` (robots.txt
and retries included) and ``item_scraped_count`` (the articles a run would
store). Prints requests, articles and requests per article; the sitemap
spider should be close to 1.0 (the index, its sitemaps and robots.txt
are the overhead). Also prints the listing pages and the pages probed
(``tazarchive.stats``) to show what discovery cost.

Talks to 127.0.0.1 only: the base URL is the replica's, taz.de links map
onto it, and the script stops if any request went elsewhere (offsite stats).
"""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from tazarchive import stats
from tazarchive.replica import ReplicaServer, Site

REPO = Path(__file__).resolve().parent.parent
SPIDERS = ("taz", "sitemap", "feed", "author", "tag")
_STATS_RE = re.compile(r"Dumping Scrapy stats:\n(\{.*?\})\n", re.DOTALL)


@dataclass
class Result:
    spider: str
    requests: int
    articles: int
    listing_pages: int
    probed: int
    seconds: float

    @property
    def per_article(self) -> float:
        return self.requests / self.articles if self.articles else float("inf")


def final_stats(log: str) -> dict[str, object]:
    """Scrapy's stats dump at the end of a crawl log (datetimes dropped)."""
    match = _STATS_RE.search(log)
    if match is None:
        return {}
    text = re.sub(r"datetime\.datetime\([^)]*\)", "None", match.group(1))
    value = ast.literal_eval(text)
    return value if isinstance(value, dict) else {}


def run(spider: str, args: list[str], base_url: str, tmp: Path) -> Result:
    log = tmp / f"{spider}.log"
    settings = {
        "TAZARCHIVE_BASE_URL": base_url,
        "TAZARCHIVE_OUTPUT_DIR": str(tmp / f"output-{spider}"),
        "TAZARCHIVE_WARC_ENABLED": "0",
        "ITEM_PIPELINES": "{}",
        "FEEDS": "{}",
        "DOWNLOAD_DELAY": "0",
        "AUTOTHROTTLE_ENABLED": "0",
        "CONCURRENT_REQUESTS": "16",
        "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
        "LOG_LEVEL": "INFO",
    }
    command = [sys.executable, "-m", "scrapy", "crawl", spider]
    for arg in args:
        command += ["-a", arg]
    for name, value in settings.items():
        command += ["-s", f"{name}={value}"]
    with log.open("w", encoding="utf-8") as stderr:
        subprocess.run(command, cwd=REPO, stderr=stderr, stdout=subprocess.DEVNULL, check=False)
    found = final_stats(log.read_text(encoding="utf-8"))
    if not found:
        sys.exit(f"{spider}: no final stats in {log}")
    if any(str(key).startswith(stats.offsite("")) for key in found):
        sys.exit(f"{spider}: a request left the replica (offsite stats in {log})")

    def number(key: str) -> int:
        value = found.get(key, 0)
        return int(value) if isinstance(value, int | float) else 0

    elapsed = found.get("elapsed_time_seconds", 0.0)
    return Result(
        spider,
        number("downloader/request_count"),
        number("item_scraped_count"),
        number(stats.LISTING_PAGES),
        number(stats.LISTING_PAGES_PROBED),
        float(elapsed) if isinstance(elapsed, int | float) else 0.0,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--listing-markup", choices=("taz", "plain"), default="taz")
    parser.add_argument("--spiders", default=",".join(SPIDERS))
    options = parser.parse_args()
    site = Site(options.articles, listing_markup=options.listing_markup)
    busiest = {
        "author": max(site.author_ids(), key=lambda id_: site.listing_pages("author", id_)),
        "tag": max(site.tag_ids(), key=lambda id_: site.listing_pages("tag", id_)),
    }
    results = []
    with (
        tempfile.TemporaryDirectory(prefix="tazarchive-bench-") as tmp_name,
        ReplicaServer(site, mode="process") as server,
    ):
        if urlsplit(server.base_url).hostname != "127.0.0.1":
            sys.exit(f"the replica is not on 127.0.0.1: {server.base_url}")
        for spider in options.spiders.split(","):
            args = [f"{spider}={busiest[spider]}"] if spider in busiest else []
            results.append(run(spider, args, server.base_url, Path(tmp_name)))
    print(f"replica: {options.articles} articles, listing markup {options.listing_markup}")
    print(
        f"{'spider':<8} {'requests':>9} {'articles':>9} {'req/article':>12}"
        f" {'listings':>9} {'probed':>7} {'seconds':>8}"
    )
    for r in results:
        print(
            f"{r.spider:<8} {r.requests:>9} {r.articles:>9} {r.per_article:>12.3f}"
            f" {r.listing_pages:>9} {r.probed:>7} {r.seconds:>8.1f}"
        )


if __name__ == "__main__":
    main()
