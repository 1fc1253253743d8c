"""HTTP side of the replica: routing taz.de paths to generated pages, and a
server that runs in a thread (tests) or a child process (benchmarks).

Reserved control paths (never logged), for tests that drive a child process:
``/__replica__/log`` (JSON list of paths served; ``?times=1``: [time, path]
pairs; ``?clear=1`` empties it),
``/__replica__/revise?ids=1,2`` (new revision of those articles),
``/__replica__/fail?path=/prefix&status=503&times=2&retry_after=1`` (the next
``times`` requests under that prefix fail), ``/__replica__/params``.
"""

from __future__ import annotations

import json
import multiprocessing
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from tazarchive.replica import faults as faults_
from tazarchive.replica import render, unknown
from tazarchive.replica.faults import Faults, is_loopback
from tazarchive.replica.response import HTML, RSS, XML, Response
from tazarchive.replica.site import OVERVIEW, SECTIONS, Site, _hash

CONTROL_PREFIX = "/__replica__/"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

_OBJECT_RE = re.compile(r"!(?P<kind>a|t|p|)(?P<id>\d+)(?P<suffix>[&;].*)?")
_MONTH_RE = re.compile(r"/sitemap-article-online-(\d{4}-\d\d-\d\d)-(\d{4}-\d\d-\d\d)\.xml")


@dataclass(slots=True)
class Fault:
    prefix: str
    status: int
    remaining: int
    retry_after: str | None


def _ok(text: str, content_type: str = HTML) -> Response:
    return Response(200, content_type, text.encode("utf-8"))


ResponseCache = dict[tuple[str, str, int], Response]


def respond(
    site: Site, target: str, cache: ResponseCache | None = None, port: int | None = None
) -> Response:
    """The response the replica gives for a request target (path + query).

    ``cache`` (benchmarks) keeps rendered article and listing pages: every
    variant of one article's URL shares one entry. ``port``: the serving
    port, which an off-site redirect keeps.
    """
    parts = urlsplit(target)
    path = unquote(parts.path) or "/"
    query = parse_qs(parts.query)
    if path == "/":
        plain = site.listing_markup == "plain"
        return _ok(unknown.home_page(site) if plain else render.home_page(site))
    if path == "/robots.txt":
        return _ok(render.robots_txt(site), "text/plain; charset=utf-8")
    if path == "/sitemap-index.xml":
        return _ok(render.sitemap_index(site), XML)
    if path == "/sitemap-google-news.xml":
        return _ok(render.sitemap_news(site), XML)
    if path == "/rss.xml":
        return _ok(render.feed(site, OVERVIEW), RSS)
    month = _MONTH_RE.fullmatch(path)
    if month is not None:
        first, last = date.fromisoformat(month.group(1)), date.fromisoformat(month.group(2))
        if (first, last) in site.months():
            return _ok(render.sitemap_month(site, first, last), XML)
        return _not_found(site)
    segment = path.rstrip("/").rsplit("/", 1)[-1]
    if re.fullmatch(r"!ku\d+", segment):
        return _ok(render.profile_page(site, segment[3:]))
    if segment.startswith("!v="):
        name = path.strip("/").split("/")[0] if path.count("/") > 2 else "Service"
        return _ok(render.static_page(site, name.replace("-", " ")))
    match = _OBJECT_RE.fullmatch(segment)
    if match is None:
        return _not_found(site)
    kind, object_id, suffix = match.group("kind"), match.group("id"), match.group("suffix") or ""
    if kind == "":
        index = site.index_of(object_id)
        if index is None:
            return _not_found(site)
        return _article(site, index, path, target, cache, port)
    page = render.page_number(site, (query.get("search_page") or [""])[0])
    if page is None:
        return _not_found(site)
    if cache is not None and not suffix:
        key = (kind, object_id, page)
        if key not in cache:
            cache[key] = respond(site, target)
        return cache[key]
    if kind == "a":
        a = site.author_index_of(object_id)
        if a is None:
            return _not_found(site)
        author = site.author(a)
        header = ""
        if author.description:
            header = (
                '<div class="column is-12 author-description typo-short-text">'
                f"{render._e(author.description)}</div>\n"
            )
        if site.listing_markup == "plain":
            return _ok(
                unknown.listing_page(
                    site, "author", object_id, author.path, author.name, page, author.description
                )
            )
        return _ok(
            render.listing_page(site, "author", object_id, author.path, author.name, page, header)
        )
    if kind == "t":
        tag = site.tag_of_id(object_id)
        if tag is None:
            return _not_found(site)
        return _ok(_listing(site, "tag", object_id, tag.path, tag.name, page))
    section = SECTIONS.get(object_id)
    if section is None:
        return _not_found(site)
    if suffix == ";rss":
        return _ok(render.feed(site, section), RSS)
    if suffix:
        return _not_found(site)
    return _ok(_listing(site, "section", object_id, section.path, section.name, page))


