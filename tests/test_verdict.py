"""The run verdict: which stats fail a run, with which line and counts."""

from __future__ import annotations

from typing import Any

import pytest
from scrapy.settings import Settings

from tazarchive import stats as keys
from tazarchive.verdict import Thresholds, judge_run


def finished(**stats: Any) -> dict[str, Any]:
    """Stats of a run that finished normally, plus ``stats``."""
    return {"finish_reason": "finished", "downloader/response_count": 100, **stats}


def codes(stats: dict[str, Any]) -> list[str]:
    return [reason.code for reason in judge_run(stats).reasons]


def test_clean_run_is_ok_with_no_reasons() -> None:
    verdict = judge_run(finished(**{keys.ARTICLES_NEW: 50}))
    assert (verdict.ok, verdict.exit_status, verdict.failure, verdict.reasons) == (True, 0, "", ())


def test_store_errors_item_errors_and_failed_feeds_fail_together() -> None:
    verdict = judge_run(
        finished(
            **{
                keys.ARTICLES_STORE_ERRORS: 2,
                keys.ITEM_ERRORS: 1,
                "feedexport/failed_count/FileFeedStorage": 1,
            }
        )
    )
    (reason,) = verdict.reasons
    assert (reason.code, reason.count) == ("store_errors", 4)
    assert reason.line == "3 articles could not be stored and 1 feeds could not be written"
    assert verdict.exit_status == 1


@pytest.mark.parametrize(
    ("key", "code"),
    [
        (keys.SITE_REFUSED, "site_refused"),
        (keys.rejected("challenge"), "challenge"),
        (keys.DISCOVERY_TARGET_MISSING, "target_missing"),
        (keys.LISTINGS_WITHOUT_ARTICLES, "listings_without_articles"),
        (keys.DISCOVERY_START_EMPTY, "start_empty"),
        (keys.REPARSE_UNREADABLE, "reparse_damaged"),
        (keys.REPARSE_DAMAGED, "reparse_damaged"),
    ],
)
def test_a_single_count_of_these_fails_the_run(key: str, code: str) -> None:
    assert codes(finished(**{keys.ARTICLES_NEW: 1000, key: 1})) == [code]


def test_reparse_that_read_no_record_fails() -> None:
    assert codes(finished(**{keys.REPARSE_RESPONSES: 0})) == ["reparse_empty"]
    assert codes(finished(**{keys.REPARSE_RESPONSES: 3, keys.ARTICLES_NEW: 3})) == []


def test_offsite_drops_are_counted_in_notes_but_do_not_fail() -> None:
    verdict = judge_run(finished(**{keys.offsite("redirect"): 3, keys.ARTICLES_NEW: 10}))
    assert verdict.ok
    assert verdict.notes == {"offsite/redirect": 3}


@pytest.mark.parametrize(
    ("lost", "fails"),
    [(1, False), (2, True)],  # 1 of 101 pages is under 1 %, 2 of 102 over
)
def test_pages_lost_after_retries_fail_above_the_ratio(lost: int, fails: bool) -> None:
    stats = finished(**{keys.REQUESTS_LOST: lost, keys.ARTICLES_LOST: lost, keys.ARTICLES_NEW: 99})
    verdict = judge_run(stats)
    assert (not verdict.ok) == fails
    if fails:
        assert verdict.reasons[0].line.startswith(
            f"{lost} of {100 + lost} pages lost after retries"
        )


def test_lost_ratio_is_a_setting() -> None:
    stats = finished(**{keys.REQUESTS_LOST: 5, keys.ARTICLES_NEW: 95})
    assert not judge_run(stats).ok
    lenient = Thresholds.from_settings(Settings({"TAZARCHIVE_MAX_LOST_RATIO": 0.1}))
    assert judge_run(stats, thresholds=lenient).ok


