"""Shim for ``scrapyd-deploy``, which builds its egg with ``setup.py bdist_egg``.

Everything is declared in pyproject.toml (including the ``scrapy`` settings
entry point scrapyd reads); without this file scrapyd-deploy would write a
setup.py of its own whose metadata pyproject.toml overrides.
"""

from setuptools import setup

setup()
