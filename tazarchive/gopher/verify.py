"""``scrapy verify``: our gophermap of an archived article against taz's own menu of it.

:func:`compare_menus` is pure: it aligns the two menus row by row (difflib,
so a missing paragraph is one gap, not every later row), counts identical
rows and names each differing one by its row number in our rendering. A
menu that arrived cut short (no last ``.`` row) counts only the rows it
holds; its last row, if it stopped inside one, counts as identical when our
row starts with it. :class:`VerifySpider` fetches the menus through the
crawl's downloader (the gopher handler, retries, politeness).
"""

from __future__ import annotations

import difflib
from collections.abc import AsyncIterator, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from scrapy import Request, Spider
from scrapy.http import Response
from scrapy.settings import BaseSettings
from twisted.python.failure import Failure

from tazarchive.gopher import urls as gopher_urls
from tazarchive.gopher.handler import menu_complete

ROW_END = "\r\n"


@dataclass(slots=True)
class RowDifference:
    """One row that differs: its number in our menu (or where theirs was added), both texts."""

    line: int  # 1-based row in our rendering; for rows only taz has, the row they follow
    ours: str | None  # None: taz has a row we lack
    theirs: str | None  # None: our row is missing from taz's menu


@dataclass(slots=True)
class Comparison:
    id: str
    byte_identical: bool = False
    complete: bool = True  # taz's menu arrived whole (ends with its "." row)
    lines_compared: int = 0
    lines_identical: int = 0
    differences: list[RowDifference] = field(default_factory=list)
    error: str = ""  # why there was nothing to compare (fetch failed, not archived)


def _rows(text: str) -> tuple[list[str], str | None]:
    """Rows of a gophermap, and the last row when the text stopped inside it."""
    rows = text.split(ROW_END)
    last = rows.pop()  # "" when the text ends with a row end
    return rows, (last or None)


def compare_menus(article_id: str, ours: str, theirs: bytes) -> Comparison:
    """Compare our gophermap with the bytes taz sent, row by row."""
    result = Comparison(article_id, byte_identical=ours.encode("utf-8") == theirs)
    result.complete = menu_complete(theirs)
    text = theirs.decode("utf-8", errors="replace")
    our_rows, _ = _rows(ours)
    their_rows, fragment = _rows(text)
    matcher = difflib.SequenceMatcher(None, our_rows, their_rows, autojunk=False)
    opcodes = matcher.get_opcodes()
    if not result.complete:
        # Our rows after the point where taz's menu stopped were never sent.
        while opcodes and opcodes[-1][0] == "delete":
            opcodes.pop()
        if opcodes and opcodes[-1][0] == "replace" and opcodes[-1][4] == len(their_rows):
            tag, i1, i2, j1, j2 = opcodes[-1]
            opcodes[-1] = (tag, i1, min(i2, i1 + j2 - j1), j1, j2)
    reached = 0
    for tag, i1, i2, j1, j2 in opcodes:
        reached = max(reached, i2)
        if tag == "equal":
            result.lines_identical += i2 - i1
            result.lines_compared += i2 - i1
            continue
        pairs = max(i2 - i1, j2 - j1)
        result.lines_compared += pairs
        for k in range(pairs):
            ours_row = our_rows[i1 + k] if i1 + k < i2 else None
            their_row = their_rows[j1 + k] if j1 + k < j2 else None
            line = (i1 + k + 1) if ours_row is not None else i1
            result.differences.append(RowDifference(line, ours_row, their_row))
    if fragment is not None and not result.complete:
        result.lines_compared += 1
        if reached < len(our_rows) and our_rows[reached].startswith(fragment):
            result.lines_identical += 1
        else:
            ours_row = our_rows[reached] if reached < len(our_rows) else None
            result.differences.append(RowDifference(reached + 1, ours_row, fragment))
    return result


