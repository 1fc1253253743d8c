"""A Scrapy download handler for ``gopher://`` (RFC 1436) on Twisted.

One request is one TCP connection: send the selector and CRLF, read until
the server closes. Type 1 (menu) and type 0 (text) responses become
``TextResponse`` objects, so they pass through the downloader middlewares
as HTTP responses do (retry, stats, WARC capture, politeness by slot).

Failures raise Scrapy's download exceptions, which ``RETRY_EXCEPTIONS``
retries: ``DownloadTimeoutError`` (no complete answer within
``download_timeout``, connecting included), ``DownloadConnectionRefusedError``,
``CannotResolveHostError``, ``DownloadFailedError`` (connection reset) and
``ResponseDataLossError`` (a menu without its last line ``.``). An answer
over the size limit raises ``DownloadCancelledError``, which is not retried.

Settings: DOWNLOAD_TIMEOUT, DOWNLOAD_FAIL_ON_DATALOSS (and the request's
``download_timeout``/``download_maxsize``/``download_fail_on_dataloss``
meta, as for HTTP), TAZARCHIVE_GOPHER_MAXSIZE, TAZARCHIVE_GOPHER_LASTLINE.
"""

from __future__ import annotations

from ipaddress import ip_address as parse_ip
from time import monotonic
from typing import TYPE_CHECKING, Any

from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    ResponseDataLossError,
)
from scrapy.http import Response, TextResponse
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import defer, error
from twisted.internet.endpoints import HostnameEndpoint, connectProtocol
from twisted.internet.protocol import Protocol
from twisted.python.failure import Failure

from tazarchive.gopher.urls import MENU, TEXT, GopherUrl, parse_gopher_url

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request
    from scrapy.crawler import Crawler


ENCODING = "utf-8"  # gopher names no charset; taz's menus are UTF-8
MENU_CONTENT_TYPE = "text/x-gophermap; charset=utf-8"
TEXT_CONTENT_TYPE = "text/plain; charset=utf-8"
BINARY_CONTENT_TYPE = "application/octet-stream"
PROTOCOL = "gopher"
ERROR_TYPE = b"3"  # RFC 1436 error item
NOT_FOUND = 404


class _GopherClient(Protocol):
    """Sends one request line, collects the answer until the server closes."""

    def __init__(self, line: bytes, maxsize: int, url: str) -> None:
        self.line = line
        self.maxsize = maxsize
        self.url = url
        self.chunks: list[bytes] = []
        self.size = 0
        self.finished: defer.Deferred[bytes] = defer.Deferred(self._cancel)
        self._failure: Exception | None = None

    def _cancel(self, _: defer.Deferred[bytes]) -> None:
        if self.transport is not None:
            self._transport().abortConnection()

    def _transport(self) -> Any:
        # zope interfaces confuse mypy: ITransport's methods read as unbound
        return self.transport

    def connectionMade(self) -> None:
        self._transport().write(self.line)

    def dataReceived(self, data: bytes) -> None:
        if self._failure is not None:
            return
        self.size += len(data)
        if self.maxsize and self.size > self.maxsize:
            self._failure = DownloadCancelledError(
                f"Received {self.size} bytes which is larger than the gopher size limit "
                f"({self.maxsize}) in {self.url}."
            )
            self._transport().abortConnection()
            return
        self.chunks.append(data)

    def connectionLost(self, reason: Failure = error.ConnectionDone()) -> None:  # type: ignore[assignment]  # noqa: B008  (Twisted's own default)
        if self.finished.called:
            return
        if self._failure is not None:
            self.finished.errback(self._failure)
        elif reason.check(error.ConnectionDone):  # type: ignore[no-untyped-call]
            self.finished.callback(b"".join(self.chunks))
        else:
            self.finished.errback(
                DownloadFailedError(
                    f"gopher connection to {self.url} broke after {self.size} bytes: "
                    f"{reason.getErrorMessage()}"
                )
            )


def menu_complete(body: bytes) -> bool:
    """RFC 1436: a menu ends with a line holding a single ``.``."""
    return body.rstrip(b"\r\n").rsplit(b"\n", 1)[-1].rstrip(b"\r") == b"."


def is_error(body: bytes) -> bool:
    """The answer is a gopher error item (``3<text>TAB…``): the selector does not exist."""
    first = body.split(b"\n", 1)[0]
    return first.startswith(ERROR_TYPE) and b"\t" in first


