"""Answers are sent at once on kept-alive connections with several uvicorn workers
(issue 11, speed): uvicorn's multi-worker listener leaves TCP_NODELAY off on accepted
connections, which cost ~40 ms per answer; the desk's protocol class switches it on."""

from __future__ import annotations

import asyncio
import socket

from uvicorn.importer import import_from_string

from cvdesk.cli.serve import WEB_HTTP
from cvdesk.web.server import HTTP_PROTOCOL, NoDelayH11Protocol, no_delay


def _accepted_nodelay(switch_on: bool) -> int:
    """TCP_NODELAY of a connection accepted on a listener bound as uvicorn binds it for
    several workers (protocol number 0)."""
    async def run() -> int:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # proto 0
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                if switch_on:
                    no_delay(transport)
                sock = transport.get_extra_info("socket")
                seen.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await asyncio.get_running_loop().create_server(Probe, sock=listener)
        try:
            _, writer = await asyncio.open_connection(*listener.getsockname())
            value = await asyncio.wait_for(seen, 5)
            writer.close()
            return value
        finally:
            server.close()

    # In a thread of its own: the browser tests' Playwright may hold an event loop in
    # this one, and asyncio.run refuses to start inside a running loop.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result(timeout=30)


def test_connections_on_a_shared_listener_send_at_once() -> None:
    assert _accepted_nodelay(switch_on=True) != 0


def test_serve_and_the_benchmark_use_the_desks_protocol() -> None:
    assert WEB_HTTP == HTTP_PROTOCOL
    assert import_from_string(HTTP_PROTOCOL) is NoDelayH11Protocol
