"""Every ``TAZARCHIVE_*`` setting: its type, allowed values and one line of doc.

The defaults live in :mod:`tazarchive.settings`; :data:`SPECS` says what each
setting accepts. :func:`validate_settings` checks a run's settings once,
before anything is created; :func:`refuse_bad_settings` is what a command
calls: one line naming the setting, exit status 2 (Scrapy's usage errors).
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import urlsplit

from tazarchive import settings as defaults
from tazarchive import urls

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.settings import BaseSettings

PREFIX = "TAZARCHIVE_"
TEST_PREFIX = "TAZARCHIVE_TEST_"  # test hooks (tests/spiders_probe.py): not checked
USAGE_ERROR = 2  # exit status of Scrapy's usage errors


@dataclass(frozen=True, slots=True)
class Spec:
    """What one setting accepts. ``check`` returns a problem, or None when the value is fine."""

    kind: type
    doc: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    check: Callable[[Any], str | None] | None = None

    def expects(self) -> str:
        if self.choices:
            return f"one of {', '.join(self.choices)}"
        what = {
            bool: "a boolean (1/0, true/false)",
            int: "a whole number",
            float: "a number",
            str: "a text",
            dict: "a JSON object",
            list: "a list",
        }[self.kind]
        if self.minimum is not None and self.maximum is not None:
            return f"{what} from {self.minimum:g} to {self.maximum:g}"
        if self.minimum is not None:
            return f"{what} ≥ {self.minimum:g}"
        return what


def _base_url(value: Any) -> str | None:
    try:
        urls.normalise_base(str(value))
    except ValueError:
        return "expected an http(s) URL like https://taz.de"
    return None


def _gopher_url(value: Any) -> str | None:
    parts = urlsplit(str(value))
    return None if parts.scheme == "gopher" and parts.hostname else "expected a gopher:// URL"


def _not_empty(value: Any) -> str | None:
    return None if str(value).strip() else "expected a folder, not an empty text"


SPECS: dict[str, Spec] = {
    "TAZARCHIVE_BASE_URL": Spec(str, "the site every spider crawls", check=_base_url),
    "TAZARCHIVE_RETRY_AFTER_MAX": Spec(float, "cap on Retry-After pauses, seconds", minimum=0),
    "TAZARCHIVE_RETRY_BACKOFF": Spec(float, "first retry pause without Retry-After", minimum=0),
    "TAZARCHIVE_RETRY_BACKOFF_MAX": Spec(float, "cap on the doubling backoff, seconds", minimum=0),
    "TAZARCHIVE_DUMP_FORMAT": Spec(
        str, "dump files and tazdump feed", choices=("seed", "text", "gophermap")
    ),
    "TAZARCHIVE_GOPHER_HOST": Spec(str, "host field of gophermap rows"),
    "TAZARCHIVE_GOPHER_PORT": Spec(int, "port field of gophermap rows", minimum=1, maximum=65535),
    "TAZARCHIVE_GOPHER_SELECTOR_PREFIX": Spec(str, "put before every selector in gophermaps"),
    "TAZARCHIVE_OUTPUT_DIR": Spec(str, "the archive folder", check=_not_empty),
    "TAZARCHIVE_LOCK_ENABLED": Spec(bool, "one run per archive: <output>/.lock"),
    "TAZARCHIVE_PROGRESS_INTERVAL": Spec(
        float, "seconds between progress lines; 0: none", minimum=0
    ),
    "TAZARCHIVE_RUN_REPORT_ENABLED": Spec(bool, "<output>/runs/<spider>-<start>.json"),
    "TAZARCHIVE_SPIDER_ARGS": Spec(dict, "set by `scrapy crawl` from -a, for the report"),
    "TAZARCHIVE_LEDGER_ENABLED": Spec(bool, "off: no dedup, no known-article skipping"),
    "TAZARCHIVE_LEDGER_PATH": Spec(str, "empty: <TAZARCHIVE_OUTPUT_DIR>/ledger.sqlite3"),
    "TAZARCHIVE_STORE_DUMPS": Spec(bool, "off: no dump files (JSONL/WARC only)"),
    "TAZARCHIVE_REJECTS_PATH": Spec(str, "empty: <TAZARCHIVE_OUTPUT_DIR>/rejects.jsonl"),
    "TAZARCHIVE_ALLOW_OTHER_SITE": Spec(bool, "write into an archive made for another base URL"),
    "TAZARCHIVE_WARC_ENABLED": Spec(bool, "every response (+ its request) to WARC"),
    "TAZARCHIVE_WARC_DIR": Spec(str, "empty: <TAZARCHIVE_OUTPUT_DIR>/warc"),
    "TAZARCHIVE_WARC_MAX_SIZE": Spec(int, "bytes per .warc.gz before the next", minimum=1),
    "TAZARCHIVE_WARC_LISTINGS": Spec(bool, "off: article pages only in WARC"),
    "TAZARCHIVE_MAX_LOST_RATIO": Spec(
        float, "pages lost after retries: above it, fail", minimum=0, maximum=1
    ),
    "TAZARCHIVE_MAX_REJECTED_RATIO": Spec(
        float, "article pages rejected: above it, fail", minimum=0, maximum=1
    ),
    "TAZARCHIVE_MAX_UNKNOWN_DESIGN_RATIO": Spec(
        float, "article pages of no known design: above it, fail", minimum=0, maximum=1
    ),
    "TAZARCHIVE_MAX_BODY_MISMATCH_RATIO": Spec(
        float, "article pages losing JSON-LD body text: above it, fail", minimum=0, maximum=1
    ),
    "TAZARCHIVE_REFUSAL_STREAK": Spec(
        int, "final 403/429/5xx in a row that stop the run; 0: never", minimum=0
    ),
    # Issue 14: gopher
    "TAZARCHIVE_GOPHER_URL": Spec(str, "the gopher spider's and verify's start", check=_gopher_url),
    "TAZARCHIVE_GOPHER_MAXSIZE": Spec(
        int, "bytes per gopher answer (0: DOWNLOAD_MAXSIZE)", minimum=0
    ),
    "TAZARCHIVE_GOPHER_LASTLINE": Spec(bool, "a gopher menu must end with its '.' line"),
    "TAZARCHIVE_GOPHER_SERVE_PORT": Spec(
        int, "scrapy serve-gopher: port on 127.0.0.1", minimum=1, maximum=65535
    ),
    "TAZARCHIVE_VERIFY_SAMPLE": Spec(int, "scrapy verify: archived articles sampled", minimum=1),
    "TAZARCHIVE_VERIFY_MIN_LINES": Spec(
        float, "scrapy verify: ratio of lines that must agree", minimum=0, maximum=1
    ),
    # Issue 13.5: reparse
    "TAZARCHIVE_REPARSE_WORKERS": Spec(
        int, "extraction processes of scrapy reparse; 0: one per core", minimum=0
    ),
    "TAZARCHIVE_REPARSE_BATCH": Spec(
        int, "scrapy reparse: articles written durably, then recorded, at once", minimum=1
    ),
}


def default(name: str) -> Any:
    """The default of a setting, from :mod:`tazarchive.settings`."""
    return getattr(defaults, name)


def known_names() -> set[str]:
    """Every TAZARCHIVE_* name: those with a spec and those with a default."""
    return set(SPECS) | {name for name in vars(defaults) if name.startswith(PREFIX)}


def _spec_of(name: str) -> Spec | None:
    """The spec, or for a setting with a default but no spec yet, its default's type."""
    if name in SPECS:
        return SPECS[name]
    value = getattr(defaults, name, None)
    for kind in (bool, int, float, str, dict, list):
        if isinstance(value, kind):
            return Spec(kind, "")
    return None


