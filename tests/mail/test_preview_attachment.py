"""The draft sent for review carries its CSAF document (issue 10; 6.10: vendors review the
machine-readable advisory too), delivered through the outbox and the worker to a real SMTP
server on 127.0.0.1; encrypted messages carry it inside the encrypted part."""

from __future__ import annotations

import hashlib
import warnings
from datetime import UTC, datetime, timedelta
from email import message_from_string, policy
from email.message import EmailMessage, Message
from pathlib import Path

import pytest
from pgpy_dtc import PGPKey, PGPMessage

from cvdesk.channels.mail import Attachment, compose
from cvdesk.domain.events import EventType
from cvdesk.domain.model import ContactKind
from cvdesk.services.cases import CaseService
from cvdesk.services.contacts import ContactService
from cvdesk.services.mail import outbox_entries
from cvdesk.services.publication import PublicationService
from cvdesk.services.worker import Worker
from cvdesk.settings import load_settings
from tests.conftest import Clock
from tests.mail.conftest import Recorder

LATER = "CVD-2026-0013"  # demo case: embargo ends in 30 days, vendors with addresses
FIXTURES = Path(__file__).parent / "fixtures"
PASSPHRASE = "cvdesk-test-only"


def _svc(demo_service: CaseService, port: int) -> CaseService:
    settings = load_settings(database_url=demo_service.db.url, actor="tester",
                             desk={"name": "Example CSIRT", "email": "cert@example.org"},
                             smtp={"port": port, "lease_seconds": 30})
    return CaseService(demo_service.db, settings, clock=demo_service.clock)


def _files(msg: Message) -> list[tuple[str, str, bytes]]:
    assert isinstance(msg, EmailMessage)
    return [(str(part.get_filename()), part.get_content_type(),
             part.get_payload(decode=True)) for part in msg.iter_attachments()]


def _text(msg: Message) -> str:
    assert isinstance(msg, EmailMessage)
    body = msg.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def _desk_key() -> PGPKey:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        key, _ = PGPKey.from_file(str(FIXTURES / "desk-secret.asc"))
    return key


def _decrypt(msg: Message, key: PGPKey) -> EmailMessage:
    assert msg.get_content_type() == "multipart/encrypted"
    _, payload = msg.get_payload()  # type: ignore[misc]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with key.unlock(PASSPHRASE):
            clear = key.decrypt(PGPMessage.from_blob(payload.get_payload())).message
    inner = message_from_string(str(clear), policy=policy.default)
    assert isinstance(inner, EmailMessage)
    return inner


def test_each_preview_message_carries_the_csaf_draft(
        demo_service: CaseService, clock: Clock, smtp_server: tuple[Recorder, int]) -> None:
    recorder, port = smtp_server
    svc = _svc(demo_service, port)
    pub = PublicationService(svc)
    # The CSAF draft as the writer makes it now, before the preview logs anything.
    [expected] = [d for d in pub.draft(LATER, ["csaf"]).documents if d.format == "csaf"]
    # The vendor gets an address and a key in the directory: its message is encrypted.
    case = svc.replay(LATER)
    vendor = case.vendors[0]
    key = _desk_key()
    contacts = ContactService(svc.db, svc.settings)
    org = vendor.organization or vendor.name
    contacts.add(org, ContactKind.EMAIL, "psirt@vendor.example")
    contacts.add(org, ContactKind.PGP_KEY, "https://vendor.example/key.asc",
                 details={"armored": str(key.pubkey)})

    view = pub.preview(LATER, until=svc.clock() + timedelta(days=10))
    assert view.new and view.attached == (expected.filename,) and not view.not_attached
    assert view.to_json()["attached"] == [expected.filename]
    stats = Worker(svc.db, svc.settings, clock=clock).run()
    assert stats.sent == len(view.recipients) >= 2 and stats.failed == 0

    received = recorder.parsed()
    assert len(received) == len(view.recipients)
    encrypted = [m for m in received if m.get_content_type() == "multipart/encrypted"]
    [address] = [e.recipient for e in outbox_entries(svc, case_id=LATER)
                 if e.participant == vendor.pid and e.template == "advisory-preview"]
    assert address == "psirt@vendor.example"
    assert len(encrypted) == 1 and str(encrypted[0]["To"]) == address
    # Nothing of the draft shows outside the encryption, the attachment included.
    assert expected.filename not in encrypted[0].as_string()
    for msg in received:
        inner = _decrypt(msg, key) if msg in encrypted else msg
        assert inner.get_content_type() == "multipart/mixed"
        assert _files(inner) == [(expected.filename, "application/json", expected.content)]
        assert f"attached as a CSAF document too ({expected.filename})" in _text(inner)

    # The log entry of each message names the file and its digest.
    logged = [e.data for e in svc.timeline(LATER) if e.type is EventType.MESSAGE
              and str(e.data["subject"]).startswith("Draft advisory")]
    assert len(logged) == len(received)
    assert all(d["attachments"] == [{
        "filename": expected.filename, "media_type": "application/json",
        "size": len(expected.content),
        "sha256": hashlib.sha256(expected.content).hexdigest()}] for d in logged)


def test_a_draft_the_csaf_writer_refuses_goes_without_it_and_says_why(
        demo_service: CaseService, clock: Clock, smtp_server: tuple[Recorder, int],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from cvdesk.publish import csaf
    from cvdesk.publish.common import InvalidAdvisory

    def refuse(*args: object, **kwargs: object) -> None:
        raise InvalidAdvisory("csaf", ["product_tree: a product without versions"])

    monkeypatch.setattr(csaf, "write_csaf", refuse)
    recorder, port = smtp_server
    svc = _svc(demo_service, port)
    view = PublicationService(svc).preview(LATER, until=svc.clock() + timedelta(days=10))
    assert view.new and view.attached == ()
    assert "not attached" in view.not_attached
    assert "a product without versions" in view.not_attached
    Worker(svc.db, svc.settings, clock=clock).run()
    received = recorder.parsed()
    assert received and len(received) == len(view.recipients)
    for msg in received:
        assert _files(msg) == []
        text = _text(msg)
        assert "The CSAF document of this draft is not attached" in text
        assert "a product without versions" in text


def test_compose_keeps_the_attachment_byte_for_byte_plain_and_encrypted() -> None:
    data = b'{\n  "document": "caf\xc3\xa9"\n}\n' + bytes(range(256))
    files = [Attachment("cvd-2026-0001.json", data, "application/json")]
    common = dict(sender="cert@example.org", recipient="psirt@vendor.example",
                  case_id="CVD-2026-0001", tlp="AMBER", subject="Draft", body="Hello",
                  at=datetime(2026, 11, 2, tzinfo=UTC),
                  domain="example.org")
    _, raw = compose(**common, attachments=files)  # type: ignore[arg-type]
    plain = message_from_string(raw, policy=policy.default)
    assert _files(plain) == [("cvd-2026-0001.json", "application/json", data)]
    assert _text(plain).startswith("TLP:AMBER")
    key = _desk_key()
    _, raw = compose(**common, attachments=files,  # type: ignore[arg-type]
                     public_key=str(key.pubkey))
    outer = message_from_string(raw, policy=policy.default)
    assert "cvd-2026-0001.json" not in raw
    inner = _decrypt(outer, key)
    assert _files(inner) == [("cvd-2026-0001.json", "application/json", data)]
    # Without attachments the message is what it was: one text part.
    _, raw = compose(**common)  # type: ignore[arg-type]
    assert message_from_string(raw, policy=policy.default).get_content_type() == "text/plain"
