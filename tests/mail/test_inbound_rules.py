"""Inbound mail loses nothing and never loops: duplicates, Message-IDs, dates, failures,
IMAP and a listener that keeps serving while one message is being stored."""

from __future__ import annotations

import hashlib
import re
import smtplib
import socket
import threading
from datetime import timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from cvdesk.channels import inbound as inbound_channel
from cvdesk.channels.imap import fetch_unseen
from cvdesk.channels.listener import Listener
from cvdesk.domain.case import Case
from cvdesk.domain.errors import InvalidInput
from cvdesk.services import CaseService
from cvdesk.services.inbound import InboundService, transient
from cvdesk.store.cases import CaseRepository, ConcurrentUpdate
from cvdesk.store.tables import AttachmentRow, EventRow, MessageRow, QuarantineRow
from tests.conftest import Clock
from tests.mail.conftest import free_port
from tests.mail.imap_server import ImapServer, Mailbox
from tests.mail.test_inbound import desk, open_case, reply

TABLES = (MessageRow, EventRow, AttachmentRow, QuarantineRow)


def counts(svc: CaseService) -> dict[str, int]:
    with svc.db.sessions() as s:
        return {t.__tablename__: s.scalar(select(func.count()).select_from(t)) or 0
                for t in TABLES}


def inbound_events(svc: CaseService, cid: str) -> list[Any]:
    return [e for e in svc.timeline(cid) if e.type.value == "message.logged"
            and e.data["direction"] == "in"]


def with_date(raw: bytes, date: str) -> bytes:
    """The message with its Date header replaced byte for byte (the e-mail package would
    reformat or drop a date it cannot read)."""
    return re.sub(rb"(?m)^Date: [^\r\n]*", b"Date: " + date.encode(), raw, count=1)


def quarantine(svc: CaseService) -> list[QuarantineRow]:
    return InboundService(svc).quarantined()


# ---------------------------------------------------------------- Message-IDs
def test_a_redelivery_with_other_transport_headers_is_a_no_op(service: CaseService,
                                                              clock: Clock) -> None:
    svc = desk(service)
    _, sent = open_case(svc)
    inbound = InboundService(svc)
    raw = reply(clock, to=sent, attach=b"log").as_bytes()
    assert inbound.receive(raw, "smtp").filed
    before = counts(svc)
    relayed = b"Received: from relay.example by mx.example.org\r\n" + raw.replace(b"\n",
                                                                                  b"\r\n")
    again = inbound.receive(relayed, "imap")
    assert again.filed and again.duplicate
    assert counts(svc) == before


@pytest.mark.parametrize(("change", "reason"), [
    ({"body": "Actually, we will not fix this."}, "with a different text or attachments"),
    ({"attach": b"another file"}, "with a different text or attachments"),
    ({"sender": "rita@finder.example"}, "from psirt@acme.example; this copy comes from "
                                        "rita@finder.example"),
], ids=["body", "attachment", "sender"])
def test_a_known_message_id_with_other_content_is_quarantined(
        service: CaseService, clock: Clock, change: dict[str, Any], reason: str) -> None:
    svc = desk(service)
    cid, sent = open_case(svc)
    inbound = InboundService(svc)
    assert inbound.receive(reply(clock, to=sent).as_bytes(), "t").filed
    before = counts(svc)
    raw = reply(clock, to=sent, **change).as_bytes()
    out = inbound.receive(raw, "t")
    assert not out.filed and not out.duplicate
    assert f"Message-ID <r1@acme.example> is already on {cid}" in out.reason
    assert reason in out.reason
    [q] = quarantine(svc)
    assert q.raw == raw and q.reason == out.reason
    assert counts(svc) == {**before, "quarantine": 1}


def test_our_own_message_coming_back_is_quarantined(service: CaseService,
                                                    clock: Clock) -> None:
    svc = desk(service)
    cid, sent = open_case(svc)
    out = InboundService(svc).receive(reply(clock, msgid=sent, subject=f"[{cid}] x")
                                      .as_bytes(), "t")
    assert not out.filed and "as a message the desk sent" in out.reason


