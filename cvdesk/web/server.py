"""The HTTP protocol the desk's uvicorn workers speak: uvicorn's h11 protocol with
Nagle's algorithm switched off on every connection.

With ``--workers N`` uvicorn binds the listening socket itself and hands it to the
worker processes with its protocol number left at 0; asyncio switches Nagle off
(TCP_NODELAY) only on accepted sockets that say they are TCP, so in that mode every
answer on a kept-alive connection waited about 40 ms for the client's delayed ACK
(uvicorn issue 3149).  One worker was not affected, which is why the PostgreSQL
benchmark with two workers showed /healthz at 47 ms while SQLite showed 5 ms (issue
11, speed).  ``cvdesk serve`` names this class by its import string (``HTTP_PROTOCOL``),
so the command line does not import the web face."""

from __future__ import annotations

import asyncio
import contextlib
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol

HTTP_PROTOCOL = "cvdesk.web.server:NoDelayH11Protocol"


def no_delay(transport: asyncio.BaseTransport) -> None:
    """Send what the desk writes at once (TCP_NODELAY) on a TCP connection."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):  # the peer went away already
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayH11Protocol(H11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        no_delay(transport)
        super().connection_made(transport)