def _listing(site: Site, kind: str, object_id: str, path: str, name: str, page: int) -> str:
    listing = unknown.listing_page if site.listing_markup == "plain" else render.listing_page
    return listing(site, kind, object_id, path, name, page)


def _article(
    site: Site,
    index: int,
    path: str,
    target: str,
    cache: ResponseCache | None,
    port: int | None,
) -> Response:
    """An article's response: faults that answer instead of the page, else the (cached) page."""
    faults = site.faults
    if faults:
        article_id = site.id_of(index)
        if site.hit("offsite_redirect", index):
            return faults_.offsite(faults.foreign_host, port, target)
        if site.hit("redirect_loop", index):
            return faults_.loop_redirect(path, article_id)
        if site.hit("challenge", index):
            return faults_.challenge_page(f"{_hash(site.seed, 'ray', index):016x}")
    if cache is None:
        return _article_page(site, index)
    key = ("", site.id_of(index), 0)
    if key not in cache:
        cache[key] = _article_page(site, index)
    return cache[key]


def _article_page(site: Site, index: int) -> Response:
    """The article page, in its design or an unknown one, with any faults of its body."""
    data = site.data(index)
    if site.hit("control_chars", index):
        data = faults_.with_control_chars(data)
    if site.hit("unknown_design", index):
        page = unknown.article_page(site, data)
    else:
        page = render.article_page(site, index, data)
    if not site.faults:
        return _ok(page)
    faults = site.faults
    if site.hit("id_mismatch", index):
        page = faults_.claim_id(page, data.id, faults_.MISMATCH_ID)
    if site.hit("long_id", index):
        page = faults_.claim_id(page, data.id, faults_.LONG_ID)
    if site.hit("deep_nesting", index):
        page = faults_.nest(page, faults.nesting_depth)
    if site.hit("many_attributes", index):
        page = faults_.many_attributes(page, faults.attribute_count)
    if site.hit("cp1252", index):
        body = page.encode("cp1252", errors="xmlcharrefreplace")
    else:
        body = page.encode("utf-8")
    for name, how in (("gzip_corrupt", "corrupt"), ("gzip_truncated", "truncated")):
        if site.hit(name, index):
            return Response(200, HTML, faults_.gzip_damaged(body, how), _GZIP)
    return Response(200, HTML, body)


_GZIP = (("Content-Encoding", "gzip"),)


def _not_found(site: Site) -> Response:
    return Response(404, HTML, render.not_found_page(site).encode("utf-8"))