@dataclass(slots=True)
class Summary:
    articles: int
    byte_identical: int
    lines_compared: int
    lines_identical: int
    failed: int  # nothing to compare: not archived, or taz's menu could not be fetched

    @property
    def line_ratio(self) -> float:
        return self.lines_identical / self.lines_compared if self.lines_compared else 0.0


def summarise(comparisons: Iterable[Comparison]) -> Summary:
    done = list(comparisons)
    return Summary(
        articles=len(done),
        byte_identical=sum(1 for c in done if c.byte_identical),
        lines_compared=sum(c.lines_compared for c in done),
        lines_identical=sum(c.lines_identical for c in done),
        failed=sum(1 for c in done if c.error),
    )


def passed(summary: Summary, min_lines: float) -> bool:
    """The verdict: every article compared, and enough rows identical."""
    return summary.articles > 0 and summary.failed == 0 and summary.line_ratio >= min_lines


def _shown(row: str | None) -> str:
    return "(none)" if row is None else row.replace("\t", " ⇥ ")


def report_lines(comparison: Comparison) -> list[str]:
    """What ``scrapy verify`` prints for one article."""
    head = f"!{comparison.id}: "
    if comparison.error:
        return [head + comparison.error]
    state = "byte-identical" if comparison.byte_identical else "differs"
    cut = "" if comparison.complete else ", taz's menu cut short: only its rows counted"
    counts = f"{comparison.lines_identical}/{comparison.lines_compared}"
    lines = [f"{head}{state}: {counts} lines identical{cut}"]
    for diff in comparison.differences:
        lines.append(f"  line {diff.line}: ours {_shown(diff.ours)}")
        lines.append(f"  {' ' * len(f'line {diff.line}')}  taz  {_shown(diff.theirs)}")
    return lines


def summary_line(summary: Summary) -> str:
    return (
        f"verify: {summary.byte_identical}/{summary.articles} articles byte-identical, "
        f"{summary.lines_identical}/{summary.lines_compared} lines identical "
        f"({summary.line_ratio:.1%}), {summary.failed} not compared"
    )


def report_json(comparisons: list[Comparison], summary: Summary, **extra: Any) -> dict[str, Any]:
    return {
        **extra,
        "summary": {**asdict(summary), "line_ratio": summary.line_ratio},
        "articles": [asdict(c) for c in comparisons],
    }


# Verify reads: nothing is stored, nothing is locked, nothing is captured.
READ_ONLY_SETTINGS: dict[str, Any] = {
    "ITEM_PIPELINES": {},
    "FEEDS": {},
    "TAZARCHIVE_WARC_ENABLED": False,
    "TAZARCHIVE_LOCK_ENABLED": False,
    "TAZARCHIVE_RUN_REPORT_ENABLED": False,
    "TAZARCHIVE_LEDGER_ENABLED": False,
    "TAZARCHIVE_PROGRESS_INTERVAL": 0,
}


class VerifySpider(Spider):
    """Fetches taz's gopher menu of each id; ``fetched`` maps id -> bytes or an error text."""

    name = "verify"

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        settings.setdict(READ_ONLY_SETTINGS, priority="spider")

    def __init__(
        self, ids: list[str], gopher_url: str, fetched: dict[str, bytes | str], **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.ids = ids
        self.gopher_url = gopher_url
        self.fetched = fetched

    async def start(self) -> AsyncIterator[Request]:
        for id_ in self.ids:
            yield Request(
                gopher_urls.article_url(self.gopher_url, id_),
                callback=self.parse,
                errback=self.failed,
                # A menu cut short is compared as far as it goes.
                meta={"verify_id": id_, "download_fail_on_dataloss": False},
                dont_filter=True,
            )

    def parse(self, response: Response) -> None:
        self.fetched[response.meta["verify_id"]] = response.body

    def failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        value = failure.value
        response = getattr(value, "response", None)
        if response is not None and response.status == 404:
            text = "not on taz's gopher service (error item)"
        else:
            text = f"fetch failed: {type(value).__name__}: {value}"
        self.fetched[request.meta["verify_id"]] = text
