"""``scrapy extract PATH... --format seed|text|gophermap|jsonl [--url URL]``.

Extracts the article from saved taz.de pages and prints each in the chosen
rendering, one after the other. The page's URL (for resolving links and as
the article's URL when the page names none) is its canonical link unless
``--url`` gives one. A file that is not an article page gets one line on
stderr naming it; the others are still done and the exit status is 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, TextIO

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from tazarchive.commands._each import add_format_option, chosen_format, print_each
from tazarchive.dump import OUTPUT_FORMATS, GopherOptions, render_output
from tazarchive.extract import extract_article
from tazarchive.urls import DEFAULT_BASE_URL

FORMATS = OUTPUT_FORMATS


class NotAnArticle(ValueError):
    """The page holds no article either design's extractor recognises."""

    def __init__(self, why: str) -> None:
        super().__init__(f"not an article page: {why}")


def extract_file(path: Path, fmt: str, gopher: GopherOptions, url: str | None = None) -> str:
    """One saved page in the chosen format; raises NotAnArticle or OSError with a reason."""
    data = path.read_bytes()
    if not data.strip():
        raise NotAnArticle("empty file")
    # Without --url, the canonical link of the page is used (the extractor
    # prefers it anyway); the base URL only resolves relative picture links.
    article = extract_article(data, url or f"{DEFAULT_BASE_URL}/")
    if article is None:
        raise NotAnArticle("no taz article found on this page")
    return render_output(article, fmt, gopher=gopher)


def extract_paths(
    paths: list[str],
    fmt: str,
    gopher: GopherOptions,
    out: BinaryIO,
    err: TextIO,
    url: str | None = None,
) -> int:
    """Extract every file to ``out``; report failures to ``err``; return the failure count."""
    return print_each(
        (Path(name) for name in paths),
        lambda path: extract_file(path, fmt, gopher, url),
        command="extract",
        out=out,
        err=err,
    )


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "PATH... [--format seed|text|gophermap|jsonl] [--url URL]"

    def short_desc(self) -> str:
        return "Extract the article from saved taz.de pages and print it as a dump or JSON"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        add_format_option(parser)
        parser.add_argument(
            "--url",
            dest="url",
            default=None,
            help="the page's URL (default: the page's canonical link)",
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if not args:
            raise UsageError("name at least one saved page")
        assert self.settings is not None
        fmt = chosen_format(opts, self.settings)
        gopher = GopherOptions.from_settings(self.settings)
        if extract_paths(args, fmt, gopher, sys.stdout.buffer, sys.stderr, opts.url):
            self.exitcode = 1