class _Replica:
    """Shared state of one serving replica: the site, the request log, faults."""

    def __init__(self, site: Site, *, log_requests: bool = True, cache: bool = False) -> None:
        self.site = site
        self.log_requests = log_requests
        self.cache: ResponseCache | None = {} if cache else None
        self.log: list[str] = []
        self.times: list[float] = []  # time.time() of each logged request
        self.faults: list[Fault] = []
        self.lock = threading.Lock()
        self.log_lock = threading.Lock()
        self.port: int | None = None  # set once bound: off-site redirects keep it
        self.served = 0  # requests since the faults were set (ban_after counts them)

    def handle(self, target: str) -> Response:
        if target.startswith(CONTROL_PREFIX):
            return self.control(target)
        if self.log_requests:
            with self.log_lock:
                self.times.append(time.time())
                self.log.append(target)
        with self.lock:
            ban = self.site.faults.ban_after
            if ban:
                self.served += 1
                if self.served > ban:
                    return faults_.banned()
            fault = next(
                (f for f in self.faults if f.remaining > 0 and target.startswith(f.prefix)), None
            )
            if fault is not None:
                fault.remaining -= 1
                headers = (("Retry-After", fault.retry_after),) if fault.retry_after else ()
                return Response(fault.status, "text/plain", b"replica fault\n", headers)
            return respond(self.site, target, self.cache, self.port)

    def clear_log(self) -> None:
        self.log.clear()
        self.times.clear()

    def revise(self, ids: list[str]) -> None:
        with self.lock:
            self.site.revise(ids)
            if self.cache is not None:
                self.cache.clear()  # listings do not change, but keep it simple

    def configure(self, **options: Any) -> None:
        """Site.configure while serving: drops rendered pages, restarts the ban count."""
        with self.lock:
            self.site.configure(**options)
            self.served = 0
            if self.cache is not None:
                self.cache.clear()

    def warm(self, workers: int = 2) -> int:
        """Render every article and listing page into the cache up front (benchmarks).

        Uses ``workers`` forked processes (the cores are idle before a
        benchmark starts). Returns the number of pages rendered.
        """
        if self.cache is None:
            raise RuntimeError("warm() needs cache=True")
        site = self.site
        chunks = [[f"/!{i}/" for i in chunk] for chunk in _chunked(list(site.article_ids()), 500)]
        listings = [("section", s.id, s.path) for s in SECTIONS.values()]
        listings += [("tag", t, f"/!t{t}/") for t in site.tag_ids()]
        listings += [("author", a, f"/!a{a}/") for a in site.author_ids()]
        targets = []
        for kind, object_id, path in listings:
            pages = site.listing_pages(kind, object_id)
            targets += [path + render.page_query(site, p) for p in range(1, pages + 1)]
        chunks += _chunked(targets, 200)  # a listing's pages stay together: cheap paging
        count = sum(len(chunk) for chunk in chunks)
        if workers > 1:
            ctx = multiprocessing.get_context("fork")
            with ctx.Pool(workers, initializer=_init_worker, initargs=(site.params(),)) as pool:
                for rendered in pool.imap_unordered(_render_chunk, chunks):
                    self.cache.update(rendered)
        else:
            _init_worker(site.params())
            for chunk in chunks:
                self.cache.update(_render_chunk(chunk))
        return count

    def control(self, target: str) -> Response:
        parts = urlsplit(target)
        action = parts.path[len(CONTROL_PREFIX) :].strip("/")
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        result: Any
        if action == "log":
            with self.log_lock:
                result = (
                    list(zip(self.times, self.log, strict=True))
                    if query.get("times")
                    else list(self.log)
                )
                if query.get("clear"):
                    self.clear_log()
        elif action == "revise":
            ids = [i for i in query.get("ids", "").split(",") if i]
            try:
                self.revise(ids)
            except KeyError as error:
                return Response(400, "application/json", json.dumps({"error": str(error)}).encode())
            result = {"revised": ids}
        elif action == "fail":
            fault = Fault(
                query.get("path", "/"),
                int(query.get("status", "503")),
                int(query.get("times", "1")),
                query.get("retry_after"),
            )
            with self.lock:
                self.faults.append(fault)
            result = {"fault": fault.prefix}
        elif action == "configure":
            try:
                self.configure(**_configure_options(query))
            except (TypeError, ValueError) as error:
                return Response(400, "application/json", json.dumps({"error": str(error)}).encode())
            result = self.site.params()
        elif action == "params":
            result = self.site.params()
        else:
            return Response(404, "application/json", b'{"error": "unknown control"}')
        return Response(200, "application/json", json.dumps(result).encode())


def _configure_options(query: dict[str, str]) -> dict[str, Any]:
    """Site.configure arguments from a control query (``faults`` is JSON)."""
    options: dict[str, Any] = {}
    if "listing_markup" in query:
        options["listing_markup"] = query["listing_markup"]
    if "unknown_design" in query:
        options["unknown_design"] = float(query["unknown_design"])
    if "faults" in query:
        options["faults"] = Faults.from_dict(json.loads(query["faults"]))
    return options


def _query_of(options: dict[str, Any]) -> dict[str, str]:
    query = {k: str(v) for k, v in options.items() if v is not None and k != "faults"}
    if options.get("faults") is not None:
        query["faults"] = json.dumps(options["faults"].to_dict())
    return query


_WORKER_SITE: list[Site] = []


def _init_worker(params: dict[str, object]) -> None:
    _WORKER_SITE[:] = [Site.from_params(params)]


def _render_chunk(targets: list[str]) -> ResponseCache:
    site = _WORKER_SITE[0]
    cache: ResponseCache = {}
    for target in targets:
        respond(site, target, cache)
    return cache


