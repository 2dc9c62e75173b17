"""Outbound HTTPS fetching with an SSRF guard and one deadline per piece of work.

The desk fetches from addresses that strangers choose (a vendor's domain, the
Encryption URL inside its security.txt, every redirect hop).  So a host is resolved
first and refused unless every address it has is globally routable; an IPv6 address
that carries an IPv4 one (IPv4-mapped, -compatible, 6to4, Teredo, NAT64) is judged by
the address it carries too.  The connection then goes to the vetted address itself
(the real name is still used for TLS and the Host header), so a second DNS answer
cannot swap in another target.

Time is bounded by a deadline, not per read: a server that trickles one byte a second
never lets a per-read timeout fire.  Every socket operation gets only what is left of
the deadline, and a timer shuts the socket down when it passes, which also stops a TLS
handshake fed byte by byte.  DNS resolution runs in a helper thread so that it, too,
ends at the deadline (the lookup itself cannot be cancelled; it finishes in the
background).
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpcore


class FetchError(Exception):
    """A fetch that failed or was refused; ``code`` names the problem."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


@dataclass(frozen=True)
class FetchPolicy:
    allow_loopback: bool = False  # tests on 127.0.0.1 only: loopback, nothing else
    timeout_seconds: float = 10.0  # one fetch, redirects included
    max_bytes: int = 64 * 1024
    max_redirects: int = 3
    ca_bundle: str = ""  # extra CA certificates (PEM), e.g. a test CA
    user_agent: str = "cvdesk (coordinated vulnerability disclosure desk)"
    discovery_seconds: float = 30.0  # one whole discovery: every fetch it makes


@dataclass
class Response:
    url: str  # the final URL
    chain: list[str] = field(default_factory=list)  # every URL asked, first to last
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class Deadline:
    """A point in time after which a piece of work (one fetch, one discovery) stops."""

    def __init__(self, seconds: float, what: str = "fetch") -> None:
        self.seconds = seconds
        self.what = what
        self.at = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self.at

    def earliest(self, other: Deadline | None) -> Deadline:
        return self if other is None or self.at <= other.at else other

    def error(self, subject: str) -> FetchError:
        return FetchError("timeout", f"{subject}: stopped at the {self.what} time limit "
                          f"({self.seconds:g} s)")


# --- which addresses may be contacted ----------------------------------------------

_V4 = [(ipaddress.IPv4Network(net), why) for net, why in (
    ("0.0.0.0/8", "this-network"), ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "carrier-grade NAT"), ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"), ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "IETF protocol assignments"), ("192.0.2.0/24", "documentation"),
    ("192.88.99.0/24", "6to4 relay anycast"), ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "benchmarking"), ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"), ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"), ("255.255.255.255/32", "broadcast"))]
_V6 = [(ipaddress.IPv6Network(net), why) for net, why in (
    ("::/128", "unspecified"), ("::1/128", "loopback"),
    ("64:ff9b:1::/48", "local-use NAT64"), ("100::/64", "discard-only"),
    ("2001:db8::/32", "documentation"), ("3fff::/20", "documentation"),
    ("fc00::/7", "unique-local"), ("fe80::/10", "link-local"), ("fec0::/10", "site-local"),
    ("ff00::/8", "multicast"))]
_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_TEREDO = ipaddress.IPv6Network("2001::/32")
_COMPATIBLE = ipaddress.IPv6Network("::/96")


def vet_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_loopback: bool) -> str:
    """'' when ``ip`` may be contacted, else why not.

    The rule is "globally routable unicast only": the special-purpose ranges are listed
    by name so the refusal can say which one, and ``is_global`` catches what the lists
    miss.  ``allow_loopback`` (tests) lets loopback through and nothing else."""
    if isinstance(ip, ipaddress.IPv6Address):
        return _vet_v6(ip, allow_loopback)
    for net, why in _V4:
        if ip in net:
            return "" if why == "loopback" and allow_loopback else why
    return "" if ip.is_global else "not globally routable"


