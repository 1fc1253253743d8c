"""A spider for pipeline tests: yields the articles of a JSONL file, fetching nothing.

Run with ``scrapy runspider tests/archive_spiders.py -a source=items.jsonl``.
With ``-a probe=PATH`` it also records, for every ledger commit, what the
archive's JSONL file held by then (one JSON line per commit).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import scrapy

from tazarchive.archive import ledger as ledger_module
from tazarchive.archive.crawl import crawler_archive
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
        archive = crawler_archive(self.crawler)
        original = ledger_module.Ledger.commit
        probe = Path(self.probe)

        def commit(ledger: ledger_module.Ledger, changes: list[Any]) -> Any:
            lines = archive.jsonl_path.read_text(encoding="utf-8").splitlines()
            for change in changes:
                if not isinstance(change, ledger_module.Revision):
                    continue
                entry = {"id": change.id, "jsonl_lines": len(lines), "last_id": ""}
                if lines:
                    entry["last_id"] = json.loads(lines[-1])["id"]
                with probe.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps(entry) + "\n")
            return original(ledger, changes)

        ledger_module.Ledger.commit = commit  # type: ignore[method-assign]