def _chunked(items: list[str], size: int) -> list[list[str]]:
    return [items[n : n + size] for n in range(0, len(items), size)]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Scrapy uses it
    server_version = "tazarchive-replica/0.1"
    replica: _Replica  # set on a per-server subclass

    def setup(self) -> None:
        super().setup()
        # One write per response and no Nagle delay: keep-alive clients
        # otherwise stall ~40 ms per request on delayed ACKs.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._send(self.replica.handle(self.path), with_body=True)

    def do_HEAD(self) -> None:
        self._send(self.replica.handle(self.path), with_body=False)

    def _send(self, response: Response, *, with_body: bool) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers:
            self.send_header(name, value)
        # send_header() filled http.server's (private) header buffer.
        buffered: list[bytes] = getattr(self, "_headers_buffer", [])
        head = b"".join(buffered) + b"\r\n"
        buffered.clear()
        self.wfile.write(head + response.body if with_body else head)

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the log is request_log
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def make_http_server(
    site: Site, host: str, port: int, *, log_requests: bool = True, cache: bool = False
) -> _Server:
    """A bound (not yet serving) HTTP server for ``site``; loopback hosts only."""
    if not is_loopback(host):
        raise ValueError(f"the replica binds to loopback only, not {host!r}")
    replica = _Replica(site, log_requests=log_requests, cache=cache)
    handler = type("ReplicaHandler", (_Handler,), {"replica": replica})
    server = _Server((host, port), handler)
    replica.port = server.server_address[1]
    return server


def make_foreign_server(site: Site, port: int) -> _Server:
    """Another host (``site.faults.foreign_host``, loopback) serving the clean site on ``port``.

    It is where ``offsite_redirect`` sends clients: its pages look like taz
    articles, so only a crawler that keeps to its host stays clean.
    """
    clean = {**site.params(), "faults": {}, "unknown_design": 0.0, "listing_markup": "taz"}
    return make_http_server(Site.from_params(clean), site.faults.foreign_host, port)


