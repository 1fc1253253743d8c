"""Ledger benchmark: memory over many known ids, and what a re-run fetches.

    python bench/ledger.py                 # both parts, issue sizes (1,000/100,000; 10,000)
    python bench/ledger.py --rerun-articles 2000 --skip-memory

1. Peak RSS (ru_maxrss of a child process) of a run over a ledger of 1,000
   known ids beside one over 100,000: every id goes through the spider
   middleware (an article request for it, dropped as known) and 1,000 of them
   through ``Archive.store`` (an unchanged article: known). The
   ledgers are filled in other child processes first, so filling costs nothing
   here. Target: within 50 MB of each other.
2. A re-run over N known articles (10,000): a replica site of N articles in
   its own process, a first ``scrapy crawl sitemap`` that archives them, then
   the same crawl again; the replica's request log counts the article pages
   each run fetched. Target: the re-run fetches at most 2% of them.

Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

FIRST_ID = 7_000_000
DEDUP_SAMPLE = 1_000
ARTICLE_PATH = re.compile(r"!\d+")  # /<slug>/!<id>/ ; authors are !a…, tags !t…, sections !p…


def _article(article_id: str):  # type: ignore[no-untyped-def]
    from tazarchive.items import Article, Block

    return Article(
        id=article_id,
        url=f"https://taz.de/!{article_id}/",
        title=f"Titel {article_id}",
        body=[Block(f"Ein erfundener Absatz für Artikel {article_id}.")],
        published=datetime(2025, 1, 1, tzinfo=UTC),
    )


def child_fill(db: str, count: int) -> None:
    from tazarchive.archive import Ledger, content_hash

    with Ledger(db) as ledger:
        for n in range(count):
            article = _article(str(FIRST_ID + n))
            ledger.record(
                article, revision=1, content_hash=content_hash(article), dump_path=f"d/{n}.txt"
            )


def child_run(db: str, count: int) -> None:
    """One "run" over the ledger; prints ru_maxrss (KiB) and how many were dropped as known."""
    from scrapy import Request

    from tazarchive import stats as keys
    from tazarchive.archive import Archive, ArchiveLayout, CountingStats, Ledger
    from tazarchive.archive.crawl import KnownArticlesMiddleware

    stats = CountingStats()
    started = time.perf_counter()
    layout = ArchiveLayout.from_settings({"TAZARCHIVE_OUTPUT_DIR": str(Path(db).parent / "a")})
    with Archive(layout, ledger=Ledger(db), stats=stats) as archive:
        middleware = KnownArticlesMiddleware(archive, stats)  # type: ignore[arg-type]
        passed = 0
        for n in range(count):
            article_id = str(FIRST_ID + n)
            request = Request(
                f"http://127.0.0.1/!{article_id}/", meta={"taz_article_id": article_id}
            )
            if middleware.get_processed_request(request, None) is not None:
                passed += 1
        for n in range(0, count, max(1, count // DEDUP_SAMPLE)):
            archive.store(_article(str(FIRST_ID + n)))
    print(
        json.dumps(
            {
                "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                "known": stats.get_value(keys.ARTICLES_KNOWN, 0)
                + stats.get_value(keys.ARTICLES_SKIPPED_KNOWN, 0),
                "passed": passed,
                "seconds": time.perf_counter() - started,
            }
        )
    )


def _child(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, check=True
    )
    return result.stdout


def memory(sizes: list[int]) -> None:
    print("== 1. peak RSS of a run over N known ids (child processes, ru_maxrss)")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            db = str(Path(tmp) / f"ledger-{size}.sqlite3")
            started = time.perf_counter()
            _child("--child-fill", db, str(size))
            fill_seconds = time.perf_counter() - started
            results[size] = json.loads(_child("--child-run", db, str(size)))
            db_mb = sum(p.stat().st_size for p in Path(tmp).glob(f"ledger-{size}.*")) / 1e6
            r = results[size]
            print(
                f"  {size:>9,} known ids: peak RSS {r['maxrss_kib'] / 1024:7.1f} MB, "
                f"{r['known']:,} counted known (requests + sampled items), {r['passed']} fetched, "
                f"run {r['seconds']:.1f} s "
                f"(ledger {db_mb:.1f} MB on disk, filled in {fill_seconds:.1f} s)"
            )
    low, high = min(sizes), max(sizes)
    diff_mb = (results[high]["maxrss_kib"] - results[low]["maxrss_kib"]) / 1024
    verdict = "within" if diff_mb <= 50 else "NOT within"
    print(f"  difference {high:,} vs {low:,}: {diff_mb:+.1f} MB ({verdict} the 50 MB target)")


def _crawl(base_url: str, output: Path, log: Path) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable, "-m", "scrapy", "crawl", "sitemap",
        "-s", f"TAZARCHIVE_BASE_URL={base_url}",
        "-s", f"TAZARCHIVE_OUTPUT_DIR={output}",
        "-s", "ROBOTSTXT_OBEY=False",
        "-s", "DOWNLOAD_DELAY=0",
        "-s", "AUTOTHROTTLE_ENABLED=False",
        "-s", "CONCURRENT_REQUESTS=32",
        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=32",
        "-s", "TAZARCHIVE_WARC_ENABLED=False",
        "-s", "TELNETCONSOLE_ENABLED=False",
        "-s", "LOG_LEVEL=INFO",
        "--logfile", str(log),
    ]  # fmt: skip
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True)


def rerun(count: int) -> None:
    from tazarchive.replica import ReplicaServer, Site

    print(f"== 2. re-run over {count:,} known articles (replica in its own process)")
    site = Site(count)
    with tempfile.TemporaryDirectory() as tmp, ReplicaServer(site, mode="process") as server:
        output = Path(tmp) / "output"
        runs = []
        for label in ("first run", "re-run"):
            server.clear_log()
            started = time.perf_counter()
            result = _crawl(server.base_url, output, Path(tmp) / f"{label}.log")
            seconds = time.perf_counter() - started
            if result.returncode != 0:
                print(result.stderr[-2000:])
                raise SystemExit(f"{label}: scrapy crawl exited {result.returncode}")
            served = server.request_log
            articles = sum(1 for target in served if ARTICLE_PATH.search(target))
            runs.append(articles)
            report = sorted((output / "runs").glob("sitemap-*.json"))[-1]
            counts = json.loads(report.read_text(encoding="utf-8")).get("counts", {})
            print(
                f"  {label:9}: {len(served):6,} requests, {articles:6,} article pages, "
                f"{seconds:5.1f} s; report counts: {json.dumps(counts, sort_keys=True)}"
            )
            report.rename(report.with_suffix(f".{label.replace(' ', '-')}.json"))
    share = runs[1] / count * 100
    verdict = "within" if share <= 2 else "NOT within"
    print(
        f"  re-run fetched {runs[1]:,} of {count:,} known article pages = {share:.2f}% "
        f"({verdict} the 2% target)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000", help="known ids per memory run")
    parser.add_argument("--rerun-articles", type=int, default=10_000)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-rerun", action="store_true")
    parser.add_argument("--child-fill", nargs=2, metavar=("DB", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--child-run", nargs=2, metavar=("DB", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_fill:
        child_fill(args.child_fill[0], int(args.child_fill[1]))
        return
    if args.child_run:
        child_run(args.child_run[0], int(args.child_run[1]))
        return
    if not args.skip_memory:
        memory([int(s) for s in args.sizes.split(",")])
    if not args.skip_rerun:
        rerun(args.rerun_articles)


if __name__ == "__main__":
    main()
