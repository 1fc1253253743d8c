"""A spider with ``check_arguments``, for the settings/arguments checks of ``scrapy crawl``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, ClassVar

import scrapy

from tazarchive.spiders.base import SpiderArgumentError


class CheckedSpider(scrapy.Spider):
    name = "checked"
    ARGUMENTS: ClassVar[dict[str, str]] = {"n": "how many (a whole number)"}

    @classmethod
    def check_arguments(cls, args: Mapping[str, Any]) -> None:
        for name, value in args.items():
            if name not in cls.ARGUMENTS:
                raise SpiderArgumentError(f"unknown argument -a {name}")
            if not str(value).isdigit():
                raise SpiderArgumentError(f"-a {name}={value!r}: expected a whole number")

    async def start(self) -> AsyncIterator[Any]:
        return
        yield