def _vet_v6(ip: ipaddress.IPv6Address, allow_loopback: bool) -> str:
    if ip.ipv4_mapped is not None:  # the socket would talk IPv4 to the mapped address
        return _embedded("IPv4-mapped", ip.ipv4_mapped, allow_loopback, always=False)
    if ip in _NAT64:  # a NAT64 gateway forwards to the IPv4 address in the last 32 bits
        return _embedded("NAT64", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF), False,
                         always=False)
    if ip.sixtofour is not None:
        return _embedded("6to4", ip.sixtofour, False, always=False)
    if ip in _TEREDO:
        server, client = ip.teredo or (None, None)
        for inner in (client, server):
            if inner is not None and vet_address(inner, False):
                return f"Teredo carrying {inner} ({vet_address(inner, False)})"
        return "Teredo"
    if ip in _COMPATIBLE and int(ip) > 1:  # deprecated IPv4-compatible ::a.b.c.d
        return _embedded("IPv4-compatible", ipaddress.IPv4Address(int(ip)), False,
                         always=True)
    for net, why in _V6:
        if ip in net:
            return "" if why == "loopback" and allow_loopback else why
    if ip not in _GLOBAL_UNICAST:
        return "reserved"
    return "" if ip.is_global else "not globally routable"


def _embedded(kind: str, inner: ipaddress.IPv4Address, allow_loopback: bool,
              always: bool) -> str:
    why = vet_address(inner, allow_loopback)
    if why:
        return f"{kind} carrying {inner} ({why})"
    return f"{kind} (deprecated)" if always else ""


# --- resolution -------------------------------------------------------------------

_getaddrinfo = socket.getaddrinfo  # looked up at call time, so tests can slow it down


def _lookup(host: str, port: int, deadline: Deadline) -> list[Any]:
    """getaddrinfo, given up at the deadline (the lookup runs on in its daemon thread)."""
    box: dict[str, Any] = {}
    done = threading.Event()

    def work() -> None:
        try:
            box["infos"] = _getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=work, name=f"resolve {host}", daemon=True).start()
    if not done.wait(deadline.remaining()):
        raise deadline.error(f"{host}: DNS lookup")
    if "error" in box:
        exc = box["error"]
        why = getattr(exc, "strerror", None) or str(exc)
        raise FetchError("dns", f"{host}: cannot resolve ({why})")
    return list(box["infos"])


def resolve(host: str, port: int, allow_loopback: bool,
            deadline: Deadline | None = None) -> str:
    """The address to connect to, after checking every address the name has."""
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
        addresses = [literal]
    except ValueError:
        infos = _lookup(host, port, deadline or Deadline(10.0, "DNS"))
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not addresses:
        raise FetchError("dns", f"{host}: no address")
    for ip in addresses:
        why = vet_address(ip, allow_loopback)
        if why:
            raise FetchError("refused_address", f"{host} resolves to {ip} ({why}); cvdesk "
                             "fetches only from globally routable addresses")
    return str(addresses[0])


# --- the connection ---------------------------------------------------------------

