"""CaseService, method by method, on SQLite and PostgreSQL.

Every refusal is checked twice: the exception (type, field or model, message) and the
database, which must be exactly as it was (row counts of every table, case versions).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from cvdesk.domain.cs import CSEvent
from cvdesk.domain.em import ConsentTrigger
from cvdesk.domain.errors import DomainError, IllegalTransition, InvalidInput, NotFound
from cvdesk.domain.model import (
    TLP,
    AttemptOutcome,
    Channel,
    Direction,
    Report,
    ReporterInfo,
    Role,
    SignalKind,
    Vulnerability,
)
from cvdesk.domain.rm import RMTrigger
from cvdesk.intake import load_report_file
from cvdesk.seed.demo import load_demo
from cvdesk.services import CaseService
from cvdesk.settings import load_settings
from cvdesk.store.db import Database
from cvdesk.store.tables import Base, CaseRow, EventRow, MessageRow, ParticipantRow
from tests.conftest import Clock

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CEST = timezone(timedelta(hours=2))
D = timedelta(days=1)
EMAIL, WEB, PHONE = Channel.EMAIL, Channel.WEB_FORM, Channel.PHONE
SENT, ACK, NOREPLY = AttemptOutcome.SENT, AttemptOutcome.ACKNOWLEDGED, AttemptOutcome.NO_REPLY


def db_state(db: Database) -> tuple[dict[str, int], list[tuple[Any, ...]]]:
    """Row counts of every table and each case's version: what a refusal must not change."""
    with db.sessions() as s:
        counts = {t.name: s.scalar(select(func.count()).select_from(t)) or 0
                  for t in Base.metadata.sorted_tables}
        cases = [tuple(r) for r in s.execute(select(
            CaseRow.case_id, CaseRow.version, CaseRow.updated_at).order_by(CaseRow.case_id))]
    return counts, cases


def refused(service: CaseService, error: type[DomainError], command: Callable[[], object],
            *, field: str | None = None, says: str = "") -> DomainError:
    before = db_state(service.db)
    with pytest.raises(error) as info:
        command()
    if field is not None:
        assert isinstance(info.value, InvalidInput) and info.value.field == field, info.value
    assert says in str(info.value), (says, str(info.value))
    assert db_state(service.db) == before, "a refused command wrote to the database"
    return info.value


#: When the ``cid`` case was opened: early enough for the back-dated history the tests
#: enter (no event may be dated before its case opened).
OPENED = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def cid(service: CaseService) -> str:
    """p1 the desk, p2 Sam Okafor (finder, reporter), p3 Contoso Home (vendor)."""
    return service.submit_report(load_report_file(EXAMPLES / "report.yaml"),
                                 at=OPENED).case_id


def people(service: CaseService, case_id: str) -> dict[int, ParticipantRow]:
    """The participants' projection rows (every column, the sweep's own ones included);
    faces see them through ``show``'s views."""
    with service.db.sessions() as session:
        case_pk = session.scalar(select(CaseRow.id).where(CaseRow.case_id == case_id.upper()))
        return {p.pid: p for p in session.scalars(
            select(ParticipantRow).where(ParticipantRow.case_pk == case_pk))}


def event_types(service: CaseService, case_id: str) -> list[str]:
    return [e.type.value for e in sorted(service.timeline(case_id), key=lambda e: e.seq)]


