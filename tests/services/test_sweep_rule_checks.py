"""A sweep that asks only the rules (and participants) whose check has come stores what a
sweep asking every rule stores (issue 9: the sweep a day later), on both backends.

Two identical sets of cases live through the same events, snoozes and acknowledgements;
before every sweep the twins of the second set are marked as changed, so they are
asked by every rule each time.  After every sweep both sets hold the same findings
(words, status, severity, first and last seen, resolved), and the same next checks.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

import cvdesk.services.doctor as doctor_module
from cvdesk.domain.model import AttemptOutcome, Channel, Report, ReporterInfo, Role
from cvdesk.services import CaseService
from cvdesk.services.doctor import DoctorService
from cvdesk.store.findings import ACKNOWLEDGED, SNOOZED
from cvdesk.store.tables import CaseRow, FindingRow
from tests.conftest import Clock

VENDORS = ("Acme", "Globex", "Initech", "Umbrella")


#: Reports with nothing in common, so that none looks like another (6.5).
WORDS = ("overflow heap parser", "injection ticket search", "traversal archive upload",
         "forgery session cookie")


def twins(service: CaseService) -> list[tuple[str, str]]:
    cases = [service.submit_report(Report(words.title(), words, ReporterInfo("Rita")),
                                   actor="t").case_id for words in WORDS]
    return [(cases[0], cases[1]), (cases[2], cases[3])]


def both(pairs: list[tuple[str, str]], act: Any) -> None:
    for a, b in pairs:
        act(a)
        act(b)


def state(service: CaseService, pairs: list[tuple[str, str]]) -> tuple[Any, Any]:
    mine, theirs = [], []
    with service.db.sessions() as s:
        for a, b in pairs:
            for cid, into in ((a, mine), (b, theirs)):
                case = s.scalars(select(CaseRow).where(CaseRow.case_id == cid)).one()
                rows = s.scalars(select(FindingRow).where(FindingRow.case_pk == case.id)
                                 .order_by(FindingRow.key, FindingRow.id)).all()
                into.append((case.next_check_at, [
                    (r.key, r.status, r.severity, r.first_seen_at, r.last_seen_at,
                     r.resolved_at, r.snoozed_until,
                     {k: v for k, v in r.data.items() if k != "case_id"}) for r in rows]))
    return mine, theirs


@pytest.mark.parametrize("seed", [1])
def test_asking_only_the_rules_due_stores_what_asking_every_rule_stores(
        service: CaseService, clock: Clock, monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    read: list[Any] = []
    real = doctor_module.swept_cases
    monkeypatch.setattr(doctor_module, "swept_cases",
                        lambda s, rows, only=None: read.append(only) or real(s, rows, only))
    doctor = DoctorService(service.db, service.settings, clock=clock)
    pairs = twins(service)
    forced = [b for _, b in pairs]

    def sweep() -> None:
        with service.db.transaction() as s:
            s.execute(update(CaseRow).where(CaseRow.case_id.in_(forced))
                      .values(needs_sweep=True))
        doctor.sweep()
        mine, theirs = state(service, pairs)
        assert mine == theirs

    both(pairs, lambda c: [service.add_participant(c, v, [Role.VENDOR]) for v in VENDORS])
    both(pairs, lambda c: service.contact_attempt(c, "Acme", Channel.EMAIL,
                                                  AttemptOutcome.SENT))
    both(pairs, lambda c: service.contact_attempt(c, "Globex", Channel.EMAIL,
                                                  AttemptOutcome.SENT))
    both(pairs, lambda c: service.contact_reply(c, "Acme", Channel.EMAIL))
    both(pairs, lambda c: service.contact_reply(c, "Rita", Channel.EMAIL))
    sweep()
    for hours in (1, 23, 30):  # the vendors not yet notified, then not acknowledging
        clock.advance(hours=hours)
        sweep()
    clock.advance(days=2)
    a, b = pairs[0]
    for cid in (a, b):
        for who in ("Acme", "Rita"):
            for channel in (Channel.EMAIL, Channel.PHONE):
                service.contact_attempt(cid, who, channel, AttemptOutcome.NO_REPLY)
    sweep()
    # Snooze one finding and acknowledge another, the same in both twins.
    found = {f.data["key"]: f for f in doctor.current(at=clock.now).findings
             if f.case_id == a}
    twin = {f.data["key"]: f for f in doctor.current(at=clock.now).findings
            if f.case_id == b}
    snoozed, acked = sorted(found)[:2]
    for side in (found, twin):
        doctor.handle(side[snoozed].id, SNOOZED, reason="wait", actor="t",
                      until=clock.now + timedelta(days=3))
        doctor.handle(side[acked].id, ACKNOWLEDGED, reason="seen", actor="t")
    sweep()
    for days in (1, 2, 1, 5, 7, 4, 10):
        clock.advance(days=days)
        sweep()
        if days == 5:  # an embargo, so that its end and the draft come due later
            end = clock.now + timedelta(days=20)
            both(pairs[1:], lambda c, end=end: service.propose_embargo(c, end))
            both(pairs[1:], lambda c: service.embargo(c, "accept"))
            sweep()
    for days in (5, 6, 3, 10, 30):
        clock.advance(days=days)
        sweep()
    partial = [only for only in read if only]
    assert partial, "no sweep asked a case in part"
    assert any(not pids for only in partial for pids in only.values())  # no participant
    assert any(pids for only in partial for pids in only.values())  # some of them