def test_a_reply_without_message_id_is_filed_under_its_sha256(service: CaseService,
                                                              clock: Clock) -> None:
    svc = desk(service)
    cid, sent = open_case(svc)
    msg = reply(clock, to=sent, body="no id here")
    del msg["Message-ID"]
    raw = msg.as_bytes()
    inbound = InboundService(svc)
    out = inbound.receive(raw, "t")
    expected = f"<sha256-{hashlib.sha256(raw).hexdigest()}@cvdesk.invalid>"
    assert (out.filed, out.message_id) == (True, expected)
    [event] = inbound_events(svc, cid)
    assert event.data["message_id"] == expected and event.data["message_id_derived"]
    before = counts(svc)
    assert inbound.receive(raw, "t").duplicate
    assert counts(svc) == before


@pytest.mark.parametrize("message_id", [
    "<" + "x" * 3000 + "@acme.example>",
    "<nul\x00inside@acme.example>",
    "<ünïcode-and spaces@acme.example>",
], ids=["3000-characters", "nul", "unicode"])
def test_outsider_message_ids_are_filed_and_deduplicated(service: CaseService, clock: Clock,
                                                         message_id: str) -> None:
    """Needs H5's store change (unbounded NUL-safe text); before it, PostgreSQL refused
    these and the mail went to the quarantine instead."""
    svc = desk(service)
    cid, sent = open_case(svc)
    raw = reply(clock, to=sent).as_bytes().replace(b"<r1@acme.example>",
                                                   message_id.encode())
    inbound = InboundService(svc)
    out = inbound.receive(raw, "t")
    assert out.filed, out.reason
    assert inbound.receive(raw, "t").duplicate
    assert len(inbound_events(svc, cid)) == 1 and quarantine(svc) == []


# ---------------------------------------------------------------- the Date header
@pytest.mark.parametrize(("date", "note"), [
    ("Mon, 01 Jan 0001 00:00:00 +0000", "before the case was opened"),
    ("Thu, 02 Jan 2020 10:00:00 +0000", "before the case was opened"),
    ("Fri, 31 Dec 9999 23:59:59 -1200", "cannot be read"),
    ("Fri, 31 Dec 9998 23:59:59 +0000", "in the future"),
    ("Tue, 03 Nov 2026 09:00:00 +0000", "in the future"),
    ("the day after tomorrow", "cannot be read"),
    ("Mon, 02 Nov 2026 09:30:00 -0000", "cannot be read"),  # zone unknown
], ids=["year-1", "before-opening", "year-9999-west", "year-9998", "tomorrow", "words",
        "no-zone"])
def test_an_impossible_date_is_logged_at_receipt_beside_the_header(
        service: CaseService, clock: Clock, date: str, note: str) -> None:
    svc = desk(service)
    cid, sent = open_case(svc)
    received = clock.advance(hours=1)
    out = InboundService(svc).receive(with_date(reply(clock, to=sent).as_bytes(), date), "t")
    assert out.filed, out.reason
    [event] = inbound_events(svc, cid)
    assert event.at == received
    assert event.data["date_header"] == date
    assert note in event.data["date_note"]
    case = svc.replay(cid)
    assert case.participants[3].last_reply_at == received


def test_a_plausible_date_is_used_and_kept(service: CaseService, clock: Clock) -> None:
    svc = desk(service)
    cid, sent = open_case(svc)
    written = clock.now + timedelta(minutes=30)
    clock.advance(hours=2)
    msg = reply(clock, to=sent)
    msg.replace_header("Date", format_datetime(written))
    assert InboundService(svc).receive(msg.as_bytes(), "t").filed
    [event] = inbound_events(svc, cid)
    assert event.at == written and "date_note" not in event.data
    assert event.data["date_header"] == format_datetime(written)
    slightly_ahead = reply(clock, to=sent, msgid="<r2@acme.example>")
    slightly_ahead.replace_header("Date", format_datetime(clock.now + timedelta(minutes=5)))
    assert InboundService(svc).receive(slightly_ahead.as_bytes(), "t").filed
    assert inbound_events(svc, cid)[-1].at == clock.now + timedelta(minutes=5)  # clock skew


