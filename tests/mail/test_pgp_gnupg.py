"""PGP/MIME replies as GnuPG makes them, decrypted to their real body; bombs refused.

The .eml files and the key under fixtures/ were made by GnuPG with its defaults
(fixtures/make_pgp_fixtures.py; fixtures/gpg-version.txt says which version).
"""

from __future__ import annotations

import base64
import tracemalloc
import warnings
from pathlib import Path

import pytest
from pgpy_dtc import PGPKey, PGPMessage
from pgpy_dtc.constants import CompressionAlgorithm
from sqlalchemy import func, select

from cvdesk.channels.inbound import MalformedMail, parse
from cvdesk.channels.mail import _encrypt
from cvdesk.services import CaseService
from cvdesk.services.inbound import InboundService
from cvdesk.store.tables import AttachmentRow, EventRow, MessageRow, QuarantineRow
from tests.conftest import Clock
from tests.mail.test_inbound import desk, open_case, reply

FIXTURES = Path(__file__).parent / "fixtures"
PASSPHRASE = "cvdesk-test-only"
KEY = (FIXTURES / "desk-secret.asc").read_text()
KEYS = [(KEY, PASSPHRASE)]


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def with_key(service: CaseService) -> CaseService:
    return desk(service, private_key_file=str(FIXTURES / "desk-secret.asc"),
                passphrase=PASSPHRASE)


def inbound_text(svc: CaseService, cid: str) -> list[dict[str, object]]:
    return [e.data for e in svc.timeline(cid) if e.type.value == "message.logged"
            and e.data["direction"] == "in"]


# ---------------------------------------------------------------- the parser alone
def test_gnupg_default_encryption_gives_the_real_body() -> None:
    mail = parse(fixture("gpg-encrypted.eml"), KEYS)
    assert mail.encrypted
    assert mail.subject == "[CVD-2026-0001] Re: Auth bypass: fix scheduled for 2.1"  # protected
    assert mail.text.startswith("Grüße from Acme,\n\nwe reproduced the bypass (CVSS 9.8 – "
                                "critical)")
    assert "No “quotes” were harmed." in mail.text
    assert [(a.filename, a.content_type, a.data) for a in mail.attachments] == [
        ("poc.py", "text/x-python", b"print('proof of concept')\n")]


def test_gnupg_sign_and_encrypt_in_text_mode() -> None:
    mail = parse(fixture("gpg-signed-encrypted.eml"), KEYS)
    assert mail.subject == "[CVD-2026-0001] Encrypted message"  # no protected headers
    assert mail.text.strip() == "Hallo, der Fix für das Problem kommt in 2.1. Grüße, Jürgen"
    assert mail.attachments == []


def _peak(raw: bytes, max_bytes: int) -> int:
    tracemalloc.start()
    try:
        try:
            parse(raw, KEYS, max_bytes=max_bytes)
        except MalformedMail as exc:
            assert f"larger than {max_bytes} bytes" in str(exc)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_compression_bomb_stops_at_the_limit_without_inflating_it() -> None:
    raw = fixture("gpg-bomb.eml")  # 30 MB of text in about 170 kB
    with pytest.raises(MalformedMail, match="larger than 1048576 bytes"):
        parse(raw, KEYS, max_bytes=1024 * 1024)
    # Unlocking the key costs the same for any message (PGPy's S2K), so compare with a
    # small one: the bomb may cost a few times the limit, never its 30 MB.
    extra = _peak(raw, 1024 * 1024) - _peak(fixture("gpg-signed-encrypted.eml"), 1024 * 1024)
    assert extra < 8 * 1024 * 1024
    with pytest.raises(MalformedMail, match="larger than 26214400 bytes"):
        parse(raw, KEYS)  # the default limit, the listener's message size


@pytest.mark.parametrize("algorithm", [CompressionAlgorithm.ZIP, CompressionAlgorithm.ZLIB,
                                       CompressionAlgorithm.BZ2])
def test_every_compression_algorithm_is_capped(algorithm: CompressionAlgorithm) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        public = PGPKey.from_blob(KEY)[0].pubkey
        inner = b"Content-Type: text/plain\r\n\r\n" + b"\0" * (300 * 1024)
        armoured = str(public.encrypt(PGPMessage.new(inner, compression=algorithm)))
    outer = _encrypt("x", str(public))
    outer.get_payload()[1].set_payload(armoured)
    outer["From"], outer["Message-ID"] = "psirt@acme.example", "<bomb@acme.example>"
    with pytest.raises(MalformedMail, match="larger than 102400 bytes"):
        parse(outer.as_bytes(), KEYS, max_bytes=100 * 1024)
    assert len(parse(outer.as_bytes(), KEYS, max_bytes=400 * 1024).text) == 300 * 1024


