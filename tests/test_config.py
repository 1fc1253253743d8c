"""Settings and spider arguments are checked once, before a run creates anything."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from scrapy.settings import Settings

from tazarchive import settings as defaults
from tazarchive.config import SPECS, check_setting, check_spider_arguments, validate_settings
from tests.config_spiders import CheckedSpider
from tests.conftest import REPO


def project_settings(**given: object) -> Settings:
    settings = Settings()
    settings.setmodule(defaults, priority="project")
    settings.setdict(given, priority="cmdline")
    return settings


def test_the_project_defaults_are_valid() -> None:
    assert validate_settings(project_settings()) == []


def test_every_default_has_a_spec_with_a_doc() -> None:
    names = {name for name in vars(defaults) if name.startswith("TAZARCHIVE_")}
    assert names - set(SPECS) == set()
    assert all(spec.doc for spec in SPECS.values())


def test_every_default_passes_its_own_spec() -> None:
    settings = project_settings()
    for name in SPECS:
        if hasattr(defaults, name):
            assert check_setting(settings, name) is None, name


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("TAZARCHIVE_DUMP_FORMAT", "nope", "expected one of seed, text, gophermap"),
        ("TAZARCHIVE_GOPHER_PORT", "abc", "expected a whole number"),
        ("TAZARCHIVE_GOPHER_PORT", "70000", "expected a whole number from 1 to 65535"),
        ("TAZARCHIVE_PROGRESS_INTERVAL", "-1", "expected a number ≥ 0"),
        ("TAZARCHIVE_MAX_LOST_RATIO", "2", "expected a number from 0 to 1"),
        ("TAZARCHIVE_LOCK_ENABLED", "maybe", "expected a boolean"),
        ("TAZARCHIVE_BASE_URL", "ftp://taz.de", "expected an http(s) URL"),
        ("TAZARCHIVE_OUTPUT_DIR", " ", "expected a folder"),
    ],
)
def test_a_bad_value_gives_one_line_naming_the_setting(name: str, value: str, problem: str) -> None:
    (line,) = validate_settings(project_settings(**{name: value}))
    assert line.startswith(f"{name}={value!r}: {problem}")


def test_an_unknown_tazarchive_name_is_refused_with_a_suggestion() -> None:
    (line,) = validate_settings(project_settings(TAZARCHIVE_DUMP_FORMATT="seed"))
    assert line == (
        "TAZARCHIVE_DUMP_FORMATT='seed': no such tazarchive setting "
        "(did you mean TAZARCHIVE_DUMP_FORMAT?)"
    )
    (line,) = validate_settings(project_settings(TAZARCHIVE_WORKER_PROCESSES="abc"))
    assert line.startswith("TAZARCHIVE_WORKER_PROCESSES='abc': no such tazarchive setting")


def test_spider_arguments_are_checked_by_the_spider_class() -> None:
    assert check_spider_arguments(CheckedSpider, {"n": "3"}) is None
    assert check_spider_arguments(CheckedSpider, {"m": "3"}) == (
        "spider checked: unknown argument -a m"
    )


def scrapy_crawl(cwd: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done, time.monotonic() - started


def test_crawl_with_a_bad_setting_exits_2_at_once_with_one_line_creating_nothing(
    tmp_path: Path,
) -> None:
    output = tmp_path / "archive"
    done, took = scrapy_crawl(
        REPO,
        "articles",
        "-a",
        "ids=5928990",
        "-s",
        "TAZARCHIVE_DUMP_FORMAT=nope",
        "-s",
        f"TAZARCHIVE_OUTPUT_DIR={output}",
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "tazarchive: TAZARCHIVE_DUMP_FORMAT='nope': expected one of seed, text, gophermap "
        "(dump files and tazdump feed)"
    ]
    assert done.stdout == ""
    assert not output.exists()
    assert took < 15


def test_crawl_with_a_misspelt_setting_exits_2(tmp_path: Path) -> None:
    done, _ = scrapy_crawl(
        REPO, "articles", "-a", "ids=1", "-s", f"TAZARCHIVE_OUTPUTDIR={tmp_path / 'x'}"
    )
    assert done.returncode == 2
    assert re.fullmatch(
        r"tazarchive: TAZARCHIVE_OUTPUTDIR='.*': no such tazarchive setting "
        r"\(did you mean TAZARCHIVE_OUTPUT_DIR\?\)\n",
        done.stderr,
    )
    assert not (tmp_path / "x").exists()


def test_crawl_with_a_bad_spider_argument_exits_2_creating_nothing(tmp_path: Path) -> None:
    output = tmp_path / "archive"
    done, _ = scrapy_crawl(
        REPO,
        "checked",
        "-a",
        "n=x",
        "-s",
        "SPIDER_MODULES=tests.config_spiders",
        "-s",
        f"TAZARCHIVE_OUTPUT_DIR={output}",
    )
    assert done.returncode == 2
    assert done.stderr == "tazarchive: spider checked: -a n='x': expected a whole number\n"
    assert not output.exists()


# --- the add-on -----------------------------------------------------------------------


def test_addon_wires_the_components_and_defaults_into_a_bare_project(tmp_path: Path) -> None:
    from scrapy.utils.misc import load_object
    from scrapy.utils.test import get_crawler

    from tazarchive.addon import TazArchiveAddon
    from tazarchive.extensions import ArchiveLock, RunReport

    crawler = get_crawler(
        settings_dict={
            "ADDONS": {TazArchiveAddon: 0},
            "TAZARCHIVE_OUTPUT_DIR": str(tmp_path),
            "TAZARCHIVE_DUMP_FORMAT": "text",  # the project's own value wins
        }
    )
    settings = crawler.settings
    pipelines = {load_object(p) for p in settings.getwithbase("ITEM_PIPELINES")}
    assert {load_object(p) for p in defaults.ITEM_PIPELINES} <= pipelines
    middlewares = settings.getwithbase("DOWNLOADER_MIDDLEWARES")
    by_class = {load_object(path): order for path, order in middlewares.items()}
    for path, order in defaults.DOWNLOADER_MIDDLEWARES.items():
        assert by_class[load_object(path)] == order, path
    assert settings.getwithbase("FEED_EXPORTERS")["tazdump"] == defaults.FEED_EXPORTERS["tazdump"]
    assert settings["TAZARCHIVE_DUMP_FORMAT"] == "text"
    assert settings["TAZARCHIVE_BASE_URL"] == defaults.TAZARCHIVE_BASE_URL
    assert crawler.get_extension(RunReport) is not None
    lock = crawler.get_extension(ArchiveLock)
    assert lock is not None
    lock.release()


def test_crawl_with_an_unknown_spider_argument_exits_2_naming_it(tmp_path: Path) -> None:
    output = tmp_path / "archive"
    done, took = scrapy_crawl(
        REPO, "articles", "-a", "idz=1", "-s", f"TAZARCHIVE_OUTPUT_DIR={output}"
    )
    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    assert line.startswith("tazarchive: spider articles: unknown argument -a idz (takes: ")
    assert not output.exists()
    assert took < 15


def test_test_hooks_are_not_taken_for_typos() -> None:
    assert validate_settings(project_settings(TAZARCHIVE_TEST_URL_LOG="/tmp/x")) == []


@pytest.mark.parametrize(
    "command",
    [
        ["reparse", "missing.warc.gz"],
        ["export"],
        ["extract", "missing.html"],
        ["verify", "5928990"],
        ["check-site"],
        ["convert-dumps", "missing.txt"],
        ["import-dumps", "missing.txt"],
        ["serve-gopher"],
    ],
    ids=lambda command: command[0],
)
def test_every_project_command_refuses_a_bad_setting_before_doing_anything(
    tmp_path: Path, command: list[str]
) -> None:
    output = tmp_path / "archive"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            *command,
            "-s",
            "TAZARCHIVE_DUMP_FORMAT=nope",
            "-s",
            f"TAZARCHIVE_OUTPUT_DIR={output}",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        "tazarchive: TAZARCHIVE_DUMP_FORMAT='nope': expected one of seed, text, gophermap "
        "(dump files and tazdump feed)"
    ]
    assert not output.exists()
