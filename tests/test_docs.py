"""The manual agrees with the code: settings and stats references, the JSONL schema, README.

The references list one setting or key per table row, named in the first
column; failures name exactly what is missing or stale, so whoever adds a
setting or a stats key knows which row to write.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import io
import json
import re
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tazarchive import items, stats
from tazarchive import settings as project_settings
from tazarchive.dump.files import read_dump_file
from tazarchive.exporters import ArticleJsonLinesExporter
from tazarchive.extract import extract_article
from tazarchive.items import Article, article_to_dict
from tazarchive.normalise import normalise_article
from tazarchive.schema import article_schema

from .conftest import DATA, REPO

DOCS = REPO / "docs"
SETTINGS_PAGE = DOCS / "reference" / "settings.md"
STATS_PAGE = DOCS / "reference" / "stats.md"
FETCHED = datetime.fromisoformat("2026-01-02T03:04:05+00:00")
ARTICLE_PAGES = sorted((DATA / "extract").glob("article-*.html"))
DUMP_FILES = sorted((DATA / "dump").glob("*.txt"))

# A table row whose first cell is one code span: "| `NAME` | …".
ROW_KEY = re.compile(r"^\|\s*`([^`]+)`\s*\|", re.MULTILINE)


def documented(page: Path) -> set[str]:
    return set(ROW_KEY.findall(page.read_text(encoding="utf-8")))


def defined_settings() -> set[str]:
    return {name for name in vars(project_settings) if name.startswith("TAZARCHIVE_")}


def defined_stats_keys() -> set[str]:
    """Every constant key, and every key function called with ``<parameter>`` placeholders."""
    keys = set()
    for name, value in vars(stats).items():
        if name.startswith("_"):
            continue
        if isinstance(value, str) and value.startswith("tazarchive/") and name != "PREFIX":
            keys.add(value)
        elif inspect.isfunction(value) and value.__module__ == stats.__name__:
            placeholders = [f"<{p}>" for p in inspect.signature(value).parameters]
            keys.add(value(*placeholders))
    return keys


def difference_message(names: set[str], what: str) -> str:
    return f"{what}: {', '.join(sorted(names))}"


# --- references -----------------------------------------------------------------


def test_every_setting_has_a_row_in_the_settings_reference() -> None:
    rows = {name for name in documented(SETTINGS_PAGE) if name.startswith("TAZARCHIVE_")}
    missing = defined_settings() - rows
    assert not missing, difference_message(missing, f"missing from {SETTINGS_PAGE.name}")


def test_settings_reference_documents_no_setting_that_does_not_exist() -> None:
    rows = {name for name in documented(SETTINGS_PAGE) if name.startswith("TAZARCHIVE_")}
    stale = rows - defined_settings()
    assert not stale, difference_message(stale, "documented but not in tazarchive/settings.py")


def test_every_stats_key_has_a_row_in_the_stats_reference() -> None:
    rows = {key for key in documented(STATS_PAGE) if key.startswith("tazarchive/")}
    missing = defined_stats_keys() - rows
    assert not missing, difference_message(missing, f"missing from {STATS_PAGE.name}")


def test_stats_reference_documents_no_key_that_does_not_exist() -> None:
    rows = {key for key in documented(STATS_PAGE) if key.startswith("tazarchive/")}
    stale = rows - defined_stats_keys()
    assert not stale, difference_message(stale, "documented but not in tazarchive/stats.py")


def test_pattern_keys_are_read_with_their_placeholder() -> None:
    keys = defined_stats_keys()
    assert "tazarchive/rejected/<reason>" in keys
    assert "tazarchive/offsite/<kind>" in keys


def test_references_are_checked_by_their_first_column_only() -> None:
    page = "| `TAZARCHIVE_A` | x |\n| x | `TAZARCHIVE_B` |\nsee `TAZARCHIVE_C`\n|`tazarchive/d`|\n"
    assert set(ROW_KEY.findall(page)) == {"TAZARCHIVE_A", "tazarchive/d"}


# --- README and CI ----------------------------------------------------------------


def test_readme_is_at_most_200_lines() -> None:
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines"


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    command = (
        "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' "
        "&& .venv/bin/python -m pytest"
    )
    readme = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert command in readme
    assert command in ci


def test_every_docs_page_is_in_the_nav_and_every_nav_entry_exists() -> None:
    config = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    in_nav = set(re.findall(r":\s*([\w/.-]+\.md)\s*$", config, re.MULTILINE))
    pages = {path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md")}
    assert in_nav == pages, {"not in nav": pages - in_nav, "no such page": in_nav - pages}


# --- the JSONL schema ---------------------------------------------------------------

# The schema's $defs and the dataclasses they describe.
SCHEMA_DEFS = {
    "author": items.Author,
    "picture": items.Picture,
    "linkSpan": items.LinkSpan,
    "block": items.Block,
    "link": items.Link,
    "tag": items.Tag,
    "related": items.Related,
}


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = article_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def errors_of(validator: jsonschema.protocols.Validator, record: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(record)
    ]


def field_names(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def test_schema_names_exactly_the_article_fields() -> None:
    schema = article_schema()
    assert set(schema["properties"]) == field_names(Article)
    assert set(schema["required"]) == field_names(Article)
    assert schema["additionalProperties"] is False


@pytest.mark.parametrize("name", sorted(SCHEMA_DEFS))
def test_schema_parts_name_exactly_their_dataclass_fields(name: str) -> None:
    part = article_schema()["$defs"][name]
    assert set(part["properties"]) == field_names(SCHEMA_DEFS[name])
    assert set(part["required"]) == field_names(SCHEMA_DEFS[name])
    assert part["additionalProperties"] is False


def exported_line(article: Article) -> dict[str, Any]:
    """The article as the JSONL feed writes it."""
    out = io.BytesIO()
    exporter = ArticleJsonLinesExporter(out)
    exporter.start_exporting()
    exporter.export_item(article)
    exporter.finish_exporting()
    record: dict[str, Any] = json.loads(out.getvalue())
    return record


@pytest.mark.parametrize("page", ARTICLE_PAGES, ids=lambda p: p.stem)
def test_extracted_fixture_articles_validate(
    page: Path, validator: jsonschema.protocols.Validator
) -> None:
    article = extract_article(page.read_bytes(), "https://taz.de/", fetched=FETCHED)
    assert article is not None
    record = exported_line(normalise_article(article))
    assert errors_of(validator, record) == []


@pytest.mark.parametrize("path", DUMP_FILES, ids=lambda p: p.name)
def test_articles_read_from_dumps_validate(
    path: Path, validator: jsonschema.protocols.Validator
) -> None:
    record = article_to_dict(read_dump_file(path))
    assert errors_of(validator, json.loads(json.dumps(record))) == []


def test_records_the_archive_stores_validate(
    tmp_path: Path, validator: jsonschema.protocols.Validator
) -> None:
    """import-dumps stores through the archive: its JSONL carries revision and content hash."""
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    for n, path in enumerate(DUMP_FILES):
        shutil.copy(path, dumps / f"{5900200 + n}.txt")
    archive = tmp_path / "archive"
    command = ["import-dumps", str(dumps), "-s", f"TAZARCHIVE_OUTPUT_DIR={archive}"]
    done = subprocess.run(
        [sys.executable, "-m", "scrapy.cmdline", *command],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    jsonl = [p for p in archive.rglob("*.jsonl") if p.parent.name == "jsonl"]
    records = [json.loads(line) for path in jsonl for line in path.read_text("utf-8").splitlines()]
    assert records, done.stderr
    for record in records:
        assert errors_of(validator, record) == [], record["id"]
        assert isinstance(record["revision"], int)
        assert record["content_hash"].startswith("sha256:")


@pytest.fixture
def record() -> dict[str, Any]:
    article = extract_article(ARTICLE_PAGES[0].read_bytes(), "https://taz.de/", fetched=FETCHED)
    assert article is not None
    return json.loads(json.dumps(article_to_dict(article)))


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda r: r.pop("teaser"), ""),
        (lambda r: r.update(extra=1), ""),
        (lambda r: r.update(published="24.10.2025"), "published"),
        (lambda r: r.update(published="2025-10-24T08:00:00"), "published"),
        (lambda r: r["body"][0].update(kind="quote"), "body/0/kind"),
        (lambda r: r["authors"].append({"name": "X"}), "authors/"),
        (lambda r: r.update(revision=0), "revision"),
        (lambda r: r.update(content_hash="md5:00"), "content_hash"),
    ],
    ids=[
        "missing",
        "extra",
        "date",
        "no-offset",
        "kind",
        "author-incomplete",
        "revision",
        "hash",
    ],
)
def test_schema_rejects_records_that_differ_from_the_article_view(
    change: Any, path: str, record: dict[str, Any], validator: jsonschema.protocols.Validator
) -> None:
    broken = copy.deepcopy(record)
    change(broken)
    errors = errors_of(validator, broken)
    assert errors
    assert any(error.startswith(path) for error in errors), errors