class _Stream(httpcore.NetworkStream):
    """A network stream whose every operation gets at most what is left of the deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: Deadline) -> None:
        self.inner = inner
        self.deadline = deadline

    def _left(self, timeout: float | None) -> float:
        left = self.deadline.remaining()
        if left <= 0:
            raise httpcore.ReadTimeout("deadline passed")
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.inner.read(max_bytes, self._left(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, self._left(timeout))

    def close(self) -> None:
        self.inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _Stream(self.inner.start_tls(ssl_context, server_hostname,
                                            self._left(timeout)), self.deadline)

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


class _PinnedBackend(httpcore.NetworkBackend):
    """Connects to the vetted address whatever name the URL carries, under the deadline.

    A timer shuts the socket down when the deadline passes: a blocked read returns at
    once, even inside a TLS handshake, where the per-operation timeouts do not reach."""

    def __init__(self, address: str, deadline: Deadline) -> None:
        self.address = address
        self.deadline = deadline
        self._watch: list[tuple[threading.Timer, socket.socket]] = []

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        left = self.deadline.remaining()
        if left <= 0:
            raise httpcore.ConnectTimeout("deadline passed")
        inner = httpcore.SyncBackend().connect_tcp(
            self.address, port, left if timeout is None else min(timeout, left),
            local_address, socket_options)
        sock: socket.socket = inner.get_extra_info("socket")
        twin = sock.dup()  # TLS wrapping detaches ``sock``; the twin still reaches it
        timer = threading.Timer(self.deadline.remaining(), _shut, (twin,))
        timer.daemon = True
        timer.start()
        self._watch.append((timer, twin))
        return _Stream(inner, self.deadline)

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Any = None) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("cvdesk fetches over TCP only")

    def release(self) -> None:
        for timer, twin in self._watch:
            timer.cancel()
            twin.close()
        self._watch.clear()


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


_FAILURES = (httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError,
             httpcore.UnsupportedProtocol)


def fetch(url: str, policy: FetchPolicy, *, accept: str = "*/*",
          deadline: Deadline | None = None) -> Response:
    """GET ``url`` (https only), following at most ``policy.max_redirects`` redirects.

    The whole fetch, redirects and DNS included, ends by ``policy.timeout_seconds`` or
    by ``deadline`` (that of a discovery, say), whichever comes first."""
    limit = Deadline(policy.timeout_seconds).earliest(deadline)
    response = Response(url=url)
    context = ssl.create_default_context()
    if policy.ca_bundle:
        context.load_verify_locations(cafile=policy.ca_bundle)
    for _ in range(policy.max_redirects + 1):
        response.chain.append(url)
        parts = urlsplit(url)
        if parts.scheme != "https":
            raise FetchError("insecure_scheme", f"{url}: only https is fetched")
        if not parts.hostname:
            raise FetchError("bad_url", f"{url}: no host")
        if limit.expired:
            raise limit.error(url)
        try:
            port = parts.port or 443
        except ValueError:
            raise FetchError("bad_url", f"{url}: bad port") from None
        ip = resolve(parts.hostname, port, policy.allow_loopback, limit)
        status, headers, body = _get(urlunsplit(parts._replace(fragment="")), ip, context,
                                     policy, accept, limit)
        if status in (301, 302, 303, 307, 308) and "location" in headers:
            url = urljoin(url, headers["location"])
            continue
        response.url, response.status, response.headers, response.body = (
            url, status, headers, body)
        return response
    raise FetchError("too_many_redirects", f"more than {policy.max_redirects} redirects, "
                     f"last {url}")


def _get(url: str, ip: str, context: ssl.SSLContext, policy: FetchPolicy, accept: str,
         limit: Deadline) -> tuple[int, dict[str, str], bytes]:
    backend = _PinnedBackend(ip, limit)
    left = limit.remaining()
    timeouts = {"connect": left, "read": left, "write": left, "pool": left}
    try:
        with httpcore.ConnectionPool(ssl_context=context, network_backend=backend,
                                     max_connections=1, retries=0) as pool, \
                pool.stream("GET", url, headers=[
                    ("User-Agent", policy.user_agent), ("Accept", accept)],
                    extensions={"timeout": timeouts}) as r:
            headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                       for k, v in r.headers}
            body = bytearray()
            if r.status not in (301, 302, 303, 307, 308):
                for chunk in r.iter_stream():
                    body.extend(chunk)
                    if len(body) > policy.max_bytes:
                        raise FetchError("too_large", f"{url}: larger than "
                                         f"{policy.max_bytes} bytes")
                    if limit.expired:
                        raise limit.error(url)
            return r.status, headers, bytes(body)
    except _FAILURES as exc:
        if limit.expired or isinstance(exc, httpcore.TimeoutException):
            raise limit.error(url) from None
        text = str(exc)
        if isinstance(exc, httpcore.ConnectError):
            code = "tls" if "CERTIFICATE" in text.upper() or "SSL" in text.upper() \
                else "connect"
            raise FetchError(code, f"{url}: {text or 'cannot connect'}") from None
        raise FetchError("http", f"{url}: {text or type(exc).__name__}") from None
    finally:
        backend.release()
