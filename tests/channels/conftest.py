"""An HTTPS server on 127.0.0.1 with a throw-away CA (trustme), serving what a test says."""

from __future__ import annotations

import ssl
import threading
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
        self.hits: list[str] = []

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
            status, headers, body = s.routes.get(self.path, (404, {}, b"not found"))
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

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
    server.shutdown()
    server.server_close()