def _coerce(settings: BaseSettings, name: str, kind: type) -> Any:
    getter: dict[type, Callable[[str], Any]] = {
        bool: settings.getbool,
        int: settings.getint,
        float: settings.getfloat,
        dict: settings.getdict,
        list: settings.getlist,
    }
    if kind is str:
        value = settings.get(name)
        if not isinstance(value, str):
            raise ValueError
        return value
    return getter[kind](name)


def check_setting(settings: BaseSettings, name: str) -> str | None:
    """The one-line problem of setting ``name``, or None when it is fine."""
    raw = settings.get(name)
    shown = f"{name}={raw!r}"
    if name not in known_names():
        close = difflib.get_close_matches(name, sorted(known_names()), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        return f"{shown}: no such tazarchive setting{hint}"
    spec = _spec_of(name)
    if spec is None or raw is None:
        return None
    expected = f"{shown}: expected {spec.expects()}" + (f" ({spec.doc})" if spec.doc else "")
    try:
        value = _coerce(settings, name, spec.kind)
    except (ValueError, TypeError):
        return expected
    if spec.choices and value not in spec.choices:
        return expected
    if isinstance(value, int | float) and not isinstance(value, bool):
        too_low = spec.minimum is not None and value < spec.minimum
        too_high = spec.maximum is not None and value > spec.maximum
        if too_low or too_high or value != value:  # NaN too
            return expected
    if spec.check is not None and (problem := spec.check(value)):
        return f"{shown}: {problem}"
    return None


def validate_settings(settings: BaseSettings) -> list[str]:
    """One line per ``TAZARCHIVE_*`` setting that cannot be used (empty: all fine)."""
    names = sorted(
        name
        for name in settings
        if str(name).startswith(PREFIX) and not str(name).startswith(TEST_PREFIX)
    )
    return [problem for name in names if (problem := check_setting(settings, name))]


def check_spider_arguments(spidercls: type[Spider], args: Mapping[str, Any]) -> str | None:
    """The spider's own check of its ``-a`` arguments (``check_arguments``), as one line."""
    check = getattr(spidercls, "check_arguments", None)
    if check is None:
        return None
    try:
        check(dict(args))
    except ValueError as error:  # SpiderArgumentError is a ValueError
        line = " ".join(str(error).split())
        prefix = f"spider {spidercls.name}: "
        return line if line.startswith(prefix) else prefix + line
    return None


def refuse_bad_settings(
    settings: BaseSettings,
    spidercls: type[Spider] | None = None,
    spider_args: Mapping[str, Any] | None = None,
    *,
    err: TextIO | None = None,
) -> None:
    """Exit with status 2 and one line when a setting or spider argument cannot be used.

    Commands call it before they create a crawler, so a refused run leaves no
    lock, ledger or report behind.
    """
    problems = validate_settings(settings)
    if spidercls is not None and (bad := check_spider_arguments(spidercls, spider_args or {})):
        problems.append(bad)
    if problems:
        shown = problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
        print(f"tazarchive: {shown}", file=err or sys.stderr, flush=True)
        raise SystemExit(USAGE_ERROR)
