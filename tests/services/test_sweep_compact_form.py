"""The short form a sweep stores, made shorter (issue 9, cold sweep): no key (the kind's
problem and the subject give it back), the evidence's timed pieces as lists, no spaces.
Every reader words it as before; rows stored in the first short form (with the key and
the pieces as ``facts`` gives them) read the same and are not rewritten only to change
their form.  Both backends for the stored rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from cvdesk.domain.case import Case
from cvdesk.domain.model import (
    AttemptOutcome,
    Channel,
    Report,
    ReporterInfo,
    Role,
    SignalKind,
)
from cvdesk.domain.policy import Policy
from cvdesk.services import CaseService
from cvdesk.services.doctor import DoctorService, finding_data
from cvdesk.store.cases import CaseRepository
from cvdesk.store.findings import FindingRepository
from cvdesk.store.mapping import PARTICIPANT_COLUMNS, raw_instant, swept_participants
from cvdesk.store.tables import FindingRow
from cvdesk.troubleshoot import diagnose
from cvdesk.troubleshoot.stored import facts, facts_text, short_text, whole, worded, words
from cvdesk.troubleshoot.timed import Count, Timed, Until, item_facts, render
from tests.conftest import Clock
from tests.services.test_sweep_writes import statements
from tests.troubleshoot.builders import ACTOR, attempt, day, embargo, new_case, reply

OFFSETS = [timedelta(0), timedelta(hours=5), timedelta(days=3), timedelta(days=40)]


def _case(service: CaseService, clock: Clock) -> str:
    cid = service.submit_report(Report("Bug", "desc", ReporterInfo("Rita")), actor="t").case_id
    service.add_participant(cid, "Acme", [Role.VENDOR])
    service.add_participant(cid, "Initech", [Role.VENDOR])
    service.contact_attempt(cid, "p3", Channel.EMAIL, AttemptOutcome.SENT, actor="t")
    service.observe(cid, SignalKind.HOSTILE_TONE, text="rude")
    clock.advance(days=2, minutes=1)
    return cid


def _rows(service: CaseService) -> dict[str, tuple[Any, ...]]:
    with service.db.sessions() as s:
        return {f.key: (f.id, f.data, f.last_seen_at, f.status)
                for f in s.scalars(select(FindingRow))}


def _check(case: Case, policy: Policy, when: list) -> int:  # type: ignore[type-arg]
    pieces = 0
    for now in when:
        for f in diagnose(case, policy, now).findings:
            kinds: dict[str, str] = {}
            text = short_text(f, kinds)
            short = json.loads(text)
            assert "key" not in short and ": " not in text[:20]
            (name, kind), = kinds.items()
            assert json.dumps(whole(short, json.loads(kind))) == facts_text(f)
            assert worded(short, now, {name: json.loads(kind)}) == words(f)
            pieces += sum(isinstance(e, Timed) for e in f.evidence)
    return pieces


def test_the_short_form_gives_the_facts_and_the_words_back(demo_service: CaseService,
                                                          clock: Clock) -> None:
    policy = demo_service.settings.policy
    pieces = 0
    with demo_service.db.sessions() as session:
        repo = CaseRepository(session)
        for row in repo.list_cases("open"):
            case = Case.replay(row.case_id, repo.events(row.id))
            pieces += _check(case, policy, [clock.now + dt for dt in OFFSETS])
    assert pieces > 10
    # an embargo ended early: the Until piece, and counts ahead and in hours
    case, v = new_case()
    attempt(case, v, 0)
    reply(case, v, 1)
    embargo(case, 80, at=1)
    attempt(case, v, 5)
    attempt(case, v, 10)
    case.terminate_embargo(at=day(20), actor=ACTOR, reason="ended early")
    assert _check(case, Policy(), [day(60), day(81), day(90)]) > 0


def test_timed_pieces_short_and_long_read_the_same() -> None:
    now, at = day(10), day(3)
    timed = Timed(now, "since ", Count(at), ", ", Count(at, "hour", "hours", plural=False),
                  ", ", Count(day(20), ahead=True), "; ", Until(day(12), "before", "after"))
    short, long = json.loads(timed.compact()), json.loads(timed.json())
    assert item_facts(short) == long == timed.facts()
    assert json.loads(Count(at).compact()) == [at.isoformat()]  # whole days: the instant
    for later in (now, day(12), day(40)):
        assert render([short], later) == render([long], later)
    assert render([short], now) == [str(timed)]


def test_rows_in_the_first_short_form_read_the_same_and_stay(service: CaseService,
                                                             clock: Clock) -> None:
    cid = _case(service, clock)
    doctor = DoctorService(service.db, service.settings, clock=clock)
    before = doctor.sweep()
    # As the first short form stored them: with the key, the pieces long, spaced.
    with service.db.transaction() as s:
        for row in s.scalars(select(FindingRow)):
            data = dict(row.data)
            data = {"kind": data["kind"], "key": row.key, "title": data["title"],
                    "case_id": data["case_id"], "subject": data["subject"],
                    "subject_name": data["subject_name"],
                    "evidence": [item_facts(e) for e in data["evidence"]]}
            row.data = data
    old = _rows(service)
    assert any(isinstance(e, dict) for _, data, _, _ in old.values()
               for e in data["evidence"])
    assert doctor.current(at=clock.now, swept=1).to_json() == before.to_json()
    # Due again with nothing changed: nothing is rewritten.
    clock.advance(hours=3)
    service.note(cid, "asked around")
    with statements(service) as seen:
        doctor.sweep()
    assert [s for s in seen if s.startswith(("update findings", "insert into findings"))] == []
    assert _rows(service) == old
    # A change rewrites the finding it touches, in the current form.
    clock.advance(hours=1)
    service.observe(cid, SignalKind.HOSTILE_TONE, text="ruder")
    shown = doctor.sweep()
    after = _rows(service)
    assert "key" not in after["hostile-tone:-"][1]
    assert after["vendor-not-notified:p4"] == old["vendor-not-notified:p4"]
    expected = diagnose(service.replay(cid), service.settings.policy, clock.now)
    assert {f.data["key"]: f.data for f in shown.findings} == {
        f.key: finding_data(f) for f in expected.findings}
    with service.db.sessions() as s:
        kinds = FindingRepository(s).kinds()
    assert {k: whole(v[1], kinds[v[1]["kind"]]) for k, v in after.items()
            if v[3] != "resolved"} == {f.key: facts(f) for f in expected.findings}


def test_participants_read_from_text_with_an_offset_are_read_as_before() -> None:
    """The sweep reads SQLite's naive UTC text directly; any other text (here, with an
    offset) sends the rows the general way, with the same values as before."""
    row = dict.fromkeys(PARTICIPANT_COLUMNS)
    row.update(case_pk=1, pid=3, name="Acme", roles="vendor", organization="", email="",
               phone="", rm_state="start", consent="invited", vfd="vfd",
               last_attempt_outcome="sent", attempts=2, attempts_since_reply=2,
               channels="email", replies=0, added_at="2026-10-01 08:00:00",
               first_attempt_at="2026-10-02 10:00:00", vfd_times="{}", is_vendor=1)
    plain = tuple(row.values())
    row["last_attempt_at"] = "2026-10-03T12:00:00+02:00"
    offset = tuple(row.values())
    into: dict[int, list[Any]] = {1: []}
    swept_participants([plain, offset], into)
    a, b = into[1]
    assert a.first_attempt_at == b.first_attempt_at == datetime(2026, 10, 2, 10, tzinfo=UTC)
    assert a.last_attempt_at is None
    assert b.last_attempt_at == raw_instant(row["last_attempt_at"])  # as it always read
    assert a.is_vendor is True and b.is_vendor is True
