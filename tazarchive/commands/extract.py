"""``scrapy extract PATH... --format seed|text|gophermap|jsonl [--url URL]``.

Extracts the article from saved taz.de pages (files, or folders: every
``.html``/``.htm`` below them, sorted) and prints each in the chosen
rendering, exactly as a crawl stores it (the same extraction, the same
normalisation). The page's URL (for resolving links, and the id when the
page names none) is its canonical link unless ``--url`` gives one. A file
that is no article page, or one a crawl would reject, gets one line on
stderr naming it and why; the others are still done and the exit status is 1.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, TextIO

from scrapy.exceptions import UsageError

from tazarchive.cli.checked import CheckedCommand
from tazarchive.commands._each import add_format_option, chosen_format, print_each
from tazarchive.dump import OUTPUT_FORMATS, GopherOptions, render_output
from tazarchive.extract import PageRejected, extract_article
from tazarchive.normalise import normalise
from tazarchive.urls import DEFAULT_BASE_URL

FORMATS = OUTPUT_FORMATS
PAGE_SUFFIXES = (".html", ".htm")


class NotAnArticle(ValueError):
    """The page holds no article any design's extractor recognises, or one a crawl rejects."""

    def __init__(self, why: str) -> None:
        super().__init__(f"not an article page: {why}")


def page_files(paths: Iterable[str]) -> Iterator[Path]:
    """The named files, and the saved pages below named folders, sorted by path."""
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in PAGE_SUFFIXES and not p.name.startswith(".")
            )
            # An empty folder is named (extract_file says why) rather than skipped in silence.
            yield from found or [path]
        else:
            yield path


def extract_file(path: Path, fmt: str, gopher: GopherOptions, url: str | None = None) -> str:
    """One saved page in the chosen format; raises NotAnArticle or OSError with a reason."""
    if path.is_dir():
        raise ValueError("no .html or .htm files in this folder")
    data = path.read_bytes()
    if not data.strip():
        raise NotAnArticle("empty file")
    # Without --url, the canonical link of the page is used (the extractor
    # prefers it anyway); the base URL only resolves relative picture links.
    try:
        article = extract_article(data, url or f"{DEFAULT_BASE_URL}/")
    except PageRejected as rejected:
        raise NotAnArticle(f"a crawl would reject it ({rejected})") from None
    if article is None:
        raise NotAnArticle("no taz article found on this page")
    return render_output(normalise(article), fmt, gopher=gopher)


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
        page_files(paths),
        lambda path: extract_file(path, fmt, gopher, url),
        command="extract",
        out=out,
        err=err,
    )


class Command(CheckedCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "PATH... [--format seed|text|gophermap|jsonl] [--url URL]"

    def short_desc(self) -> str:
        return (
            "Extract the article from saved taz.de pages (or folders of them) as a crawl stores it"
        )

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
            raise UsageError("name at least one saved page or folder")
        assert self.settings is not None
        fmt = chosen_format(opts, self.settings)
        gopher = GopherOptions.from_settings(self.settings)
        if opts.url is not None and not opts.url.startswith(("http://", "https://")):
            raise UsageError(f"--url must be an http(s) URL, not {opts.url!r}")
        try:
            failures = extract_paths(args, fmt, gopher, sys.stdout.buffer, sys.stderr, opts.url)
        except BrokenPipeError:  # the reader went away (| head): stop quietly
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (so the exit flush cannot fail)
            failures = 1
        if failures:
            self.exitcode = 1
