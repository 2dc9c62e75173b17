"""Outbound e-mail through the outbox and the worker, against a real SMTP server."""

from __future__ import annotations

import warnings
from datetime import timedelta

import pytest
from pgpy_dtc import PGPUID, PGPKey, PGPMessage
from pgpy_dtc.constants import KeyFlags, PubKeyAlgorithm
from sqlalchemy import func, select

from cvdesk.domain.errors import InvalidInput
from cvdesk.domain.events import EventType
from cvdesk.domain.model import ContactKind, ContactSource, Report, ReporterInfo, Role
from cvdesk.services import CaseService
from cvdesk.services.contacts import ContactService
from cvdesk.services.mail import MailService
from cvdesk.services.worker import RunStats, Worker
from cvdesk.settings import load_settings
from cvdesk.store.tables import EventRow, OutboxRow
from tests.conftest import Clock
from tests.mail.conftest import Recorder


def mail_service(service: CaseService, port: int, **smtp: object) -> CaseService:
    settings = load_settings(database_url=service.db.url, actor="tester",
                             desk={"name": "Example CSIRT", "email": "cert@example.org"},
                             smtp={"port": port, "lease_seconds": 30, **smtp})
    return CaseService(service.db, settings, clock=service.clock)


def case_with_vendors(svc: CaseService, n: int = 2) -> str:
    cid = svc.submit_report(Report("Heap overflow in libfoo", "details",
                                   ReporterInfo("Rita"))).case_id
    with svc.case(cid) as case:
        for i in range(n):
            case.add_participant(f"Vendor {i}", [Role.VENDOR], at=svc.clock(), actor="t",
                                 email=f"psirt{i}@vendor{i}.example")
    return cid


def test_queue_and_deliver(service: CaseService, clock: Clock,
                           smtp_server: tuple[Recorder, int]) -> None:
    recorder, port = smtp_server
    svc = mail_service(service, port)
    cid = case_with_vendors(svc)
    queued = MailService(svc).queue(cid, None, "new-case")
    assert [q.new for q in queued] == [True, True]
    again = MailService(svc).queue(cid, None, "new-case")  # idempotent
    assert [q.new for q in again] == [False, False]
    assert recorder.messages == []  # nothing leaves before the worker runs
    stats = Worker(svc.db, svc.settings, clock=clock).run()
    assert (stats.sent, stats.failed, stats.in_doubt) == (2, 0, 0)
    assert sorted(recorder.message_ids()) == sorted(q.message_id for q in queued)
    first = recorder.parsed()[0]
    assert first["Subject"] == f"[{cid}] [TLP:AMBER] Vulnerability report: Heap overflow in " \
        "libfoo"
    assert first["References"] == f"<{cid.lower()}@example.org>"
    assert first["X-TLP"] == "AMBER" and first["From"] == "cert@example.org"
    assert first.get_payload(decode=True).decode().startswith("TLP:AMBER")
    case = svc.replay(cid)
    vendor = case.participants[queued[0].participant]
    assert (vendor.attempts, vendor.last_attempt_outcome.value) == (1, "sent")
    assert vendor.first_attempt_at == clock.now
    types = [e.type for e in svc.timeline(cid)]
    assert types.count(EventType.MESSAGE) == 2 and types.count(EventType.CONTACT_ATTEMPT) == 2
    with svc.db.sessions() as s:
        assert set(s.scalars(select(OutboxRow.status))) == {"sent"}
    assert Worker(svc.db, svc.settings, clock=clock).run().sent == 0  # nothing twice


def test_nothing_is_queued_when_a_recipient_has_no_address(service: CaseService,
                                                           smtp_server: tuple[Recorder, int]
                                                           ) -> None:
    svc = mail_service(service, smtp_server[1])
    cid = case_with_vendors(svc)
    svc.add_participant(cid, "Silent Corp", [Role.VENDOR])
    with svc.db.sessions() as s:
        before = s.scalar(select(func.count()).select_from(EventRow))
    with pytest.raises(InvalidInput, match="no e-mail address"):
        MailService(svc).queue(cid, None, "new-case")
    with svc.db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxRow)) == 0
        assert s.scalar(select(func.count()).select_from(EventRow)) == before
    with pytest.raises(InvalidInput, match=r"^template: "):
        MailService(svc).queue(cid, None, "spam")


