"""The scrapy commands whose names hold a hyphen: ``convert-dumps``, ``import-dumps``.

Scrapy names a ``COMMANDS_MODULE`` command after its module, and a module
name cannot hold ``-``; these come in through the ``scrapy.commands`` entry
points in pyproject.toml instead. They live outside ``tazarchive.commands``
because Scrapy lists every command class found there, and would show each of
them a second time under an underscore name (``convert_dumps``).
"""
