"""DoctorService on SQLite and PostgreSQL: the stored, incremental sweep (which cases are
re-checked and when), finding de-duplication and resolution, acknowledge and snooze, and
the preview that judges the logs as of any time and stores nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from cvdesk.domain.errors import InvalidInput, NotFound
from cvdesk.domain.model import AttemptOutcome, Channel, Report, ReporterInfo
from cvdesk.domain.rm import RMTrigger
from cvdesk.services import CaseService
from cvdesk.services.doctor import DoctorService, SweepResult, finding_data
from cvdesk.store.findings import ACKNOWLEDGED, OPEN, RESOLVED, SNOOZED
from cvdesk.store.tables import CaseRow, FindingRow
from cvdesk.troubleshoot import RULES, diagnose
from tests.conftest import Clock

EMAIL, WEB = Channel.EMAIL, Channel.WEB_FORM
TEN = {k: RULES[k] for k in (
    "vendor-unreachable", "no-acknowledgement", "vendor-unresponsive", "stopped-replying",
    "active-exploitation", "public-before-date", "vendor-declined",
    "embargo-ending-vendor-not-ready", "too-many-parties", "case-stalled")}
D = timedelta(days=1)
SEC = timedelta(seconds=1)


@dataclass
class Desk:
    service: CaseService
    clock: Clock
    doctor: DoctorService
    t0: datetime  # the clock when the cases were built
    unresponsive: str  # Globex replied once, then ignored two attempts (6.2 met)
    awaiting: str  # Initech was contacted a day ago (acknowledgement due tomorrow)
    declined: str  # Soylent deferred the report without a fix
    closed: str  # a closed case that was never contacted


@pytest.fixture
def desk(service: CaseService, clock: Clock) -> Desk:
    now = clock.now

    def submit(title: str, description: str, reporter: str, vendor: str,
               at: datetime) -> str:
        return service.submit_report(Report(title, description, ReporterInfo(reporter),
                                            vendors=(vendor,)), at=at).case_id

    u = submit("SQL injection in the ticket search", "The helpdesk search box passes its "
               "input straight into a database query.", "Ravi", "Globex", now - 60 * D)
    service.contact_attempt(u, "Globex", EMAIL, AttemptOutcome.SENT, at=now - 60 * D)
    service.contact_reply(u, "Globex", EMAIL, at=now - 59 * D)
    service.contact_attempt(u, "Globex", EMAIL, AttemptOutcome.NO_REPLY, at=now - 40 * D)
    service.contact_attempt(u, "Globex", WEB, AttemptOutcome.NO_REPLY, at=now - 20 * D)
    a = submit("Hard-coded root password in camera firmware", "Every camera image ships "
               "one fixed root password for telnet.", "Lena", "Initech", now - 2 * D)
    service.contact_attempt(a, "Initech", EMAIL, AttemptOutcome.SENT, at=now - D)
    d = submit("Command injection in fridge diagnostics", "A form field on the fridge "
               "diagnostics page reaches a shell.", "Oskar", "Soylent", now - 10 * D)
    service.contact_attempt(d, "Soylent", EMAIL, AttemptOutcome.ACKNOWLEDGED, at=now - 9 * D)
    service.rm(d, "Soylent", RMTrigger.VALIDATE, at=now - 8 * D)
    service.rm(d, "Soylent", RMTrigger.DEFER, at=now - 5 * D)
    c = submit("Clickjacking on a marketing site", "Static brochure pages can be framed "
               "by any other origin.", "Anon", "Stark", now - 90 * D)
    service.close(c, at=now - 80 * D, reason="not a vulnerability")
    return Desk(service, clock, DoctorService(service.db, service.settings, clock=clock),
                now, u, a, d, c)


# ------------------------------------------------------------------------------ helpers
def index(desk: Desk) -> dict[str, tuple[bool, datetime | None, datetime | None]]:
    """The sweep index of every case: (needs_sweep, next_check_at, swept_at)."""
    with desk.service.db.sessions() as s:
        return {r.case_id: (r.needs_sweep, r.next_check_at, r.swept_at)
                for r in s.scalars(select(CaseRow))}


def rows(desk: Desk) -> list[dict[str, Any]]:
    with desk.service.db.sessions() as s:
        result = s.execute(select(FindingRow, CaseRow.case_id)
                           .join(CaseRow, CaseRow.id == FindingRow.case_pk)
                           .order_by(FindingRow.id))
        return [{"id": f.id, "case_id": cid, "key": f.key, "status": f.status,
                 "first_seen_at": f.first_seen_at, "last_seen_at": f.last_seen_at,
                 "resolved_at": f.resolved_at, "snoozed_until": f.snoozed_until,
                 "handled_by": f.handled_by, "handled_reason": f.handled_reason}
                for f, cid in result]


def count_rows(desk: Desk) -> int:
    with desk.service.db.sessions() as s:
        return s.scalar(select(func.count()).select_from(FindingRow)) or 0


def from_log(desk: Desk, case_id: str, at: datetime, rules: Any = RULES) -> Any:
    """What the rules say about the case's full log at ``at``."""
    return diagnose(desk.service.replay(case_id), desk.service.settings.policy, at, rules)


