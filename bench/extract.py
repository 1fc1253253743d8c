"""Extraction speed: tazarchive vs the bare lxml parse (the floor), trafilatura, fundus.

    python bench/extract.py [--repeat 7] [--rounds 20] [PAGE.html ...]

Pages default to the real taz pages in ../shared/taz-pages/ and fall back
to our own fixture pages (tests/data/extract/) when that folder is absent.
Every contender gets the same pages, taking turns call by call; the best
of several runs counts (least disturbed by other load). Times are CPU time
of this process (time.process_time), so other programs on a busy machine
disturb the ratios less.
Targets: <= 1.1x the bare parse; >= 3x faster than trafilatura; >= 1.5x
faster than fundus's taz parser.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import lxml.html

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tazarchive.extract import extract_article  # noqa: E402  (after sys.path)

SHARED_PAGES = REPO.parent / "shared" / "taz-pages"
FIXTURE_PAGES = REPO / "tests" / "data" / "extract"


def default_pages() -> list[Path]:
    pages = sorted(SHARED_PAGES.glob("article-*.html"))
    return pages or sorted(FIXTURE_PAGES.glob("article-*.html"))


def contenders(pages: list[tuple[Path, bytes]]) -> dict[str, Callable[[Path, bytes], object]]:
    found: dict[str, Callable[[Path, bytes], object]] = {
        "lxml.html.fromstring (floor)": lambda _p, data: lxml.html.fromstring(data),
        "tazarchive extract_article": lambda _p, data: extract_article(data, "https://taz.de/"),
    }
    try:
        import trafilatura
    except ImportError:
        print("trafilatura not installed (pip install -e '.[bench]'): skipped")
    else:
        found["trafilatura.extract"] = lambda _p, data: trafilatura.extract(data)
    try:
        from fundus.publishers.de.taz import TazParser
    except ImportError:
        print("fundus not installed (pip install -e '.[bench]'): skipped")
    else:
        # fundus picks its parser version by crawl date: V1 up to 2024-10-14, V2 after.
        old, new = TazParser()(date(2023, 1, 1)), TazParser()(date(2025, 1, 1))
        texts = {path: data.decode("utf-8", "replace") for path, data in pages}

        def fundus_parse(path: Path, _data: bytes) -> object:
            parser = new if "2024" in path.name else old  # pages are named by design
            return parser.parse(texts[path], error_handling="suppress")

        found["fundus TazParser"] = fundus_parse
    return found


def run(pages: list[tuple[Path, bytes]], repeat: int, rounds: int) -> dict[str, float]:
    """Best articles per second of each contender.

    Contenders take turns call by call (page by page), so a burst of load
    from other programs hits all of them alike; of ``repeat`` runs of
    ``rounds`` passes over the pages, each contender's fastest run counts.
    """
    tasks = contenders(pages)
    best: dict[str, float] = dict.fromkeys(tasks, 0.0)
    clock = time.process_time
    for _ in range(repeat):
        spent = dict.fromkeys(tasks, 0.0)
        for _ in range(rounds):
            for path, data in pages:
                for name, task in tasks.items():
                    start = clock()
                    task(path, data)
                    spent[name] += clock() - start
        for name, seconds in spent.items():
            best[name] = max(best[name], rounds * len(pages) / seconds)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("pages", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    paths = args.pages or default_pages()
    if not paths:
        sys.exit("no pages: give some, or provide ../shared/taz-pages/ or tests/data/extract/")
    pages = [(path, path.read_bytes()) for path in paths]
    print(
        f"{len(pages)} pages ({sum(len(d) for _, d in pages) // 1024} KiB): "
        + ", ".join(p.name for p, _ in pages)
    )
    # Every page must really be extracted, or the timing means nothing.
    for path, data in pages:
        if extract_article(data, "https://taz.de/") is None:
            sys.exit(f"{path}: not extracted as an article")
    best = run(pages, args.repeat, args.rounds)
    ours = best["tazarchive extract_article"]
    print(f"{'contender':32} {'articles/s':>11}  ratio")
    for name, rate in best.items():
        print(f"{name:32} {rate:11.0f}  {rate / ours:5.2f}x ours")
    floor = best["lxml.html.fromstring (floor)"]
    print(f"ours costs {floor / ours:.2f}x the bare parse (target <= 1.1)")
    for name, target in (("trafilatura.extract", 3.0), ("fundus TazParser", 1.5)):
        if name in best:
            print(f"ours is {ours / best[name]:.2f}x faster than {name} (target >= {target})")


if __name__ == "__main__":
    main()