class ReplicaServer:
    """Serve a :class:`Site` on 127.0.0.1, in a thread or a child process.

    >>> with ReplicaServer(Site(50)) as server:
    ...     server.base_url  # doctest: +ELLIPSIS
    'http://127.0.0.1:...'

    ``mode="process"`` runs ``python -m tazarchive.replica`` as a child with
    the same site parameters, so a benchmark's crawler and the server use
    different cores; the log, revisions and faults then go over the control
    paths. ``cache`` keeps rendered pages; ``prerender`` renders every article
    page before serving (on all cores), so serving costs no rendering.
    """

    def __init__(
        self,
        site: Site,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        mode: Literal["thread", "process"] = "thread",
        log_requests: bool = True,
        cache: bool = False,
        prerender: bool = False,
        foreign: bool | None = None,
    ) -> None:
        if not is_loopback(host):
            raise ValueError(f"the replica binds to loopback only, not {host!r}")
        self.site = site
        self.host = host
        self.port = port
        self.mode = mode
        self.log_requests = log_requests
        self.cache = cache or prerender
        self.prerender = prerender
        # The foreign host offsite_redirect leads to: on when that fault is on at start.
        self.foreign = bool(site.faults.offsite_redirect) if foreign is None else foreign
        self._foreign: _Server | None = None
        self._foreign_thread: threading.Thread | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._process: subprocess.Popen[str] | None = None

    @property
    def pid(self) -> int | None:
        """The child process's pid (``mode="process"``); None in thread mode or before start."""
        return self._process.pid if self._process is not None else None

    @property
    def base_url(self) -> str:
        if self.port == 0:
            raise RuntimeError("the replica is not started")
        return f"http://{self.host}:{self.port}"

    def start(self) -> ReplicaServer:
        if self.mode == "thread":
            self._server = make_http_server(
                self.site, self.host, self.port, log_requests=self.log_requests, cache=self.cache
            )
            if self.prerender:  # in this process: no forking beside other threads
                self._server.RequestHandlerClass.replica.warm(workers=1)  # type: ignore[attr-defined]
            self.port = self._server.server_address[1]
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="replica", daemon=True
            )
            self._thread.start()
            if self.foreign:
                self._foreign = make_foreign_server(self.site, self.port)
                self._foreign_thread = threading.Thread(
                    target=self._foreign.serve_forever, name="replica-foreign", daemon=True
                )
                self._foreign_thread.start()
            return self
        command = [
            sys.executable,
            "-m",
            "tazarchive.replica",
            "--params",
            json.dumps(self.site.params()),
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--quiet",
        ]
        if not self.log_requests:
            command.append("--no-log")
        if self.cache:
            command.append("--cache")
        if self.prerender:
            command.append("--prerender")
        if self.foreign:
            command.append("--foreign")
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        found = re.search(r"http://[\w.:\[\]]+:(\d+)", line)
        if found is None:
            self._process.kill()
            self._process.wait()
            raise RuntimeError(f"replica child did not start: {line!r}")
        self.port = int(found.group(1))
        return self

    def stop(self) -> None:
        if self._foreign is not None:
            self._foreign.shutdown()
            self._foreign.server_close()
            self._foreign = None
        if self._foreign_thread is not None:
            self._foreign_thread.join(timeout=5)
            self._foreign_thread = None
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            if self._process.stdout is not None:
                self._process.stdout.close()
            self._process = None

    def __enter__(self) -> ReplicaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what tests ask and change ------------------------------------------

    def _control(self, action: str) -> Any:
        with urllib.request.urlopen(f"{self.base_url}{CONTROL_PREFIX}{action}", timeout=10) as r:
            return json.loads(r.read())

    @property
    def _replica(self) -> _Replica | None:
        if self._server is None:
            return None
        return self._server.RequestHandlerClass.replica  # type: ignore[attr-defined, no-any-return]

    @property
    def request_log(self) -> list[str]:
        """Request targets (path + query, as sent) served so far, in order."""
        replica = self._replica
        if replica is not None:
            return list(replica.log)
        return list(self._control("log"))

    @property
    def request_times(self) -> list[tuple[float, str]]:
        """(time.time(), target) of each request served, e.g. to check a Crawl-delay."""
        replica = self._replica
        if replica is not None:
            with replica.log_lock:
                return list(zip(replica.times, replica.log, strict=True))
        return [(float(t), str(target)) for t, target in self._control("log?times=1")]

    def clear_log(self) -> None:
        replica = self._replica
        if replica is not None:
            with replica.log_lock:
                replica.clear_log()
        else:
            self._control("log?clear=1")

    def revise(self, ids: list[str]) -> None:
        """A new revision of these articles, on the served site and on ``self.site``."""
        replica = self._replica
        if replica is not None:
            replica.revise(ids)
            return
        self.site.revise(ids)
        self._control("revise?" + urlencode({"ids": ",".join(ids)}))

    def fail(
        self, prefix: str, *, status: int = 503, times: int = 1, retry_after: int | None = None
    ) -> None:
        """Make the next ``times`` requests whose target starts with ``prefix`` fail."""
        replica = self._replica
        fault = Fault(prefix, status, times, None if retry_after is None else str(retry_after))
        if replica is not None:
            with replica.lock:
                replica.faults.append(fault)
            return
        query = {"path": prefix, "status": status, "times": times}
        if retry_after is not None:
            query["retry_after"] = retry_after
        self._control("fail?" + urlencode(query))

    def configure(
        self,
        *,
        listing_markup: str | None = None,
        unknown_design: float | None = None,
        faults: Faults | None = None,
    ) -> None:
        """Change how pages are served from now on (see Site.configure); None keeps a part."""
        options: dict[str, Any] = {
            "listing_markup": listing_markup,
            "unknown_design": unknown_design,
            "faults": faults,
        }
        replica = self._replica
        if replica is not None:
            replica.configure(**options)
            return
        self.site.configure(**options)
        if self._process is not None:
            self._control("configure?" + urlencode(_query_of(options)))

    def set_faults(self, **faults: Any) -> Faults:
        """Serve exactly these faults from now on (Faults field names), e.g. ``challenge=1.0``."""
        value = Faults(**faults)
        self.configure(faults=value)
        return value

    def clear_faults(self) -> None:
        """Serve the clean site again: no faults, taz markup, known designs."""
        self.configure(listing_markup="taz", unknown_design=0.0, faults=Faults())

    @property
    def foreign_url(self) -> str:
        """Base URL of the foreign host (``foreign=True``, or offsite_redirect on at start)."""
        host = self.site.faults.foreign_host
        return f"http://{host}:{self.port}"

    @property
    def foreign_log(self) -> list[str]:
        """Request targets the foreign host served: any is a request that left the site."""
        if self._foreign is not None:
            replica: _Replica = self._foreign.RequestHandlerClass.replica  # type: ignore[attr-defined]
            with replica.log_lock:
                return list(replica.log)
        url = f"{self.foreign_url}{CONTROL_PREFIX}log"
        with urllib.request.urlopen(url, timeout=10) as r:
            return list(json.loads(r.read()))
