"""``scrapy serve-gopher [--port PORT] [--host HOST]``: the archive over gopher (RFC 1436).

Serves the latest revision of every archived article at ``/!<id>`` as its
``gophermap`` rendering under the TAZARCHIVE_GOPHER_* settings (set
TAZARCHIVE_GOPHER_HOST/PORT to the address clients reach this server at, so
the menus' links lead back here), and a root menu by year and month. Binds
to 127.0.0.1 unless ``--host`` says otherwise. Runs until SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, ClassVar

from scrapy.exceptions import UsageError

from tazarchive.cli.checked import CheckedCommand
from tazarchive.dump import GopherOptions
from tazarchive.gopher.server import GopherServerFactory
from tazarchive.gopher.site import GopherArchive
from tazarchive.gopher.source import open_source

DEFAULT_HOST = "127.0.0.1"


class Command(CheckedCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_LEVEL": "INFO"}

    def syntax(self) -> str:
        return "[--port PORT] [--host HOST]"

    def short_desc(self) -> str:
        return "Serve the archive over gopher (root menu by year and month, articles at /!<id>)"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--port",
            type=int,
            default=None,
            help="TCP port (default: TAZARCHIVE_GOPHER_SERVE_PORT; 0 picks a free one)",
        )
        parser.add_argument(
            "--host", default=DEFAULT_HOST, help="address to bind (default: 127.0.0.1)"
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            raise UsageError("serve-gopher takes no arguments")
        assert self.settings is not None
        from twisted.internet import reactor

        port = (
            opts.port
            if opts.port is not None
            else self.settings.getint("TAZARCHIVE_GOPHER_SERVE_PORT")
        )
        options = GopherOptions.from_settings(self.settings)
        site = GopherArchive(open_source(self.settings), options)
        articles = sum(len(e) for months in site.index.months.values() for e in months.values())
        server: Any = reactor
        try:
            listening = server.listenTCP(port, GopherServerFactory(site), interface=opts.host)
        except OSError as error:  # CannotListenError is one
            print(f"serve-gopher: cannot listen on {opts.host}:{port}: {error}", file=sys.stderr)
            self.exitcode = 1
            return
        bound = listening.getHost().port
        # The first line names the address: tests and scripts read it.
        print(f"serve-gopher: {articles} articles at gopher://{opts.host}:{bound}/", flush=True)
        if (options.host, options.port) != (opts.host, bound):
            print(
                f"serve-gopher: menu links point at {options.host}:{options.port}"
                " (TAZARCHIVE_GOPHER_HOST/PORT)",
                file=sys.stderr,
                flush=True,
            )
        server.run()