# ------------------------------------------------------------------ intake
def test_submit_report_opens_a_case(service: CaseService, clock: Clock) -> None:
    sub = service.submit_report(load_report_file(EXAMPLES / "report.yaml"))
    assert sub.case_id == "CVD-2026-0001"
    assert re.fullmatch(r"VR-2611-[A-Z2-9]{6}", sub.tracking_id)
    view = service.show(sub.case_id)
    c = view.case
    assert (c.title, c.tlp, c.status, c.em_state, c.pxa) == (
        "Unauthenticated firmware upload in Contoso SmartPlug", "AMBER", "open", "none", "pxa")
    assert c.opened_at == c.last_event_at == clock.now and c.closed_at is None
    assert (c.participants_count, c.vendors_count, c.version) == (3, 1, 10)
    assert [(p.pid, p.name, p.roles, p.is_vendor, p.rm_state, p.consent, p.vfd)
            for p in view.participants] == [
        (1, "cvdesk", "coordinator", False, "received", "no-embargo", "vfd"),
        (2, "Sam Okafor", "finder,reporter", False, "accepted", "no-embargo", "vfd"),
        (3, "Contoso Home", "vendor", True, "start", "no-embargo", "vfd"),
    ]
    reporter = view.participants[1]
    assert (reporter.organization, reporter.email) == ("Independent", "sam.okafor@example.org")
    assert [r.tracking_id for r in view.reports] == [sub.tracking_id]
    assert [(v.title, v.cve, v.data["cwes"]) for v in view.vulnerabilities] == [
        ("Missing authentication for firmware upload", None, ["CWE-306", "CWE-494"])]
    assert event_types(service, sub.case_id) == [
        "case.opened", "report.received", "participant.added", "rm.transition",
        "participant.added", "rm.transition", "rm.transition", "rm.transition",
        "participant.added", "vulnerability.added"]
    assert {e.actor for e in service.timeline(sub.case_id)} == {"tester"}


def test_submit_report_options(service: CaseService, clock: Clock) -> None:
    when = datetime(2026, 10, 30, 14, 0, tzinfo=CEST)
    report = load_report_file(EXAMPLES / "report.json")
    sub = service.submit_report(report, at=when, actor="alice", reporter_is_finder=False)
    view = service.show(sub.case_id)
    assert view.case.opened_at == when and view.case.tlp == "GREEN"
    assert [(p.name, p.roles) for p in view.participants] == [
        ("cvdesk", "coordinator"), ("Jo Lindqvist", "reporter"), ("Fabrikam", "vendor")]
    assert {e.actor for e in service.timeline(sub.case_id)} == {"alice"}
    assert sub.tracking_id.startswith("VR-2610-")
    # Vendors named several times, in any case, join once.
    named = Report("t", "d", ReporterInfo("R"), vendors=("Acme", " acme ", "Globex"))
    assert [p.name for p in service.show(service.submit_report(named).case_id).participants
            ] == ["cvdesk", "R", "Acme", "Globex"]
    refused(service, InvalidInput, lambda: service.submit_report(report, at=when.replace(
        tzinfo=None)), field="at")


# ------------------------------------------------------------------ when()
def test_when_gives_now_or_a_checked_time(service: CaseService, clock: Clock) -> None:
    assert service.when(None) == clock.now
    back = datetime(2026, 9, 1, 14, 0, tzinfo=CEST)
    assert service.when(back) is back and back.utcoffset() == timedelta(hours=2)
    assert service.when(clock.now + timedelta(minutes=5)) == clock.now + timedelta(minutes=5)
    with pytest.raises(InvalidInput) as naive:
        service.when(datetime(2026, 9, 1, 14, 0))
    assert naive.value.field == "at" and "no time zone" in naive.value.problem
    with pytest.raises(InvalidInput) as future:
        service.when(clock.now + timedelta(minutes=5, seconds=1))
    assert future.value.field == "at"
    assert future.value.problem == ("2026-11-02T09:05:01+00:00 is in the future (now is "
                                    "2026-11-02T09:00:00+00:00)")


def test_future_skew_comes_from_the_policy(db: Database, clock: Clock,
                                           service: CaseService) -> None:
    strict = CaseService(db, load_settings(actor="t", policy={"future_skew_minutes": 0}),
                         clock=clock)
    assert strict.when(clock.now) == clock.now
    with pytest.raises(InvalidInput, match="in the future"):
        strict.when(clock.now + timedelta(seconds=1))


def test_commands_check_at(service: CaseService, cid: str, clock: Clock) -> None:
    refused(service, InvalidInput, lambda: service.contact_attempt(
        cid, "p3", EMAIL, SENT, at=datetime(2026, 10, 1, 9, 0)), field="at",
        says="no time zone")
    refused(service, InvalidInput, lambda: service.contact_reply(
        cid, "p3", EMAIL, at=clock.now + timedelta(hours=1)), field="at",
        says="is in the future")
    refused(service, InvalidInput, lambda: service.note(
        cid, "x", at=clock.now + 2 * D), field="at")
    back = datetime(2026, 10, 1, 9, 0, tzinfo=CEST)
    assert service.contact_attempt(cid, "p3", EMAIL, SENT, at=back) == 1
    attempt = [e for e in service.timeline(cid) if e.type == "contact.attempt"]
    assert [(e.at, e.participant) for e in attempt] == [(back, 3)]
    assert people(service, cid)[3].first_attempt_at == back


