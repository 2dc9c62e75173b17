"""Fuzzing the security.txt checker: files built from the real field names with random
values, signature armour, comments, blank lines and mixed line ends, and plain random
bytes.  Whatever comes in, a report comes out (valid, or with named problems), no
exception escapes, no accepted value holds a control character, and each check is
quick."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cvdesk.channels import securitytxt_check
from cvdesk.channels.securitytxt import (
    FIELDS,
    MAX_BYTES,
    Problem,
    SecurityTxt,
    control_characters,
    validate,
)

QUICK = 2.0  # seconds per check, on a busy machine; a real file takes milliseconds

NAMES = st.sampled_from([*FIELDS, "Hash", "Comment", "X-Custom", "", " Contact", "contact "])
NAME = st.tuples(NAMES, st.booleans()).map(lambda t: t[0].upper() if t[1] else t[0].title())
VALUES = st.one_of(
    st.sampled_from(["mailto:security@example.org", "https://example.org/.well-known/"
                     "security.txt", "tel:+1-201-555-0123", "2030-01-01T00:00:00Z",
                     "en, nl", "https://example.org/.well-known/csaf/"
                     "provider-metadata.json", "http://insecure.example/", "next tuesday",
                     "SHA256", "SHA512,SHA256", "9" * 60]),
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    st.from_regex(r"[A-Za-z0-9+/]{1,76}={0,2}", fullmatch=True),
)
ARMOUR = st.sampled_from([
    "-----BEGIN PGP SIGNED MESSAGE-----", "-----BEGIN PGP SIGNATURE-----",
    "-----END PGP SIGNATURE-----", "- -----BEGIN PGP SIGNED MESSAGE-----", "Hash: SHA256",
    "=abcd", "=", "- ", "-", "-----BEGIN PGP MESSAGE-----", "-----END PGP MESSAGE-----",
])
LINE = st.one_of(
    st.builds(lambda n, sep, v: f"{n}{sep}{v}", NAME, st.sampled_from([": ", ":", " : ", ":\t"]),
              VALUES),
    ARMOUR,
    st.builds(lambda t: "#" + t, st.text(max_size=40)),
    st.just(""),
    st.from_regex(r"[A-Za-z0-9+/]{1,80}={0,2}", fullmatch=True),
    st.text(max_size=40),
)
ENDS = st.sampled_from(["\n", "\r\n", "\r", "", "\n\n", " \n", "\t\r\n"])


@st.composite
def documents(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(st.tuples(LINE, ENDS), max_size=60))
    text = "".join(line + end for line, end in lines)
    if draw(st.booleans()):
        text = "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n" + text
    if draw(st.booleans()):
        text += "\n" * draw(st.integers(0, 80))  # the blank lines that used to explode
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "latin-1", "utf-16"]))
    return text.encode(encoding, errors="replace")


@pytest.fixture(autouse=True, scope="module")
def warm_checker() -> Iterator[None]:
    securitytxt_check.check(b"Contact: mailto:a@b.org\n", [], [])
    yield


def _check_report(data: bytes) -> None:
    started = time.monotonic()
    result = validate(data, urls=["https://example.org/.well-known/security.txt"])
    elapsed = time.monotonic() - started
    assert elapsed < QUICK, f"{elapsed:.2f} s for {data[:80]!r}"
    assert isinstance(result, SecurityTxt)
    assert all(isinstance(p, Problem) and p.code and p.message for p in result.problems)
    assert all(p.severity in ("error", "recommendation", "notice") for p in result.problems)
    assert result.valid == (not [p for p in result.problems if p.severity == "error"])
    assert "check_timeout" not in {p.code for p in result.problems}
    for name, values in result.fields.items():
        assert name in FIELDS
        assert all(not control_characters(v) for v in values), (name, values)
    json.dumps(result.to_json())  # the --json form always serialises


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_random_files_from_real_fields(data: bytes) -> None:
    _check_report(data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_random_bytes(data: bytes) -> None:
    _check_report(data)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(min_size=1, max_size=80), documents().filter(bool)),
       st.integers(MAX_BYTES - 64, MAX_BYTES + 64))
def test_repeated_patterns_up_to_the_size_limit(unit: bytes, size: int) -> None:
    """Repetition is what pathological inputs are made of; fill the file with it."""
    _check_report((unit * (size // len(unit) + 1))[:size])
