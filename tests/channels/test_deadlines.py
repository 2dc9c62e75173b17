"""One deadline bounds a whole fetch, and one a whole discovery: a server on 127.0.0.1
that answers one byte at a time (each read well inside any per-read timeout) is cut
off at the deadline, in the body, in the headers, across both security.txt
locations, the key fetch and the CSAF metadata."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pgpy_dtc import PGPUID, PGPKey, PGPMessage
from pgpy_dtc.constants import HashAlgorithm, KeyFlags, PubKeyAlgorithm

from cvdesk.channels import securitytxt_check
from cvdesk.channels.fetch import Deadline, FetchError, FetchPolicy, fetch
from cvdesk.channels.securitytxt import discover
from cvdesk.services.contacts import ContactService
from cvdesk.settings import load_settings
from cvdesk.store.db import Database
from tests.channels.conftest import Site

SLACK = 0.8  # scheduling on a busy machine; the unfixed code overran by seconds


@pytest.fixture(autouse=True)
def warm_checker() -> Iterator[None]:
    """The checker process starts once per test run; keep that out of the timings."""
    securitytxt_check.check(b"Contact: mailto:a@b.org\n", [], [])
    yield


def policy(site: Site, timeout: float, discovery: float = 30.0) -> FetchPolicy:
    return FetchPolicy(allow_loopback=True, ca_bundle=str(site.ca_path),
                       timeout_seconds=timeout, discovery_seconds=discovery)


@pytest.mark.parametrize("where", ["body", "headers"])
def test_a_trickling_server_is_cut_off_at_the_deadline(site: Site, where: str) -> None:
    site.trickle("/slow", where=where, count=40, delay=0.1)  # 4 s in all, 0.1 s per read
    started = time.monotonic()
    with pytest.raises(FetchError) as err:
        fetch(f"https://{site.host}/slow", policy(site, timeout=1.0))
    elapsed = time.monotonic() - started
    assert err.value.code == "timeout" and "1 s" in str(err.value)
    assert 0.9 < elapsed < 1.0 + SLACK


def test_a_quick_answer_is_unaffected(site: Site) -> None:
    site.trickle("/steady", count=5, delay=0.05)
    response = fetch(f"https://{site.host}/steady", policy(site, timeout=2.0))
    assert response.status == 200 and response.body == b"xxxxx"


def test_an_outer_deadline_shortens_a_fetch(site: Site) -> None:
    site.trickle("/slow", count=40, delay=0.1)
    outer = Deadline(0.6, "discovery")
    started = time.monotonic()
    with pytest.raises(FetchError) as err:
        fetch(f"https://{site.host}/slow", policy(site, timeout=10.0), deadline=outer)
    assert "discovery time limit" in str(err.value)
    assert time.monotonic() - started < 0.6 + SLACK


def test_one_deadline_bounds_both_locations(site: Site) -> None:
    site.trickle("/.well-known/security.txt", count=40, delay=0.1)
    site.trickle("/security.txt", count=40, delay=0.1)
    started = time.monotonic()
    found = discover(site.host, policy(site, timeout=1.0, discovery=1.5))
    elapsed = time.monotonic() - started
    codes = [p.code for p in found.problems]
    assert codes == ["timeout", "timeout", "no_security_txt"]
    assert "discovery time limit (1.5 s)" in found.problems[1].message
    assert elapsed < 1.5 + SLACK


def _signed_file(site: Site) -> tuple[str, PGPKey]:
    key = PGPKey.new(PubKeyAlgorithm.RSAEncryptOrSign, 1024)
    key.add_uid(PGPUID.new("PSIRT", email="psirt@vendor.example"), usage={KeyFlags.Sign},
                hashes=[HashAlgorithm.SHA256])
    exp = (datetime.now(UTC) + timedelta(days=90)).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = (f"Contact: mailto:psirt@vendor.example\nExpires: {exp}\n"
            f"Encryption: https://{site.host}/key.asc\n"
            f"Canonical: https://{site.host}/.well-known/security.txt\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        message = PGPMessage.new(text, cleartext=True)
        message |= key.sign(message)
    return str(message), key


def test_one_deadline_bounds_a_whole_discovery(site: Site, db: Database) -> None:
    """The file comes at once; its key and the CSAF metadata trickle.  Per fetch each
    would stop at 1 s; the discovery as a whole stops at 1.5 s."""
    signed, _ = _signed_file(site)
    site.text("/.well-known/security.txt", signed)
    site.trickle("/key.asc", count=40, delay=0.1)
    site.trickle("/.well-known/csaf/provider-metadata.json", count=40, delay=0.1)
    settings = load_settings(database_url=db.url, fetch={
        "allow_loopback": True, "ca_bundle": str(site.ca_path), "timeout_seconds": 1.0,
        "discovery_seconds": 1.5})
    started = time.monotonic()
    result = ContactService(db, settings).discover(site.host, organization="Vendor Inc")
    elapsed = time.monotonic() - started
    assert elapsed < 1.5 + SLACK
    assert result.security_txt.valid  # checked, though the key could not be fetched
    assert result.security_txt.signature.verified is None
    assert result.csaf is None
    assert "/.well-known/csaf/provider-metadata.json" in site.hits
    assert ("email", "psirt@vendor.example") in result.stored
