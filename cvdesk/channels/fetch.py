"""Outbound HTTPS fetching with an SSRF guard.

Every host is resolved first and refused when any address is private, loopback,
link-local, multicast, reserved or unspecified (loopback only when a test
setting allows it).  The request then goes to the vetted address itself (with
the real host name for TLS and the Host header), so a second DNS answer cannot
swap in another target.  Redirects are followed by hand, each hop checked the
same way; bodies are capped in size and every step in time.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx


class FetchError(Exception):
    """A fetch that failed or was refused; ``code`` names the problem."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


@dataclass(frozen=True)
class FetchPolicy:
    allow_loopback: bool = False
    timeout_seconds: float = 10.0
    max_bytes: int = 64 * 1024
    max_redirects: int = 3
    ca_bundle: str = ""  # extra CA certificates (PEM), e.g. a test CA
    user_agent: str = "cvdesk (coordinated vulnerability disclosure desk)"


@dataclass
class Response:
    url: str  # the final URL
    chain: list[str] = field(default_factory=list)  # every URL asked, first to last
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def vet_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_loopback: bool) -> str:
    """'' when ``ip`` may be contacted, else why not."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "" if allow_loopback else "loopback"
    for name in ("is_private", "is_link_local", "is_multicast", "is_reserved",
                 "is_unspecified"):
        if getattr(ip, name):
            return name.removeprefix("is_").replace("_", "-")
    return ""


def resolve(host: str, port: int, allow_loopback: bool) -> str:
    """The address to connect to, after checking every address the name has."""
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
        addresses = [literal]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise FetchError("dns", f"{host}: cannot resolve ({exc.strerror})") from None
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    for ip in addresses:
        why = vet_address(ip, allow_loopback)
        if why:
            raise FetchError("refused_address", f"{host} resolves to {ip} ({why}); cvdesk does "
                             "not fetch from private, loopback or local addresses")
    return str(addresses[0])


def fetch(url: str, policy: FetchPolicy, *, accept: str = "*/*") -> Response:
    """GET ``url`` (https only), following at most ``policy.max_redirects`` redirects."""
    response = Response(url=url)
    verify = ssl.create_default_context()
    if policy.ca_bundle:
        verify.load_verify_locations(cafile=policy.ca_bundle)
    timeout = httpx.Timeout(policy.timeout_seconds)
    with httpx.Client(verify=verify, timeout=timeout, follow_redirects=False,
                      trust_env=False) as client:
        for _ in range(policy.max_redirects + 1):
            response.chain.append(url)
            parts = urlsplit(url)
            if parts.scheme != "https":
                raise FetchError("insecure_scheme", f"{url}: only https is fetched")
            if not parts.hostname:
                raise FetchError("bad_url", f"{url}: no host")
            port = parts.port or 443
            ip = resolve(parts.hostname, port, policy.allow_loopback)
            target = ip if ":" not in ip else f"[{ip}]"
            pinned = urlunsplit(("https", f"{target}:{port}", parts.path or "/", parts.query,
                                 ""))
            host_header = parts.hostname + (f":{parts.port}" if parts.port else "")
            try:
                with client.stream("GET", pinned, headers={
                        "Host": host_header, "User-Agent": policy.user_agent, "Accept": accept},
                        extensions={"sni_hostname": parts.hostname}) as r:
                    if r.is_redirect and "location" in r.headers:
                        url = urljoin(url, r.headers["location"])
                        continue
                    body = bytearray()
                    for chunk in r.iter_bytes():
                        body.extend(chunk)
                        if len(body) > policy.max_bytes:
                            raise FetchError("too_large", f"{url}: larger than "
                                             f"{policy.max_bytes} bytes")
                    response.url, response.status = url, r.status_code
                    response.headers = {k.lower(): v for k, v in r.headers.items()}
                    response.body = bytes(body)
                    return response
            except httpx.TimeoutException:
                raise FetchError("timeout", f"{url}: no answer within "
                                 f"{policy.timeout_seconds:g} s") from None
            except httpx.ConnectError as exc:
                text = str(exc)
                code = "tls" if "CERTIFICATE" in text.upper() or "SSL" in text.upper() \
                    else "connect"
                raise FetchError(code, f"{url}: {text or 'cannot connect'}") from None
            except httpx.HTTPError as exc:
                raise FetchError("http", f"{url}: {exc}") from None
    raise FetchError("too_many_redirects", f"more than {policy.max_redirects} redirects, "
                     f"last {url}")
