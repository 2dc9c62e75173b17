"""Issue 9 (notify speed): CaseRepository.save writes the events, side tables and the
participants a command touched with plain multi-row statements.  The rows must stay
exactly what a replay of the log says, on both backends, for new, changed and untouched
participants alike, and a row object already in the session must not go stale."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import event, func, select

from cvdesk.domain.case import Case
from cvdesk.domain.model import (
    AttemptOutcome,
    Channel,
    Direction,
    Message,
    Report,
    ReporterInfo,
    Role,
    Vulnerability,
)
from cvdesk.services import CaseService
from cvdesk.store.cases import CaseRepository, participant_values
from cvdesk.store.directory import organization_key
from cvdesk.store.tables import (
    EventRow,
    MessageRow,
    OrganizationRow,
    ParticipantRow,
    VulnerabilityRow,
)
from tests.conftest import Clock

VENDORS = 60


def _case(service: CaseService, clock: Clock) -> str:
    cid = service.submit_report(Report("Many vendors", "d", ReporterInfo("Rita")),
                                at=clock.now - timedelta(days=3)).case_id
    with service.case(cid) as case:
        for i in range(VENDORS):
            case.add_participant(f"Vendor {i}", [Role.VENDOR], at=clock.now - timedelta(days=2),
                                 actor="t", email=f"psirt@v{i}.example",
                                 organization=f"Org {i % 7}" if i % 3 == 0 else "")
    return cid


def _touch_many(case: Case, clock: Clock) -> None:
    """One save's worth of events: messages (no column changes), attempts and replies
    (changes) on some vendors, policies, a vulnerability and new participants."""
    at = clock.now - timedelta(days=1)
    vendors = sorted(p.pid for p in case.vendors)
    for n, pid in enumerate(vendors):
        case.log_message(Message(f"<m{pid}@desk.example>", Direction.OUTBOUND, at,
                                 Channel.EMAIL, "report", "text", pid, case.tlp), actor="t")
        if n % 2 == 0:
            case.contact_attempt(pid, Channel.EMAIL, AttemptOutcome.SENT, at=at, actor="t",
                                 address=f"psirt@v{n}.example")
        if n % 5 == 0:
            case.contact_reply(pid, Channel.EMAIL, at=at, actor="t")
        if n % 11 == 0:
            case.set_policy(pid, 90, at=at, actor="t")
    case.add_vulnerability(Vulnerability("Missing check", cve="CVE-2026-1234"), at=at,
                           actor="t")
    for i in range(5):
        case.add_participant(f"Late vendor {i}", [Role.VENDOR], at=at, actor="t",
                             email=f"late{i}@x.example")


def _stored(service: CaseService, cid: str) -> tuple[Case, dict[int, dict[str, Any]]]:
    """A fresh replay of the log, and the participant rows as stored (the replay's columns
    plus the directory organization's key)."""
    with service.db.sessions() as s:
        repo = CaseRepository(s)
        row = repo.case_row(cid)
        replayed = Case.replay(row.case_id, repo.events(row.id))
        keys = {pk: key for pk, key in s.execute(select(OrganizationRow.id,
                                                        OrganizationRow.name_key))}
        stored = {}
        for r in repo.participants(row.id):
            names = participant_values(replayed.participants[r.pid])
            stored[r.pid] = {k: getattr(r, k) for k in names} | {
                "organization_key": keys.get(r.organization_id)}
    return replayed, stored


def test_save_writes_what_a_replay_says(service: CaseService, clock: Clock) -> None:
    cid = _case(service, clock)
    with service.case(cid) as case:
        _touch_many(case, clock)
    replayed, stored = _stored(service, cid)
    assert len(stored) == len(replayed.participants) == VENDORS + 7  # desk, reporter
    for pid, p in replayed.participants.items():
        name = p.organization or (p.name if p.is_vendor else "")
        expected = participant_values(p) | {
            "organization_key": organization_key(name) if name.strip() else None}
        assert stored[pid] == expected, pid
    # the side tables and the log: every message and the vulnerability, once
    with service.db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(MessageRow)) == VENDORS
        assert s.scalar(select(func.count()).select_from(VulnerabilityRow)) == 1
        assert s.scalar(select(func.max(EventRow.seq))) == replayed.seq


def test_only_changed_participants_are_updated(service: CaseService, clock: Clock) -> None:
    cid = _case(service, clock)
    updates: list[int] = []

    def seen(_c: Any, _cur: Any, sql: str, params: Any, _ctx: Any, many: bool) -> None:
        if sql.lstrip().upper().startswith("UPDATE PARTICIPANTS"):
            updates.append(len(params) if many else 1)

    event.listen(service.db.engine, "before_cursor_execute", seen)
    try:
        with service.case(cid) as case:  # messages alone change no participant column
            for pid in sorted(p.pid for p in case.vendors):
                case.log_message(Message(f"<n{pid}@desk.example>", Direction.OUTBOUND,
                                         clock.now, Channel.EMAIL, "s", "b", pid, case.tlp),
                                 actor="t")
        assert updates == []
        with service.case(cid) as case:  # one statement for all the changed ones
            for pid in sorted(p.pid for p in case.vendors)[:20]:
                case.contact_attempt(pid, Channel.EMAIL, AttemptOutcome.SENT, at=clock.now,
                                     actor="t")
        assert updates == [20]
    finally:
        event.remove(service.db.engine, "before_cursor_execute", seen)
    replayed, stored = _stored(service, cid)
    assert all(stored[pid]["attempts"] == p.attempts for pid, p in replayed.participants.items())


def test_save_keeps_no_row_object_per_event_and_refreshes_loaded_rows(
        service: CaseService, clock: Clock) -> None:
    cid = _case(service, clock)
    with service.db.transaction() as s:
        repo = CaseRepository(s)
        row, case = repo.load(cid)
        loaded = {r.pid: r for r in repo.participants(row.id)}  # read before the save
        vendor = sorted(p.pid for p in case.vendors)[0]
        assert loaded[vendor].attempts == 0
        _touch_many(case, clock)
        made: list[str] = []
        hooks = [(cls, name, lambda target, *_a, **_k: made.append(type(target).__name__))
                 for cls in (EventRow, MessageRow, ParticipantRow) for name in ("init", "load")]
        for cls, name, fn in hooks:
            event.listen(cls, name, fn)
        try:
            repo.save(row, case)
        finally:
            for cls, name, fn in hooks:
                event.remove(cls, name, fn)
        assert made == []  # was one object per event, message and touched participant
        assert loaded[vendor].attempts == 1  # not the stale 0
        assert {r.pid for r in repo.participants(row.id)} == set(case.participants)
