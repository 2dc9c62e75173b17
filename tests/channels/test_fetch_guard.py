"""The fetch guard: only globally routable addresses are contacted, including the IPv4
address inside IPv6 transition forms; ``allow_loopback`` lets loopback through and
nothing else.  No test here opens a connection to anything but 127.0.0.1."""

from __future__ import annotations

import ipaddress
import socket
import time
from typing import Any

import pytest

from cvdesk.channels import fetch as fetch_module
from cvdesk.channels.fetch import FetchError, FetchPolicy, fetch, resolve, vet_address

REFUSED = [
    # IPv4 special-purpose ranges
    ("0.0.0.0", "this-network"), ("0.1.2.3", "this-network"), ("10.0.0.1", "private"),
    ("10.255.255.255", "private"), ("100.64.0.1", "carrier-grade NAT"),
    ("100.100.100.200", "carrier-grade NAT"),  # Alibaba Cloud metadata
    ("100.127.255.254", "carrier-grade NAT"), ("127.0.0.1", "loopback"),
    ("127.255.0.1", "loopback"), ("169.254.169.254", "link-local"),
    ("172.16.0.1", "private"), ("172.31.255.255", "private"),
    ("192.0.0.1", "IETF protocol assignments"), ("192.0.0.9", "IETF protocol assignments"),
    ("192.0.0.170", "IETF protocol assignments"), ("192.0.2.1", "documentation"),
    ("192.88.99.1", "6to4 relay anycast"), ("192.168.1.1", "private"),
    ("198.18.0.1", "benchmarking"), ("198.19.255.255", "benchmarking"),
    ("198.51.100.7", "documentation"), ("203.0.113.9", "documentation"),
    ("224.0.0.1", "multicast"), ("233.252.0.1", "multicast"),
    ("239.255.255.250", "multicast"), ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    # IPv6 ranges
    ("::", "unspecified"), ("::1", "loopback"), ("100::1", "discard-only"),
    ("2001:db8::1", "documentation"), ("3fff::1", "documentation"),
    ("fc00::1", "unique-local"), ("fd12:3456::1", "unique-local"),
    ("fe80::1", "link-local"), ("febf::1", "link-local"), ("fec0::1", "site-local"),
    ("feff::1", "site-local"), ("ff02::1", "multicast"), ("ff0e::1", "multicast"),
    ("64:ff9b:1::a00:1", "local-use NAT64"), ("4000::1", "reserved"),
    ("2001:2::1", "not globally routable"),  # benchmarking
    ("2001:10::1", "not globally routable"),  # ORCHID
    # IPv4 carried in IPv6
    ("::ffff:10.0.0.1", "IPv4-mapped carrying 10.0.0.1 (private)"),
    ("::ffff:127.0.0.1", "IPv4-mapped carrying 127.0.0.1 (loopback)"),
    ("::ffff:100.100.100.200", "IPv4-mapped carrying 100.100.100.200 (carrier-grade NAT)"),
    ("::ffff:169.254.169.254", "IPv4-mapped carrying 169.254.169.254 (link-local)"),
    ("::ffff:0.0.0.0", "IPv4-mapped carrying 0.0.0.0 (this-network)"),
    ("::10.0.0.1", "IPv4-compatible carrying 10.0.0.1 (private)"),
    ("::169.254.169.254", "IPv4-compatible carrying 169.254.169.254 (link-local)"),
    ("::8.8.8.8", "IPv4-compatible (deprecated)"),
    ("64:ff9b::a9fe:a9fe", "NAT64 carrying 169.254.169.254 (link-local)"),
    ("64:ff9b::10.0.0.1", "NAT64 carrying 10.0.0.1 (private)"),
    ("64:ff9b::127.0.0.1", "NAT64 carrying 127.0.0.1 (loopback)"),
    ("64:ff9b::100.100.100.200", "NAT64 carrying 100.100.100.200 (carrier-grade NAT)"),
    ("2002:a00:1::1", "6to4 carrying 10.0.0.1 (private)"),
    ("2002:a9fe:a9fe::", "6to4 carrying 169.254.169.254 (link-local)"),
    ("2002:7f00:1::", "6to4 carrying 127.0.0.1 (loopback)"),
    ("2002:6464:64c8::1", "6to4 carrying 100.100.100.200 (carrier-grade NAT)"),
    # RFC 4380's example: client 192.0.2.45 behind server 65.54.227.120
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2",
     "Teredo carrying 192.0.2.45 (documentation)"),
    ("2001:0:a00:1::f7f7:f7f7", "Teredo carrying 10.0.0.1 (private)"),  # the server
    ("2001:0:808:808:0:f7f7:f7f7:f7f7", "Teredo"),  # public server and client
]

