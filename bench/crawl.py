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
Prints both and the ratio full / bare (target >= 0.8). ``--rounds`` pairs
(default 2) run interleaved, full then bare, each full crawl into a fresh
archive; the medians are compared, and the per-round ratios show the noise.

Also prints where the CPU went, per page: the crawl process with its worker
processes (getrusage of the reaped children), and the replica (Linux: its
/proc stat), since all three share the machine's cores; and the ceiling that
follows: cores / CPU per page estimates the most pages/s the full crawl
could do (its start-up CPU included).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
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
    crawl_cpu: float = 0.0  # seconds: the scrapy process and its worker processes
    replica_cpu: float | None = None  # seconds, where /proc tells

    @property
    def pages_per_second(self) -> float:
        return self.responses / self.seconds


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _process_cpu(pid: int | None) -> float | None:
    """CPU seconds of a running process, from /proc (None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _scrapy(
    name: str, args: list[str], settings: dict[str, str], log: Path, replica_pid: int | None
) -> Run:
    command = [sys.executable, "-m", "scrapy", *args]
    for key, value in settings.items():
        command += ["-s", f"{key}={value}"]
    cpu_before, replica_before = _children_cpu(), _process_cpu(replica_pid)
    with log.open("w", encoding="utf-8") as stderr:
        done = subprocess.run(command, cwd=REPO, stderr=stderr, check=False)
    cpu_after, replica_after = _children_cpu(), _process_cpu(replica_pid)
    text = log.read_text(encoding="utf-8")
    elapsed, responses = _ELAPSED_RE.search(text), _RESPONSES_RE.search(text)
    if done.returncode != 0 or elapsed is None or responses is None:
        sys.exit(f"{name} crawl failed (exit {done.returncode}); log: {log}")
    items = _ITEMS_RE.search(text)
    replica_cpu = (
        replica_after - replica_before
        if replica_before is not None and replica_after is not None
        else None
    )
    return Run(
        name,
        int(responses.group(1)),
        int(items.group(1)) if items else 0,
        float(elapsed.group(1)),
        cpu_after - cpu_before,
        replica_cpu,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="full + bare crawl pairs, interleaved (medians are compared)",
    )
    parser.add_argument(
        "--no-prerender",
        dest="prerender",
        action="store_false",
        help="render pages while serving (the replica then takes more of the shared cores)",
    )
    options = parser.parse_args()

    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="tazarchive-bench-") as tmp_name:
        tmp = Path(tmp_name)
        replica = ReplicaServer(Site(options.articles), mode="process", prerender=options.prerender)
        with replica as server:
            common = {
                "TAZARCHIVE_BASE_URL": server.base_url,
                "DOWNLOAD_DELAY": "0",
                "AUTOTHROTTLE_ENABLED": "0",
                "CONCURRENT_REQUESTS": str(options.concurrency),
                "CONCURRENT_REQUESTS_PER_DOMAIN": str(options.concurrency),
                "TELNETCONSOLE_ENABLED": "0",
                "LOG_LEVEL": "INFO",
            }
            url_file = tmp / "urls.txt"
            for round_ in range(options.rounds):
                # A fresh archive each round: a known article would not be fetched again.
                server.clear_log()
                full = _scrapy(
                    "full",
                    ["crawl", "taz"],
                    {**common, "TAZARCHIVE_OUTPUT_DIR": str(tmp / f"output-{round_}")},
                    tmp / f"full-{round_}.log",
                    server.pid,
                )
                targets = [t for t in server.request_log if t != "/robots.txt"]
                if round_ == 0:
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
                    tmp / f"bare-{round_}.log",
                    server.pid,
                )
                if runs and full.responses != runs[0].responses:
                    sys.exit("the full crawls fetched different numbers of pages")
                if len(server.request_log) < len(targets):
                    sys.exit("the bare crawl fetched fewer pages than the full one")
                runs += [full, bare]
    _report(options, runs)


def _report(options: argparse.Namespace, runs: list[Run]) -> None:
    rendering = "prerendered" if options.prerender else "rendered while serving"
    print(
        f"replica: {options.articles} articles ({rendering}), concurrency {options.concurrency},"
        f" {options.rounds} rounds (full, bare, full, bare, ...)"
    )
    print(
        f"{'crawl':<6} {'pages':>7} {'items':>7} {'seconds':>8} {'pages/s':>8}"
        f" {'crawl CPU ms/page':>17} {'replica CPU ms/page':>20}"
    )
    for run in runs:
        replica = (
            f"{1000 * run.replica_cpu / run.responses:>20.2f}"
            if run.replica_cpu is not None
            else f"{'n/a':>20}"
        )
        print(
            f"{run.name:<6} {run.responses:>7} {run.items:>7} {run.seconds:>8.1f}"
            f" {run.pages_per_second:>8.1f} {1000 * run.crawl_cpu / run.responses:>17.2f}"
            f" {replica}"
        )
    fulls = [run for run in runs if run.name == "full"]
    bares = [run for run in runs if run.name == "bare"]
    full_rate = statistics.median(run.pages_per_second for run in fulls)
    bare_rate = statistics.median(run.pages_per_second for run in bares)
    per_round = [f.pages_per_second / b.pages_per_second for f, b in zip(fulls, bares, strict=True)]
    print(
        f"median pages/s: full {full_rate:.1f}, bare {bare_rate:.1f};"
        f" per round {min(per_round):.2f}-{max(per_round):.2f}"
    )
    # The most the full crawl could do if all cores were busy with it and the
    # replica, at the CPU per page it was measured to need (process start-up
    # included, which Scrapy's elapsed time is not: on small sites it is low).
    cores = os.cpu_count() or 1
    cpu_per_page = statistics.median(
        (run.crawl_cpu + (run.replica_cpu or 0.0)) / run.responses for run in fulls
    )
    ceiling = cores / cpu_per_page
    print(
        f"CPU estimate of the full crawl's ceiling: {cores} cores /"
        f" {1000 * cpu_per_page:.2f} ms CPU per page"
        f" = {ceiling:.0f} pages/s, ratio <= {ceiling / bare_rate:.2f}"
    )
    print(f"ratio full/bare: {full_rate / bare_rate:.2f} (target >= 0.8)")


if __name__ == "__main__":
    main()
