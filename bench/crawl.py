"""Crawl throughput: our full crawl against a bare fetch of the same pages.

    python bench/crawl.py [--articles 10000] [--concurrency 16]

Starts the replica in child-process mode, then in one run:

1. ``scrapy crawl taz`` with the project's settings as they are (all item
   pipelines, feeds, WARC, extensions), into a temporary output dir;
2. a bare spider (bench/bare_spider.py) that fetches exactly the URLs the
   first crawl fetched (from the replica's request log) and does nothing
   with them: no extraction, no items, no pipelines, feeds or WARC.

Both run as ``scrapy`` subprocesses from the repo with the same concurrency
and the replica's politeness overrides (no delay, no AutoThrottle;
robots.txt still obeyed). Pages/s = responses / Scrapy's
``elapsed_time_seconds``, both read from the crawl's final stats in its log.
Prints both and the ratio full / bare (target >= 0.8).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tazarchive.replica import ReplicaServer, Site

REPO = Path(__file__).resolve().parent.parent

_ELAPSED_RE = re.compile(r"'elapsed_time_seconds': ([\d.]+)")
_RESPONSES_RE = re.compile(r"'downloader/response_count': (\d+)")
_ITEMS_RE = re.compile(r"'item_scraped_count': (\d+)")


@dataclass
class Run:
    name: str
    responses: int
    items: int
    seconds: float

    @property
    def pages_per_second(self) -> float:
        return self.responses / self.seconds


def _scrapy(name: str, args: list[str], settings: dict[str, str], log: Path) -> Run:
    command = [sys.executable, "-m", "scrapy", *args]
    for key, value in settings.items():
        command += ["-s", f"{key}={value}"]
    with log.open("w", encoding="utf-8") as stderr:
        done = subprocess.run(command, cwd=REPO, stderr=stderr, check=False)
    text = log.read_text(encoding="utf-8")
    elapsed, responses = _ELAPSED_RE.search(text), _RESPONSES_RE.search(text)
    if done.returncode != 0 or elapsed is None or responses is None:
        sys.exit(f"{name} crawl failed (exit {done.returncode}); log: {log}")
    items = _ITEMS_RE.search(text)
    return Run(
        name, int(responses.group(1)), int(items.group(1)) if items else 0, float(elapsed.group(1))
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=16)
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="tazarchive-bench-") as tmp_name:
        tmp = Path(tmp_name)
        with ReplicaServer(Site(options.articles), mode="process") as server:
            common = {
                "TAZARCHIVE_BASE_URL": server.base_url,
                "DOWNLOAD_DELAY": "0",
                "AUTOTHROTTLE_ENABLED": "0",
                "CONCURRENT_REQUESTS": str(options.concurrency),
                "CONCURRENT_REQUESTS_PER_DOMAIN": str(options.concurrency),
                "TELNETCONSOLE_ENABLED": "0",
                "LOG_LEVEL": "INFO",
            }
            full = _scrapy(
                "full",
                ["crawl", "taz"],
                {**common, "TAZARCHIVE_OUTPUT_DIR": str(tmp / "output")},
                tmp / "full.log",
            )
            targets = [t for t in server.request_log if t != "/robots.txt"]
            url_file = tmp / "urls.txt"
            url_file.write_text("".join(f"{server.base_url}{t}\n" for t in targets))
            server.clear_log()
            bare = _scrapy(
                "bare",
                ["runspider", "bench/bare_spider.py", "-a", f"urls={url_file}"],
                {
                    **common,
                    "TAZARCHIVE_OUTPUT_DIR": str(tmp / "bare-output"),
                    "ITEM_PIPELINES": "{}",
                    "SPIDER_MIDDLEWARES": "{}",
                    "FEEDS": "{}",
                    "TAZARCHIVE_WARC_ENABLED": "0",
                },
                tmp / "bare.log",
            )
            if len(server.request_log) < len(targets):
                sys.exit("the bare crawl fetched fewer pages than the full one")

    print(f"replica: {options.articles} articles, concurrency {options.concurrency}")
    print(f"{'crawl':<6} {'pages':>7} {'items':>7} {'seconds':>8} {'pages/s':>8}")
    for run in (full, bare):
        print(
            f"{run.name:<6} {run.responses:>7} {run.items:>7} {run.seconds:>8.1f}"
            f" {run.pages_per_second:>8.1f}"
        )
    print(f"ratio full/bare: {full.pages_per_second / bare.pages_per_second:.2f} (target >= 0.8)")


if __name__ == "__main__":
    main()
