"""The base of the project's commands: settings are checked before anything runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.commands import ScrapyCommand

from tazarchive.config import refuse_bad_settings

if TYPE_CHECKING:
    import argparse


class CheckedCommand(ScrapyCommand):
    """A Scrapy command that exits 2 with one line on a bad ``TAZARCHIVE_*`` setting.

    The check runs in ``process_options``, before the command creates a
    crawler, opens the archive or writes anything (``tazarchive.config``).
    """

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        assert self.settings is not None
        refuse_bad_settings(self.settings)
