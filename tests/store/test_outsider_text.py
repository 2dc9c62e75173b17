"""Text a stranger controls never fails a write, on SQLite and PostgreSQL (issue 8, item 3).

PostgreSQL refuses NUL in text and jsonb, and a B-tree key over about 2.7 kB; SQLite
refuses neither.  Both backends must store the same thing: long values whole, each NUL
as U+FFFD.  The long values are random (incompressible), as a hostile sender's would be.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from cvdesk.domain.model import (
    TLP,
    Channel,
    ContactKind,
    Direction,
    Report,
    ReporterInfo,
    Role,
    Vulnerability,
)
from cvdesk.services import CaseService
from cvdesk.services.contacts import ContactService
from cvdesk.services.coordination import CoordinationService
from cvdesk.services.inbound import InboundService
from cvdesk.store import migrate
from cvdesk.store.db import Database
from cvdesk.store.tables import (
    AttachmentRow,
    ContactRow,
    MessageRow,
    OrganizationRow,
    OutboxRow,
    ParticipantRow,
    QuarantineRow,
    ReportRow,
)
from cvdesk.store.types import without_nul
from tests.conftest import Clock

R = "\ufffd"
ALPHABET = "".join(chr(c) for c in range(0x21, 0x7f)) + "äößéñ漢字гдеж"


def noise(n: int = 100_000, seed: int = 8) -> str:
    rnd = random.Random(seed)
    return "".join(rnd.choice(ALPHABET) for _ in range(n))


BIG = noise()


def test_nul_is_replaced_everywhere_in_json() -> None:
    value = {"a\x00": ["x\x00y", {"k": "\x00"}, 3, None], "n": 1.5}
    assert without_nul(value) == {f"a{R}": [f"x{R}y", {"k": R}, 3, None], "n": 1.5}


def test_names_messages_and_reports_with_nul_and_100_kb(service: CaseService) -> None:
    title = "Overflow\x00 in " + BIG[:2000]
    cid = service.submit_report(Report(title, "d\x00" + BIG, ReporterInfo("Ri\x00ta"))).case_id
    name = "Ac\x00me " + BIG
    pid = service.add_participant(cid, name, [Role.VENDOR], organization="Org\x00 " + BIG,
                                  phone="+1 555 0100")
    service.log_message(cid, direction=Direction.INBOUND, channel=Channel.EMAIL,
                        subject="Re\x00: " + BIG, body="b\x00" + BIG, participant=str(pid))
    service.add_vulnerability(cid, Vulnerability(title="t\x00" + BIG,
                                                 cve="CVE-2026-" + "7" * 50_000))
    service.note(cid, "n\x00te " + BIG)
    view = service.show(cid)
    assert view.case.title == title.replace("\x00", R)
    with service.db.sessions() as s:
        p = s.scalar(select(ParticipantRow).where(ParticipantRow.pid == pid))
        assert p is not None and p.name == name.replace("\x00", R)
        org = s.scalar(select(OrganizationRow).where(
            OrganizationRow.name_key == ("org\x00 " + BIG).lower()))
        assert org is not None and org.name == "Org" + R + " " + BIG
        [msg] = s.scalars(select(MessageRow))
        assert msg.subject == f"Re{R}: {BIG}" and msg.body == f"b{R}{BIG}"
        [rep] = s.scalars(select(ReportRow))
        assert rep.form["description"] == f"d{R}{BIG}"
        assert rep.form["reporter"]["name"] == f"Ri{R}ta"
    events = service.timeline(cid)
    assert any(e.reason == f"n{R}te {BIG}" or e.data.get("text") == f"n{R}te {BIG}"
               for e in events)
    assert service.replay(cid).participants[pid].name == name.replace("\x00", R)


def test_directory_and_coordinators_take_long_values(service: CaseService,
                                                     clock: Clock) -> None:
    contacts = ContactService(service.db, service.settings, clock=clock)
    url = "https://psirt.example/" + BIG.replace(" ", "")
    assert contacts.add("Big\x00Corp " + BIG, ContactKind.URL, url, details={"k\x00": BIG})
    assert not contacts.add("Big\x00Corp " + BIG, ContactKind.URL, url)  # found again
    with service.db.sessions() as s:
        [c] = s.scalars(select(ContactRow))
        assert c.value == url and c.details == {f"k{R}": BIG}
    coord = CoordinationService(service)
    coord.add_coordinator("CERT\x00 " + BIG, "national-csirt", country="X\x00" + BIG[:5000])
    assert coord.coordinator("CERT\x00 " + BIG).name == f"CERT{R} {BIG}"


def test_inbound_rows_take_nul_and_100_kb(service: CaseService) -> None:
    cid = service.submit_report(Report("Title", "d", ReporterInfo("Rita"))).case_id
    long_id = f"<{BIG.replace('>', '')}@x>"
    now = datetime(2026, 11, 2, tzinfo=UTC)
    with service.db.transaction() as s:
        case_pk = s.execute(text("SELECT id FROM cases")).scalar_one()
        s.add(AttachmentRow(case_pk=case_pk, message_id=long_id + "\x00",
                            filename="f\x00" + BIG, content_type="text/" + BIG, size=1,
                            sha256="0" * 64, data=b"\x00"))
        s.add(QuarantineRow(received_at=now, source="imap:" + BIG, reason="r\x00",
                            message_id=long_id, sender="s\x00" + BIG, subject="\x00" + BIG,
                            raw=b"\x00raw", released=False))
        s.add(OutboxRow(idempotency_key=f"{cid}/x/{BIG}", case_pk=case_pk, participant=None,
                        template="new-case", sender="a@b", recipient="r\x00" + BIG,
                        message_id=long_id, raw="raw\x00", status="pending", attempts=0,
                        next_attempt_at=now, created_at=now, worker="host-" + BIG,
                        last_error="", in_doubt=False, logged=False))
    with service.db.sessions() as s:
        att = s.scalar(select(AttachmentRow).where(AttachmentRow.message_id == long_id + "\x00"))
        assert att is not None and att.message_id == long_id + R
        assert att.filename == f"f{R}{BIG}" and att.data == b"\x00"
        q = s.scalar(select(QuarantineRow))
        assert q is not None and q.raw == b"\x00raw" and q.subject == R + BIG
        assert s.scalar(select(OutboxRow.id).where(OutboxRow.message_id == long_id))
    with pytest.raises(IntegrityError), service.db.transaction() as s:  # still unique
        s.add(OutboxRow(idempotency_key="other", case_pk=None, participant=None,
                        template="t", sender="a", recipient="r", message_id=long_id, raw="",
                        status="pending", attempts=0, next_attempt_at=now, created_at=now,
                        worker="", last_error="", in_doubt=False, logged=False))


def test_a_mail_with_a_100_kb_message_id_and_nul_is_stored(service: CaseService,
                                                          clock: Clock) -> None:
    cid = service.submit_report(Report("Title", "d", ReporterInfo("Rita"))).case_id
    service.add_participant(cid, "Acme", [Role.VENDOR], email="psirt@acme.example")
    long_id = "<" + noise(100_000, seed=3).replace(">", "").replace(" ", "") + "@acme>"
    raw = (f"From: psirt@acme.example\r\nTo: cert@example.org\r\n"
           f"Subject: Re: [{cid}] x\x00y\r\nMessage-ID: {long_id}\r\n"
           f"Date: {format_datetime(clock.now)}\r\n"
           f"Content-Type: text/plain; charset=utf-8\r\n\r\nbody\x00 {BIG}\r\n").encode()
    outcome = InboundService(service).receive(raw, "test")
    with service.db.sessions() as s:
        stored = [*s.scalars(select(MessageRow.message_id)),
                  *s.scalars(select(QuarantineRow.message_id))]
    assert outcome.filed or outcome.reason
    assert any(len(m) > 90_000 for m in stored)
    assert all("\x00" not in m for m in stored)


def test_migration_0007_keeps_rows_and_their_links(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """SQLite rebuilds the widened tables; organizations is referenced by participants."""
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        migrate.upgrade(db, "0006")
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO organizations (id, name, name_key, website, created_at) "
                "VALUES (1, 'Acme', 'acme', '', '2026-01-01 00:00:00')"))
            conn.execute(text(
                "INSERT INTO contacts (organization_id, kind, value, source, created_at) "
                "VALUES (1, 'email', 'a@acme.example', 'manual', '2026-01-01 00:00:00')"))
        assert migrate.upgrade(db) == ("0006", migrate.head_revision(db))
        assert migrate.schema_differences(db) == []
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
            assert conn.execute(text("SELECT count(*) FROM contacts")).scalar_one() == 1
    finally:
        db.dispose()


def test_tlp_and_enums_still_bounded_columns_accept_nul_lookups(service: CaseService) -> None:
    """A case id typed or mailed with a NUL is simply not found (PostgreSQL would fail)."""
    from cvdesk.domain.errors import NotFound

    with pytest.raises(NotFound):
        service.show("CVD-2026-0001\x00")
    assert TLP.AMBER  # the enum columns keep their lengths
