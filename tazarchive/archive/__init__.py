"""The archive: its layout on disk, its ledger, and storing articles into it.

Every entry point (the crawl's pipelines, ``import-dumps``, ``reparse``,
``export``) goes through this package; nothing else computes an archive path.
"""

from __future__ import annotations

from tazarchive.archive.files import append_line, cut_partial_last_line, write_atomic
from tazarchive.archive.jsonl import article_json_line
from tazarchive.archive.layout import ArchiveLayout, dump_relpath, stamp
from tazarchive.archive.ledger import Ledger, LedgerEntry, content_hash
from tazarchive.archive.rejects import CountingStats, record_reject
from tazarchive.archive.store import Archive, OtherSite, Outcome, article_source

__all__ = [
    "Archive",
    "ArchiveLayout",
    "CountingStats",
    "Ledger",
    "LedgerEntry",
    "OtherSite",
    "Outcome",
    "append_line",
    "article_json_line",
    "article_source",
    "content_hash",
    "cut_partial_last_line",
    "dump_relpath",
    "record_reject",
    "stamp",
    "write_atomic",
]
