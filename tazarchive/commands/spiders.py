"""``scrapy spiders [SPIDER ...]``: each spider of the project with its ``-a`` arguments.

A spider documents its arguments in ``ARGUMENTS: ClassVar[dict[str, str]]``
(name → one line); a base class's arguments (``refresh``) apply to every
spider below it. A spider without any shows the first sentence of its
docstring only (or of its module's, where the class has none).
"""

from __future__ import annotations

import re
import sys
from typing import TYPE_CHECKING, Any, ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.spiderloader import get_spider_loader

if TYPE_CHECKING:
    import argparse

    from scrapy import Spider


def spider_summary(spidercls: type[Spider]) -> str:
    """The first sentence of the spider class's own docstring, else of its module's."""
    module = sys.modules.get(spidercls.__module__)
    doc = vars(spidercls).get("__doc__") or (module.__doc__ if module else None)
    paragraph = " ".join((doc or "").strip().split("\n\n")[0].split())
    sentence = re.match(r".*?[.!?](?=\s|$)|.*", paragraph.replace("``", ""))
    return sentence.group(0) if sentence else ""


def spider_arguments(spidercls: type[Spider]) -> dict[str, str]:
    """``ARGUMENTS`` of the class and of its bases; the class's own come first."""
    arguments: dict[str, str] = {}
    for klass in spidercls.__mro__:
        for name, text in vars(klass).get("ARGUMENTS", {}).items():
            arguments.setdefault(name, text)
    return arguments


def describe_spider(spidercls: type[Spider]) -> str:
    """``name: summary`` and one ``  -a NAME  what`` line per argument."""
    summary = spider_summary(spidercls)
    lines = [f"{spidercls.name}: {summary}" if summary else str(spidercls.name)]
    arguments = spider_arguments(spidercls)
    width = max((len(name) for name in arguments), default=0)
    lines += [f"  -a {name:<{width}}  {text}" for name, text in arguments.items()]
    return "\n".join(lines)


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[SPIDER ...]"

    def short_desc(self) -> str:
        return "List the project's spiders with their -a arguments"

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        loader = get_spider_loader(self.settings)
        names = args or sorted(loader.list())
        unknown = [name for name in names if name not in loader.list()]
        if unknown:
            raise UsageError(f"no spider named {', '.join(unknown)} (scrapy spiders lists them)")
        print("\n\n".join(describe_spider(loader.load(name)) for name in names))