# ------------------------------------------------------------------ participants
def test_add_participant(service: CaseService, cid: str, clock: Clock) -> None:
    assert service.add_participant(cid, "Fabrikam", [Role.VENDOR, Role.DEPLOYER],
                                   organization="Fabrikam Inc.", email="psirt@fab.example",
                                   phone="+1 555 0100", reason="downstream") == 4
    assert service.add_participant(cid, "  Jo  ", ["other"]) == 5
    p = people(service, cid)
    assert (p[4].name, p[4].roles, p[4].is_vendor, p[4].organization, p[4].email,
            p[4].phone, p[4].rm_state, p[4].added_at) == (
        "Fabrikam", "deployer,vendor", True, "Fabrikam Inc.", "psirt@fab.example",
        "+1 555 0100", "start", clock.now)
    assert p[5].name == "Jo" and p[5].roles == "other"
    view = service.show(cid)
    assert (view.case.participants_count, view.case.vendors_count) == (5, 2)
    assert service.timeline(cid)[-2].reason == "downstream"
    refused(service, InvalidInput, lambda: service.add_participant(cid, " ", [Role.VENDOR]),
            field="name")
    refused(service, InvalidInput, lambda: service.add_participant(cid, "X", []), field="role")
    refused(service, NotFound, lambda: service.add_participant("CVD-2026-0099", "X",
                                                               [Role.VENDOR]),
            says="no case 'CVD-2026-0099'")


def test_participants_are_found_by_number_or_name(service: CaseService, cid: str) -> None:
    for n, ref in enumerate(["p3", "P3", "3", " p3 ", "Contoso Home", "contoso home"], 1):
        assert service.contact_attempt(cid, ref, EMAIL, SENT) == n
    assert service.contact_reply(cid, "SAM OKAFOR", EMAIL) == 1
    p = people(service, cid)
    assert (p[3].attempts, p[2].replies, p[1].attempts) == (6, 1, 0)
    refused(service, NotFound, lambda: service.rm(cid, "p9", RMTrigger.RECEIVE),
            says=f"{cid} has no participant p9")
    refused(service, NotFound, lambda: service.rm(cid, "0", RMTrigger.RECEIVE),
            says="no participant p0")
    refused(service, NotFound, lambda: service.contact_reply(cid, "Nobody", EMAIL),
            says=f"{cid} has no participant 'Nobody'")
    # One party, once: the same name again is refused, pointing at the one on the case.
    err = refused(service, InvalidInput, lambda: service.add_participant(
        cid, " contoso HOME ", [Role.VENDOR], reason="a second PSIRT"), field="name")
    assert str(err) == ("name: 'contoso HOME' is already on the case as p3 (Contoso Home); "
                        "name that participant instead")


# ------------------------------------------------------------------ report management
def test_rm_transitions(service: CaseService, cid: str) -> None:
    steps = [("receive", "received"), ("validate", "valid"), ("accept", "accepted"),
             ("defer", "deferred"), ("accept", "accepted"), ("close", "closed")]
    for trigger, state in steps:
        assert service.rm(cid, "p3", RMTrigger(trigger), reason=f"r-{trigger}") == state
    rm = [e for e in service.timeline(cid) if e.type == "rm.transition" and e.participant == 3]
    assert [(e.data["trigger"], e.data["from"], e.data["to"], e.reason) for e in rm] == [
        ("receive", "start", "received", "r-receive"),
        ("validate", "received", "valid", "r-validate"),
        ("accept", "valid", "accepted", "r-accept"),
        ("defer", "accepted", "deferred", "r-defer"),
        ("accept", "deferred", "accepted", "r-accept"),
        ("close", "accepted", "closed", "r-close")]
    assert people(service, cid)[3].rm_state == "closed"
    err = refused(service, IllegalTransition, lambda: service.rm(cid, "p3", RMTrigger.RECEIVE))
    assert "allowed from 'closed': none (final state)" in str(err)
    # invalid, then validated after all
    assert service.rm(cid, "p1", RMTrigger.INVALIDATE) == "invalid"
    assert service.rm(cid, "p1", RMTrigger.VALIDATE) == "valid"


