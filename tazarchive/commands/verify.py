"""``scrapy verify [ID ...] [--sample N] [--report PATH]``: the archive against taz's gopher menus.

For each id (or TAZARCHIVE_VERIFY_SAMPLE archived articles at random), fetch
taz's gopher menu of the article (``/!<id>`` below TAZARCHIVE_GOPHER_URL)
and compare it row by row with our ``gophermap`` rendering of the archived
article (TAZARCHIVE_GOPHER_* settings). Prints the differing rows per
article and a summary, writes a JSON report (default ``<output>/runs/
verify-<time>.json``), and exits 1 when an article could not be compared or
fewer rows than TAZARCHIVE_VERIFY_MIN_LINES agree.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Any, ClassVar

from scrapy.exceptions import UsageError

from tazarchive.archive import ArchiveLayout, write_atomic
from tazarchive.cli.checked import CheckedCommand
from tazarchive.dump import GopherOptions, render
from tazarchive.gopher.source import open_source
from tazarchive.gopher.verify import (
    Comparison,
    VerifySpider,
    compare_menus,
    passed,
    report_json,
    report_lines,
    summarise,
    summary_line,
)
from tazarchive.spiders.articles import article_id_of


class Command(CheckedCommand):
    requires_project = True
    default_settings: ClassVar[dict[str, Any]] = {"LOG_LEVEL": "WARNING"}

    def syntax(self) -> str:
        return "[ID ...] [--sample N] [--seed N] [--report PATH]"

    def short_desc(self) -> str:
        return "Compare archived articles with taz's own gopher menus, line by line"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--sample", type=int, default=None, help="archived articles at random")
        parser.add_argument("--seed", type=int, default=None, help="random seed of the sample")
        parser.add_argument("--report", default=None, help="JSON report path")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        settings = self.settings
        ids = []
        for entry in args:
            id_ = article_id_of(entry)
            if id_ is None:
                raise UsageError(f"not a taz article id or URL: {entry!r}")
            ids.append(id_)
        source = open_source(settings)
        if not ids:
            size = (
                opts.sample
                if opts.sample is not None
                else settings.getint("TAZARCHIVE_VERIFY_SAMPLE")
            )
            everything = sorted(article.id for article in source.iter_latest())
            ids = random.Random(opts.seed).sample(everything, min(size, len(everything)))
        if not ids:
            print("verify: the archive holds no articles", file=sys.stderr)
            self.exitcode = 1
            return
        options = GopherOptions.from_settings(settings)
        ours = {}
        for id_ in ids:
            article = source.latest(id_)
            if article is not None:
                ours[id_] = render(article, "gophermap", gopher=options)
        fetched: dict[str, bytes | str] = {}
        assert self.crawler_process is not None
        self.crawler_process.crawl(
            VerifySpider,
            ids=list(ours),
            gopher_url=settings.get("TAZARCHIVE_GOPHER_URL"),
            fetched=fetched,
        )
        self.crawler_process.start()

        comparisons = []
        for id_ in ids:
            if id_ not in ours:
                comparisons.append(Comparison(id_, error="not in the archive"))
                continue
            theirs = fetched.get(id_, "not fetched")
            if isinstance(theirs, str):
                comparisons.append(Comparison(id_, error=theirs))
            else:
                comparisons.append(compare_menus(id_, ours[id_], theirs))
        for comparison in comparisons:
            print("\n".join(report_lines(comparison)))
        summary = summarise(comparisons)
        min_lines = settings.getfloat("TAZARCHIVE_VERIFY_MIN_LINES")
        ok = passed(summary, min_lines)
        report = report_json(
            comparisons,
            summary,
            gopher_url=settings.get("TAZARCHIVE_GOPHER_URL"),
            min_lines=min_lines,
            passed=ok,
        )
        path = (
            Path(opts.report)
            if opts.report
            else ArchiveLayout.from_settings(settings).report_path("verify")
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(report, ensure_ascii=False, indent=1).encode("utf-8"))
        print(summary_line(summary) + f"; report {path}")
        if not ok:
            self.exitcode = 1
