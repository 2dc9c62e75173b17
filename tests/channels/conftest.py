"""An HTTPS server on 127.0.0.1 with a throw-away CA (trustme), serving what a test says,
quickly or one byte at a time."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import trustme

Route = tuple[int, dict[str, str], bytes]


class Site:
    def __init__(self, port: int, ca_path: Path) -> None:
        self.port = port
        self.ca_path = ca_path
        self.routes: dict[str, Route] = {}
        self.trickles: dict[str, tuple[str, int, float]] = {}
        self.hits: list[str] = []
        self.closing = threading.Event()

    @property
    def host(self) -> str:
        return f"localhost:{self.port}"

    def text(self, path: str, body: bytes | str, status: int = 200,
             content_type: str = "text/plain; charset=utf-8") -> None:
        data = body.encode() if isinstance(body, str) else body
        self.routes[path] = (status, {"Content-Type": content_type} if content_type else {},
                             data)

    def redirect(self, path: str, location: str) -> None:
        self.routes[path] = (301, {"Location": location}, b"")

    def trickle(self, path: str, *, where: str = "body", count: int = 40,
                delay: float = 0.1) -> None:
        """Answer ``path`` slowly: ``count`` bytes ``delay`` seconds apart, in the body
        (after complete headers) or in the headers themselves."""
        self.trickles[path] = (where, count, delay)


@pytest.fixture(scope="session")
def ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, Path]:
    authority = trustme.CA()
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    return authority, path


@pytest.fixture
def site(ca: tuple[trustme.CA, Path]) -> Iterator[Site]:
    authority, ca_path = ca
    state: dict[str, Site] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            s = state["site"]
            s.hits.append(self.path)
            if self.path in s.trickles:
                self._trickle(s, *s.trickles[self.path])
                return
            status, headers, body = s.routes.get(self.path, (404, {}, b"not found"))
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _trickle(self, s: Site, where: str, count: int, delay: float) -> None:
            if where == "body":
                head = (f"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
                        f"Content-Length: {count}\r\n\r\n")
            else:
                head = "HTTP/1.1 200 OK\r\nX-Slow: "
            try:
                self.wfile.write(head.encode())
                for _ in range(count):
                    if s.closing.is_set():
                        return
                    time.sleep(delay)
                    self.wfile.write(b"x")
                    self.wfile.flush()
                if where != "body":
                    self.wfile.write(b"\r\nContent-Length: 0\r\n\r\n")
            except OSError:
                return  # the client gave up

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    authority.issue_cert("localhost", "127.0.0.1").configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    state["site"] = Site(server.server_address[1], ca_path)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state["site"]
    state["site"].closing.set()
    server.shutdown()
    server.server_close()
