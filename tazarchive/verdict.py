"""The run verdict: the one place that decides whether a run did its job.

Components that meet a failure condition only count it in a stats key
(:mod:`tazarchive.stats`); :func:`judge_run` turns those keys into reasons,
with the thresholds of :class:`Thresholds`. The exit status of ``scrapy
crawl``/``reparse``, the run report's ``verdict`` and the last stderr line
all come from the one :class:`RunVerdict`. docs/verdicts.md has the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tazarchive import stats as keys

if TYPE_CHECKING:
    from typing import Self

    from scrapy.settings import BaseSettings

# Finish reasons of a run that did what it was asked: the end of the crawl, or
# a limit the user set (CLOSESPIDER_ITEMCOUNT/PAGECOUNT/TIMEOUT).
SUCCESS_REASONS = frozenset(
    {"finished", "closespider_itemcount", "closespider_pagecount", "closespider_timeout"}
)
_FINISH_LINES = {
    "shutdown": "run was stopped before it finished (shutdown); "
    "with -s JOBDIR=… the same command resumes it",
    "cancelled": "run was cancelled before it finished",
    "closespider_errorcount": "run stopped after too many errors (CLOSESPIDER_ERRORCOUNT)",
    "closespider_timeout_no_item": "run stopped: no item for CLOSESPIDER_TIMEOUT_NO_ITEM seconds",
}
# Rejection reasons with a verdict of their own; the rest share TAZARCHIVE_MAX_REJECTED_RATIO.
_OWN_REJECT_REASONS = ("challenge", "unknown_design")
FEED_FAILED_PREFIX = "feedexport/failed_count/"  # Scrapy's: a feed's storage failed


@dataclass(frozen=True)
class Thresholds:
    """Ratios (of the run's article pages) above which a run fails.

    Settings: TAZARCHIVE_MAX_LOST_RATIO, TAZARCHIVE_MAX_REJECTED_RATIO,
    TAZARCHIVE_MAX_UNKNOWN_DESIGN_RATIO, TAZARCHIVE_MAX_BODY_MISMATCH_RATIO.
    """

    lost: float = 0.01
    rejected: float = 0.01
    unknown_design: float = 0.02
    body_mismatch: float = 0.02

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Self:
        given = {
            field: settings.get(name)
            for field, name in (
                ("lost", "TAZARCHIVE_MAX_LOST_RATIO"),
                ("rejected", "TAZARCHIVE_MAX_REJECTED_RATIO"),
                ("unknown_design", "TAZARCHIVE_MAX_UNKNOWN_DESIGN_RATIO"),
                ("body_mismatch", "TAZARCHIVE_MAX_BODY_MISMATCH_RATIO"),
            )
        }
        return cls(**{field: float(value) for field, value in given.items() if value is not None})


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason a run failed: a stable code, how many times, and the line a person reads."""

    code: str
    count: int
    line: str


@dataclass(frozen=True, slots=True)
class RunVerdict:
    """Whether a run failed, every reason why, and how many articles it left missing."""

    finish_reason: str
    reasons: tuple[Reason, ...] = ()
    missing: int = 0
    notes: dict[str, int] = field(default_factory=dict)

    @classmethod
    def failed(cls, line: str, code: str = "failure", finish_reason: str = "") -> Self:
        """A verdict with one reason (a run that could not even start)."""
        return cls(finish_reason, (Reason(code, 1, one_line(line)),))

    @property
    def ok(self) -> bool:
        return not self.reasons

    @property
    def exit_status(self) -> int:
        return 0 if self.ok else 1

    @property
    def failure(self) -> str:
        """The one line: every reason, then how much is missing. Empty when the run is ok."""
        if self.ok:
            return ""
        line = "; ".join(reason.line for reason in self.reasons)
        if self.missing:
            line += (
                f"; {self.missing} article{'s' if self.missing != 1 else ''} not archived:"
                " running the same command again fetches them"
            )
        return line

    def as_report(self) -> dict[str, Any]:
        """The run report's ``verdict``."""
        return {
            "ok": self.ok,
            "exit_status": self.exit_status,
            "failure": self.failure or None,
            "reasons": [{"code": r.code, "count": r.count, "line": r.line} for r in self.reasons],
            "missing_articles": self.missing,
            "notes": self.notes,
        }


def judge_run(
    stats: Mapping[str, Any],
    finish_reason: str | None = None,
    thresholds: Thresholds | None = None,
) -> RunVerdict:
    """The verdict on a finished run from its stats (see docs/verdicts.md)."""
    limits = thresholds or Thresholds()
    finish = str(finish_reason or stats.get("finish_reason") or "")

    def n(key: str) -> int:
        return int(stats.get(key) or 0)

    reasons: list[Reason] = []

    def fail(code: str, count: int, line: str) -> None:
        reasons.append(Reason(code, count, one_line(line)))

    if failure := stats.get(keys.FAILURE):
        # Named after how the component closed the run (site_unreachable, robots_forbidden, …).
        fail(finish if finish and finish not in SUCCESS_REASONS else "failure", 1, str(failure))

    stored_errors = n(keys.ARTICLES_STORE_ERRORS) + n(keys.ITEM_ERRORS)
    feed_errors = sum(counts_under(stats, FEED_FAILED_PREFIX).values())
    if stored_errors or feed_errors:
        parts = []
        if stored_errors:
            parts.append(f"{stored_errors} articles could not be stored")
        if feed_errors:
            parts.append(f"{feed_errors} feeds could not be written")
        fail("store_errors", stored_errors + feed_errors, " and ".join(parts))

    if refused := n(keys.SITE_REFUSED):
        fail(
            "site_refused",
            refused,
            f"the site refused us: {refused} responses in a row were 403/429/5xx",
        )
    if challenges := n(keys.rejected("challenge")):
        fail(
            "challenge",
            challenges,
            f"{challenges} challenge or consent pages came instead of articles",
        )
    if missing_target := n(keys.DISCOVERY_TARGET_MISSING):
        fail(
            "target_missing",
            missing_target,
            f"the site has no such page: {missing_target} of the pages asked for answered 404",
        )
    if empty_listings := n(keys.LISTINGS_WITHOUT_ARTICLES):
        fail(
            "listings_without_articles",
            empty_listings,
            f"{empty_listings} listing pages showed no article link",
        )
    if start_empty := n(keys.DISCOVERY_START_EMPTY):
        fail("start_empty", start_empty, "the start page or feed brought no article")

    unreadable = n(keys.REPARSE_UNREADABLE) + n(keys.REPARSE_DAMAGED)
    if unreadable:
        fail("reparse_damaged", unreadable, f"{unreadable} WARC records could not be read")
    if keys.REPARSE_RESPONSES in stats and not n(keys.REPARSE_RESPONSES):
        fail("reparse_empty", 1, "reparse read no WARC response record")

    articles = article_pages(stats)
    lost_articles = n(keys.ARTICLES_LOST)
    lost = n(keys.REQUESTS_LOST)
    pages = n("downloader/response_count") + lost
    # A run stopped because the site is unreachable or refuses us loses pages as a
    # consequence: that reason says it, the missing count says how much.
    stopped = bool(failure) or bool(refused)
    if lost and lost > limits.lost * pages and not stopped:
        fail(
            "lost",
            lost,
            f"{lost} of {pages} pages lost after retries ({lost_articles} articles)"
            f" (TAZARCHIVE_MAX_LOST_RATIO {limits.lost:g})",
        )
    own = {reason: n(keys.rejected(reason)) for reason in _OWN_REJECT_REASONS}
    other_rejected = max(0, n(keys.ARTICLES_REJECTED) - sum(own.values()))
    if other_rejected and other_rejected > limits.rejected * articles:
        by_reason = {
            reason: count
            for reason, count in counts_under(stats, keys.rejected("")).items()
            if reason not in _OWN_REJECT_REASONS
        }
        shown = ", ".join(f"{r}: {c}" for r, c in sorted(by_reason.items())) or "no reason given"
        fail(
            "rejected",
            other_rejected,
            f"{other_rejected} of {articles} article pages rejected ({shown})"
            f" (TAZARCHIVE_MAX_REJECTED_RATIO {limits.rejected:g})",
        )
    unknown = n(keys.EXTRACT_UNKNOWN_DESIGN)
    if unknown and unknown > limits.unknown_design * articles:
        fail(
            "unknown_design",
            unknown,
            f"{unknown} of {articles} article pages are of an unknown design"
            f" (TAZARCHIVE_MAX_UNKNOWN_DESIGN_RATIO {limits.unknown_design:g})",
        )
    mismatch = n(keys.EXTRACT_BODY_MISMATCH)
    if mismatch and mismatch > limits.body_mismatch * articles:
        fail(
            "body_mismatch",
            mismatch,
            f"{mismatch} of {articles} article pages lost body text against their JSON-LD"
            f" (TAZARCHIVE_MAX_BODY_MISMATCH_RATIO {limits.body_mismatch:g})",
        )

    # Generic fallbacks, for when no component said more precisely what went wrong.
    download_errors = n("downloader/exception_count")
    if download_errors and not n("downloader/response_count") and not reasons:
        kinds = counts_under(stats, "downloader/exception_type_count/")
        worst = max(kinds, key=kinds.__getitem__) if kinds else "unknown error"
        fail(
            "no_response",
            download_errors,
            f"no response from the site: {download_errors} download errors "
            f"({worst.rpartition('.')[2]})",
        )
    statuses = counts_under(stats, "downloader/response_status_count/")
    if statuses and all(not s.isdigit() or int(s) >= 400 for s in statuses) and not reasons:
        by_count = sorted(statuses.items(), key=lambda item: (-item[1], item[0]))
        shown = ", ".join(f"status {status}: {count}" for status, count in by_count)
        fail("http_errors", sum(statuses.values()), f"every response was an HTTP error ({shown})")

    explained = bool(failure) or any(r.code == finish for r in reasons)
    if not finish:
        fail("unfinished", 1, "run did not finish (no finish reason)")
    elif finish not in SUCCESS_REASONS and not explained:
        fail("finish_reason", 1, _FINISH_LINES.get(finish, f"run ended early: {finish}"))

    notes = {kind: count for kind, count in counts_under(stats, keys.offsite("")).items() if count}
    missing = lost_articles + n(keys.ARTICLES_REJECTED) if reasons else 0
    expected = n(keys.EXPECTED_ARTICLES)
    if reasons and expected:
        done = sum(
            n(key)
            for key in (
                keys.ARTICLES_NEW,
                keys.ARTICLES_REVISED,
                keys.ARTICLES_KNOWN,
                keys.ARTICLES_SKIPPED_KNOWN,
                keys.ARTICLES_FROM_ARCHIVE,
            )
        )
        missing = max(missing, expected - done)
    return RunVerdict(
        finish, tuple(reasons), missing, {f"offsite/{k}": v for k, v in notes.items()}
    )


def article_pages(stats: Mapping[str, Any]) -> int:
    """Article pages the run met: stored, known, rejected, not an article, or lost."""
    return sum(
        int(stats.get(key) or 0)
        for key in (
            keys.ARTICLES_NEW,
            keys.ARTICLES_REVISED,
            keys.ARTICLES_KNOWN,
            keys.ARTICLES_REJECTED,
            keys.EXTRACT_NOT_ARTICLE,
            keys.ARTICLES_LOST,
        )
    )


def one_line(text: str) -> str:
    """``text`` as one line: its whitespace runs (newlines too) become single spaces."""
    return " ".join(text.split())


def counts_under(stats: Mapping[str, Any], prefix: str) -> dict[str, int]:
    """The counts of the stats keys starting with ``prefix``, by the rest of the key."""
    return {
        key[len(prefix) :]: int(value)
        for key, value in stats.items()
        if key.startswith(prefix) and isinstance(value, int | float)
    }
