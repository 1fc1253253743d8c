"""The archive: its layout on disk, its ledger, and storing articles into it.

Every entry point (the crawl's pipelines, ``import-dumps``, ``reparse``,
``export``) goes through this package; nothing else computes an archive path.
"""

from __future__ import annotations

from tazarchive.archive.files import append_line, write_atomic
from tazarchive.archive.layout import ArchiveLayout, dump_relpath, stamp

__all__ = ["ArchiveLayout", "append_line", "dump_relpath", "stamp", "write_atomic"]
