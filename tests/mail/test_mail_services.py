"""Issue 9: the outbox, the quarantine, IMAP fetch and the SMTP/LMTP listener are service
calls returning frozen views, so a face never touches ORM rows or the mail channels."""

from __future__ import annotations

import dataclasses
import smtplib

import pytest

from cvdesk.domain.errors import DomainError
from cvdesk.services import CaseService
from cvdesk.services.inbound import InboundService, Outcome, Quarantined
from cvdesk.services.mail import MailService, OutboxEntry
from tests.conftest import Clock
from tests.mail.conftest import free_port
from tests.mail.imap_server import ImapServer, Mailbox
from tests.mail.test_inbound import desk, open_case, reply


def test_outbox_entries_are_frozen_views(service: CaseService) -> None:
    svc = desk(service)
    cid, sent = open_case(svc)
    mail = MailService(svc)
    [entry] = mail.outbox(case_id=cid.lower())
    assert isinstance(entry, OutboxEntry) and entry.case_id == cid
    assert (entry.message_id, entry.status, entry.recipient) == (sent, "pending",
                                                                 "psirt@acme.example")
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.status = "sent"  # type: ignore[misc]
    assert mail.outbox(status="sent") == []


def test_fetch_files_each_message_and_lists_the_quarantine(service: CaseService,
                                                           clock: Clock) -> None:
    svc = desk(service)
    _, sent = open_case(svc)
    box = Mailbox("desk", "s3cret")
    box.messages = [reply(clock, to=sent).as_bytes(),
                    reply(clock, subject="spam", msgid="<s@x>").as_bytes()]
    inbound = InboundService(svc)
    seen: list[Outcome] = []
    with ImapServer(box) as server:
        kw = dict(host="127.0.0.1", port=server.port, user="desk", mailbox="INBOX",
                  use_ssl=False)
        outcomes = inbound.fetch_imap(password="s3cret", on_outcome=seen.append, **kw)
        assert [o.filed for o in outcomes] == [True, False] and seen == outcomes
        with pytest.raises(DomainError, match=r"^IMAP: "):  # a domain error, not imaplib's
            inbound.fetch_imap(password="wrong", **kw)
    [q] = inbound.quarantine()
    assert isinstance(q, Quarantined) and q.subject == "spam" and q.size > 0


def test_listening_files_mail_until_the_block_ends(service: CaseService, clock: Clock) -> None:
    svc = desk(service)
    cid, sent = open_case(svc)
    seen: list[Outcome] = []
    port = free_port()
    inbound = InboundService(svc)
    with inbound.listening(host="127.0.0.1", port=port, lmtp=True, on_outcome=seen.append), \
            smtplib.LMTP("127.0.0.1", port) as client:
        client.send_message(reply(clock, to=sent))
    assert [(o.filed, o.case_id) for o in seen] == [(True, cid)]
    with pytest.raises(OSError), smtplib.LMTP("127.0.0.1", port):
        pass  # stopped
