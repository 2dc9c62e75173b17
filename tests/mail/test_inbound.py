"""Inbound e-mail: filing replies on their case and participant, quarantine, listeners."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
from pgpy_dtc import PGPUID, PGPKey
from pgpy_dtc.constants import KeyFlags, PubKeyAlgorithm
from sqlalchemy import select

from cvdesk.channels.listener import Listener
from cvdesk.channels.mail import _encrypt
from cvdesk.cli.main import main
from cvdesk.domain.model import ContactKind, Report, ReporterInfo, Role
from cvdesk.services import CaseService
from cvdesk.services.contacts import ContactService
from cvdesk.services.inbound import InboundService
from cvdesk.services.mail import MailService
from cvdesk.settings import load_settings
from cvdesk.store.tables import AttachmentRow, QuarantineRow
from tests.conftest import Clock
from tests.mail.conftest import free_port
from tests.mail.imap_server import ImapServer, Mailbox


def desk(service: CaseService, **mail: str) -> CaseService:
    settings = load_settings(database_url=service.db.url, actor="t",
                             desk={"email": "cert@example.org"}, mail=mail)
    return CaseService(service.db, settings, clock=service.clock)


def open_case(svc: CaseService) -> tuple[str, str]:
    cid = svc.submit_report(Report("Auth bypass in Acme router", "d",
                                   ReporterInfo("Rita"))).case_id
    svc.add_participant(cid, "Acme", [Role.VENDOR], email="psirt@acme.example")
    [q] = MailService(svc).queue(cid, ["Acme"], "new-case")
    return cid, q.message_id


def reply(clock: Clock, *, to: str = "", subject: str = "Re: report", body: str = "Thanks",
          sender: str = "psirt@acme.example", msgid: str = "<r1@acme.example>",
          attach: bytes | None = None) -> EmailMessage:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = sender, "cert@example.org", subject
    m["Message-ID"], m["Date"] = msgid, format_datetime(clock.now)
    if to:
        m["In-Reply-To"] = to
    m.set_content(body)
    if attach is not None:
        m.add_attachment(attach, maintype="application", subtype="octet-stream",
                         filename="poc.bin")
    return m


def test_a_reply_is_filed_with_its_attachment(service: CaseService, clock: Clock) -> None:
    svc = desk(service)
    cid, sent_id = open_case(svc)
    inbound = InboundService(svc)
    msg = reply(clock, to=sent_id, body="We have forwarded this to our lawyers.",
                attach=b"\x00\x01proof")
    out = inbound.receive(msg.as_bytes(), "test")
    assert (out.filed, out.case_id, out.participant) == (True, cid, 3)
    case = svc.replay(cid)
    acme = case.participants[3]
    assert (acme.replies, acme.rm.value, acme.last_reply_at) == (1, "received", clock.now)
    assert [s.kind.value for s in case.signals] == ["legal-threat"]  # read by the rules
    with svc.db.sessions() as s:
        [att] = s.scalars(select(AttachmentRow))
    assert (att.filename, att.size, att.data) == ("poc.bin", 7, b"\x00\x01proof")
    again = inbound.receive(msg.as_bytes(), "test")  # the same message twice
    assert again.duplicate and svc.replay(cid).participants[3].replies == 1


def test_case_tag_and_directory_address(service: CaseService, clock: Clock) -> None:
    svc = desk(service)
    cid, _ = open_case(svc)
    ContactService(svc.db, svc.settings).add("Acme", ContactKind.EMAIL, "sec@acme.example")
    out = InboundService(svc).receive(
        reply(clock, subject=f"[{cid}] status", sender="sec@acme.example").as_bytes(), "t")
    assert out.filed and out.participant == 3


@pytest.mark.parametrize(("make", "reason"), [
    (lambda c, cid: b"\x00\x01 not mail at all", "malformed: no headers"),
    (lambda c, cid: reply(c, subject="hello").as_bytes(), "no known case"),
    (lambda c, cid: reply(c, subject=f"[{cid}] hi", sender="x@elsewhere.example").as_bytes(),
     "x@elsewhere.example is not a participant"),
])
def test_unfiled_mail_is_quarantined_whole(service: CaseService, clock: Clock, make,  # type: ignore[no-untyped-def]
                                           reason: str) -> None:
    svc = desk(service)
    cid, _ = open_case(svc)
    raw = make(clock, cid)
    out = InboundService(svc).receive(raw, "test")
    assert not out.filed and reason in out.reason
    with svc.db.sessions() as s:
        [q] = s.scalars(select(QuarantineRow))
    assert q.raw == raw and reason in q.reason


def test_closed_case_quarantines(service: CaseService, clock: Clock) -> None:
    svc = desk(service)
    cid, sent = open_case(svc)
    svc.close(cid, reason="done")
    out = InboundService(svc).receive(reply(clock, to=sent).as_bytes(), "t")
    assert not out.filed and "is closed" in out.reason


def test_encrypted_reply_is_decrypted(service: CaseService, clock: Clock,
                                      tmp_path: Path) -> None:
    key = PGPKey.new(PubKeyAlgorithm.RSAEncryptOrSign, 2048)
    key.add_uid(PGPUID.new("Desk", email="cert@example.org"),
                usage={KeyFlags.EncryptCommunications})
    (tmp_path / "desk.asc").write_text(str(key))
    svc = desk(service, private_key_file=str(tmp_path / "desk.asc"))
    cid, sent = open_case(svc)
    inner = reply(clock, subject=f"[{cid}] the real subject", body="Fix ready in 2.1")
    outer = _encrypt(inner.as_string(), str(key.pubkey))
    for h in ("From", "Message-ID", "Date"):
        outer[h] = inner[h]
    outer["Subject"], outer["In-Reply-To"] = f"[{cid}] Encrypted message", sent
    out = InboundService(svc).receive(outer.as_bytes(), "t")
    assert out.filed
    [m] = [e for e in svc.timeline(cid) if e.type.value == "message.logged"
           and e.data["direction"] == "in"]
    assert m.data["subject"] == f"[{cid}] the real subject"
    assert m.data["body"].strip() == "Fix ready in 2.1"
    no_key = InboundService(desk(service)).receive(outer.as_bytes().replace(b"r1@", b"r2@"),
                                                   "t")
    assert not no_key.filed and "no private key" in no_key.reason


@pytest.mark.parametrize("lmtp", [False, True])
def test_smtp_and_lmtp_listeners(service: CaseService, clock: Clock, lmtp: bool) -> None:
    svc = desk(service)
    cid, sent = open_case(svc)
    inbound = InboundService(svc)
    port = free_port()
    listener = Listener(lambda raw: inbound.receive(raw, "smtp"), host="127.0.0.1",
                        port=port, lmtp=lmtp)
    listener.start()
    try:
        client = smtplib.LMTP("127.0.0.1", port) if lmtp else smtplib.SMTP("127.0.0.1", port)
        with client:
            client.send_message(reply(clock, to=sent))
    finally:
        listener.stop()
    assert svc.replay(cid).participants[3].replies == 1


def test_listener_asks_to_retry_when_it_cannot_store(service: CaseService,
                                                     clock: Clock) -> None:
    def broken(raw: bytes) -> None:
        raise RuntimeError("database is down")

    port = free_port()
    listener = Listener(broken, host="127.0.0.1", port=port)
    listener.start()
    try:
        with smtplib.SMTP("127.0.0.1", port) as client, \
                pytest.raises(smtplib.SMTPDataError) as err:
            client.send_message(reply(clock))
    finally:
        listener.stop()
    assert err.value.smtp_code == 451  # the sender keeps it and retries: nothing lost


def test_imap_fetch(service: CaseService, clock: Clock, db_url: str,
                    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    svc = desk(service)
    cid, sent = open_case(svc)
    box = Mailbox("desk", "s3cret")
    box.messages = [reply(clock, to=sent).as_bytes(),
                    reply(clock, subject="spam", msgid="<s@x>").as_bytes(),
                    reply(clock, subject=f"[{cid}] again", msgid="<r9@acme.example>").as_bytes()]
    monkeypatch.setenv("CVDESK_DATABASE_URL", db_url)
    monkeypatch.setenv("CVDESK_IMAP_PASSWORD", "s3cret")
    with ImapServer(box) as server:
        args = ["mail", "fetch", "--host", "127.0.0.1", "--port", str(server.port),
                "--user", "desk", "--no-ssl"]
        assert main(args) == 0
        assert "fetched 3: 2 filed, 1 quarantined" in capsys.readouterr().out
        assert box.seen == {1, 2, 3}
        assert main(args) == 0
        assert "fetched 0" in capsys.readouterr().out
        monkeypatch.setenv("CVDESK_IMAP_PASSWORD", "wrong")
        assert main(args) == 1
    assert svc.replay(cid).participants[3].replies == 2
    assert main(["mail", "quarantine", "--json"]) == 0
    assert '"subject": "spam"' in capsys.readouterr().out
