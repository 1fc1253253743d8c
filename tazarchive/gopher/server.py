"""A gopher server on Twisted: one selector line in, one answer out, connection closed.

:class:`GopherServerFactory` answers with any ``respond(selector) -> bytes``
(``tazarchive.gopher.site.GopherArchive`` for ``scrapy serve-gopher``).
Selectors longer than :data:`MAX_SELECTOR` bytes or clients silent for
:data:`IDLE_TIMEOUT` seconds are dropped.
"""

from __future__ import annotations

from typing import Any, Protocol

from twisted.internet.interfaces import IAddress
from twisted.internet.protocol import Factory
from twisted.protocols.basic import LineOnlyReceiver

from tazarchive.gopher.site import error_menu

MAX_SELECTOR = 1024  # bytes; RFC 1436 selectors are short, taz's are under 200
IDLE_TIMEOUT = 30  # seconds a client may take to send its selector


class Responder(Protocol):
    def respond(self, selector: str) -> bytes: ...


class GopherServerProtocol(LineOnlyReceiver):
    delimiter = b"\n"
    MAX_LENGTH = MAX_SELECTOR

    def __init__(self, site: Responder) -> None:
        self.site = site
        self._idle: Any = None  # an IDelayedCall

    def connectionMade(self) -> None:
        from twisted.internet import reactor

        clock: Any = reactor
        self._idle = clock.callLater(IDLE_TIMEOUT, self._transport().abortConnection)

    def connectionLost(self, reason: Any = None) -> None:
        self._stop_idle()

    def _stop_idle(self) -> None:
        if self._idle is not None and self._idle.active():
            self._idle.cancel()
        self._idle = None

    def _transport(self) -> Any:
        return self.transport  # zope interfaces read as unbound methods to mypy

    def lineReceived(self, line: bytes) -> None:
        self._stop_idle()
        selector = line.rstrip(b"\r").decode("utf-8", errors="replace")
        self._answer(self.site.respond(selector))

    def lineLengthExceeded(self, line: bytes) -> None:
        self._stop_idle()
        self._answer(error_menu("selector too long").encode("utf-8"))

    def _answer(self, data: bytes) -> None:
        transport = self._transport()
        transport.write(data)
        transport.loseConnection()


class GopherServerFactory(Factory):
    def __init__(self, site: Responder) -> None:
        self.site = site

    def buildProtocol(self, addr: IAddress | None) -> GopherServerProtocol:
        return GopherServerProtocol(self.site)
