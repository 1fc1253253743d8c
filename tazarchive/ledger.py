"""Moved to :mod:`tazarchive.archive.ledger` and :mod:`tazarchive.archive.crawl`.

Kept so settings and imports naming ``tazarchive.ledger`` still work.
"""

from __future__ import annotations

from tazarchive.archive.crawl import KnownArticlesMiddleware, SeenIds, truthy
from tazarchive.archive.ledger import VOLATILE_FIELDS, Ledger, LedgerEntry, content_hash

__all__ = [
    "VOLATILE_FIELDS",
    "KnownArticlesMiddleware",
    "Ledger",
    "LedgerEntry",
    "SeenIds",
    "content_hash",
    "truthy",
]