def test_a_date_another_log_rule_refuses_falls_back_to_receipt(
        service: CaseService, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    svc = desk(service)
    cid, sent = open_case(svc)
    written = clock.now + timedelta(minutes=1)
    received = clock.advance(hours=1)
    real = Case.log_message

    def strict(self: Case, message: Any, **kw: Any) -> None:
        if message.at < received:
            raise InvalidInput("at", "before the last thing that happened")
        real(self, message, **kw)

    monkeypatch.setattr(Case, "log_message", strict)
    raw = with_date(reply(clock, to=sent).as_bytes(), format_datetime(written))
    assert InboundService(svc).receive(raw, "t").filed
    [event] = inbound_events(svc, cid)
    assert event.at == received
    assert event.data["date_note"] == ("the Date header cannot be used: before the last thing "
                                       "that happened")


def test_no_date_header_is_logged_at_receipt(service: CaseService, clock: Clock) -> None:
    svc = desk(service)
    cid, sent = open_case(svc)
    msg = reply(clock, to=sent)
    del msg["Date"]
    received = clock.advance(minutes=7)
    assert InboundService(svc).receive(msg.as_bytes(), "t").filed
    [event] = inbound_events(svc, cid)
    assert event.at == received and "date_header" not in event.data


# ---------------------------------------------------------------- 451 only for storage
def test_an_unreadable_message_is_quarantined_not_retried(service: CaseService, clock: Clock,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          ) -> None:
    svc = desk(service)
    _, sent = open_case(svc)

    def crash(msg: object) -> None:
        raise IndexError("the e-mail package tripped over a header")

    monkeypatch.setattr(inbound_channel, "_content", crash)
    raw = reply(clock, to=sent).as_bytes()
    out = InboundService(svc).receive(raw, "t")
    assert not out.filed
    assert out.reason == ("malformed: not a readable e-mail message (IndexError: the e-mail "
                          "package tripped over a header)")
    assert [q.raw for q in quarantine(svc)] == [raw]


def _data_error(*_: object, **__: object) -> None:
    raise DataError("INSERT ...", {}, ValueError("value the database refuses"))


def _locked(*_: object, **__: object) -> None:
    raise OperationalError("INSERT ...", {}, Exception("database is locked"))


def test_a_value_the_database_refuses_is_quarantined_whole(service: CaseService,
                                                           clock: Clock,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           ) -> None:
    svc = desk(service)
    _, sent = open_case(svc)
    before = counts(svc)
    monkeypatch.setattr(CaseRepository, "save", _data_error)
    raw = reply(clock, to=sent).as_bytes()
    out = InboundService(svc).receive(raw, "t")
    assert not out.filed
    assert out.reason == "cannot be stored: DataError: value the database refuses"
    assert counts(svc) == {**before, "quarantine": 1}  # nothing half stored


def test_a_database_that_is_down_gets_a_retry(service: CaseService, clock: Clock,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    svc = desk(service)
    _, sent = open_case(svc)
    before = counts(svc)
    monkeypatch.setattr(CaseRepository, "save", _locked)
    with pytest.raises(OperationalError):
        InboundService(svc).receive(reply(clock, to=sent).as_bytes(), "t")
    assert counts(svc) == before


def test_a_concurrent_writer_is_waited_out(service: CaseService, clock: Clock,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    svc = desk(service)
    cid, sent = open_case(svc)
    real_save = CaseRepository.save
    calls: list[int] = []

    def busy_once(self: CaseRepository, row: Any, case: Any, **kw: Any) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise ConcurrentUpdate(f"{cid} was changed by someone else; try again")
        real_save(self, row, case, **kw)

    monkeypatch.setattr(CaseRepository, "save", busy_once)
    assert InboundService(svc).receive(reply(clock, to=sent).as_bytes(), "t").filed
    assert len(calls) == 2


class _State(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"SQLSTATE {sqlstate}")
        self.sqlstate = sqlstate


@pytest.mark.parametrize(("exc", "expected"), [
    (OperationalError("s", {}, _State("08006")), True),  # connection lost
    (OperationalError("s", {}, _State("40001")), True),  # serialization failure
    (OperationalError("s", {}, _State("54000")), False),  # program limit: always again
    (DataError("s", {}, _State("22021")), False),  # bad byte sequence
    (IntegrityError("s", {}, _State("23505")), False),
    (OperationalError("s", {}, Exception("database is locked")), True),  # SQLite
    (ConcurrentUpdate("x"), True),
    (ValueError("x"), False),
])
def test_what_counts_as_a_passing_storage_failure(exc: BaseException, expected: bool) -> None:
    assert transient(exc) is expected


def test_the_listener_answers_250_for_mail_that_always_fails(service: CaseService,
                                                             clock: Clock,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             ) -> None:
    svc = desk(service)
    _, sent = open_case(svc)
    monkeypatch.setattr(CaseRepository, "save", _data_error)
    inbound = InboundService(svc)
    port = free_port()
    listener = Listener(lambda raw: inbound.receive(raw, "smtp"), host="127.0.0.1", port=port)
    listener.start()
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.send_message(reply(clock, to=sent))  # raises on 451
    finally:
        listener.stop()
    [q] = quarantine(svc)
    assert "cannot be stored" in q.reason


# ---------------------------------------------------------------- listener concurrency
def test_a_slow_store_does_not_stall_other_smtp_sessions(service: CaseService,
                                                         clock: Clock) -> None:
    svc = desk(service)
    cid, sent = open_case(svc)
    inbound = InboundService(svc)
    entered, release = threading.Event(), threading.Event()

    def deliver(raw: bytes) -> object:
        if b"<slow@acme.example>" in raw:
            entered.set()
            assert release.wait(20)  # a held lock, a slow disk ...
        return inbound.receive(raw, "smtp")

    port = free_port()
    listener = Listener(deliver, host="127.0.0.1", port=port)
    listener.start()
    errors: list[BaseException] = []

    def send_slow() -> None:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
                client.send_message(reply(clock, to=sent, msgid="<slow@acme.example>"))
        except BaseException as exc:  # reported below
            errors.append(exc)

    slow = threading.Thread(target=send_slow)
    slow.start()
    try:
        assert entered.wait(10)
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:  # the whole conversation
            client.send_message(reply(clock, to=sent, msgid="<fast@acme.example>"))
        assert [e.data["message_id"] for e in inbound_events(svc, cid)] == [
            "<fast@acme.example>"]
    finally:
        release.set()
        slow.join(30)
        listener.stop()
    assert errors == []
    assert len(inbound_events(svc, cid)) == 2


def test_lmtp_answers_once_per_recipient(service: CaseService, clock: Clock) -> None:
    """Python's smtplib.LMTP reads one reply only, so this speaks LMTP by hand."""
    svc = desk(service)
    cid, sent = open_case(svc)
    inbound = InboundService(svc)
    port = free_port()
    listener = Listener(lambda raw: inbound.receive(raw, "lmtp"), host="127.0.0.1",
                        port=port, lmtp=True)
    listener.start()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            lines = conn.makefile("rb")

            def say(line: bytes) -> bytes:
                conn.sendall(line + b"\r\n")
                reply_lines = [lines.readline()]
                while reply_lines[-1][3:4] == b"-":
                    reply_lines.append(lines.readline())
                return reply_lines[-1]

            assert lines.readline().startswith(b"220")
            assert say(b"LHLO mx.example.org").startswith(b"250")
            assert say(b"MAIL FROM:<psirt@acme.example>").startswith(b"250")
            assert say(b"RCPT TO:<cert@example.org>").startswith(b"250")
            assert say(b"RCPT TO:<security@example.org>").startswith(b"250")
            assert say(b"DATA").startswith(b"354")
            conn.sendall(reply(clock, to=sent).as_bytes().replace(b"\n", b"\r\n")
                         + b".\r\n")
            assert [lines.readline()[:3], lines.readline()[:3]] == [b"250", b"250"]
            assert say(b"QUIT").startswith(b"221")
    finally:
        listener.stop()
    assert len(inbound_events(svc, cid)) == 1


# ---------------------------------------------------------------- IMAP
def test_imap_leaves_a_message_unseen_when_storing_fails() -> None:
    box = Mailbox("desk", "pw")
    box.messages = [b"From: a@b.example\r\n\r\none\r\n", b"From: a@b.example\r\n\r\ntwo\r\n"]
    stored: list[bytes] = []

    def flaky(raw: bytes) -> None:
        if not stored:
            stored.append(b"")
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        stored.append(raw)

    with ImapServer(box) as server:
        kw: dict[str, Any] = {"host": "127.0.0.1", "port": server.port, "user": "desk",
                              "password": "pw", "use_ssl": False}
        with pytest.raises(OperationalError):
            fetch_unseen(handle=flaky, **kw)
        assert box.seen == set()  # fetching did not mark it seen
        assert fetch_unseen(handle=flaky, **kw) == 2
    assert stored[1:] == box.messages and box.seen == {1, 2}