def _pgp_mime(packets: bytes) -> bytes:
    armour = base64.encodebytes(packets).decode()
    return ("From: psirt@acme.example\r\nMessage-ID: <x@acme.example>\r\nSubject: s\r\n"
            'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; '
            'boundary="b"\r\n\r\n--b\r\nContent-Type: application/pgp-encrypted\r\n\r\n'
            "Version: 1\r\n--b\r\nContent-Type: application/octet-stream\r\n\r\n"
            f"-----BEGIN PGP MESSAGE-----\r\n\r\n{armour}-----END PGP MESSAGE-----\r\n"
            "--b--\r\n").encode()


def _packet(tag: int, body: bytes) -> bytes:
    return bytes([0xC0 | tag, len(body)]) + body


@pytest.mark.parametrize(("packets", "reason"), [
    (_packet(1, b"\x03" + b"\1" * 20) + _packet(20, b"\x01\x09\x02\x10" + b"\0" * 40),
     "AEAD/OCB"),
    (_packet(1, b"\x03" + b"\1" * 20) + _packet(18, b"\x02" + b"\0" * 40), "SEIPD version 2"),
    (_packet(1, b"\x03" + b"\1" * 20) + _packet(9, b"\0" * 40), "without integrity"),
    (_packet(3, b"\x04\x09\x03") + _packet(18, b"\x01" + b"\0" * 40), "password only"),
    (b"\xd2\xff", "ends early"),
    (b"junk that is not OpenPGP", "not OpenPGP"),
], ids=["aead-ocb", "seipd-v2", "no-mdc", "password-only", "truncated", "junk"])
def test_what_the_desk_cannot_decrypt_is_named(packets: bytes, reason: str) -> None:
    with pytest.raises(MalformedMail, match=reason):
        parse(_pgp_mime(packets), KEYS)


@pytest.mark.parametrize(("keys", "reason"), [
    ([], "no private key configured"),
    ([(KEY, "wrong")], "Passphrase was incorrect"),
    ([("not a key", "")], "private key cannot be read"),
])
def test_key_problems_are_named(keys: list[tuple[str, str]], reason: str) -> None:
    with pytest.raises(MalformedMail, match=reason):
        parse(fixture("gpg-encrypted.eml"), keys)


# ---------------------------------------------------------------- filed, both databases
def test_gnupg_replies_are_filed_with_their_real_body(service: CaseService,
                                                      clock: Clock) -> None:
    svc = with_key(service)
    cid, _ = open_case(svc)
    assert cid == "CVD-2026-0001"  # the fixtures name it
    clock.advance(hours=1)  # the fixtures are dated 09:30 and 09:31 UTC
    inbound = InboundService(svc)
    first = inbound.receive(fixture("gpg-encrypted.eml"), "test")
    second = inbound.receive(fixture("gpg-signed-encrypted.eml"), "test")
    assert (first.filed, first.participant, second.filed, second.participant) == (
        True, 3, True, 3)
    one, two = inbound_text(svc, cid)
    assert one["subject"] == "[CVD-2026-0001] Re: Auth bypass: fix scheduled for 2.1"
    assert "fix ships in version 2.1" in str(one["body"])
    assert str(two["body"]).strip() == ("Hallo, der Fix für das Problem kommt in 2.1. "
                                        "Grüße, Jürgen")
    with svc.db.sessions() as s:
        [att] = s.scalars(select(AttachmentRow))
    assert (att.message_id, att.filename, att.data) == (
        "<gpg-1@acme.example>", "poc.py", b"print('proof of concept')\n")
    assert svc.replay(cid).participants[3].replies == 2


def test_a_compression_bomb_is_quarantined_and_nothing_filed(service: CaseService,
                                                             clock: Clock) -> None:
    svc = with_key(service)
    open_case(svc)
    raw = fixture("gpg-bomb.eml")
    out = InboundService(svc).receive(raw, "test")
    assert not out.filed and "larger than 26214400 bytes" in out.reason
    with svc.db.sessions() as s:
        [q] = s.scalars(select(QuarantineRow))
        assert s.scalar(select(func.count()).select_from(MessageRow)) == 1  # ours, sent
        assert s.scalar(select(func.count()).select_from(EventRow).where(
            EventRow.type == "contact.reply")) == 0
    assert q.raw == raw and "larger than" in q.reason


def test_a_missing_key_file_quarantines_instead_of_failing(service: CaseService,
                                                           clock: Clock,
                                                           tmp_path: Path) -> None:
    svc = desk(service, private_key_file=str(tmp_path / "gone.asc"))
    open_case(svc)
    out = InboundService(svc).receive(fixture("gpg-encrypted.eml"), "test")
    assert not out.filed and "private key file cannot be read" in out.reason
    plain = InboundService(svc).receive(reply(clock, subject="[CVD-2026-0001] hi").as_bytes(),
                                        "test")
    assert plain.filed  # the key is read only for encrypted mail
