"""``scrapy spiders`` (each spider with its -a arguments); one name per command in ``scrapy -h``."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import ClassVar

from scrapy import Spider
from scrapy.spiderloader import get_spider_loader
from scrapy.utils.project import get_project_settings

from tazarchive.commands.spiders import describe_spider, spider_arguments, spider_summary

from .conftest import REPO


class BaseWithRefresh(Spider):
    """Base of the test spiders."""

    ARGUMENTS: ClassVar[dict[str, str]] = {"refresh": "fetch known articles again"}


class DocumentedSpider(BaseWithRefresh):
    """Fetch the given things.

    More words that are not the summary.
    """

    name = "documented"
    ARGUMENTS: ClassVar[dict[str, str]] = {
        "ids": "comma-separated article ids",
        "refresh": "this spider's own words for refresh",
    }


class UndocumentedSpider(Spider):
    """Only a docstring, no ARGUMENTS."""

    name = "undocumented"


def scrapy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scrapy.cmdline", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_arguments_of_the_class_come_first_then_those_of_its_bases() -> None:
    assert spider_arguments(DocumentedSpider) == {
        "ids": "comma-separated article ids",
        "refresh": "this spider's own words for refresh",
    }
    assert list(spider_arguments(BaseWithRefresh)) == ["refresh"]


def test_description_lists_each_argument_on_its_own_line() -> None:
    assert describe_spider(DocumentedSpider).splitlines() == [
        "documented: Fetch the given things.",
        "  -a ids      comma-separated article ids",
        "  -a refresh  this spider's own words for refresh",
    ]


def test_spider_without_arguments_shows_its_docstring_first_line() -> None:
    assert describe_spider(UndocumentedSpider) == "undocumented: Only a docstring, no ARGUMENTS."


def test_summary_is_the_first_sentence_even_when_the_docstring_wraps_it() -> None:
    class Wrapped(Spider):
        """Articles of taz's
        feeds. A feed without links is counted."""

        name = "wrapped"

    assert spider_summary(Wrapped) == "Articles of taz's feeds."


def test_summary_falls_back_to_the_module_docstring() -> None:
    class NoDoc(Spider):
        name = "nodoc"

    NoDoc.__module__ = "tazarchive.commands.spiders"
    assert spider_summary(NoDoc) == (
        "scrapy spiders [SPIDER ...]: each spider of the project with its -a arguments."
    )


def test_scrapy_spiders_lists_every_project_spider_once() -> None:
    done = scrapy("spiders")
    assert done.returncode == 0, done.stderr
    names = sorted(get_spider_loader(get_project_settings()).list())
    assert names
    listed = [line.split(":")[0] for line in done.stdout.splitlines() if re.match(r"\w", line)]
    assert listed == names


def test_scrapy_spiders_names_an_unknown_spider_and_fails() -> None:
    done = scrapy("spiders", "no-such-spider")
    assert done.returncode != 0
    assert "no-such-spider" in done.stderr


def test_scrapy_help_lists_one_name_per_command() -> None:
    done = scrapy("-h")
    assert done.returncode == 0, done.stderr
    commands = re.findall(r"^  (\S+)\s", done.stdout.split("Available commands:")[1], re.MULTILINE)
    spelled = [name.replace("_", "-") for name in commands]
    assert sorted(set(spelled)) == sorted(spelled), commands
    assert {"convert-dumps", "import-dumps", "spiders", "crawl", "extract"} <= set(commands)
