"""A local, generated replica of taz.de for tests, benchmarks and offline tries.

``Site`` is the deterministic site (and the truth tests compare against);
``ReplicaServer`` serves it on a loopback address. ``python -m
tazarchive.replica`` serves one by hand; ``--help`` lists its options
(listing markup, unknown designs, faults). No Scrapy here.

Where it lives: in the package, not under tests/ or bench/, because users
run it (``python -m tazarchive.replica``) to try a crawl offline and the
manual's walkthrough needs it installed with the package; the end-to-end
tests, the fault matrix and bench/ import it from the same place. It
imports only ``tazarchive.items`` (its truth is made of Articles), so the
crawler never loads it.

The parts, one concern each:
``site.py``      the site model: ids, authors, tags, listings, text (flat in memory)
``routes.py``    request -> page, through two route tables; faults applied here
``render.py``, ``design2024.py``, ``design2019.py``, ``unknown.py``, ``feeds.py``
                 pages filled from ``templates/`` (``string.Template``)
``faults.py``    ``Faults``: issue 10's faults, seeded and switchable
``server.py``    HTTP on loopback (thread or child process) and the control paths
"""

from __future__ import annotations

from tazarchive.replica.faults import LONG_ID, MISMATCH_ID, Faults
from tazarchive.replica.routes import respond
from tazarchive.replica.server import ReplicaServer
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
