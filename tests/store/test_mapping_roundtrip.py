"""The case-to-rows mapping (cvdesk/store/mapping.py) round-trips generated cases.

Random cases are built through the domain commands (so every one obeys the models):
participants with random roles, RM, embargo and consent transitions, CS events,
contact attempts and replies, policies and observations, at times given in several
UTC offsets.  Each is written twice, once through ``CaseRepository.add`` and ``save``
(in two steps, so the projections are also updated in place) and once through the bulk
loader, and read back both ways a sweep can read it (the mapped rows, and the untyped
tuples of ``snapshot``).  Every reading must agree with a replay of the stored log on
the state the rules use, and the rules must say the same about both.
"""

from __future__ import annotations

import contextlib
import itertools
from dataclasses import fields
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cvdesk.domain.case import Case, ParticipantState
from cvdesk.domain.cs import CSEvent
from cvdesk.domain.em import ConsentTrigger
from cvdesk.domain.errors import DomainError
from cvdesk.domain.model import TLP, AttemptOutcome, Channel, Role, SignalKind
from cvdesk.domain.policy import Policy
from cvdesk.domain.rm import RMTrigger
from cvdesk.store.bulk import insert_cases
from cvdesk.store.cases import CaseRepository
from cvdesk.store.db import Database
from cvdesk.store.mapping import case_from_rows
from cvdesk.store.snapshot import due_cases, swept_cases
from cvdesk.troubleshoot import diagnose
from cvdesk.troubleshoot.stored import words

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
ZONES = [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5)),
         timezone(timedelta(hours=5, minutes=30))]
ACTOR = "prop"
NAMES = ["Acme", "Globex", "Initech", "Umbrella", "Rita", "CERT/CC", "Ac\u202eme"]

#: What the rules read of a participant (all but the raw attempt times, not projected).
PARTICIPANT_FIELDS = [f.name for f in fields(ParticipantState) if f.name != "attempt_times"]
#: What the rules read of a case.
CASE_FIELDS = ["case_id", "title", "tlp", "status", "opened_at", "closed_at", "em",
               "embargo_end", "proposed_end", "pxa", "pxa_at", "pxa_seq", "signals",
               "last_event_at", "seq"]

_numbers = itertools.count(1)

step = st.tuples(
    st.sampled_from(["participant", "attempt", "attempt", "reply", "rm", "cs", "propose",
                     "accept", "reject", "terminate", "consent", "policy", "observe"]),
    st.integers(0, 50), st.integers(0, 50), st.integers(0, 50),
    st.integers(1, 400),  # hours after the previous step
    st.sampled_from(ZONES))


def _apply(case: Case, kind: str, a: int, b: int, c: int, at: datetime) -> None:
    pids = sorted(case.participants)
    pid = pids[a % len(pids)] if pids else 1
    if kind == "participant":
        roles = [r for i, r in enumerate(Role) if (b >> i) & 1] or [Role.VENDOR]
        case.add_participant(f"{NAMES[a % len(NAMES)]} {c}", roles, at=at, actor=ACTOR,
                             organization=NAMES[b % len(NAMES)] if c % 3 == 0 else "",
                             email=f"p{c}@example.org" if c % 2 else "")
    elif kind == "attempt":
        case.contact_attempt(pid, list(Channel)[b % len(Channel)],
                             list(AttemptOutcome)[c % len(AttemptOutcome)], at=at,
                             actor=ACTOR)
    elif kind == "reply":
        case.contact_reply(pid, list(Channel)[b % len(Channel)], at=at, actor=ACTOR)
    elif kind == "rm":
        case.rm(pid, list(RMTrigger)[b % len(RMTrigger)], at=at, actor=ACTOR)
    elif kind == "cs":
        event = list(CSEvent)[b % len(CSEvent)]
        vendors = [p.pid for p in case.vendors]
        vendor = vendors[c % len(vendors)] if vendors else None
        case.record_cs(event, vendor if event.value in "VFD" else None, at=at, actor=ACTOR)
    elif kind == "propose":
        case.propose_embargo(at + timedelta(days=1 + b), at=at, actor=ACTOR)
    elif kind == "accept":
        case.accept_embargo(at=at, actor=ACTOR)
    elif kind == "reject":
        case.reject_embargo(at=at, actor=ACTOR)
    elif kind == "terminate":
        case.terminate_embargo(at=at, actor=ACTOR)
    elif kind == "consent":
        case.consent(pid, list(ConsentTrigger)[b % len(ConsentTrigger)], at=at, actor=ACTOR)
    elif kind == "policy":
        case.set_policy(pid, 1 + b * 7, at=at, actor=ACTOR)
    else:
        kinds = list(SignalKind)
        case.observe(kinds[b % len(kinds)], at=at, actor=ACTOR, text=f"seen {c}",
                     participant=pid if pids and c % 2 else None)


