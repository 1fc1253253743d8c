"""A local, generated replica of taz.de for tests, benchmarks and offline tries.

``Site`` is the deterministic site (and the truth tests compare against);
``ReplicaServer`` serves it on 127.0.0.1. ``python -m tazarchive.replica``
serves one by hand. No Scrapy here.
"""

from __future__ import annotations

from tazarchive.replica.faults import LONG_ID, MISMATCH_ID, Faults
from tazarchive.replica.server import ReplicaServer, respond
from tazarchive.replica.site import PAGE_SIZE, SECTIONS, Site

__all__ = [
    "LONG_ID",
    "MISMATCH_ID",
    "PAGE_SIZE",
    "SECTIONS",
    "Faults",
    "ReplicaServer",
    "Site",
    "respond",
]