def test_rm_history_runs_forward(service: CaseService, cid: str, clock: Clock) -> None:
    service.rm(cid, "p3", RMTrigger.RECEIVE)
    refused(service, InvalidInput, lambda: service.rm(cid, "p3", RMTrigger.VALIDATE,
                                                      at=clock.now - D),
            field="at", says="RM history runs forward in time")


ILLEGAL: dict[str, tuple[Callable[[CaseService, str], object], str, str, str, list[str]]] = {
    "rm close from start": (lambda s, c: s.rm(c, "p3", RMTrigger.CLOSE),
                            "RM (report management)", "start", "close", ["receive"]),
    "rm accept from start": (lambda s, c: s.rm(c, "Contoso Home", RMTrigger.ACCEPT),
                             "RM (report management)", "start", "accept", ["receive"]),
    "rm validate from accepted": (lambda s, c: s.rm(c, "p2", RMTrigger.VALIDATE),
                                  "RM (report management)", "accepted", "validate",
                                  ["close", "defer"]),
    "F before V": (lambda s, c: s.record_cs(c, CSEvent.F, "p3"),
                   "CS (case state)", "vfdpxa", "F", ["A", "P", "V", "X"]),
    "D before F": (lambda s, c: s.record_cs(c, CSEvent.D, "p3"),
                   "CS (case state)", "vfdpxa", "D", ["A", "P", "V", "X"]),
    "embargo accept from none": (lambda s, c: s.embargo(c, "accept"),
                                 "EM (embargo management)", "none", "accept", ["propose"]),
    "embargo terminate from none": (lambda s, c: s.embargo(c, "terminate"),
                                    "EM (embargo management)", "none", "terminate",
                                    ["propose"]),
    "consent withdraw without an embargo": (
        lambda s, c: s.consent(c, "p3", ConsentTrigger.WITHDRAW),
        "EM (embargo management)", "none", "embargo withdraw", ["propose"]),
    "consent sign without an embargo": (
        lambda s, c: s.consent(c, "p3", ConsentTrigger.SIGN),
        "EM (embargo management)", "none", "embargo sign", ["propose"]),
    "reopen an open case": (lambda s, c: s.close(c, reopen=True), "case", "open", "reopen",
                            ["close"]),
}


@pytest.mark.parametrize("name", list(ILLEGAL))
def test_an_illegal_transition_is_refused_and_writes_nothing(service: CaseService, cid: str,
                                                             name: str) -> None:
    command, model, state, trigger, allowed = ILLEGAL[name]
    err = refused(service, IllegalTransition, lambda: command(service, cid))
    assert isinstance(err, IllegalTransition)
    assert (err.model, err.state, err.trigger, err.allowed) == (model, state, trigger, allowed)
    assert str(err).startswith(f"{model}: '{trigger}' is not allowed in state '{state}'")
    assert str(err).endswith(f"allowed from '{state}': {', '.join(allowed)}")


# ------------------------------------------------------------------ embargo
def test_default_embargo_end_follows_the_first_vendor_attempt(service: CaseService, cid: str,
                                                              clock: Clock) -> None:
    service.add_participant(cid, "Fabrikam", [Role.VENDOR])
    first = clock.now - 10 * D
    service.contact_attempt(cid, "p2", EMAIL, SENT, at=clock.now - 20 * D)  # not a vendor
    service.contact_attempt(cid, "p4", EMAIL, SENT, at=clock.now - 8 * D)
    service.contact_attempt(cid, "p3", WEB, NOREPLY, at=first.astimezone(CEST))
    end = service.propose_embargo(cid)
    assert end == first + timedelta(days=45) == datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    c = service.show(cid).case
    assert (c.em_state, c.proposed_end_text, c.embargo_end) == ("proposed", end.isoformat(),
                                                                None)


def test_default_embargo_end_without_attempts(service: CaseService, cid: str,
                                              clock: Clock) -> None:
    at = clock.now - 2 * D
    assert service.propose_embargo(cid, at=at) == at + timedelta(days=45)