def test_rejected_pages_of_other_reasons_fail_above_the_ratio_naming_reasons() -> None:
    stats = finished(
        **{
            keys.ARTICLES_NEW: 90,
            keys.ARTICLES_REJECTED: 10,
            keys.rejected("undecodable"): 7,
            keys.rejected("truncated"): 3,
        }
    )
    verdict = judge_run(stats)
    (reason,) = verdict.reasons
    assert reason.code == "rejected"
    assert reason.line.startswith("10 of 100 article pages rejected (truncated: 3, undecodable: 7)")
    assert verdict.missing == 10
    assert verdict.failure.endswith(
        "; 10 articles not archived: running the same command again fetches them"
    )


def test_unknown_designs_fail_above_their_ratio_and_not_twice_as_rejected() -> None:
    below = {keys.ARTICLES_NEW: 98, keys.ARTICLES_REJECTED: 2}
    below |= {keys.rejected("unknown_design"): 2, keys.EXTRACT_UNKNOWN_DESIGN: 2}
    assert judge_run(finished(**below)).ok
    above = {keys.ARTICLES_NEW: 90, keys.ARTICLES_REJECTED: 10}
    above |= {keys.rejected("unknown_design"): 10, keys.EXTRACT_UNKNOWN_DESIGN: 10}
    assert codes(finished(**above)) == ["unknown_design"]


def test_body_mismatches_fail_above_their_ratio() -> None:
    assert judge_run(finished(**{keys.ARTICLES_NEW: 100, keys.EXTRACT_BODY_MISMATCH: 2})).ok
    assert codes(finished(**{keys.ARTICLES_NEW: 100, keys.EXTRACT_BODY_MISMATCH: 3})) == [
        "body_mismatch"
    ]


def test_every_reason_is_listed_in_one_line() -> None:
    stats = finished(**{keys.ARTICLES_STORE_ERRORS: 1, keys.rejected("challenge"): 4})
    verdict = judge_run(stats)
    assert [r.code for r in verdict.reasons] == ["store_errors", "challenge"]
    assert "\n" not in verdict.failure
    assert verdict.failure.startswith(
        "1 articles could not be stored; 4 challenge or consent pages came instead of articles"
    )


def test_finish_reason_explained_by_a_reason_is_not_repeated() -> None:
    stats = {"finish_reason": "site_refused", keys.SITE_REFUSED: 10}
    assert codes(stats) == ["site_refused"]
    assert codes({"finish_reason": "shutdown"}) == ["finish_reason"]


def test_missing_articles_include_what_the_spider_expected_but_never_got() -> None:
    stats = finished(
        **{keys.SITE_REFUSED: 10, keys.EXPECTED_ARTICLES: 1500, keys.ARTICLES_NEW: 466}
    )
    assert judge_run(stats).missing == 1034


def test_report_form_carries_every_reason_and_count() -> None:
    report = judge_run(finished(**{keys.DISCOVERY_TARGET_MISSING: 1})).as_report()
    assert report["ok"] is False
    assert report["exit_status"] == 1
    assert report["reasons"] == [
        {
            "code": "target_missing",
            "count": 1,
            "line": "the site has no such page: 1 of the pages asked for answered 404",
        }
    ]


def test_a_components_failure_line_is_named_after_how_it_closed_the_run() -> None:
    line = "robots.txt of https://taz.de forbids crawling the site (user agent 'x')"
    verdict = judge_run({"finish_reason": "robots_forbidden", keys.FAILURE: line})
    assert [(r.code, r.line) for r in verdict.reasons] == [("robots_forbidden", line)]
    assert judge_run({"finish_reason": "finished", keys.FAILURE: "x"}).reasons[0].code == "failure"


def test_pages_lost_because_the_run_was_stopped_are_not_a_second_reason() -> None:
    lost = {keys.REQUESTS_LOST: 30, keys.ARTICLES_LOST: 30, keys.EXPECTED_ARTICLES: 100}
    assert codes({"finish_reason": "site_refused", keys.SITE_REFUSED: 10, **lost}) == [
        "site_refused"
    ]
    unreachable = {"finish_reason": "site_unreachable", keys.FAILURE: "cannot reach x", **lost}
    verdict = judge_run(unreachable)
    assert verdict.failure == (
        "cannot reach x; 100 articles not archived: running the same command again fetches them"
    )
