"""A spider for pipeline tests: yields the articles of a JSONL file, fetching nothing.

Run with ``scrapy runspider tests/archive_spiders.py -a source=items.jsonl``.
With ``-a probe=PATH`` it also records, for every ledger commit, how many
items the feed exporters had written by then (one JSON line per commit).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import scrapy
from scrapy.extensions.feedexport import FeedExporter

from tazarchive import ledger as ledger_module
from tazarchive.items import article_from_dict


class ArticlesFromFileSpider(scrapy.Spider):
    name = "articles_from_file"

    def __init__(self, source: str = "", probe: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.probe = probe

    async def start(self) -> AsyncIterator[Any]:
        if self.probe:
            self._install_probe()
        for line in Path(self.source).read_text(encoding="utf-8").splitlines():
            yield article_from_dict(json.loads(line))

    def _install_probe(self) -> None:
        feed_exporter = self.crawler.get_extension(FeedExporter)
        original = ledger_module.Ledger.record
        probe = Path(self.probe)

        def record(ledger: ledger_module.Ledger, article: Any, **kwargs: Any) -> Any:
            exported = sum(slot.itemcount for slot in feed_exporter.slots)
            with probe.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps({"id": article.id, "exported": exported}) + "\n")
            return original(ledger, article, **kwargs)

        ledger_module.Ledger.record = record  # type: ignore[method-assign]
