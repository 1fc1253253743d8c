"""Every ``tazarchive/…`` stats key, defined once.

Components import the constant (or the function, for keys with a variable
part) instead of writing the string. docs/reference/stats.md describes each
key; a test checks that the two agree. One key, one meaning.
"""

from __future__ import annotations

# --- the run ------------------------------------------------------------------
FAILURE = "tazarchive/failure"  # the first one-line reason a component failed the run
EXPECTED_ARTICLES = "tazarchive/expected_articles"  # articles the spider expects (ETA)
RUN_REPORT = "tazarchive/run_report"  # path of the run report written

# --- articles: what happened to each article the run met ------------------------
ARTICLES_NEW = "tazarchive/articles/new"  # first revision stored
ARTICLES_REVISED = "tazarchive/articles/revised"  # a further revision stored
ARTICLES_KNOWN = "tazarchive/articles/known"  # fetched, unchanged against the archive
ARTICLES_SKIPPED_KNOWN = "tazarchive/articles/skipped_known"  # never requested: archived
ARTICLES_FROM_ARCHIVE = "tazarchive/articles/from_archive"  # handed to feeds unfetched
ARTICLES_REJECTED = "tazarchive/articles/rejected"  # not stored; see rejected/<reason>
ARTICLES_STORE_ERRORS = "tazarchive/articles/store_errors"  # store/export raised
ARTICLES_KEPT_HTML = "tazarchive/articles/kept_html"  # gopher copy not stored over HTML
ARTICLES_KEPT_WHOLE = "tazarchive/articles/kept_whole"  # cut copy not stored over a whole one


def rejected(reason: str) -> str:
    """``tazarchive/rejected/<reason>``: pages or articles kept out of the archive."""
    return f"tazarchive/rejected/{reason}"


def rejected_urls(reason: str) -> str:
    """``tazarchive/rejected_urls/<reason>``: the first URLs rejected for it (a list)."""
    return f"tazarchive/rejected_urls/{reason}"


# --- extraction -----------------------------------------------------------------
EXTRACT_NOT_ARTICLE = "tazarchive/extract/not_article"  # no article on a page asked as one
EXTRACT_UNKNOWN_DESIGN = "tazarchive/extract/unknown_design"  # article URL, no page object
EXTRACT_NOT_LISTING = "tazarchive/extract/not_listing"
EXTRACT_BODY_MISMATCH = "tazarchive/extract/body_mismatch"  # body vs completeness check

# --- discovery (listing pages) ----------------------------------------------------
LISTINGS_WITHOUT_ARTICLES = "tazarchive/discovery/listings_without_articles"
LISTING_PAGES = "tazarchive/discovery/listing_pages"
LISTING_PAGES_PROBED = "tazarchive/discovery/pages_probed"  # next page tried without a link
DISCOVERY_START_EMPTY = "tazarchive/discovery/start_empty"  # home page or feed brought nothing
DISCOVERY_TARGET_MISSING = "tazarchive/discovery/target_missing"  # 404 for what was asked


# --- the site boundary -------------------------------------------------------------
def offsite(kind: str) -> str:
    """``tazarchive/offsite/<kind>``: request, redirect, robots, feed, sitemap dropped."""
    return f"tazarchive/offsite/{kind}"


# --- politeness and refusals --------------------------------------------------------
RETRY_RETRY_AFTER = "tazarchive/retry/retry_after"
RETRY_PAUSES = "tazarchive/retry/pauses"
ROBOTS_CRAWL_DELAY = "tazarchive/robots/crawl_delay"

# --- the archive ------------------------------------------------------------------
DUMPS_WRITTEN = "tazarchive/dumps/written"

# --- WARC -------------------------------------------------------------------------
WARC_RESPONSES = "tazarchive/warc/responses"
WARC_RECORDS = "tazarchive/warc/records"
WARC_FILES = "tazarchive/warc/files"
WARC_BYTES = "tazarchive/warc/bytes"
WARC_ERRORS = "tazarchive/warc/errors"

# --- reparse ----------------------------------------------------------------------
REPARSE_RESPONSES = "tazarchive/reparse/responses"
REPARSE_PAGES = "tazarchive/reparse/pages"
REPARSE_SKIPPED = "tazarchive/reparse/skipped"
REPARSE_UNREADABLE = "tazarchive/reparse/unreadable"
