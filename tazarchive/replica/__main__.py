"""``python -m tazarchive.replica --articles 500 --port 8000``: serve until Ctrl-C."""

from __future__ import annotations

import argparse
import json
import sys

from tazarchive.replica.server import make_http_server
from tazarchive.replica.site import Site


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tazarchive.replica", description="Serve a generated taz.de replica."
    )
    parser.add_argument("--articles", type=int, default=500, help="number of articles (10-100000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1", help="loopback only")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--crawl-delay", type=float, default=0, help="Crawl-delay in robots.txt")
    parser.add_argument("--disallow-all", action="store_true", help="robots.txt forbids everything")
    parser.add_argument(
        "--page2-param",
        type=int,
        default=1,
        choices=(1, 2),
        help="search_page value of a listing's second page",
    )
    parser.add_argument("--no-log", action="store_true", help="keep no request log")
    parser.add_argument("--cache", action="store_true", help="keep rendered pages in memory")
    parser.add_argument(
        "--prerender", action="store_true", help="render every article before serving"
    )
    parser.add_argument("--quiet", action="store_true", help="print the URL line only")
    parser.add_argument("--params", help=argparse.SUPPRESS)  # JSON from Site.params()
    args = parser.parse_args(argv)
    if args.params:
        site = Site.from_params(json.loads(args.params))
    elif not 10 <= args.articles <= 100_000:
        parser.error("--articles must be between 10 and 100000")
    else:
        site = Site(
            args.articles,
            args.seed,
            page2_param=args.page2_param,
            crawl_delay=args.crawl_delay,
            disallow_all=args.disallow_all,
        )
    try:
        server = make_http_server(
            site,
            args.host,
            args.port,
            log_requests=not args.no_log,
            cache=args.cache or args.prerender,
        )
    except ValueError as error:  # not a loopback host
        parser.error(str(error))
    except OSError as error:
        print(f"cannot serve on {args.host}:{args.port}: {error.strerror}", file=sys.stderr)
        return 1
    if args.prerender:
        server.RequestHandlerClass.replica.warm()  # type: ignore[attr-defined]
    base_url = f"http://{args.host}:{server.server_address[1]}"
    # The first line carries the URL: ReplicaServer(mode="process") reads it.
    print(f"tazarchive replica: {site.n} articles at {base_url}", flush=True)
    if not args.quiet:
        _print_hint(base_url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _print_hint(base_url: str) -> None:
    print(
        "Crawl it offline with (robots.txt obeyed, as on the real site):\n"
        f"  scrapy crawl taz -s TAZARCHIVE_BASE_URL={base_url}"
        " -s DOWNLOAD_DELAY=0 -s AUTOTHROTTLE_ENABLED=False\n"
        "Ctrl-C stops it.",
        file=sys.stderr,
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