def test_directory_address_is_used(service: CaseService,
                                   smtp_server: tuple[Recorder, int], clock: Clock) -> None:
    recorder, port = smtp_server
    svc = mail_service(service, port)
    cid = case_with_vendors(svc, 0)
    svc.add_participant(cid, "Acme", [Role.VENDOR])
    contacts = ContactService(svc.db, svc.settings)
    contacts.add("Acme", ContactKind.EMAIL, "guess@acme.example",
                 source=ContactSource.FALLBACK)
    contacts.add("Acme", ContactKind.EMAIL, "psirt@acme.example", verified=True)
    [q] = MailService(svc).queue(cid, ["Acme"], "reminder", key="2026-11-02")
    assert q.recipient == "psirt@acme.example"  # verified before fallback guesses
    Worker(svc.db, svc.settings, clock=clock).run()
    assert recorder.parsed()[0]["To"] == "psirt@acme.example"


def test_temporary_then_permanent_failures(service: CaseService, clock: Clock,
                                           smtp_server: tuple[Recorder, int]) -> None:
    recorder, port = smtp_server
    svc = mail_service(service, port, retry_base_seconds=60, max_attempts=3)
    cid = case_with_vendors(svc)
    recorder.refuse["psirt0@vendor0.example"] = "450 mailbox busy"
    recorder.refuse["psirt1@vendor1.example"] = "550 no such user"
    MailService(svc).queue(cid, None, "new-case")
    worker = Worker(svc.db, svc.settings, clock=clock)
    stats = RunStats()
    worker.deliver(worker.claim(10), stats)
    assert (stats.sent, stats.retried, stats.failed) == (0, 1, 1)
    with svc.db.sessions() as s:
        rows = {r.recipient: r for r in s.scalars(select(OutboxRow))}
    busy, gone = rows["psirt0@vendor0.example"], rows["psirt1@vendor1.example"]
    assert busy.status == "pending" and busy.next_attempt_at == clock.now + timedelta(seconds=60)
    assert busy.last_error.startswith("450")
    assert gone.status == "failed" and gone.last_error.startswith("550")
    case = svc.replay(cid)
    assert case.participants[gone.participant].last_attempt_outcome.value == "bounced"
    assert worker.claim(10) == []  # not before its retry time
    del recorder.refuse["psirt0@vendor0.example"]
    clock.advance(seconds=60)
    assert Worker(svc.db, svc.settings, clock=clock).run().sent == 1
    assert recorder.message_ids() == [busy.message_id]


def test_encrypted_when_the_directory_has_a_key(service: CaseService, clock: Clock,
                                                smtp_server: tuple[Recorder, int]) -> None:
    recorder, port = smtp_server
    svc = mail_service(service, port)
    key = PGPKey.new(PubKeyAlgorithm.RSAEncryptOrSign, 2048)
    key.add_uid(PGPUID.new("Acme PSIRT", email="psirt@acme.example"),
                usage={KeyFlags.EncryptCommunications, KeyFlags.EncryptStorage})
    cid = case_with_vendors(svc, 0)
    svc.add_participant(cid, "Acme", [Role.VENDOR], email="psirt@acme.example")
    ContactService(svc.db, svc.settings).add(
        "Acme", ContactKind.PGP_KEY, "https://acme.example/key.asc",
        details={"armored": str(key.pubkey)})
    MailService(svc).queue(cid, None, "new-case")
    Worker(svc.db, svc.settings, clock=clock).run()
    [msg] = recorder.parsed()
    assert msg.get_content_type() == "multipart/encrypted"
    assert msg["Subject"] == f"[{cid}] [TLP:AMBER] Encrypted message"
    control, payload = msg.get_payload()
    assert control.get_payload().strip() == "Version: 1"
    assert "Heap overflow" not in msg.as_string()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clear = key.decrypt(PGPMessage.from_blob(payload.get_payload())).message
    assert "TLP:AMBER" in clear and "Heap overflow in libfoo" in clear
    assert f"Subject: [{cid}] [TLP:AMBER] Vulnerability report: Heap overflow in libfoo" \
        in clear  # the protected subject
