"""Serve a generated taz.de replica on a loopback address until Ctrl-C.

    python -m tazarchive.replica --articles 500 --port 8000

Options beyond the site's size and seed:

``--listing-markup plain``
    home, section, tag and author pages link their articles in bare
    ``<div><span><a href=…>`` markup and paginate with bare ``?search_page=N``
    links: no taz classes, markup no extractor knows.
``--unknown-design FRACTION``
    that share of articles (picked by seed) is served in an invented design
    no page object knows; ``GET /__replica__/configure?unknown_design=0``
    serves the same ids normally again.
``--fault NAME[=VALUE]`` (repeatable)
    inject a fault of issue 10's table; fractions pick articles by seed, a
    bare NAME means every article. Names: challenge, ban_after=N,
    redirect_loop, cp1252, gzip_corrupt, gzip_truncated, deep_nesting
    (nesting_depth=250), offsite_redirect (foreign_host=127.0.0.2),
    id_mismatch, long_id, control_chars, many_attributes
    (attribute_count=60000). See tazarchive.replica.faults.Faults.
    ``GET /__replica__/configure?faults={}`` removes them all.
``--foreign``
    also serve the clean site on the foreign host (same port) that
    offsite_redirect sends clients to; on by itself with that fault.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
from pathlib import Path

from tazarchive.replica.faults import NAMES, Faults
from tazarchive.replica.server import make_foreign_server, make_http_server
from tazarchive.replica.site import LISTING_MARKUPS, Site


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tazarchive.replica",
        description="Serve a generated taz.de replica on a loopback address.",
        epilog="While serving, GET /__replica__/configure?faults={} removes every fault and "
        "?unknown_design=0&listing_markup=taz serves the normal site again (same ids); other "
        "control paths: /__replica__/{log,revise,fail,params}. Only loopback addresses.",
    )
    add = parser.add_argument
    add("--articles", type=int, default=500, help="number of articles (10-100000)")
    add("--seed", type=int, default=0)
    add("--host", default="127.0.0.1", help="loopback only")
    add("--port", type=int, default=8000, help="0 picks a free port")
    add("--crawl-delay", type=float, default=0, help="Crawl-delay in robots.txt")
    add("--disallow-all", action="store_true", help="robots.txt forbids everything")
    add("--page2-param", type=int, default=1, choices=(1, 2), help="search_page of page 2")
    add(
        "--listing-markup",
        choices=LISTING_MARKUPS,
        default="taz",
        help="plain: listings link articles in bare <div><span><a> markup, no taz classes",
    )
    add(
        "--unknown-design",
        type=float,
        default=0.0,
        metavar="FRACTION",
        help="share of articles (chosen by seed) served in a design no page object knows",
    )
    add(
        "--fault",
        action="append",
        default=[],
        metavar="NAME[=VALUE]",
        help="inject a fault of issue 10's table (repeatable): NAME=FRACTION hits that share "
        "of articles (chosen by seed), a bare NAME every article; ban_after=N: 403 after N "
        f"requests. Names: {', '.join(NAMES)}",
    )
    add("--foreign", action="store_true", help="also serve the offsite_redirect target host")
    add("--no-log", action="store_true", help="keep no request log")
    add("--cache", action="store_true", help="keep rendered pages in memory")
    add("--prerender", action="store_true", help="render every article before serving")
    add("--quiet", action="store_true", help="print the URL line only")
    add("--params", help=argparse.SUPPRESS)  # JSON from Site.params()
    return parser


def _site(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Site:
    if args.params:
        return Site.from_params(json.loads(args.params))
    if not 10 <= args.articles <= 100_000:
        parser.error("--articles must be between 10 and 100000")
    try:
        return Site(
            args.articles,
            args.seed,
            page2_param=args.page2_param,
            crawl_delay=args.crawl_delay,
            disallow_all=args.disallow_all,
            listing_markup=args.listing_markup,
            unknown_design=args.unknown_design,
            faults=Faults.parse(args.fault),
        )
    except ValueError as error:
        parser.error(str(error))


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    site = _site(parser, args)
    try:
        server = make_http_server(
            site,
            args.host,
            args.port,
            log_requests=not args.no_log,
            cache=args.cache or args.prerender,
        )
        port = server.server_address[1]
        foreign = None
        if args.foreign or site.faults.offsite_redirect:
            foreign = make_foreign_server(site, port)
    except ValueError as error:  # not a loopback host
        parser.error(str(error))
    except OSError as error:
        print(f"cannot serve on {args.host}:{args.port}: {error.strerror}", file=sys.stderr)
        return 1
    if args.prerender:
        server.RequestHandlerClass.replica.warm()  # type: ignore[attr-defined]
    base_url = f"http://{args.host}:{port}"
    # The first line carries the URL: ReplicaServer(mode="process") reads it.
    print(f"tazarchive replica: {site.n} articles at {base_url}", flush=True)
    if not args.quiet:
        print(crawl_hint(base_url, port), file=sys.stderr, flush=True)
    if foreign is not None:
        threading.Thread(target=foreign.serve_forever, daemon=True).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if foreign is not None:
            foreign.server_close()
    return 0


def scratch_archive(port: int) -> Path:
    """Where the printed crawl command writes: a temp folder, never ./output (issue 10.5)."""
    return Path(tempfile.gettempdir()) / f"tazarchive-replica-{port}"


def crawl_hint(base_url: str, port: int) -> str:
    return (
        "Crawl it offline with (robots.txt obeyed, as on the real site; the archive goes\n"
        "to a scratch folder so replica articles never mix with a real archive):\n"
        f"  scrapy crawl taz -s TAZARCHIVE_BASE_URL={base_url}"
        f" -s TAZARCHIVE_OUTPUT_DIR={scratch_archive(port)}"
        " -s DOWNLOAD_DELAY=0 -s AUTOTHROTTLE_ENABLED=False\n"
        "Ctrl-C stops it."
    )


if __name__ == "__main__":
    sys.exit(main())