def build(case_id: str, steps: list[Any], upto: int | None = None,
          case: Case | None = None, start: int = 0) -> Case:
    """The case the steps make (refused steps are skipped: a refused command writes
    nothing); ``upto``/``start`` pick a part of the steps, continuing ``case``."""
    at = T0
    for _, _, _, _, hours, _ in steps[:start]:
        at += timedelta(hours=hours)
    if case is None:
        case = Case.open(case_id, f"Generated {case_id}", TLP.AMBER, at=at, actor=ACTOR)
        case.add_participant("Finder", [Role.FINDER, Role.REPORTER], at=at, actor=ACTOR)
    for kind, a, b, c, hours, zone in steps[start:upto]:
        at += timedelta(hours=hours)
        with contextlib.suppress(DomainError):
            _apply(case, kind, a, b, c, at.astimezone(zone))
    return case


def strict(value: Any) -> Any:
    """Datetimes with their UTC offset: the rules print dates in the zone they are given."""
    if isinstance(value, datetime):
        return (value, value.utcoffset())
    if isinstance(value, dict):
        return {k: strict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [strict(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {f: strict(getattr(value, f)) for f in value.__dataclass_fields__}
    return value


def assert_same(got: Case, log: Case, how: str) -> None:
    for name in CASE_FIELDS:
        assert strict(getattr(got, name)) == strict(getattr(log, name)), (how, name)
    assert sorted(got.participants) == sorted(log.participants), how
    for pid, p in log.participants.items():
        for name in PARTICIPANT_FIELDS:
            assert strict(getattr(got.participants[pid], name)) == strict(
                getattr(p, name)), (how, pid, name)
    policy = Policy()
    assert got.last_event_at is not None
    for when in (got.last_event_at, got.last_event_at + timedelta(days=3),
                 got.last_event_at + timedelta(days=50)):
        mine, theirs = diagnose(got, policy, when), diagnose(log, policy, when)
        assert [words(f) for f in mine.findings] == [words(f) for f in theirs.findings], how
        assert mine.next_check == theirs.next_check, how


def read_back(db: Database, case_id: str) -> None:
    """Every way a case is read from its rows agrees with the replay of its stored log."""
    with db.sessions() as session:
        repo = CaseRepository(session)
        row = repo.case_row(case_id)
        log = Case.replay(row.case_id, repo.events(row.id))
        assert_same(case_from_rows(row, repo.participants(row.id)), log, "mapped rows")
        raw = [r for r in due_cases(session, T0, case_id) if r[1] == case_id]
        assert len(raw) == 1  # a new case is due (needs_sweep)
        [swept] = swept_cases(session, raw)
        assert_same(swept, log, "sweep tuples")


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=40), cut=st.integers(0, 40))
def test_generated_cases_round_trip_through_the_rows(db: Database, steps: list[Any],
                                                     cut: int) -> None:
    n = next(_numbers)
    saved, bulk = f"CVD-2026-{n:05d}", f"CVD-2027-{n:05d}"
    # add() with the first part of the log, then save() the rest on the replayed case.
    with db.transaction() as session:
        CaseRepository(session).add(build(saved, steps, upto=cut))
    with db.transaction() as session:
        repo = CaseRepository(session)
        row, case = repo.load(saved)
        repo.save(row, build(saved, steps, case=case, start=cut))
    with db.transaction() as session:
        assert insert_cases(session, [build(bulk, steps)]) == 1
    for case_id in (saved, bulk):
        read_back(db, case_id)
    # Both writers stored the same state (the case ids aside).
    whole = build("CVD-X", steps)
    with db.sessions() as session:
        repo = CaseRepository(session)
        for case_id in (saved, bulk):
            row = repo.case_row(case_id)
            log = Case.replay(case_id, repo.events(row.id))
            assert len(log.participants) == len(whole.participants)
            assert log.seq == whole.seq
