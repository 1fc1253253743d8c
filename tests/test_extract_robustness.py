"""Any input gives an Article, None ("not an article") or PageRejected, never another exception."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tazarchive.extract import PageRejected, extract_article, extract_listing
from tazarchive.items import Article

from .conftest import DATA

REPORT = (DATA / "extract" / "article-2024-report.html").read_bytes()
OLD = (DATA / "extract" / "article-2019-report.html").read_bytes()
URL = "https://taz.de/!6012345/"


REASONS = {
    "bad_id",
    "undecodable",
    "mojibake",
    "truncated",
    "parse_incomplete",
    "too_complex",
}


def outcome_is_valid(html: bytes | str) -> None:
    try:
        result = extract_article(html, URL)
    except PageRejected as rejected:
        assert rejected.reason in REASONS, rejected
        assert rejected.url == URL
    else:
        assert result is None or isinstance(result, Article)
    extract_listing(html, URL)  # must not raise at all


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_random_bytes_never_raise(data: bytes) -> None:
    outcome_is_valid(data)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=2048))
def test_random_text_never_raises(text: str) -> None:
    outcome_is_valid(text)


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=len(REPORT)), st.sampled_from([REPORT, OLD]))
def test_truncated_pages_never_raise(cut: int, page: bytes) -> None:
    outcome_is_valid(page[:cut])


@settings(max_examples=60, deadline=None)
@given(
    st.integers(min_value=0, max_value=len(REPORT) - 1),
    st.binary(min_size=1, max_size=64),
)
def test_pages_with_garbage_spliced_in_never_raise(at: int, garbage: bytes) -> None:
    outcome_is_valid(REPORT[:at] + garbage + REPORT[at:])


def test_empty_and_blank_pages_are_not_articles() -> None:
    for html in (b"", "", b"   \n", b"\x00", b"<html></html>", "<?xml version='1.0'?><html/>"):
        assert extract_article(html, URL) is None


def test_wrongly_declared_charset_still_reads_utf8_text() -> None:
    page = REPORT.replace(b"charset=UTF-8", b"charset=iso-8859-1")
    article = extract_article(page, URL)
    assert article is not None
    assert article.topline == "Neue Radwege in Musterstadt"
    assert "zwölf" in article.body[0].text


def test_latin1_bytes_declared_as_utf8_are_rejected_as_undecodable() -> None:
    page = REPORT.decode("utf-8").encode("latin-1", "replace")
    with pytest.raises(PageRejected) as rejected:
        extract_article(page, URL)
    assert rejected.value.reason == "undecodable"


def test_text_with_xml_declaration_is_read() -> None:
    page = "<?xml version='1.0' encoding='utf-8'?>\n" + REPORT.decode("utf-8")
    article = extract_article(page, URL)
    assert article is not None and article.id == "6012345"


def test_ten_megabyte_page_is_extracted() -> None:
    filler = b"<p class='bodytext paragraph'>" + b"x" * 1000 + b"</p>\n"
    marker = b"</div>\n</div>\n<div x-data"
    head, tail = REPORT.split(marker, 1)
    page = head + filler * (10_000_000 // len(filler)) + marker + tail
    assert len(page) > 10_000_000
    article = extract_article(page, URL)
    assert article is not None
    assert len(article.body) > 9000


def test_deeply_nested_ten_megabyte_page_is_rejected_as_parse_incomplete() -> None:
    page = b"<html><body>" + b"<div>" * 2_000_000 + b"</body></html>"
    assert len(page) >= 10_000_000
    with pytest.raises(PageRejected) as rejected:
        extract_article(page, URL)
    assert rejected.value.reason == "parse_incomplete"
    extract_listing(page, URL)  # must not raise
