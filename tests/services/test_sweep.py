"""The stored, incremental troubleshooting sweep on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from cvdesk.domain.errors import InvalidInput, NotFound
from cvdesk.domain.model import AttemptOutcome, Channel, Role, SignalKind
from cvdesk.services import CaseService
from cvdesk.services.doctor import DoctorService, finding_data
from cvdesk.store.cases import CaseRepository
from cvdesk.store.findings import ACKNOWLEDGED, SNOOZED
from cvdesk.store.snapshot import case_from_rows
from cvdesk.store.tables import CaseRow, FindingRow
from cvdesk.troubleshoot import RULES, diagnose
from tests.conftest import Clock


def unresponsive_case(service: CaseService, clock: Clock) -> str:
    """A vendor that replied once and then ignored two attempts."""
    from cvdesk.domain.model import Report, ReporterInfo

    cid = service.submit_report(Report("Bug", "desc", ReporterInfo("Rita")), actor="t").case_id
    service.add_participant(cid, "Acme", [Role.VENDOR])
    service.contact_attempt(cid, "Acme", Channel.EMAIL, AttemptOutcome.SENT)
    service.contact_reply(cid, "Acme", Channel.EMAIL)
    clock.advance(days=10)
    service.contact_attempt(cid, "Acme", Channel.EMAIL, AttemptOutcome.NO_REPLY)
    service.contact_attempt(cid, "Acme", Channel.PHONE, AttemptOutcome.NO_REPLY)
    return cid


def problems(result) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(f.data["problem"] for f in result.findings)


def test_sweep_is_incremental_deduplicated_and_resolves(service: CaseService,
                                                        clock: Clock) -> None:
    cid = unresponsive_case(service, clock)
    doctor = DoctorService(service.db, service.settings, clock=clock)
    reply = clock.now - timedelta(days=10)
    first = doctor.sweep()
    assert first.swept == 1 and problems(first) == []  # 10 days: not yet
    assert first.next_checks[cid] == reply + timedelta(days=14)  # stopped-replying is next
    clock.now = reply + timedelta(days=14, seconds=-1)
    assert doctor.sweep().swept == 0  # nothing due
    clock.now = reply + timedelta(days=14)
    quiet = doctor.sweep()
    assert quiet.swept == 1 and problems(quiet) == ["stopped-replying"]
    last_event = reply + timedelta(days=10)  # the two unanswered attempts
    assert quiet.next_checks[cid] == last_event + timedelta(days=30)  # case-stalled is next
    clock.now = last_event + timedelta(days=30)
    assert problems(doctor.sweep()) == ["case-stalled", "stopped-replying"]
    clock.now = reply + timedelta(days=42)  # the 6.2 test replaces stopped-replying
    due = doctor.sweep()
    assert due.swept == 1 and problems(due) == ["case-stalled", "vendor-unresponsive"]
    again = doctor.sweep()
    assert again.swept == 0
    assert [f.id for f in again.findings] == [f.id for f in due.findings]  # same rows
    service.contact_reply(cid, "Acme", Channel.EMAIL)  # the cause goes away
    fixed = doctor.sweep()
    assert fixed.swept == 1 and problems(fixed) == []
    with service.db.sessions() as s:
        statuses = dict(s.execute(select(FindingRow.problem, FindingRow.status)).all())
    assert statuses["vendor-unresponsive"] == "resolved"


def test_only_changed_cases_are_rechecked(service: CaseService, clock: Clock) -> None:
    a = unresponsive_case(service, clock)
    unresponsive_case(service, clock)
    doctor = DoctorService(service.db, service.settings, clock=clock)
    assert doctor.sweep().swept == 2
    service.note(a, "called them")
    assert doctor.sweep().swept == 1


def test_acknowledge_and_snooze(service: CaseService, clock: Clock) -> None:
    cid = unresponsive_case(service, clock)
    clock.advance(days=40)
    doctor = DoctorService(service.db, service.settings, clock=clock)
    found = {f.data["problem"]: f for f in doctor.sweep().findings}
    unresp = found["vendor-unresponsive"]
    with pytest.raises(InvalidInput, match=r"^reason: "):
        doctor.handle(unresp.id, ACKNOWLEDGED, reason=" ", actor="t")
    with pytest.raises(NotFound):
        doctor.handle(99999, ACKNOWLEDGED, reason="x", actor="t")
    with pytest.raises(InvalidInput, match="not in the future"):
        doctor.handle(unresp.id, SNOOZED, reason="x", actor="t", until=clock.now)
    doctor.handle(unresp.id, ACKNOWLEDGED, reason="calling Monday", actor="t")
    listed = doctor.sweep()
    assert unresp.id not in [f.id for f in listed.findings]
    shown = doctor.sweep(show_handled=True)
    ack = next(f for f in shown.findings if f.id == unresp.id)
    assert (ack.status, ack.handled_reason) == ("acknowledged", "calling Monday")
    other = next(f for f in listed.findings if f.id != unresp.id)
    until = clock.now + timedelta(days=2)
    doctor.handle(other.id, SNOOZED, reason="waiting", actor="t", until=until)
    with service.db.sessions() as s:
        assert s.scalar(select(CaseRow.next_check_at).where(CaseRow.case_id == cid)) <= until
    assert other.id not in [f.id for f in doctor.sweep().findings]
    clock.now = until
    woke = doctor.sweep()
    assert woke.swept == 1 and other.id in [f.id for f in woke.findings]


def test_preview_stores_nothing_and_travels_in_time(service: CaseService, clock: Clock) -> None:
    cid = unresponsive_case(service, clock)
    doctor = DoctorService(service.db, service.settings, clock=clock)
    with service.db.sessions() as s:
        before = s.scalar(select(func.count()).select_from(FindingRow))
    later = doctor.preview(at=clock.now + timedelta(days=40))
    assert "vendor-unresponsive" in problems(later) and later.findings[0].id is None
    earlier = doctor.preview(at=clock.now - timedelta(days=10, seconds=-1), case_id=cid)
    assert "vendor-unresponsive" not in problems(earlier)
    with service.db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(FindingRow)) == before


def test_closed_cases_are_never_swept(service: CaseService, clock: Clock) -> None:
    cid = unresponsive_case(service, clock)
    service.close(cid, reason="done")
    assert DoctorService(service.db, service.settings, clock=clock).sweep().swept == 0


def test_the_demo_fires_every_rule_and_snapshots_agree(demo_service: CaseService,
                                                      clock: Clock) -> None:
    service = demo_service
    clock.advance(minutes=1)
    result = DoctorService(service.db, service.settings, clock=clock).sweep()
    assert set(problems(result)) == set(RULES)
    with service.db.sessions() as s:
        repo = CaseRepository(s)
        for row in repo.list_cases("open"):
            snap = case_from_rows(row, repo.participants(row.id))
            replayed = service.replay(row.case_id)
            for when in (clock.now, clock.now + timedelta(days=9), clock.now + timedelta(50)):
                a = [finding_data(f) for f in diagnose(snap, service.settings.policy,
                                                       when).findings]
                b = [finding_data(f) for f in diagnose(replayed, service.settings.policy,
                                                       when).findings]
                assert a == b, row.case_id


def test_observations_need_a_known_kind_and_participant(service: CaseService,
                                                         clock: Clock) -> None:
    cid = unresponsive_case(service, clock)
    service.observe(cid, SignalKind.LEAK, text="forum post", participant="Acme")
    with pytest.raises(NotFound):
        service.observe(cid, SignalKind.LEAK, participant="Nobody")
    assert [s.kind for s in service.replay(cid).signals] == [SignalKind.LEAK]


def test_a_whole_sweep_reports_its_progress(demo_service: CaseService, clock: Clock,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import cvdesk.services.doctor as doctor

    monkeypatch.setattr(doctor, "BATCH", 5)  # several batches out of the 14 open cases
    clock.advance(minutes=1)
    heard: list[tuple[int, int]] = []
    svc = DoctorService(demo_service.db, demo_service.settings, clock=clock)
    swept = svc.run_sweep(clock.now, progress=lambda d, t: heard.append((d, t)))
    assert swept == 14
    assert heard == [(0, 14), (5, 14), (10, 14), (14, 14)]
    heard.clear()
    assert svc.run_sweep(clock.now, progress=lambda d, t: heard.append((d, t))) == 0
    assert heard == [(0, 0)]  # nothing due: the bar starts and ends at once


def test_the_doctor_command_draws_no_bar_when_piped(demo_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, err = demo_cli("doctor")
    assert code == 0 and err == ""
    assert "sweeping" not in out
