"""HTTP side of the replica: a server on a loopback address that runs in a
thread (tests) or a child process (benchmarks) and answers through routes.py.

Reserved control paths (never logged), for tests that drive a child process:
``/__replica__/log`` (JSON list of paths served; ``?times=1``: [time, path]
pairs; ``?clear=1`` empties it),
``/__replica__/revise?ids=1,2`` (new revision of those articles),
``/__replica__/fail?path=/prefix&status=503&times=2&retry_after=1`` (the next
``times`` requests under that prefix fail),
``/__replica__/configure?listing_markup=plain&unknown_design=0.1&faults={"challenge":1}``
(serve differently from now on; ``faults`` is JSON of Faults fields and
replaces all faults, ``faults={}`` removes them), ``/__replica__/params``.
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
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode, urlsplit

from tazarchive.replica import faults as faults_
from tazarchive.replica.faults import Faults, is_loopback
from tazarchive.replica.response import JSON, Response
from tazarchive.replica.routes import ResponseCache, respond
from tazarchive.replica.site import SECTIONS, Site

CONTROL_PREFIX = "/__replica__/"


@dataclass(slots=True)
class Fault:
    """The next ``remaining`` requests under ``prefix`` fail with ``status``."""

    prefix: str
    status: int
    remaining: int
    retry_after: str | None


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
            targets += [path + site.page_query(p) for p in range(1, pages + 1)]
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
        """Answer a control path (see the module docstring) through the CONTROLS table."""
        parts = urlsplit(target)
        action = CONTROLS.get(parts.path[len(CONTROL_PREFIX) :].strip("/"))
        if action is None:
            return Response(404, JSON, b'{"error": "unknown control"}')
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        try:
            result = action(self, query)
        except (KeyError, TypeError, ValueError) as error:
            return Response(400, JSON, json.dumps({"error": str(error)}).encode())
        return Response(200, JSON, json.dumps(result).encode())

    def _control_log(self, query: dict[str, str]) -> Any:
        with self.log_lock:
            found: list[Any] = list(self.log)
            if query.get("times"):
                found = list(zip(self.times, self.log, strict=True))
            if query.get("clear"):
                self.clear_log()
        return found

    def _control_revise(self, query: dict[str, str]) -> Any:
        ids = [i for i in query.get("ids", "").split(",") if i]
        self.revise(ids)
        return {"revised": ids}

    def _control_fail(self, query: dict[str, str]) -> Any:
        fault = Fault(
            query.get("path", "/"),
            int(query.get("status", "503")),
            int(query.get("times", "1")),
            query.get("retry_after"),
        )
        with self.lock:
            self.faults.append(fault)
        return {"fault": fault.prefix}

    def _control_configure(self, query: dict[str, str]) -> Any:
        self.configure(**_configure_options(query))
        return self.site.params()

    def _control_params(self, query: dict[str, str]) -> Any:
        return self.site.params()


CONTROLS: dict[str, Callable[[_Replica, dict[str, str]], Any]] = {
    "log": _Replica._control_log,
    "revise": _Replica._control_revise,
    "fail": _Replica._control_fail,
    "configure": _Replica._control_configure,
    "params": _Replica._control_params,
}


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
            self._start_thread()
        else:
            self._start_process()
        return self

    def _start_thread(self) -> None:
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

    def _start_process(self) -> None:
        params = json.dumps(self.site.params())
        command = [sys.executable, "-m", "tazarchive.replica", "--params", params]
        command += ["--host", self.host, "--port", str(self.port), "--quiet"]
        flags = {
            "--no-log": not self.log_requests,
            "--cache": self.cache,
            "--prerender": self.prerender,
            "--foreign": self.foreign,
        }
        command += [flag for flag, on in flags.items() if on]
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        found = re.search(r"http://[\w.:\[\]]+:(\d+)", line)
        if found is None:
            self._process.kill()
            self._process.wait()
            raise RuntimeError(f"replica child did not start: {line!r}")
        self.port = int(found.group(1))

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
