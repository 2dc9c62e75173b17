"""Vendors' OpenPGP keys (channels/openpgp_keys.py): read without PGPy's armour expression,
checked when filed, and a key that cannot be used stops a notice with a named problem
instead of a traceback (or a hang) in the middle of it."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import pytest
from pgpy_dtc import PGPUID, PGPKey, PGPMessage
from pgpy_dtc.constants import EllipticCurveOID, KeyFlags, PubKeyAlgorithm
from sqlalchemy import func, select

from cvdesk.channels.openpgp import OpenPGPError
from cvdesk.channels.openpgp_keys import MAX_KEY_CHARS, check_public_key, encrypt, key_packets
from cvdesk.domain.errors import InvalidInput
from cvdesk.domain.model import ContactKind, ContactSource, Report, ReporterInfo, Role
from cvdesk.services.cases import CaseService
from cvdesk.services.contacts import ContactService, ImportProblems
from cvdesk.services.mail import MailService
from cvdesk.settings import load_settings
from cvdesk.store.directory import DirectoryRepository
from cvdesk.store.tables import EventRow, OutboxRow

FIXTURES = Path(__file__).parents[1] / "mail" / "fixtures"
PASSPHRASE = "cvdesk-test-only"  # tests/mail/fixtures/make_pgp_fixtures.py


def _desk_key() -> PGPKey:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        key, _ = PGPKey.from_file(str(FIXTURES / "desk-secret.asc"))
    return key


def _sign_only() -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        key = PGPKey.new(PubKeyAlgorithm.EdDSA, EllipticCurveOID.Ed25519)
        key.add_uid(PGPUID.new("Signer", email="sign@vendor.example"), usage={KeyFlags.Sign})
    return str(key.pubkey)


def test_a_public_key_reads_and_encrypts() -> None:
    key = _desk_key()
    armoured = str(key.pubkey)
    assert check_public_key(armoured) == armoured  # kept as given
    sealed = encrypt(armoured, "embargoed words")
    assert sealed.startswith("-----BEGIN PGP MESSAGE-----")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with key.unlock(PASSPHRASE):
            assert key.decrypt(PGPMessage.from_blob(sealed)).message == "embargoed words"
    # armour headers, CRLF line ends and text around the block are read past
    framed = "Our key:\r\n" + armoured.replace("\n", "\r\n").replace(
        "-----\r\n\r\n", "-----\r\nComment: vendor PSIRT\r\n\r\n", 1) + "\r\nthanks\r\n"
    assert check_public_key(framed) == framed


@pytest.mark.parametrize(("text", "says"), [
    ("", "no '-----BEGIN PGP PUBLIC KEY BLOCK-----' line"),
    ("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxsDN\n", "no '-----END PGP PUBLIC KEY BLOCK-----"),
    ("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot a key!\n-----END PGP PUBLIC KEY BLOCK-----",
     "the armoured block is damaged (not base64 text)"),
    ("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\naGVsbG8gd29ybGQ=\n"
     "-----END PGP PUBLIC KEY BLOCK-----", "the armoured block holds no OpenPGP packets"),
    ("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQ==\n-----END PGP PUBLIC KEY BLOCK-----",
     "not a readable OpenPGP key"),
    ("x" * (MAX_KEY_CHARS + 1), "longer than 512 KiB"),
])
def test_what_is_not_a_key_is_named(text: str, says: str) -> None:
    with pytest.raises(OpenPGPError, match="^" + _escaped(says)):
        check_public_key(text)


def _escaped(text: str) -> str:
    import re

    return re.escape(text)


def test_a_private_key_or_a_key_that_cannot_encrypt_is_refused() -> None:
    key = _desk_key()
    with pytest.raises(OpenPGPError, match="a private key: give the vendor's public key"):
        check_public_key(str(key))
    with pytest.raises(OpenPGPError, match="cannot encrypt to this key"):
        check_public_key(_sign_only())


def test_text_that_makes_pgpys_armour_expression_backtrack_is_refused_at_once() -> None:
    """Forty blank lines after a signed-message line would take PGPy's expression hours
    (it doubles about every line: 20 lines took 0.3 s here); base64 text that decodes to
    printable bytes would be handed back to that expression as armour."""
    signed = ("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n" + "\n" * 40
              + "x\n-----BEGIN PGP SIGNATURE-----\n\n!!!!\n-----END PGP SIGNATURE-----\n")
    inside = ("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n" + signed
              + "-----END PGP PUBLIC KEY BLOCK-----\n")
    import base64

    printable = ("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n"
                 + base64.b64encode(signed.encode()).decode()
                 + "\n-----END PGP PUBLIC KEY BLOCK-----\n")
    for text in (signed, inside, printable):
        started = time.perf_counter()
        with pytest.raises(OpenPGPError):
            check_public_key(text)
        assert time.perf_counter() - started < 1.0
    assert key_packets(str(_desk_key().pubkey))[0] & 0x80


def test_filing_a_bad_key_is_refused_and_nothing_is_filed(service: CaseService,
                                                          tmp_path: Path) -> None:
    contacts = ContactService(service.db, service.settings)
    with pytest.raises(InvalidInput) as refused:
        contacts.add("Acme", ContactKind.PGP_KEY, "https://acme.example/key.asc",
                     details={"armored": _sign_only()})
    assert refused.value.field == "details.armored"
    assert "not a usable OpenPGP public key (cannot encrypt to this key" in refused.value.problem
    with pytest.raises(InvalidInput, match="must be the armoured key as text"):
        contacts.add("Acme", ContactKind.PGP_KEY, "https://acme.example/key.asc",
                     details={"armored": ["not", "text"]})
    path = tmp_path / "dir.json"
    path.write_text(
        '[{"organization": "Acme", "kind": "email", "value": "psirt@acme.example"},'
        ' {"organization": "Acme", "kind": "pgp-key", "value": "https://acme.example/k.asc",'
        ' "details": {"armored": "-----BEGIN PGP PUBLIC KEY BLOCK-----\\n\\nnot a key\\n'
        '-----END PGP PUBLIC KEY BLOCK-----"}}]', encoding="utf-8")
    with pytest.raises(ImportProblems) as problems:
        contacts.import_file(path)
    assert problems.value.problems == [
        "row 2: details.armored: not a usable OpenPGP public key (the armoured block is "
        "damaged (not base64 text))"]
    assert contacts.directory() == []
    good = str(_desk_key().pubkey)
    assert contacts.add("Acme", ContactKind.PGP_KEY, "https://acme.example/key.asc",
                        details={"armored": good})
    [entry] = contacts.directory("Acme")
    assert entry.details == {"armored": good}


def test_a_key_filed_before_the_check_stops_the_notice_with_a_named_problem(
        service: CaseService) -> None:
    """A key stored by an earlier version (or written straight into the database) is
    not trusted either: the notice is refused, naming the organization, and nothing is
    queued or logged for any vendor."""
    settings = load_settings(database_url=service.db.url, actor="tester",
                             desk={"name": "Example CSIRT", "email": "cert@example.org"})
    svc = CaseService(service.db, settings, clock=service.clock)
    cid = svc.submit_report(Report("Heap overflow in libfoo", "details",
                                   ReporterInfo("Rita"))).case_id
    with svc.case(cid) as case:
        case.add_participant("Other", [Role.VENDOR], at=svc.clock(), actor="t",
                             email="psirt@other.example")
        case.add_participant("Acme", [Role.VENDOR], at=svc.clock(), actor="t",
                             email="psirt@acme.example")
    with svc.db.transaction() as session:
        repo = DirectoryRepository(session)
        org = repo.upsert_organization("Acme", website="", now=svc.clock())
        repo.add_contact(org, ContactKind.PGP_KEY, "https://acme.example/key.asc",
                         ContactSource.IMPORT, verified_at=None, now=svc.clock(),
                         details={"armored": "-----BEGIN PGP SIGNED MESSAGE-----\n"
                                  + "\n" * 40 + "x\n"})

    def counts() -> tuple[int, int]:
        with svc.db.sessions() as s:
            return (s.scalar(select(func.count()).select_from(OutboxRow)) or 0,
                    s.scalar(select(func.count()).select_from(EventRow)) or 0)

    before = counts()
    started = time.perf_counter()
    with pytest.raises(InvalidInput) as refused:
        MailService(svc).queue(cid, None, "new-case")
    assert time.perf_counter() - started < 5.0
    assert refused.value.field == "pgp-key"
    assert refused.value.problem.startswith("the OpenPGP key on file for Acme cannot be used "
                                            "(no '-----BEGIN PGP PUBLIC KEY BLOCK-----' line)")
    assert "nothing was queued" in refused.value.problem
    assert counts() == before
