"""The project's scrapy commands, found through ``COMMANDS_MODULE``: one per module.

Scrapy names each after its module (``crawl`` replaces Scrapy's own). Commands
with a hyphen in their name live in :mod:`tazarchive.cli` (see there why).
"""
