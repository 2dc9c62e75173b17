"""security.txt validation (RFC 9116) on valid, expired, unsigned, signed, malformed, huge
and wrongly encoded files; every problem reported by its code."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta

import pytest
from pgpy_dtc import PGPUID, PGPKey, PGPMessage
from pgpy_dtc.constants import HashAlgorithm, KeyFlags, PubKeyAlgorithm

from cvdesk.channels.securitytxt import MAX_BYTES, validate

URL = "https://example.org/.well-known/security.txt"


def expires(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def body(days: int = 100) -> str:
    return (f"Contact: mailto:security@example.org\nContact: tel:+1-201-555-0123\n"
            f"Contact: https://example.org/report\nExpires: {expires(days)}\n"
            f"Encryption: https://example.org/pgp-key.txt\nAcknowledgments: "
            f"https://example.org/hall-of-fame\nPreferred-Languages: en, nl\n"
            f"Canonical: {URL}\nPolicy: https://example.org/cvd\nHiring: "
            f"https://example.org/jobs\nCSAF: https://example.org/.well-known/csaf/"
            f"provider-metadata.json\n")


def codes(result, severity: str = "error") -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(p.code for p in result.problems if p.severity == severity)


@pytest.fixture(scope="module")
def keys() -> tuple[PGPKey, PGPKey]:
    made = []
    for name in ("Security Team", "Someone Else"):
        key = PGPKey.new(PubKeyAlgorithm.RSAEncryptOrSign, 2048)
        key.add_uid(PGPUID.new(name, email="security@example.org"), usage={KeyFlags.Sign},
                    hashes=[HashAlgorithm.SHA256])
        made.append(key)
    return made[0], made[1]


def sign(text: str, key: PGPKey) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        message = PGPMessage.new(text, cleartext=True)
        message |= key.sign(message)
    return str(message)


def test_a_complete_file_is_valid_and_every_field_is_read() -> None:
    result = validate(body().encode(), urls=[URL])
    assert result.valid and codes(result) == []
    assert codes(result, "recommendation") == ["not_signed"]
    assert result.fields["contact"] == ["mailto:security@example.org", "tel:+1-201-555-0123",
                                        "https://example.org/report"]
    assert set(result.fields) == {"contact", "expires", "encryption", "acknowledgments",
                                  "preferred-languages", "canonical", "policy", "hiring",
                                  "csaf"}
    assert result.to_json()["valid"] is True


def test_expired_and_missing_fields() -> None:
    assert codes(validate(body(-1).encode(), urls=[URL])) == ["expired"]
    result = validate(b"Policy: https://example.org/cvd\n")
    assert codes(result) == ["no_contact", "no_expire"]
    twice = f"Contact: mailto:a@b.org\nExpires: {expires(9)}\nExpires: {expires(8)}\n"
    assert codes(validate(twice.encode())) == ["multi_expire"]


def test_canonical_must_match_where_it_was_found() -> None:
    assert codes(validate(body().encode(), urls=["https://other.example/security.txt"])) == [
        "no_canonical_match"]


def test_malformed_lines_and_fields() -> None:
    bad = (f"Contact: mailto:a@b.org\nExpires: {expires(9)}\nthis is not a field\n"
           "Contact: http://insecure.example/report\nCSAF: https://example.org/x.json\n")
    result = validate(bad.encode())
    assert {"invalid_line", "no_https", "no_csaf_file"} <= set(codes(result))
    assert not result.valid
    no_newline = f"Contact: mailto:a@b.org\nExpires: {expires(9)}"
    assert "no_line_separators" in codes(validate(no_newline.encode()))
    wrong_date = "Contact: mailto:a@b.org\nExpires: next tuesday\n"
    assert "invalid_expiry" in codes(validate(wrong_date.encode()))


def test_encoding() -> None:
    latin1 = f"Contact: mailto:sécurité@example.org\nExpires: {expires(9)}\n".encode("latin-1")
    assert "utf8" in codes(validate(latin1))
    bom = b"\xef\xbb\xbf" + f"Contact: mailto:a@b.org\nExpires: {expires(9)}\n".encode()
    assert "bom_in_file" in codes(validate(bom))


def test_huge_files_are_refused_before_parsing() -> None:
    result = validate(b"# " + b"x" * MAX_BYTES + b"\n")
    assert codes(result) == ["too_large"] and not result.valid


def test_signed_file_verified_with_the_right_key(keys) -> None:  # type: ignore[no-untyped-def]
    signed = sign(body(), keys[0])
    good = validate(signed.encode(), urls=[URL], keys=[str(keys[0].pubkey)])
    assert good.valid and good.signature.signed and good.signature.verified is True
    assert good.signature.detail.startswith("good signature by key")
    assert "not_signed" not in codes(good, "recommendation")
    assert good.fields["contact"][0] == "mailto:security@example.org"


def test_signed_file_without_a_key_is_not_judged(keys) -> None:  # type: ignore[no-untyped-def]
    result = validate(sign(body(), keys[0]).encode(), urls=[URL])
    assert result.valid and result.signature.verified is None
    assert "no public key" in result.signature.detail


def test_tampered_or_foreign_signatures_are_invalid(keys) -> None:  # type: ignore[no-untyped-def]
    signed = sign(body(), keys[0])
    tampered = signed.replace("mailto:security@example.org", "mailto:attacker@evil.example")
    bad = validate(tampered.encode(), urls=[URL], keys=[str(keys[0].pubkey)])
    assert bad.signature.verified is False and "invalid_signature" in codes(bad)
    assert not bad.valid
    foreign = validate(signed.encode(), urls=[URL], keys=[str(keys[1].pubkey)])
    assert foreign.signature.verified is False
    assert foreign.signature.detail == "signed by none of the given public keys"
