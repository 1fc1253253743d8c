"""Gopher servers on 127.0.0.1 for tests: one that answers by selector, and misbehaving ones."""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from tests.conftest import REPO

Behaviour = Callable[[socket.socket, str], None]


def answer(data: bytes) -> Behaviour:
    def send(sock: socket.socket, selector: str) -> None:
        sock.sendall(data)

    return send


def reset(sock: socket.socket) -> None:
    """Close with RST instead of FIN: the client sees a broken connection."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()  # now, before socketserver's shutdown() sends a FIN


@contextmanager
def gopher_server(
    routes: dict[str, Behaviour | bytes], default: Behaviour | bytes | None = None
) -> Iterator[tuple[int, list[str]]]:
    """Serve ``routes`` by selector; yields (port, the selectors asked for, in order)."""
    asked: list[str] = []
    missing = b"3no such selector\t\terror.host\t1\r\n.\r\n"

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            sock: socket.socket = self.request
            sock.settimeout(10)
            raw = b""
            while not raw.endswith(b"\n"):
                chunk = sock.recv(4096)
                if not chunk:
                    return
                raw += chunk
            selector = raw.decode("utf-8").rstrip("\r\n")
            asked.append(selector)
            route = routes.get(selector, default if default is not None else missing)
            behaviour = answer(route) if isinstance(route, bytes) else route
            with contextlib.suppress(OSError):  # the client gave up (timeouts, size limit)
                behaviour(sock, selector)

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], asked
    finally:
        server.shutdown()
        server.server_close()


def probe(urls: list[str], timeout: float = 60, **settings: Any) -> dict[str, Any]:
    """Crawl ``urls`` in a subprocess (a real Scrapy engine); its results and stats."""
    spec = json.dumps({"urls": urls, "settings": settings})
    done = subprocess.run(
        [sys.executable, "-m", "tests.gopher_probe", spec],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["stderr"] = done.stderr
    return result


def free_port() -> int:
    """A port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def slowly(delay: float, data: bytes) -> Behaviour:
    def send(sock: socket.socket, selector: str) -> None:
        time.sleep(delay)
        sock.sendall(data)

    return send
