"""Discovery over HTTPS against a real server on 127.0.0.1, the SSRF guard, and the
contact directory it fills (both database backends)."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pgpy_dtc import PGPUID, PGPKey, PGPMessage
from pgpy_dtc.constants import HashAlgorithm, KeyFlags, PubKeyAlgorithm

from cvdesk.channels.fetch import FetchError, FetchPolicy, fetch, vet_address
from cvdesk.channels.securitytxt import discover
from cvdesk.cli.main import main
from cvdesk.domain.errors import InvalidInput
from cvdesk.services.contacts import ContactService, normalize_host
from cvdesk.settings import load_settings
from cvdesk.store.db import Database
from tests.channels.conftest import Site


def policy(site: Site, **kw: object) -> FetchPolicy:
    return FetchPolicy(allow_loopback=True, ca_bundle=str(site.ca_path), timeout_seconds=5,
                       **kw)  # type: ignore[arg-type]


def security_txt(site: Site, *, canonical: str = "/.well-known/security.txt",
                 extra: str = "") -> str:
    exp = (datetime.now(UTC) + timedelta(days=90)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (f"Contact: mailto:psirt@vendor.example\nContact: https://{site.host}/report\n"
            f"Expires: {exp}\nEncryption: https://{site.host}/key.asc\n"
            f"Canonical: https://{site.host}{canonical}\nPolicy: https://{site.host}/cvd\n"
            f"{extra}")


def test_discovers_a_signed_file_and_verifies_it_with_the_encryption_key(site: Site) -> None:
    key = PGPKey.new(PubKeyAlgorithm.RSAEncryptOrSign, 2048)
    key.add_uid(PGPUID.new("PSIRT", email="psirt@vendor.example"), usage={KeyFlags.Sign},
                hashes=[HashAlgorithm.SHA256])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        message = PGPMessage.new(security_txt(site), cleartext=True)
        message |= key.sign(message)
    site.text("/.well-known/security.txt", str(message))
    site.text("/key.asc", str(key.pubkey), content_type="application/pgp-keys")
    found = discover(site.host, policy(site))
    assert found.valid and found.url == f"https://{site.host}/.well-known/security.txt"
    assert found.signature.verified is True
    assert found.contacts[0] == "mailto:psirt@vendor.example"
    assert site.hits == ["/.well-known/security.txt", "/key.asc"]


def test_legacy_location_and_http_problems(site: Site) -> None:
    site.text("/security.txt", security_txt(site, canonical="/security.txt"),
              content_type="text/html")
    found = discover(site.host, policy(site))
    codes = {p.code for p in found.problems if p.severity == "error"}
    assert codes == {"location", "invalid_media", "invalid_charset"}
    assert site.hits == ["/.well-known/security.txt", "/security.txt"]
    site.text("/.well-known/security.txt", security_txt(site), content_type="text/plain")
    assert {p.code for p in discover(site.host, policy(site)).problems
            if p.severity == "error"} == {"invalid_charset"}


def test_redirects_are_followed_and_canonical_checked(site: Site) -> None:
    site.redirect("/.well-known/security.txt", "/files/security.txt")
    site.text("/files/security.txt", security_txt(site, canonical="/files/security.txt"))
    found = discover(site.host, policy(site))
    assert found.valid and found.url.endswith("/files/security.txt")
    site.text("/files/security.txt", security_txt(site, canonical="/elsewhere.txt"))
    assert "no_canonical_match" in {p.code for p in discover(site.host, policy(site)).problems}


def test_too_many_redirects_and_oversized_bodies(site: Site) -> None:
    site.redirect("/a", "/b")
    site.redirect("/b", "/a")
    with pytest.raises(FetchError) as err:
        fetch(f"https://{site.host}/a", policy(site, max_redirects=2))
    assert err.value.code == "too_many_redirects"
    site.text("/big", b"x" * 5000)
    with pytest.raises(FetchError) as err:
        fetch(f"https://{site.host}/big", policy(site, max_bytes=4096))
    assert err.value.code == "too_large"


def test_nothing_found(site: Site) -> None:
    found = discover(site.host, policy(site))
    assert not found.valid
    assert [p.code for p in found.problems] == ["not_found", "not_found", "no_security_txt"]


def test_untrusted_certificates_are_refused(site: Site) -> None:
    with pytest.raises(FetchError) as err:
        fetch(f"https://{site.host}/x", FetchPolicy(allow_loopback=True, timeout_seconds=5))
    assert err.value.code == "tls" and site.hits == []


def test_ssrf_guard_refuses_before_any_connection(site: Site) -> None:
    site.text("/.well-known/security.txt", security_txt(site))
    found = discover(site.host, FetchPolicy(ca_bundle=str(site.ca_path)))  # no loopback
    assert [p.code for p in found.problems] == ["refused_address", "no_security_txt"]
    assert site.hits == []  # no request reached the server
    for url in ("https://10.1.2.3/x", "https://192.168.0.1/x", "https://169.254.169.254/x",
                "https://[::1]/x", "https://[fe80::1]/x", "https://224.0.0.1/x",
                "https://0.0.0.0/x", "https://[::ffff:10.0.0.1]/x"):
        with pytest.raises(FetchError) as err:
            fetch(url, FetchPolicy(allow_loopback=False))
        assert err.value.code == "refused_address", url
    with pytest.raises(FetchError) as err:  # loopback allowed, private still refused
        fetch("https://10.1.2.3/x", FetchPolicy(allow_loopback=True))
    assert err.value.code == "refused_address"
    site.redirect("/hop", "https://10.9.8.7/security.txt")  # a redirect into a private range
    with pytest.raises(FetchError) as err:
        fetch(f"https://{site.host}/hop", policy(site))
    assert err.value.code == "refused_address" and site.hits == ["/hop"]
    with pytest.raises(FetchError) as err:
        fetch(f"http://{site.host}/x", policy(site))
    assert err.value.code == "insecure_scheme"


def test_vet_address_names_the_range() -> None:
    import ipaddress

    assert vet_address(ipaddress.ip_address("8.8.8.8"), False) == ""
    assert vet_address(ipaddress.ip_address("127.0.0.1"), False) == "loopback"
    assert vet_address(ipaddress.ip_address("127.0.0.1"), True) == ""
    assert vet_address(ipaddress.ip_address("172.16.5.4"), True) == "private"


def test_host_normalization() -> None:
    assert normalize_host("HTTPS://Example.ORG/path") == "example.org"
    assert normalize_host("bücher.example") == "xn--bcher-kva.example"
    assert normalize_host("localhost:8443") == "localhost:8443"
    for bad in ("not a domain", "a..b", "-x.example", "", "bü\udcffcher.example"):
        with pytest.raises(InvalidInput) as refused:
            normalize_host(bad)
        assert refused.value.field == "domain"  # the domain's word, not a CLI metavar


def test_discovery_fills_the_directory(site: Site, db: Database) -> None:
    site.text("/.well-known/security.txt", security_txt(site))
    site.text("/.well-known/csaf/provider-metadata.json", json.dumps({
        "canonical_url": f"https://{site.host}/.well-known/csaf/provider-metadata.json",
        "publisher": {"name": "Vendor PSIRT", "namespace": "https://vendor.example",
                      "category": "vendor"}}), content_type="application/json")
    settings = load_settings(database_url=db.url, fetch={
        "allow_loopback": True, "ca_bundle": str(site.ca_path)})
    svc = ContactService(db, settings)
    result = svc.discover(site.host, organization="Vendor Inc")
    assert result.csaf == {"url": f"https://{site.host}/.well-known/csaf/provider-metadata.json",
                           "name": "Vendor PSIRT", "namespace": "https://vendor.example",
                           "category": "vendor",
                           "canonical_url": f"https://{site.host}/.well-known/csaf/"
                                            "provider-metadata.json"}
    rows = svc.directory("vendor inc")
    assert [(c.kind, c.value, c.source) for c in rows] == [
        ("csaf-provider", f"https://{site.host}/.well-known/csaf/provider-metadata.json",
         "security.txt"),
        ("email", "psirt@vendor.example", "security.txt"),
        ("pgp-key", f"https://{site.host}/key.asc", "security.txt"),
        ("policy", f"https://{site.host}/cvd", "security.txt"),
        ("web-form", f"https://{site.host}/report", "security.txt")]
    assert all(c.verified_at is not None for c in rows)
    assert rows[0].details == {"name": "Vendor PSIRT", "namespace": "https://vendor.example",
                                  "category": "vendor"}
    svc.discover(site.host, organization="Vendor Inc")  # again: no duplicates
    assert len(svc.directory("Vendor Inc")) == 5


def test_a_hostile_provider_metadata_document_is_not_a_crash(site: Site, db: Database) -> None:
    """A vendor's server answers provider-metadata.json with JSON nested thousands of
    levels deep: Python's reader would stop with a RecursionError; discovery reads it as
    what it is, not a CSAF provider-metadata document, and keeps the security.txt."""
    site.text("/.well-known/security.txt", security_txt(site))
    site.text("/.well-known/csaf/provider-metadata.json", "[" * 20_000 + "]" * 20_000,
              content_type="application/json")
    settings = load_settings(database_url=db.url, fetch={
        "allow_loopback": True, "ca_bundle": str(site.ca_path)})
    result = ContactService(db, settings).discover(site.host, organization="Vendor Inc")
    assert result.csaf == {"url": f"https://{site.host}/.well-known/csaf/provider-metadata.json",
                           "error": "not a CSAF provider-metadata document"}
    assert ("email", "psirt@vendor.example") in [
        (c.kind, c.value) for c in ContactService(db, settings).directory("Vendor Inc")]


def test_cli_discover_and_check(site: Site, db_url: str, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CVDESK_DATABASE_URL", db_url)
    monkeypatch.setenv("CVDESK_FETCH__ALLOW_LOOPBACK", "true")
    monkeypatch.setenv("CVDESK_FETCH__CA_BUNDLE", str(site.ca_path))
    site.text("/.well-known/security.txt", security_txt(site))
    assert main(["contact", "discover", site.host, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["security_txt"]["valid"] is True and len(out["stored"]) == 4
    assert main(["contact", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {r["organization"] for r in listed} == {"localhost"}
    monkeypatch.setenv("CVDESK_FETCH__ALLOW_LOOPBACK", "false")
    assert main(["contact", "discover", site.host]) == 1
    assert "refused_address" in capsys.readouterr().out
    local = tmp_path / "security.txt"
    local.write_text("Contact: mailto:a@b.org\nExpires: 2020-01-01T00:00:00Z\n")
    assert main(["contact", "check-securitytxt", str(local), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False and report["problems"][0]["code"] == "expired"
    assert all({"code", "message"} <= set(p) for p in report["problems"])
    assert main(["contact", "check-securitytxt", str(tmp_path / "missing.txt")]) == 2
