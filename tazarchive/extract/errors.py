"""Why a fetched page must not enter the archive.

Extraction raises :class:`PageRejected` for a page it will not turn into an
article (garbled text, a challenge page, a tree it could not build, an id
other than the one asked for …). The spider lets it propagate; the archive's
spider middleware records it (stats ``tazarchive/rejected/<reason>``,
``rejects.jsonl``) and keeps it out of the ledger, so the next run fetches
the page again.
"""

from __future__ import annotations


class PageRejected(Exception):
    """A page that is no clean, whole taz article; ``reason`` is a snake_case key."""

    def __init__(self, reason: str, detail: str = "", url: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.url = url
