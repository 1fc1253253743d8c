"""A Scrapy add-on that brings tazarchive's components into any Scrapy project.

In the other project's settings::

    ADDONS = {"tazarchive.addon.TazArchiveAddon": 0}

It adds the ledger, the archive's pipelines, WARC capture, the politeness
and site-boundary middlewares, the lock, progress line and run report, the
``jsonl``/``tazdump``/``csv`` feed exporters (the archive's own JSONL is
written by its store, not by a feed), and every
``TAZARCHIVE_*`` default (at add-on priority, so the project's own values
win). The component lists are the ones in :mod:`tazarchive.settings`, so
this project and an add-on user run the same wiring. A component the project
already names keeps the project's order value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.utils.misc import load_object

from tazarchive import settings as project

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

COMPONENT_SETTINGS = (
    "DOWNLOADER_MIDDLEWARES",
    "SPIDER_MIDDLEWARES",
    "ITEM_PIPELINES",
    "EXTENSIONS",
)
MAPPING_SETTINGS = ("FEED_EXPORTERS", "FEED_STORAGES", "FEEDS")


class TazArchiveAddon:
    """Wires tazarchive into a Scrapy project (see the module docstring)."""

    def update_settings(self, settings: BaseSettings) -> None:
        for name in COMPONENT_SETTINGS:
            components: dict[str, int | None] = getattr(project, name)
            for path, order in components.items():
                settings.setdefault_in_component_priority_dict(name, load_object(path), order)
        for name in MAPPING_SETTINGS:
            merged: dict[str, Any] = dict(getattr(project, name))
            merged.update(settings.getdict(name))
            settings.set(name, merged, max(settings.getpriority(name) or 0, _ADDON))
        for name in vars(project):
            if name.startswith("TAZARCHIVE_"):
                settings.set(name, getattr(project, name), "addon")


_ADDON = 15  # SETTINGS_PRIORITIES["addon"]: below the project's own settings