class GopherDownloadHandler(BaseDownloadHandler):
    """``DOWNLOAD_HANDLERS = {"gopher": "tazarchive.gopher.handler.GopherDownloadHandler"}``."""

    lazy = False

    def __init__(
        self,
        crawler: Crawler,
        *,
        timeout: float = 180.0,
        maxsize: int = 0,
        fail_on_dataloss: bool = True,
        lastline: bool = True,
    ) -> None:
        super().__init__(crawler)
        self.timeout = timeout
        self.maxsize = maxsize
        self.fail_on_dataloss = fail_on_dataloss
        self.lastline = lastline

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        return cls(
            crawler,
            timeout=settings.getfloat("DOWNLOAD_TIMEOUT"),
            maxsize=settings.getint("TAZARCHIVE_GOPHER_MAXSIZE")
            or settings.getint("DOWNLOAD_MAXSIZE"),
            fail_on_dataloss=settings.getbool("DOWNLOAD_FAIL_ON_DATALOSS"),
            lastline=settings.getbool("TAZARCHIVE_GOPHER_LASTLINE", True),
        )

    async def download_request(self, request: Request) -> Response:
        try:
            target = parse_gopher_url(request.url)
        except ValueError as exc:
            raise DownloadFailedError(str(exc)) from None
        timeout = float(request.meta.get("download_timeout", self.timeout))
        maxsize = int(request.meta.get("download_maxsize", self.maxsize))
        start = monotonic()
        body, peer = await self._fetch(target, timeout, maxsize, request.url)
        request.meta["download_latency"] = monotonic() - start
        return self._response(request, target, body, peer)

    async def _fetch(
        self, target: GopherUrl, timeout: float, maxsize: int, url: str
    ) -> tuple[bytes, Any]:
        from twisted.internet import reactor

        client = _GopherClient(target.selector.encode(ENCODING) + b"\r\n", maxsize, url)
        endpoint = HostnameEndpoint(reactor, target.host, target.port, timeout=timeout)
        connecting = connectProtocol(endpoint, client)  # type: ignore[no-untyped-call]
        done: defer.Deferred[bytes] = connecting.addCallback(lambda _: client.finished)
        # One deadline for connecting and reading: a server that trickles
        # bytes forever is as dead as one that never answers.
        done.addTimeout(timeout, reactor)
        try:
            body = await maybe_deferred_to_future(done)
        except defer.TimeoutError:
            raise DownloadTimeoutError(
                f"Getting {url} took longer than {timeout} seconds."
            ) from None
        except error.ConnectionRefusedError as exc:
            raise DownloadConnectionRefusedError(str(exc)) from None
        except error.DNSLookupError as exc:
            raise CannotResolveHostError(str(exc)) from None
        except error.ConnectError as exc:
            raise DownloadFailedError(str(exc)) from None
        peer = client._transport().getPeer() if client.transport is not None else None
        return body, peer

    def _response(self, request: Request, target: GopherUrl, body: bytes, peer: Any) -> Response:
        flags: list[str] = []
        if target.type == MENU and self.lastline and not menu_complete(body):
            fail = request.meta.get("download_fail_on_dataloss", self.fail_on_dataloss)
            if fail:
                raise ResponseDataLossError(
                    f"gopher menu {request.url} ended without its last line '.'"
                    " (DOWNLOAD_FAIL_ON_DATALOSS=False keeps such menus)"
                )
            flags.append("dataloss")
        ip_address = None
        if peer is not None and getattr(peer, "host", None):
            ip_address = parse_ip(peer.host)
        if target.type not in (MENU, TEXT):
            return Response(
                request.url,
                body=body,
                headers={"Content-Type": BINARY_CONTENT_TYPE},
                request=request,
                flags=flags,
                ip_address=ip_address,
                protocol=PROTOCOL,
            )
        status = NOT_FOUND if is_error(body) else 200
        return TextResponse(
            request.url,
            status=status,
            body=body,
            headers={
                "Content-Type": MENU_CONTENT_TYPE if target.type == MENU else TEXT_CONTENT_TYPE
            },
            encoding=ENCODING,
            request=request,
            flags=flags,
            ip_address=ip_address,
            protocol=PROTOCOL,
        )