@pytest.mark.parametrize("how", ["keyword", "environment"])
def test_default_embargo_days_from_settings(service: CaseService, cid: str, clock: Clock,
                                            monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    if how == "keyword":
        settings = load_settings(actor="tester", policy={"embargo_default_days": 60})
    else:
        monkeypatch.setenv("CVDESK_POLICY__EMBARGO_DEFAULT_DAYS", "60")
        settings = load_settings(actor="tester")
    assert settings.policy.embargo_default_days == 60
    other = CaseService(service.db, settings, clock=clock)
    first = clock.now - 3 * D
    other.contact_attempt(cid, "p3", EMAIL, SENT, at=first)
    assert other.propose_embargo(cid) == first + timedelta(days=60)
    assert service.show(cid).case.proposed_end_text == (first + timedelta(days=60)).isoformat()


def test_a_default_end_that_has_passed_is_refused(service: CaseService, cid: str,
                                                  clock: Clock) -> None:
    service.contact_attempt(cid, "p3", EMAIL, SENT, at=clock.now - 50 * D)
    refused(service, InvalidInput, lambda: service.propose_embargo(cid), field="end",
            says="the default end (45 days after the first vendor contact attempt, "
                 "2026-09-13T09:00:00+00:00) has passed; give an end date")


def test_embargo_lifecycle(service: CaseService, cid: str, clock: Clock) -> None:
    end = datetime(2027, 1, 15, 16, 0, tzinfo=timezone(timedelta(hours=1)))
    refused(service, InvalidInput, lambda: service.propose_embargo(cid, end.replace(
        tzinfo=None)), field="end", says="no time zone")
    refused(service, InvalidInput, lambda: service.propose_embargo(cid, clock.now - D),
            field="end", says="is not after the proposal time")
    refused(service, NotFound, lambda: service.propose_embargo(cid, end, invite=["p3", "p7"]))
    err = refused(service, IllegalTransition, lambda: service.consent(cid, "p3",
                                                                      ConsentTrigger.SIGN))
    assert str(err).endswith("allowed from 'none': propose")

    assert service.propose_embargo(cid, end, invite=["p3", "Sam Okafor"]) == end
    assert {p: r.consent for p, r in people(service, cid).items()} == {
        1: "no-embargo", 2: "invited", 3: "invited"}
    assert service.consent(cid, "p3", ConsentTrigger.SIGN) == "signatory"
    assert service.consent(cid, "p2", ConsentTrigger.DECLINE) == "declined"
    assert service.embargo(cid, "accept", reason="agreed") == "active"
    c = service.show(cid).case
    assert (c.em_state, c.embargo_end, c.embargo_end_text, c.proposed_end_text) == (
        "active", end, "2027-01-15T16:00:00+01:00", None)

    later = end + timedelta(days=14)
    service.propose_embargo(cid, later)  # a revision invites everyone not yet in
    assert service.show(cid).case.em_state == "revise"
    assert {p: r.consent for p, r in people(service, cid).items()} == {
        1: "invited", 2: "invited", 3: "signatory"}
    assert service.embargo(cid, "reject") == "active"
    c = service.show(cid).case
    assert (c.embargo_end_text, c.proposed_end_text) == ("2027-01-15T16:00:00+01:00", None)

    service.propose_embargo(cid, later)
    assert service.embargo(cid, "accept") == "active"
    assert service.show(cid).case.embargo_end_text == later.isoformat()

    assert service.embargo(cid, "terminate", reason="published") == "exited"
    assert {p: r.consent for p, r in people(service, cid).items()} == {
        1: "no-embargo", 2: "no-embargo", 3: "lapsed"}
    c = service.show(cid).case
    assert (c.em_state, c.embargo_end_text) == ("exited", later.isoformat())
    err = refused(service, IllegalTransition, lambda: service.embargo(cid, "propose"
                                                                      if False else "reject"))
    assert "allowed from 'exited': none (final state)" in str(err)


def test_accepting_a_proposal_whose_end_has_passed_is_refused(service: CaseService, cid: str,
                                                              clock: Clock) -> None:
    service.propose_embargo(cid, clock.now + D, at=clock.now - D)
    clock.advance(days=2)
    refused(service, InvalidInput, lambda: service.embargo(cid, "accept"), field="end",
            says="has passed; propose a new end first")


# ------------------------------------------------------------------ case state
def test_record_cs(service: CaseService, cid: str, clock: Clock) -> None:
    service.add_participant(cid, "Fabrikam", [Role.VENDOR])
    v = service.record_cs(cid, CSEvent.V, "p3", reason="told them")
    assert [(e.seq, e.data, e.participant, e.reason) for e in v] == [
        (12, {"event": "V", "title": "vendor aware", "auto": False}, 3, "told them")]
    refused(service, InvalidInput, lambda: service.record_cs(cid, CSEvent.F, None),
            field="vendor", says="event F (fix ready) is per vendor")
    refused(service, InvalidInput, lambda: service.record_cs(cid, CSEvent.P, "p3"),
            field="vendor", says="event P (public aware) is case-wide")
    refused(service, InvalidInput, lambda: service.record_cs(cid, CSEvent.V, "p2"),
            field="vendor", says="p2 Sam Okafor is not a vendor")
    refused(service, InvalidInput, lambda: service.record_cs(cid, CSEvent.A, None,
                                                             at=clock.now - D),
            field="at", says="CS history runs forward in time")
    written = service.record_cs(cid, CSEvent.X, None)
    assert [(e.seq, e.data["event"], e.participant, e.data["auto"]) for e in written] == [
        (13, "X", None, False), (14, "P", None, True), (15, "V", 4, True)]
    service.record_cs(cid, CSEvent.F, "Contoso Home")
    p = people(service, cid)
    assert (p[3].vfd, p[4].vfd) == ("VFd", "Vfd")
    assert service.show(cid).case.pxa == "PXa"
    # A vendor joining a public case is aware at once.
    service.add_participant(cid, "Late Vendor", [Role.VENDOR])
    assert people(service, cid)[5].vfd == "Vfd"
    assert event_types(service, cid)[-2:] == ["participant.added", "cs.event"]
    refused(service, IllegalTransition, lambda: service.record_cs(cid, CSEvent.X, None),
            says="'X' is not allowed")


# ------------------------------------------------------------------ contact log
def test_contact_attempts_and_replies(service: CaseService, cid: str, clock: Clock) -> None:
    service.add_participant(cid, "Fabrikam", [Role.VENDOR])
    assert service.contact_attempt(cid, "p3", EMAIL, SENT, address="psirt@contoso.example",
                                   at=clock.now - 9 * D) == 1
    assert service.contact_attempt(cid, "p3", PHONE, NOREPLY, at=clock.now - 7 * D) == 2
    assert people(service, cid)[3].rm_state == "start"  # no answer yet
    assert service.contact_reply(cid, "p3", EMAIL, at=clock.now - 6 * D, reason="ack") == 1
    assert service.contact_attempt(cid, "p3", WEB, NOREPLY, at=clock.now - D) == 3
    assert service.contact_attempt(cid, "p4", EMAIL, ACK) == 1  # an acknowledged attempt
    p = people(service, cid)
    assert (p[3].rm_state, p[3].rm_at, p[3].attempts, p[3].attempts_since_reply,
            p[3].replies, p[3].channels, p[3].last_attempt_outcome) == (
        "received", clock.now - 6 * D, 3, 1, 1, "email,phone,web-form", "no-reply")
    assert (p[3].first_attempt_at, p[3].last_attempt_at, p[3].last_reply_at) == (
        clock.now - 9 * D, clock.now - D, clock.now - 6 * D)
    assert (p[4].rm_state, p[4].attempts, p[4].replies, p[4].last_reply_at) == (
        "received", 1, 1, clock.now)
    attempt = next(e for e in service.timeline(cid) if e.type == "contact.attempt")
    assert attempt.data == {"channel": "email", "outcome": "sent",
                            "address": "psirt@contoso.example"}


# ------------------------------------------------------------------ messages, signals
def test_log_message_and_observe(service: CaseService, cid: str, clock: Clock) -> None:
    inbound = service.log_message(cid, direction=Direction.INBOUND, channel=EMAIL,
                                  subject="Re: your report", participant="p3",
                                  body="Our lawyers will send a cease and desist.")
    assert re.fullmatch(r"<[0-9a-f-]{36}@cvdesk>", inbound.message_id)
    assert (inbound.participant, inbound.at, inbound.tlp) == (3, clock.now, TLP.AMBER)
    service.log_message(cid, direction=Direction.OUTBOUND, channel=EMAIL, subject="Hello",
                        body="Our lawyers will hear about it.", tlp=TLP.RED)
    service.observe(cid, SignalKind.LEAK, text="PoC posted", url="https://forum.example/t/1")
    logged = [e for e in service.timeline(cid) if e.type == "message.logged"]
    assert [e.data["flags"] for e in logged] == [
        {"legal-threat": ["our lawyers", "cease and desist"]}, {}]
    with service.db.sessions() as s:  # the sweep's index of signals on the case row
        signals = s.scalar(select(CaseRow.signals).where(CaseRow.case_id == cid))
    assert [(s["kind"], s["participant"], s["text"], s["url"], s["source"]) for s in signals] == [
        ("legal-threat", 3, "our lawyers; cease and desist", "", "message"),
        ("leak", None, "PoC posted", "https://forum.example/t/1", "observation")]
    with service.db.sessions() as s:
        rows = s.scalars(select(MessageRow).order_by(MessageRow.id)).all()
        assert [(m.direction, m.participant, m.subject, m.tlp) for m in rows] == [
            ("in", 3, "Re: your report", "AMBER"), ("out", None, "Hello", "RED")]
    refused(service, NotFound, lambda: service.observe(cid, SignalKind.HYPE, participant="p8"))


# ------------------------------------------------------------------ policy, vulns, notes
def test_policy_vulnerabilities_and_notes(service: CaseService, cid: str) -> None:
    service.set_policy(cid, "p3", 90, reason="SECURITY.md")
    assert people(service, cid)[3].policy_days == 90
    for days in (0, 3651):
        refused(service, InvalidInput, lambda d=days: service.set_policy(cid, "p3", d),
                field="days")
    service.add_vulnerability(cid, Vulnerability("Second bug", cve="CVE-2026-12345",
                                                 cwes=("CWE-79",)))
    assert [(v.title, v.cve) for v in service.show(cid).vulnerabilities] == [
        ("Missing authentication for firmware upload", None),
        ("Second bug", "CVE-2026-12345")]
    refused(service, InvalidInput, lambda: service.add_vulnerability(
        cid, Vulnerability("Again", cve="CVE-2026-12345")), field="cve",
        says=f"CVE-2026-12345 is already on {cid}")
    service.note(cid, "called the PSIRT", actor="bob")
    note = service.timeline(cid)[-1]
    assert (note.type, note.data, note.actor) == ("note.added", {"text": "called the PSIRT"},
                                                  "bob")
    refused(service, InvalidInput, lambda: service.note(cid, "   "), field="text")


# ------------------------------------------------------------------ close and reopen
CLOSED_COMMANDS: dict[str, Callable[[CaseService, str], object]] = {
    "add_participant": lambda s, c: s.add_participant(c, "X", [Role.VENDOR]),
    "rm": lambda s, c: s.rm(c, "p3", RMTrigger.RECEIVE),
    "propose_embargo": lambda s, c: s.propose_embargo(c, datetime(2027, 1, 1, tzinfo=UTC)),
    "embargo accept": lambda s, c: s.embargo(c, "accept"),
    "consent": lambda s, c: s.consent(c, "p3", ConsentTrigger.INVITE),
    "record_cs": lambda s, c: s.record_cs(c, CSEvent.A, None),
    "contact_attempt": lambda s, c: s.contact_attempt(c, "p3", EMAIL, SENT),
    "contact_reply": lambda s, c: s.contact_reply(c, "p3", EMAIL),
    "log_message": lambda s, c: s.log_message(c, direction=Direction.INBOUND, channel=EMAIL,
                                              subject="s", body="b"),
    "observe": lambda s, c: s.observe(c, SignalKind.LEAK),
    "set_policy": lambda s, c: s.set_policy(c, "p3", 30),
    "add_vulnerability": lambda s, c: s.add_vulnerability(c, Vulnerability("v")),
    "close": lambda s, c: s.close(c),
}


@pytest.fixture
def closed(service: CaseService, cid: str, clock: Clock) -> str:
    clock.advance(hours=1)
    assert service.close(cid, reason="invalid") == "closed"
    return cid


@pytest.mark.parametrize("command", list(CLOSED_COMMANDS))
def test_a_closed_case_refuses_commands(service: CaseService, closed: str,
                                        command: str) -> None:
    err = refused(service, IllegalTransition, lambda: CLOSED_COMMANDS[command](service, closed))
    assert isinstance(err, IllegalTransition)
    assert (err.model, err.state, err.allowed) == ("case", "closed", ["reopen"])


def test_close_and_reopen(service: CaseService, closed: str, clock: Clock) -> None:
    c = service.show(closed).case
    assert (c.status, c.closed_at) == ("closed", clock.now)
    assert len(service.list_cases()) == 0 and len(service.list_cases("open")) == 0
    assert [r.case_id for r in service.list_cases("closed")] == [closed]
    assert [r.case_id for r in service.list_cases(None)] == [closed]
    clock.advance(hours=1)
    assert service.close(closed, reopen=True, reason="new variant") == "open"
    c = service.show(closed).case
    assert (c.status, c.closed_at, c.last_event_at) == ("open", None, clock.now)
    assert event_types(service, closed)[-2:] == ["case.closed", "case.reopened"]
    assert [e.reason for e in service.timeline(closed)[-2:]] == ["invalid", "new variant"]
    assert service.contact_attempt(closed, "p3", EMAIL, SENT) == 1


# ------------------------------------------------------------------ one transaction
def test_several_commands_in_one_transaction(service: CaseService, cid: str,
                                             clock: Clock) -> None:
    with service.case(cid) as case:
        case.contact_attempt(3, EMAIL, SENT, at=clock.now, actor="t")
        case.contact_reply(3, EMAIL, at=clock.now, actor="t")
    assert service.show(cid).case.version == 14  # attempt, reply, implied RM receive and V
    before = db_state(service.db)
    with pytest.raises(IllegalTransition), service.case(cid) as case:
        case.note("written first", at=clock.now, actor="t")
        case.rm(3, RMTrigger.CLOSE, at=clock.now, actor="t")  # refused: nothing is kept
    assert db_state(service.db) == before


# ------------------------------------------------------------------ queries
def test_queries(service: CaseService, cid: str, clock: Clock) -> None:
    service.contact_attempt(cid, "p3", EMAIL, SENT)
    service.contact_attempt(cid, "p3", EMAIL, SENT, at=OPENED + D)  # back-dated
    timeline = service.timeline(cid)
    assert (timeline[10].type, timeline[10].at) == ("contact.attempt", OPENED + D)
    assert [e.seq for e in timeline] == [*range(1, 11), 12, 11]
    replayed = service.replay(cid.lower())
    assert replayed.case_id == cid and replayed.seq == 12
    assert service.show(cid.lower()).case.case_id == cid
    refused(service, NotFound, lambda: service.show("CVD-2026-0404"), says="no case")
    refused(service, NotFound, lambda: service.timeline("CVD-2026-0404"))
    refused(service, NotFound, lambda: service.report("VR-2611-AAAAAA"),
            says="no report 'VR-2611-AAAAAA'")


# ------------------------------------------------------------------ demo
def test_load_demo_once(service: CaseService) -> None:
    summary = load_demo(service)
    with service.db.sessions() as s:
        events = s.scalar(select(func.count()).select_from(EventRow))
        parts = s.scalar(select(func.count()).select_from(ParticipantRow))
        versions = s.scalar(select(func.sum(CaseRow.version)))
    assert (summary.cases, summary.participants, summary.events) == (16, parts, events)
    assert parts == 290 and versions == events
    cases = service.list_cases(None)
    assert len(cases) == 16 and sorted(c.status for c in cases).count("closed") == 2
    big = [c for c in cases if c.vendors_count >= 200]
    assert [(c.title, c.vendors_count, c.participants_count) for c in big] == [
        ("Heap overflow in libquill TLS record parser", 241, 244)]
    err = refused(service, DomainError, lambda: load_demo(service))
    assert type(err) is DomainError
    assert str(err).startswith("the database already has 16 case(s)")