def shown(result: SweepResult, rules: Any = TEN) -> list[tuple[str, str]]:
    """(case, key) of the listed findings of the rules under test, in listing order."""
    return [(f.case_id, f.data["key"]) for f in result.findings if f.data["problem"] in rules]


def find(result: SweepResult, case_id: str, key: str) -> Any:
    [hit] = [f for f in result.findings if f.case_id == case_id and f.data["key"] == key]
    return hit


def swept_cases(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    return {cid for cid in after if after[cid][2] != before[cid][2]}


# ------------------------------------------------------------------------- the sweep
def test_first_sweep_checks_every_open_case_and_stores_what_the_log_says(desk: Desk) -> None:
    now = desk.t0
    assert {cid: ix[0] for cid, ix in index(desk).items()} == dict.fromkeys(
        (desk.unresponsive, desk.awaiting, desk.declined, desk.closed), True)
    first = desk.doctor.sweep()
    assert (first.at, first.swept, first.open_cases) == (now, 3, 3)
    assert sorted(shown(first)) == [(desk.unresponsive, "vendor-unresponsive:p3"),
                                    (desk.declined, "vendor-declined:p3")]
    assert all(f.status == OPEN and f.id is not None and f.first_seen_at == now
               for f in first.findings)
    levels = [f.data["severity_level"] for f in first.findings]
    assert levels == sorted(levels, reverse=True)
    # what is stored is exactly what the rules say about each log
    for cid in (desk.unresponsive, desk.awaiting, desk.declined):
        expected = from_log(desk, cid, now)
        assert [f.data for f in first.findings if f.case_id == cid] == sorted(
            (finding_data(f) for f in expected.findings),
            key=lambda d: (-d["severity_level"], d["key"]))
        assert first.next_checks[cid] == expected.next_check == index(desk)[cid][1]
    # ... and the next checks of the rules under test come from the logs' dates
    assert from_log(desk, desk.unresponsive, now, TEN).next_check == now + 10 * D  # stalled
    assert from_log(desk, desk.awaiting, now, TEN).next_check == now + D  # 48 h after
    assert from_log(desk, desk.declined, now, TEN).next_check == now + 25 * D  # stalled
    unresponsive = find(first, desk.unresponsive, "vendor-unresponsive:p3")
    assert unresponsive.case_title == "SQL injection in the ticket search"
    assert unresponsive.data["evidence"][2:] == [
        "59 days silent (policy: 14)", "no embargo in force; 42+ days since the last reply"]
    ix = index(desk)
    assert all(ix[c][:1] == (False,) and ix[c][2] == now
               for c in (desk.unresponsive, desk.awaiting, desk.declined))
    assert ix[desk.closed][2] is None  # closed: never swept

    second = desk.doctor.sweep()  # same time, nothing changed
    assert (second.swept, second.open_cases) == (0, 3)
    assert [(f.id, f.status, f.data) for f in second.findings] == [
        (f.id, f.status, f.data) for f in first.findings]
    assert second.next_checks == first.next_checks
    assert index(desk) == ix
    assert count_rows(desk) == len(first.findings)


def test_a_new_event_rechecks_only_that_case(desk: Desk) -> None:
    first = desk.doctor.sweep()
    stored = {r["id"]: r for r in rows(desk)}
    before = index(desk)
    desk.clock.advance(hours=1)
    desk.service.note(desk.declined, "asked the vendor for its reasons in writing")
    assert index(desk)[desk.declined][0] is True
    again = desk.doctor.sweep()
    after = index(desk)
    assert again.swept == 1 and swept_cases(before, after) == {desk.declined}
    assert after[desk.declined] == (
        False, from_log(desk, desk.declined, desk.clock.now).next_check, desk.clock.now)
    # the note moved the 'stalled' check: 30 days after it
    assert from_log(desk, desk.declined, desk.clock.now, TEN).next_check == (
        desk.clock.now + 30 * D)
    assert [f.id for f in again.findings] == [f.id for f in first.findings]  # de-duplicated
    for r in rows(desk):
        old = stored[r["id"]]
        assert r["first_seen_at"] == old["first_seen_at"]
        # Nothing in them changed, so they are not rewritten: the case's swept_at (above)
        # says when they were last confirmed.
        assert r["last_seen_at"] == old["last_seen_at"]


def test_clock_reaching_next_check_rechecks_only_the_due_cases(desk: Desk) -> None:
    first = desk.doctor.sweep()
    due = index(desk)[desk.awaiting][1]
    assert due == first.next_checks[desk.awaiting] == desk.t0 + D
    desk.clock.now = due - SEC
    assert desk.doctor.sweep().swept == 0
    before = index(desk)
    desk.clock.now = due
    ack = desk.doctor.sweep()
    assert ack.swept == 1 and swept_cases(before, index(desk)) == {desk.awaiting}
    late = find(ack, desk.awaiting, "no-acknowledgement:p3")
    assert late.first_seen_at == due and late.status == OPEN
    assert late.data["evidence"] == [
        "1 attempt on 1 channel (email), first 2026-11-01, last 2026-11-01 (sent)",
        "48 hours since the first attempt, no acknowledgement (policy window 48 h)"]
    assert index(desk)[desk.awaiting][1] == from_log(desk, desk.awaiting, due).next_check

    # jump past the next checks of two cases but not the third
    ix = index(desk)
    desk.clock.now = desk.t0 + 26 * D
    expected = {cid for cid, (_, nxt, _) in ix.items()
                if cid != desk.closed and nxt is not None and nxt <= desk.clock.now}
    assert expected == {desk.unresponsive, desk.declined}
    later = desk.doctor.sweep()
    assert later.swept == 2 and swept_cases(ix, index(desk)) == expected
    assert (desk.unresponsive, "case-stalled:-") in shown(later)
    assert (desk.declined, "case-stalled:-") in shown(later)
    assert (desk.awaiting, "case-stalled:-") not in shown(later)  # not looked at, not due


def test_a_resolved_cause_resolves_the_finding(desk: Desk) -> None:
    first = desk.doctor.sweep()
    gone = find(first, desk.unresponsive, "vendor-unresponsive:p3")
    desk.clock.advance(hours=2)
    desk.service.contact_reply(desk.unresponsive, "Globex", EMAIL)
    fixed = desk.doctor.sweep()
    assert fixed.swept == 1
    assert [f for f in fixed.findings if f.case_id == desk.unresponsive] == []
    assert gone.id not in [f.id for f in desk.doctor.sweep(show_handled=True).findings]
    [row] = [r for r in rows(desk) if r["id"] == gone.id]
    assert (row["status"], row["resolved_at"]) == (RESOLVED, desk.clock.now)
    with pytest.raises(InvalidInput, match="resolved already"):
        desk.doctor.handle(gone.id, ACKNOWLEDGED, reason="x", actor="t")
    # the vendor goes quiet again: a new finding, not the resolved one re-opened
    desk.clock.advance(days=1)
    desk.service.contact_attempt(desk.unresponsive, "Globex", EMAIL, AttemptOutcome.NO_REPLY)
    desk.clock.advance(days=1)
    desk.service.contact_attempt(desk.unresponsive, "Globex", WEB, AttemptOutcome.NO_REPLY)
    replied = desk.t0 + timedelta(hours=2)
    desk.clock.now = replied + 42 * D - SEC
    almost = desk.doctor.sweep()
    assert sorted(k for c, k in shown(almost) if c == desk.unresponsive) == [
        "case-stalled:-", "stopped-replying:p3"]
    assert index(desk)[desk.unresponsive][1] == replied + 42 * D
    desk.clock.now = replied + 42 * D
    due = desk.doctor.sweep()
    assert sorted(k for c, k in shown(due) if c == desk.unresponsive) == [
        "case-stalled:-", "vendor-unresponsive:p3"]
    again = find(due, desk.unresponsive, "vendor-unresponsive:p3")
    assert again.id != gone.id and again.first_seen_at == desk.clock.now
    assert [r["status"] for r in rows(desk) if r["id"] == gone.id] == [RESOLVED]


def test_acknowledge_hides_a_finding_until_asked_for(desk: Desk) -> None:
    first = desk.doctor.sweep()
    target = find(first, desk.unresponsive, "vendor-unresponsive:p3")
    handled = desk.doctor.handle(target.id, ACKNOWLEDGED, reason="phoning them Monday",
                                 actor="alice")
    assert (handled.id, handled.status, handled.handled_reason, handled.case_id) == (
        target.id, ACKNOWLEDGED, "phoning them Monday", desk.unresponsive)
    listed = desk.doctor.sweep()
    assert target.id not in [f.id for f in listed.findings]
    assert [f.id for f in listed.findings] == [f.id for f in first.findings
                                               if f.id != target.id]
    everything = desk.doctor.sweep(show_handled=True)
    assert [f.id for f in everything.findings] == [f.id for f in first.findings]
    seen = next(f for f in everything.findings if f.id == target.id)
    assert (seen.status, seen.handled_reason) == (ACKNOWLEDGED, "phoning them Monday")
    assert [r["handled_by"] for r in rows(desk) if r["id"] == target.id] == ["alice"]
    # re-checking the case (cause still there) keeps it acknowledged
    desk.clock.advance(hours=1)
    desk.service.note(desk.unresponsive, "left a voicemail")
    assert desk.doctor.sweep().swept == 1
    assert target.id not in [f.id for f in desk.doctor.current(at=desk.clock.now).findings]
    assert next(f for f in desk.doctor.current(at=desk.clock.now, show_handled=True).findings
                if f.id == target.id).status == ACKNOWLEDGED


def test_a_snoozed_finding_comes_back_when_the_snooze_ends(desk: Desk) -> None:
    first = desk.doctor.sweep()
    target = find(first, desk.declined, "vendor-declined:p3")
    assert index(desk)[desk.declined][1] == desk.t0 + 25 * D
    until = desk.t0 + 2 * D
    snoozed = desk.doctor.handle(target.id, SNOOZED, reason="vendor meeting Thursday",
                                 actor="bob", until=until)
    assert (snoozed.status, snoozed.snoozed_until) == (SNOOZED, until)
    assert index(desk)[desk.declined][1] == until  # the case wakes up with the snooze
    assert target.id not in [f.id for f in desk.doctor.sweep().findings]
    shown_all = desk.doctor.sweep(show_handled=True)
    assert next(f for f in shown_all.findings if f.id == target.id).snoozed_until == until
    # a sweep caused by a new event keeps the wake-up time
    desk.clock.advance(days=1)
    desk.service.note(desk.declined, "meeting confirmed")
    before = index(desk)
    assert desk.doctor.sweep().swept == 2
    assert swept_cases(before, index(desk)) == {desk.declined, desk.awaiting}  # ack due too
    assert index(desk)[desk.declined][:2] == (False, until)
    assert [r["status"] for r in rows(desk) if r["id"] == target.id] == [SNOOZED]
    desk.clock.now = until - SEC
    before = index(desk)
    desk.doctor.sweep()
    assert desk.declined not in swept_cases(before, index(desk))
    assert target.id not in [f.id for f in desk.doctor.current(at=desk.clock.now).findings]
    desk.clock.now = until
    before = index(desk)
    woke = desk.doctor.sweep()
    assert swept_cases(before, index(desk)) == {desk.declined}
    back = next(f for f in woke.findings if f.id == target.id)
    assert (back.status, back.first_seen_at) == (OPEN, desk.t0)
    assert index(desk)[desk.declined][1] == from_log(desk, desk.declined, until).next_check


def test_snooze_wakes_a_case_that_has_no_next_check(desk: Desk) -> None:
    desk.clock.now = desk.t0 + 60 * D  # every clock-driven rule has fired on this case
    desk.doctor.sweep()
    assert from_log(desk, desk.declined, desk.clock.now, TEN).next_check is None
    target = find(desk.doctor.current(at=desk.clock.now), desk.declined, "case-stalled:-")
    nxt = index(desk)[desk.declined][1]
    until = desk.clock.now + 3 * D
    desk.doctor.handle(target.id, SNOOZED, reason="holiday", actor="t", until=until)
    assert index(desk)[desk.declined][1] == (until if nxt is None else min(nxt, until))
    desk.clock.now = until
    assert target.id in [f.id for f in desk.doctor.sweep().findings]


def test_handle_rejects_bad_requests(desk: Desk) -> None:
    first = desk.doctor.sweep()
    target = find(first, desk.declined, "vendor-declined:p3")
    now = desk.clock.now
    with pytest.raises(NotFound, match="99999"):
        desk.doctor.handle(99999, ACKNOWLEDGED, reason="x", actor="t")
    with pytest.raises(NotFound):
        desk.doctor.handle(99999, SNOOZED, reason="x", actor="t", until=now + D)
    for reason in ("", "   "):
        with pytest.raises(InvalidInput, match=r"^reason: "):
            desk.doctor.handle(target.id, ACKNOWLEDGED, reason=reason, actor="t")
        with pytest.raises(InvalidInput, match=r"^reason: "):
            desk.doctor.handle(target.id, SNOOZED, reason=reason, actor="t", until=now + D)
    with pytest.raises(InvalidInput, match="needs an end"):
        desk.doctor.handle(target.id, SNOOZED, reason="x", actor="t")
    for past in (now, now - SEC, now - 10 * D):
        with pytest.raises(InvalidInput, match="not in the future"):
            desk.doctor.handle(target.id, SNOOZED, reason="x", actor="t", until=past)
    with pytest.raises(InvalidInput, match="time zone"):
        desk.doctor.handle(target.id, SNOOZED, reason="x", actor="t",
                           until=(now + D).replace(tzinfo=None))
    # nothing was changed by the refused requests
    [row] = [r for r in rows(desk) if r["id"] == target.id]
    assert (row["status"], row["handled_reason"], row["snoozed_until"]) == (OPEN, "", None)
    assert index(desk)[desk.declined][1] == first.next_checks[desk.declined]


# ----------------------------------------------------------------------------- preview
def test_preview_stores_nothing_and_judges_the_log_up_to_at(desk: Desk) -> None:
    now = desk.t0
    ix = index(desk)
    at_now = desk.doctor.preview(at=now)
    assert count_rows(desk) == 0 and index(desk) == ix
    assert {f.status for f in at_now.findings} == {"preview"}
    assert {f.id for f in at_now.findings} == {None}
    assert sorted(shown(at_now)) == [(desk.unresponsive, "vendor-unresponsive:p3"),
                                     (desk.declined, "vendor-declined:p3")]
    assert at_now.open_cases == 3 and at_now.swept == 3
    # the past: only the Globex case existed, and it had just had its reply
    past = desk.t0 - 50 * D
    then = desk.doctor.preview(at=past)
    assert then.at == past and set(then.next_checks) == {desk.unresponsive}
    assert shown(then) == []
    assert then.next_checks[desk.unresponsive] == desk.t0 - 29 * D  # stalled: reply + 30
    # a month later: one unanswered attempt since the reply is not silence yet (6.3)
    one = desk.doctor.preview(at=desk.t0 - 30 * D, case_id=desk.unresponsive)
    assert set(one.next_checks) == {desk.unresponsive}
    assert shown(one) == []
    assert one.next_checks[desk.unresponsive] == desk.t0 - 10 * D  # stalled: attempt + 30
    # the second unanswered attempt: stopped replying, until the 6.2 test takes over
    two = desk.doctor.preview(at=desk.t0 - 20 * D, case_id=desk.unresponsive)
    assert shown(two) == [(desk.unresponsive, "stopped-replying:p3")]
    assert find(two, desk.unresponsive, "stopped-replying:p3").data["evidence"] == [
        "last reply 2026-09-04, 39 days ago (policy: 14)",
        "2 attempts since, last 2026-10-13 (policy: at least 2)"]
    assert two.next_checks[desk.unresponsive] == desk.t0 - 17 * D  # reply + 42 days
    # the future: tomorrow the acknowledgement is overdue
    tomorrow = desk.doctor.preview(at=now + D)
    late = find(tomorrow, desk.awaiting, "no-acknowledgement:p3")
    assert late.data["evidence"][1] == (
        "48 hours since the first attempt, no acknowledgement (policy window 48 h)")
    with pytest.raises(InvalidInput, match="time zone"):
        desk.doctor.preview(at=now.replace(tzinfo=None))
    with pytest.raises(NotFound):
        desk.doctor.preview(at=now, case_id="CVD-1999-0001")
    assert count_rows(desk) == 0 and index(desk) == ix
    # preview and sweep agree on the present
    swept = desk.doctor.sweep()
    key = lambda f: (f.case_id, f.data["key"])  # noqa: E731
    assert sorted((key(f), f.data) for f in swept.findings) == sorted(
        (key(f), f.data) for f in at_now.findings)
    assert swept.next_checks == at_now.next_checks
    stored = count_rows(desk)
    desk.doctor.preview(at=now + 100 * D)
    assert count_rows(desk) == stored


# ------------------------------------------------------------------------- closed cases
def test_closed_cases_are_never_swept(desk: Desk) -> None:
    first = desk.doctor.sweep()
    assert desk.closed not in first.next_checks
    assert all(f.case_id != desk.closed for f in first.findings)
    assert desk.doctor.sweep(case_id=desk.closed).swept == 0
    desk.clock.advance(days=400)
    desk.doctor.sweep()
    assert index(desk)[desk.closed][2] is None
    assert [r for r in rows(desk) if r["case_id"] == desk.closed] == []
    # preview, too, leaves a case alone once it is closed, but judges it while it was open
    assert desk.doctor.preview(at=desk.clock.now, case_id=desk.closed).next_checks == {}
    assert desk.doctor.preview(at=desk.clock.now, case_id=desk.closed).findings == ()
    was_open = desk.doctor.preview(at=desk.t0 - 85 * D, case_id=desk.closed)
    assert set(was_open.next_checks) == {desk.closed}


def test_closing_a_case_hides_its_findings_and_reopening_brings_them_back(desk: Desk) -> None:
    first = desk.doctor.sweep()
    target = find(first, desk.unresponsive, "vendor-unresponsive:p3")
    desk.clock.advance(hours=1)
    desk.service.close(desk.unresponsive, reason="handed to a coordinator")
    before = index(desk)
    after_close = desk.doctor.sweep(show_handled=True)
    assert desk.unresponsive not in swept_cases(before, index(desk))
    assert all(f.case_id != desk.unresponsive for f in after_close.findings)
    assert desk.unresponsive not in after_close.next_checks and after_close.open_cases == 2
    desk.clock.advance(hours=1)
    desk.service.close(desk.unresponsive, reopen=True, reason="coordinator gave it back")
    reopened = desk.doctor.sweep()
    assert reopened.swept == 1
    assert find(reopened, desk.unresponsive, "vendor-unresponsive:p3").id == target.id


def test_sweep_of_one_case(desk: Desk) -> None:
    one = desk.doctor.sweep(case_id=desk.awaiting.lower())
    assert one.swept == 1 and set(one.next_checks) == {desk.awaiting}
    ix = index(desk)
    assert ix[desk.awaiting][0] is False
    assert ix[desk.unresponsive][0] is True and ix[desk.declined][0] is True
    assert desk.doctor.sweep().swept == 2
    with pytest.raises(NotFound):
        desk.doctor.sweep(case_id="CVD-1999-0001")