ALLOWED = ["8.8.8.8", "1.1.1.1", "93.184.216.34", "100.63.255.255", "100.128.0.1",
           "192.0.1.1", "198.17.255.255", "198.20.0.1", "223.255.255.254",
           "2606:4700:4700::1111", "2a00:1450:4001:81c::200e", "2001:4860:4860::8888",
           "::ffff:8.8.8.8", "64:ff9b::8.8.8.8", "2002:808:808::1"]

LOOPBACK = ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"]


@pytest.mark.parametrize(("address", "why"), REFUSED)
def test_refused_addresses_name_the_range(address: str, why: str) -> None:
    assert vet_address(ipaddress.ip_address(address), False) == why


@pytest.mark.parametrize("address", ALLOWED)
def test_globally_routable_addresses_pass(address: str) -> None:
    assert vet_address(ipaddress.ip_address(address), False) == ""
    assert vet_address(ipaddress.ip_address(address), True) == ""


@pytest.mark.parametrize("address", LOOPBACK)
def test_allow_loopback_lets_loopback_through(address: str) -> None:
    assert vet_address(ipaddress.ip_address(address), True) == ""
    assert vet_address(ipaddress.ip_address(address), False) != ""


def _plain_loopback(why: str) -> bool:
    return why in ("loopback", "IPv4-mapped carrying 127.0.0.1 (loopback)")


@pytest.mark.parametrize(("address", "why"), [(a, w) for a, w in REFUSED
                                              if not _plain_loopback(w)])
def test_allow_loopback_allows_nothing_else(address: str, why: str) -> None:
    """Loopback reached through NAT64, 6to4 or an IPv4-compatible address stays refused:
    those are routed elsewhere, not to this machine."""
    assert vet_address(ipaddress.ip_address(address), True) == why


@pytest.mark.parametrize("url", [
    "https://100.100.100.200/latest/meta-data/", "https://[64:ff9b::a9fe:a9fe]/",
    "https://[2002:a9fe:a9fe::]/", "https://[fec0::1]/", "https://[::ffff:7f00:1]/",
    "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "https://198.18.0.1/",
    "https://2130706433/",  # 127.0.0.1 written as one number
    "https://0x7f.1/",  # and in hex
    "https://0/",  # 0.0.0.0
])
def test_fetch_refuses_before_connecting(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_connection(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a connection was attempted")

    monkeypatch.setattr(fetch_module, "_get", no_connection)
    with pytest.raises(FetchError) as err:
        fetch(url, FetchPolicy())
    assert err.value.code == "refused_address"


def _answers(*addresses: str) -> Any:
    def getaddrinfo(host: str, port: int, **kwargs: Any) -> list[Any]:
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port)) for a in addresses]
    return getaddrinfo


def test_every_address_of_a_name_is_vetted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fetch_module, "_getaddrinfo", _answers("100.100.100.200"))
    with pytest.raises(FetchError) as err:
        resolve("metadata.vendor.example", 443, False)
    assert err.value.code == "refused_address" and "carrier-grade NAT" in str(err.value)
    # One good answer does not excuse a bad one next to it.
    monkeypatch.setattr(fetch_module, "_getaddrinfo",
                        _answers("93.184.216.34", "64:ff9b::a9fe:a9fe"))
    with pytest.raises(FetchError) as err:
        resolve("mixed.vendor.example", 443, False)
    assert "NAT64 carrying 169.254.169.254" in str(err.value)
    monkeypatch.setattr(fetch_module, "_getaddrinfo", _answers("2606:4700:4700::1111"))
    assert resolve("good.vendor.example", 443, False) == "2606:4700:4700::1111"


def test_dns_resolution_ends_at_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    def slow(host: str, port: int, **kwargs: Any) -> list[Any]:
        time.sleep(3)
        return _answers("93.184.216.34")(host, port)

    monkeypatch.setattr(fetch_module, "_getaddrinfo", slow)
    started = time.monotonic()
    with pytest.raises(FetchError) as err:
        fetch("https://slow-dns.vendor.example/.well-known/security.txt",
              FetchPolicy(timeout_seconds=0.5))
    assert err.value.code == "timeout" and "DNS" in str(err.value)
    assert time.monotonic() - started < 1.5
