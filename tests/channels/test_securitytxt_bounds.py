"""security.txt checking is bounded: in size and lines before the parser runs, against
the inputs that made sectxt (through PGPy's armour regex) backtrack for hours, and by
a hard time limit for whatever else might.  Contact lines with control characters
are invalid and never reach the directory."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pgpy_dtc import PGPUID, PGPKey, PGPMessage
from pgpy_dtc.constants import HashAlgorithm, KeyFlags, PubKeyAlgorithm

from cvdesk.channels import securitytxt_check
from cvdesk.channels.securitytxt import MAX_BYTES, MAX_LINES, validate
from cvdesk.services.contacts import ContactService
from cvdesk.settings import load_settings
from cvdesk.store.db import Database
from tests.channels.conftest import Site

HEADER = "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n"
FAST = 1.5  # seconds; each of these took from seconds to hours before


@pytest.fixture(autouse=True)
def warm_checker() -> Iterator[None]:
    securitytxt_check.check(b"Contact: mailto:a@b.org\n", [], [])
    yield


@pytest.fixture(scope="module")
def key() -> PGPKey:
    made = PGPKey.new(PubKeyAlgorithm.RSAEncryptOrSign, 1024)
    made.add_uid(PGPUID.new("Security", email="security@example.org"),
                 usage={KeyFlags.Sign}, hashes=[HashAlgorithm.SHA256])
    return made


def expires(days: int = 90) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def sign(text: str, key: PGPKey) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        message = PGPMessage.new(text, cleartext=True)
        message |= key.sign(message)
    return str(message)


def codes(result, severity: str = "error") -> set[str]:  # type: ignore[no-untyped-def]
    return {p.code for p in result.problems if p.severity == severity}


def _worst_inputs(key: PGPKey) -> dict[str, bytes]:
    """Each is what sectxt's pathological case looks like at cvdesk's limits: a signed
    message that PGPy cannot match, with as many ambiguous lines as fit."""
    blank = sign(f"Contact: mailto:a@b.org\n{chr(10) * 900}Expires: {expires()}\n", key)
    crc_gone = "\n".join(line for line in blank.split("\n") if not line.startswith("="))
    cases = {
        "headers repeated": HEADER * (MAX_LINES // 3),
        "header then blank lines": HEADER + "\n" * (MAX_LINES - 4),
        "header then CRLF blank lines": HEADER.replace("\n", "\r\n") + "\r\n" * (MAX_LINES - 4),
        "signed, blank lines, no CRC": crc_gone,
        "signed, blank lines, no END": blank.replace("-----END PGP SIGNATURE-----", ""),
        "signed, CRLF, no END": blank.replace("\n", "\r\n").replace(
            "-----END PGP SIGNATURE-----", ""),
        "signed, bad base64": blank.replace("\n=", "!\n=", 1),
        "dash-escaped headers": HEADER + "- -----BEGIN PGP SIGNED MESSAGE-----\n\n" * 400,
        "hash lines": "-----BEGIN PGP SIGNED MESSAGE-----\n" + "Hash: SHA256\n\n" * 490,
        "signature block of blank lines": (HEADER + "\n" * 400
                                           + "-----BEGIN PGP SIGNATURE-----\n" + "\n" * 400),
        "one long line": "Contact: https://" + "a" * (MAX_BYTES - 40) + "\n",
    }
    return {name: text.encode() for name, text in cases.items()}


def test_the_worst_inputs_finish_quickly(key: PGPKey) -> None:
    for name, data in _worst_inputs(key).items():
        assert len(data) <= MAX_BYTES, name
        started = time.monotonic()
        result = validate(data, keys=[str(key.pubkey)])
        elapsed = time.monotonic() - started
        assert elapsed < FAST, f"{name}: {elapsed:.2f} s"
        assert not result.valid, name
        assert "check_timeout" not in codes(result), name  # the guard, not the limit


def test_broken_signatures_are_reported_as_sectxt_does(key: PGPKey) -> None:
    data = _worst_inputs(key)["signed, blank lines, no CRC"]
    result = validate(data, keys=[str(key.pubkey)])
    assert "pgp_data_error" in codes(result) and "invalid_signature" in codes(result)
    good = sign(f"Contact: mailto:a@b.org\n{chr(10) * 900}Expires: {expires()}\n", key)
    assert validate(good.encode(), keys=[str(key.pubkey)]).signature.verified is True


def test_the_time_limit_stops_the_parser_itself() -> None:
    """Without the guard, 60 blank lines after a signed-message header would keep PGPy
    busy for days; the checker process is killed at the limit and replaced."""
    started = time.monotonic()
    assert securitytxt_check.check((HEADER + "\n" * 60).encode(), [], [], time_limit=1.0,
                                   guard=False) is None
    assert time.monotonic() - started < 1.0 + FAST
    again = validate(f"Contact: mailto:a@b.org\nExpires: {expires()}\n".encode())
    assert again.valid


def test_a_check_past_its_limit_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch,
                                                        ) -> None:
    monkeypatch.setattr(securitytxt_check, "check", lambda *a, **k: None)
    result = validate(b"Contact: mailto:a@b.org\n", time_limit=0.1)
    assert codes(result) == {"check_timeout"} and "0.1 s" in result.problems[0].message


def test_size_and_line_limits_apply_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_parser(*args: object, **kwargs: object) -> None:
        raise AssertionError("the parser ran")

    monkeypatch.setattr(securitytxt_check, "check", no_parser)
    assert MAX_BYTES == 32 * 1024
    big = (HEADER * 2000).encode()  # the 63 KB file that used to take hours
    assert codes(validate(big)) == {"too_large"}
    many = b"\n" * MAX_LINES + b"#\n"
    assert codes(validate(many)) == {"too_many_lines"}
    monkeypatch.undo()
    exactly = b"Contact: mailto:a@b.org\n" + b"\n" * (MAX_LINES - 1)
    assert "too_many_lines" not in codes(validate(exactly))


def test_a_file_the_parser_chokes_on_is_reported() -> None:
    result = validate(f"Contact: mailto:a@b.org\nExpires: {'9' * 400}\n".encode())
    assert codes(result) == {"unreadable"} and not result.valid


CONTROL = [
    ("Contact", "mailto:psirt@vendor.example\x1b[2J", "\\x1b"),
    ("Contact", "https://vendor.example/report\x07", "\\x07"),
    ("Contact", "mailto:psirt@vendor.example\x00", "\\x00"),
    ("Contact", "mailto:psirt@vendor.example\x7f", "\\x7f"),
    ("Contact", "https://vendor.example/\x9b31m", "\\x9b"),  # C1 CSI
    ("Contact", "mailto:moc.elpmaxe\u202e@evil.example", "\\u202e"),  # bidi override
    ("Contact", "mailto:a\u2066b@vendor.example", "\\u2066"),  # bidi isolate
    ("Contact", "tel:+1-201-555-0123\u2028", "\\u2028"),
    ("Contact", "https://vendor\u200b.example/report", "\\u200b"),
    ("Contact", "mailto:a@b.org\rContact: mailto:x@y.org", "\\x0d"),
    ("Contact", "mailto:psirt@vendor.example\x1c", "\\x1c"),  # str.rstrip would hide it
    ("Encryption", "https://vendor.example/key\x1b]8;;https://evil\x07.asc", "\\x1b"),
    ("Policy", "https://vendor.example/\u202epolicy", "\\u202e"),
    ("Canonical", "https://vendor.example/.well-known/security.txt\x85", "\\x85"),
    ("Acknowledgments", "https://vendor.example/\ttab", "\\x09"),
]


@pytest.mark.parametrize(("field", "value", "shown"), CONTROL)
def test_control_characters_make_a_line_invalid(field: str, value: str, shown: str) -> None:
    text = f"Contact: mailto:ok@vendor.example\nExpires: {expires()}\n{field}: {value}\n"
    result = validate(text.encode())
    assert not result.valid
    bad = [p for p in result.problems if p.code == "control_character"]
    assert len(bad) == 1 and bad[0].line == 3 and shown in bad[0].message
    assert field in bad[0].message
    assert all(value not in values for values in result.fields.values())
    assert result.contacts[0] == "mailto:ok@vendor.example"


def test_clean_lines_are_not_flagged() -> None:
    text = (f"Contact: mailto:ok@vendor.example \t\r\nExpires: {expires()}\r\n"
            "# a comment may say anything \x1b\r\nPolicy: https://bücher.example/cvd\r\n")
    result = validate(text.encode())
    assert "control_character" not in codes(result)
    assert result.fields["policy"] == ["https://bücher.example/cvd"]


def test_a_contact_with_control_characters_is_not_saved(site: Site, db: Database) -> None:
    site.text("/.well-known/security.txt",
              f"Contact: mailto:psirt@vendor.example\n"
              f"Contact: mailto:evil@attacker.example\x1b[8m\n"
              f"Policy: https://{site.host}/\u202ecvd\nExpires: {expires()}\n")
    settings = load_settings(database_url=db.url, fetch={
        "allow_loopback": True, "ca_bundle": str(site.ca_path)})
    svc = ContactService(db, settings)
    result = svc.discover(site.host, organization="Vendor Inc")
    assert not result.security_txt.valid
    assert [p.line for p in result.security_txt.problems
            if p.code == "control_character"] == [2, 3]
    rows = svc.directory("Vendor Inc")
    assert [(c.kind, c.value) for c in rows] == [("email", "psirt@vendor.example")]
    assert rows[0].verified_at is None  # from a file that is not valid
