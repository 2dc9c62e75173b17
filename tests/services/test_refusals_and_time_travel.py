"""Issue 8 through the services, on SQLite and PostgreSQL: refused consent and embargo
lengths, unknown names, events before the opening, one party once, doctor --at over the
cases open then, and what the stored projections say about V, P and ended embargoes.

Every refusal is checked against the database: nothing may be written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from benchmarks.generate import synthetic_cases
from cvdesk.domain.case import Case
from cvdesk.domain.checks import party_key
from cvdesk.domain.cs import CSEvent
from cvdesk.domain.em import ConsentTrigger
from cvdesk.domain.errors import DomainError, IllegalTransition, InvalidInput
from cvdesk.domain.model import (
    AffectedProduct,
    AttemptOutcome,
    Channel,
    Report,
    ReporterInfo,
    Role,
    SignalKind,
)
from cvdesk.domain.rm import RMTrigger
from cvdesk.services import CaseService
from cvdesk.services.coordination import CoordinationService
from cvdesk.services.doctor import DoctorService
from cvdesk.settings import load_settings
from cvdesk.store.cases import CaseRepository
from cvdesk.store.snapshot import case_from_rows
from cvdesk.store.tables import Base, CaseRow
from tests.conftest import Clock

D = timedelta(days=1)
EMAIL = Channel.EMAIL
SENT, NOREPLY = AttemptOutcome.SENT, AttemptOutcome.NO_REPLY


def db_state(service: CaseService) -> tuple[dict[str, int], list[tuple[Any, ...]]]:
    with service.db.sessions() as s:
        counts = {t.name: s.scalar(select(func.count()).select_from(t)) or 0
                  for t in Base.metadata.sorted_tables}
        versions = [tuple(r) for r in s.execute(select(CaseRow.case_id, CaseRow.version))]
    return counts, versions


def refused(service: CaseService, error: type[DomainError], command: Callable[[], object],
            field: str | None = None) -> DomainError:
    before = db_state(service)
    with pytest.raises(error) as info:
        command()
    if field is not None:
        assert isinstance(info.value, InvalidInput) and info.value.field == field, info.value
    assert db_state(service) == before, "a refused command wrote to the database"
    return info.value


def report(title: str = "Heap overflow in the parser", vendor: str = "Acme",
           reporter: str = "Rita", email: str = "rita@example.org",
           description: str = "A long record overflows the parser's heap buffer.",
           product: str = "") -> Report:
    products = (AffectedProduct(product, vendor=vendor),) if product else ()
    return Report(title, description, ReporterInfo(reporter, email=email), vendors=(vendor,),
                  products=products)


@pytest.fixture
def cid(service: CaseService, clock: Clock) -> str:
    """p1 the desk, p2 Rita (reporter), p3 Acme (vendor); opened 60 days ago."""
    return service.submit_report(report(), at=clock.now - 60 * D).case_id


# ============================================================ 4. refusals are refusals
@pytest.mark.parametrize("trigger", list(ConsentTrigger))
def test_consent_without_an_embargo_is_refused_with_exit_3_and_stores_nothing(
        service: CaseService, cid: str, trigger: ConsentTrigger) -> None:
    err = refused(service, IllegalTransition, lambda: service.consent(cid, "p3", trigger))
    assert str(err) == (f"EM (embargo management): 'embargo {trigger.value}' is not allowed "
                        f"in state 'none' for {cid}; allowed from 'none': propose")


def test_embargo_max_days_is_enforced_on_proposal_and_revision(service: CaseService, cid: str,
                                                               clock: Clock) -> None:
    first = clock.now - 10 * D
    service.contact_attempt(cid, "Acme", EMAIL, SENT, at=first)
    latest = first + 90 * D
    err = refused(service, InvalidInput,
                  lambda: service.propose_embargo(cid, latest + timedelta(hours=1)), "end")
    assert str(err) == (
        f"end: embargo end {(latest + timedelta(hours=1)).isoformat()} is more than the "
        "maximum of 90 days (policy embargo_max_days) after the first vendor contact attempt"
        f" ({first.isoformat()}); the latest end allowed is {latest.isoformat()}")
    assert service.propose_embargo(cid, latest) == latest
    service.embargo(cid, "accept")
    refused(service, InvalidInput, lambda: service.propose_embargo(cid, latest + D), "end")
    longer = CaseService(service.db, load_settings(actor="tester", policy={
        "embargo_max_days": 120}), clock=clock)
    assert longer.propose_embargo(cid, latest + D) == latest + D  # the desk's own policy


def test_unknown_names_are_input_errors_and_store_nothing(service: CaseService, cid: str,
                                                          clock: Clock) -> None:
    doctor = DoctorService(service.db, service.settings, clock=clock)
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: service.embargo(cid, "postpone"), "action"),
        (lambda: service.rm(cid, "p3", "approve"), "trigger"),  # type: ignore[arg-type]
        (lambda: service.consent(cid, "p3", "agree"), "trigger"),  # type: ignore[arg-type]
        (lambda: service.record_cs(cid, "Q"), "event"),  # type: ignore[arg-type]
        (lambda: service.observe(cid, "rumour"), "kind"),  # type: ignore[arg-type]
        (lambda: service.contact_attempt(cid, "p3", "pigeon", SENT), "channel"),  # type: ignore[arg-type]
        (lambda: service.contact_attempt(cid, "p3", EMAIL, "lost"), "outcome"),  # type: ignore[arg-type]
        (lambda: service.add_participant(cid, "X", ["hacker"]), "role"),  # type: ignore[list-item]
        (lambda: service.list_cases("archived"), "status"),
        (lambda: doctor.handle(1, "resolve", reason="x", actor="t"), "action"),
    ]
    for command, field in cases:
        err = refused(service, InvalidInput, command, field)
        assert "is not a known" in str(err) and "one of:" in str(err), err
    assert "one of: accept, reject, terminate" in str(
        refused(service, InvalidInput, lambda: service.embargo(cid, "postpone")))


# ============================================================ 5. time travel
def test_no_event_before_the_case_opened(service: CaseService, cid: str,
                                         clock: Clock) -> None:
    opened = clock.now - 60 * D
    early = opened - timedelta(minutes=1)
    for command in (lambda: service.contact_attempt(cid, "p3", EMAIL, SENT, at=early),
                    lambda: service.contact_reply(cid, "p3", EMAIL, at=early),
                    lambda: service.note(cid, "x", at=early),
                    lambda: service.rm(cid, "p3", RMTrigger.RECEIVE, at=early)):
        err = refused(service, InvalidInput, command, "at")
        assert str(err).startswith(f"at: {early.isoformat()} is before {cid} was opened "
                                   f"({opened.isoformat()})")
    # a report that arrived earlier is entered with its own time, and a match with a case
    # opened after it is noted on that case no earlier than its opening
    later = service.submit_report(report(
        "Oscorp SDK sends device tokens over plain HTTP", "Oscorp", "Lee", "lee@example.kr",
        "The Oscorp Telemetry SDK uploads device tokens over plain HTTP to the telemetry "
        "endpoint, so anyone on the path can read and replay them.", "Oscorp Telemetry SDK"),
        at=clock.now - 5 * D)
    earlier = service.submit_report(report(
        "Cleartext device tokens in Oscorp SDK uploads", "Oscorp", "Grace", "g@example.ng",
        "Device tokens are uploaded by the Oscorp Telemetry SDK without TLS; a network "
        "attacker can read the tokens and replay them.", "Oscorp Telemetry SDK"),
        at=clock.now - 20 * D)
    [noted] = service.replay(later.case_id).signals
    assert noted.kind is SignalKind.POSSIBLE_DUPLICATE and noted.at == clock.now - 5 * D
    [mine] = service.replay(earlier.case_id).signals
    assert mine.at == clock.now - 20 * D


def test_doctor_at_judges_every_case_open_then_including_cases_closed_since(
        service: CaseService, clock: Clock) -> None:
    doctor = DoctorService(service.db, service.settings, clock=clock)
    gone = service.submit_report(report(vendor="Initech"), at=clock.now - 30 * D).case_id
    service.contact_attempt(gone, "Initech", EMAIL, SENT, at=clock.now - 29 * D)
    service.close(gone, at=clock.now - 5 * D, reason="handed to the vendor's CNA")
    fresh = service.submit_report(report(vendor="Globex", reporter="Ana", email="a@x.org"),
                                  at=clock.now - 2 * D).case_id
    then = doctor.preview(at=clock.now - 20 * D)
    assert set(then.next_checks) == {gone}  # open then; the fresh case did not exist yet
    assert [f.data["key"] for f in then.findings if f.case_id == gone] == [
        "no-acknowledgement:p3"]
    now = doctor.preview(at=clock.now)
    assert set(now.next_checks) == {fresh}  # closed by now: not judged
    assert set(doctor.preview(at=clock.now - 5 * D - timedelta(seconds=1)).next_checks) == {
        gone}  # the last moment it was open
    assert set(doctor.preview(at=clock.now - 5 * D).next_checks) == set()


# ============================================================ 6. one party, once
def test_one_party_once(service: CaseService, cid: str, tmp_path: Path) -> None:
    err = refused(service, InvalidInput, lambda: service.add_participant(
        cid, " acme ", [Role.DEPLOYER]), "name")
    assert str(err) == ("name: 'acme' is already on the case as p3 (Acme); name that "
                        "participant instead")
    err = refused(service, InvalidInput, lambda: service.add_participant(
        cid, "Rita Consulting", [Role.OTHER], email="RITA@example.org"), "email")
    assert "already on the case as p2 (Rita)" in str(err)
    # the hand-off does not add the coordinator a second time under another name
    service.add_participant(cid, "CERT Coordination Center", [Role.COORDINATOR],
                            email="cert@cert.org")
    CoordinationService(service).handoff(cid, "CERT/CC", tmp_path / "pkg.json")
    names = [p.name for p in service.show(cid).participants]
    assert names == ["cvdesk", "Rita", "Acme", "CERT Coordination Center"]


def test_a_reporter_or_desk_that_is_also_the_vendor_joins_once(service: CaseService,
                                                               clock: Clock) -> None:
    own = service.submit_report(report(vendor="acme psirt", reporter="Acme PSIRT"))
    assert [(p.name, p.roles, p.rm_state) for p in service.show(own.case_id).participants] == [
        ("cvdesk", "coordinator", "received"),
        ("Acme PSIRT", "finder,reporter,vendor", "accepted")]
    assert service.replay(own.case_id).participant(2).vfd == frozenset({CSEvent.V})
    desk = CaseService(service.db, load_settings(actor="tester", desk={
        "name": "Example CSIRT", "email": "cert@example.org"}), clock=clock)
    ours = desk.submit_report(report(reporter="Sam", email="CERT@example.org"),
                              reporter_is_finder=False)
    assert [(p.name, p.roles, p.rm_state) for p in desk.show(ours.case_id).participants] == [
        ("Example CSIRT", "coordinator,reporter", "accepted"), ("Acme", "vendor", "start")]


def test_the_demo_and_the_benchmark_cases_have_each_party_once(demo_service: CaseService,
                                                               clock: Clock) -> None:
    service = demo_service
    now = clock.now
    cases = [service.replay(c.case_id) for c in service.list_cases(None)]
    cases += list(synthetic_cases(40, now))
    for case in cases:
        names = [party_key(p.name) for p in case.participants.values()]
        emails = [party_key(p.email) for p in case.participants.values() if p.email]
        assert len(names) == len(set(names)) and len(emails) == len(set(emails)), case.case_id


# ============================================================ 2 and 1 through the store
def sweep_keys(service: CaseService, clock: Clock, case_id: str) -> list[str]:
    doctor = DoctorService(service.db, service.settings, clock=clock)
    return sorted(f.data["key"] for f in doctor.sweep(case_id=case_id).findings)


def snapshot_and_replay(service: CaseService, case_id: str) -> tuple[Case, Case]:
    with service.db.sessions() as session:
        repo = CaseRepository(session)
        row = repo.case_row(case_id)
        return (case_from_rows(row, repo.participants(row.id)),
                Case.replay(row.case_id, repo.events(row.id)))


def test_v_and_p_at_one_time_keep_their_log_order_in_the_stored_projection(
        service: CaseService, cid: str, clock: Clock) -> None:
    service.add_participant(cid, "Globex", [Role.VENDOR])
    same = clock.now - D
    service.contact_reply(cid, "Acme", EMAIL, at=same)
    written = service.record_cs(cid, CSEvent.P, at=same)
    assert [(e.data["event"], e.participant, e.data["auto"]) for e in written] == [
        ("P", None, False), ("V", 4, True)]  # only Globex learns of it from the public
    snap, log = snapshot_and_replay(service, cid)
    for case in (snap, log):
        acme, globex = case.participant(3), case.participant(4)
        assert acme.vfd_seq[CSEvent.V] < case.pxa_seq[CSEvent.P] < globex.vfd_seq[CSEvent.V]
    assert (snap.pxa_seq, snap.participant(3).vfd_seq) == (log.pxa_seq,
                                                           log.participant(3).vfd_seq)
    found = [k for k in sweep_keys(service, clock, cid) if k.startswith("public-before-v")]
    assert found == ["public-before-vendor:p4"]


def test_the_sweep_sees_an_ended_embargo_as_the_date_passed(service: CaseService, cid: str,
                                                           clock: Clock) -> None:
    """Silent 30 days after its reply, the embargo ended on its date 10 days ago: 6.2 is
    met (before, only six weeks after the reply would have counted)."""
    service.contact_attempt(cid, "Acme", EMAIL, SENT, at=clock.now - 31 * D)
    service.contact_reply(cid, "Acme", EMAIL, at=clock.now - 30 * D)
    service.propose_embargo(cid, clock.now - 10 * D, at=clock.now - 29 * D)
    service.embargo(cid, "accept", at=clock.now - 29 * D)
    for n in (25, 20):
        service.contact_attempt(cid, "Acme", EMAIL, NOREPLY, at=clock.now - n * D)
    service.embargo(cid, "terminate", at=clock.now - 10 * D, reason="agreed end reached")
    keys = sweep_keys(service, clock, cid)
    assert "vendor-unresponsive:p3" in keys and "stopped-replying:p3" not in keys
    snap, log = snapshot_and_replay(service, cid)
    assert snap.em == log.em and snap.embargo_end == log.embargo_end

