"""The short cuts a sweep takes (issue 9, sweep speed) say exactly what the plain code says.

Participants read for a sweep (store/mapping.py ``SweptParticipant``) have every field of
the dataclass with the value ``participant_state`` gives; the JSON a sweep stores is the
one ``json.dumps`` gives, also for findings whose actions are made per case and for
evidence shared by several findings; the early exits of the rules (no signals, too few
parties) answer as the full test would; and instants read from SQLite text are the ones
the column type gives.
"""

from __future__ import annotations

import dataclasses
import gc
import json
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from cvdesk.domain.case import Case, ParticipantState
from cvdesk.domain.cs import CSEvent
from cvdesk.domain.em import Consent
from cvdesk.domain.model import TLP, AttemptOutcome, Channel, Role
from cvdesk.domain.policy import Policy, leak_risk
from cvdesk.store.mapping import (
    PARTICIPANT_COLUMNS,
    SweptParticipant,
    participant_from_raw,
    participant_state,
    raw_instant,
    raw_json,
)
from cvdesk.store.tables import CaseRow
from cvdesk.store.types import UTCDateTime
from cvdesk.troubleshoot import RULES, diagnose
from cvdesk.troubleshoot.common import DAYS, HOURS, attempts_text, plural
from cvdesk.troubleshoot.common import day as day_text
from cvdesk.troubleshoot.finding import Finding, Phase, Severity, Verdict
from cvdesk.troubleshoot.rules import (
    SIGNAL_RULES,
    policy_conflict,
    too_many_parties,
    vendor_not_notified,
)
from cvdesk.troubleshoot.stored import facts, facts_text
from tests.troubleshoot.builders import ACTOR, T0, attempt, day, embargo, new_case

FIELDS = [f.name for f in dataclasses.fields(SweptParticipant)]

ROW = (7, 3, "Acme \u202e PSIRT", "vendor,coordinator", "Acme", "psirt@acme.example", "+1 555",
       "accepted", "signatory", "VFd", "no-reply", 4, 2, "email,phone", 1, 90,
       "2026-09-01 09:00:00", "2026-09-03 10:00:00.250000", "2026-09-01 10:00:00",
       "2026-09-20 10:00:00", "2026-09-02 11:30:00", "2026-09-02 11:30:00",
       '{"V": "2026-09-02T11:30:00+00:00", "F": "2026-09-10T08:00:00+02:00", '
       '"seq": {"V": 12, "F": 30}}', 1)


def test_a_swept_participant_has_every_field_as_participant_state_makes_it() -> None:
    assert len(ROW) == len(PARTICIPANT_COLUMNS)
    swept = participant_from_raw(ROW)
    assert isinstance(swept, SweptParticipant)
    i = PARTICIPANT_COLUMNS.index("added_at")
    plain = participant_state(*ROW[1:i], *(raw_instant(v) for v in ROW[i:i + 6]),
                              raw_json(ROW[i + 6]))
    for name in FIELDS:
        assert getattr(swept, name) == getattr(plain, name), name
    assert swept.is_vendor is True and plain.is_vendor is True
    assert swept.label == plain.label
    empty = participant_from_raw((*ROW[:16], "2026-09-01 09:00:00", None, None, None, None,
                                  None, None, 0))
    assert empty.vfd_at == {} and empty.vfd_seq == {} and empty.rm_at is None
    assert empty.is_vendor is False and empty.attempt_times == []


def test_instants_read_from_sqlite_text_are_the_column_types() -> None:
    column = CaseRow.__table__.c.next_check_at.type
    assert isinstance(column, UTCDateTime)
    for text in ("2026-10-03 13:44:45.669525", "2026-10-03 13:44:45", "1970-01-01 00:00:00"):
        got = raw_instant(text)
        want = column.process_result_value(datetime.fromisoformat(text), None)
        assert got == want and got is not None and got.tzinfo is UTC
        assert got.isoformat() == want.isoformat()
    # Text that already carries an offset is read as the plain reading did (offset dropped).
    assert raw_instant("2026-10-03 13:44:45+02:00") == datetime(2026, 10, 3, 13, 44, 45,
                                                                tzinfo=UTC)


def test_spans_are_the_timedeltas() -> None:
    for n in (0, 1, 24, 48, 90, 3650):
        assert HOURS[n] == timedelta(hours=n)
        assert DAYS[n] == timedelta(days=n)


def test_the_key_is_set_with_the_fields() -> None:
    f = Finding(problem="leak", title="t", section="6.4", severity=Severity.HIGH,
                case_id="CVD-1", phase=Phase.REMEDIATION, concerns=(), evidence=(),
                actions=())
    assert f.key == "leak:-"
    assert dataclasses.replace(f, subject=4).key == "leak:p4"
    assert "key" not in [x.name for x in dataclasses.fields(Finding)]


def _policy_case(days: list[int]) -> Case:
    case = Case.open("CVD-2026-0100", "Policies", TLP.AMBER, at=T0, actor=ACTOR)
    for i, n in enumerate(days):
        p = case.add_participant(f"Vendor {i}", [Role.VENDOR], at=T0, actor=ACTOR)
        case.set_policy(p.pid, n, at=day(1), actor=ACTOR)
    return case


def test_stored_text_of_findings_whose_actions_are_made_per_case() -> None:
    """policy_conflict words its actions with the shortest policy: equal kinds with other
    actions, and tuples whose identity is reused once freed, get their own text."""
    for shortest in (30, 45, 60, 30, 45):
        for _ in range(3):
            [f] = policy_conflict.check(_policy_case([shortest, 120]), Policy(), day(2)).findings
            assert facts_text(f) == json.dumps(facts(f))
            assert f"towards {shortest} days" in facts_text(f)
            del f
            gc.collect()


def test_evidence_shared_by_vendors_added_together_is_stored_as_json_gives_it() -> None:
    case, first = new_case()
    second = case.add_participant("Globex", [Role.VENDOR], at=T0, actor=ACTOR).pid
    third = case.add_participant("Initech", [Role.VENDOR], at=T0 + timedelta(hours=5),
                                 actor=ACTOR).pid
    found = {f.subject: f for f in vendor_not_notified.check(case, Policy(), day(3)).findings}
    assert set(found) == {first, second, third}
    assert found[first].evidence is found[second].evidence  # made once for both
    assert found[third].evidence != found[first].evidence
    for f in found.values():
        assert facts_text(f) == json.dumps(facts(f))
        assert facts_text(f) == json.dumps(facts(f))  # the kept JSON, written a second time
    assert "(72 hours)" in found[first].evidence[0]
    assert "(67 hours)" in found[third].evidence[0]


def test_rules_that_read_signals_find_nothing_without_one() -> None:
    """The engine does not ask them about a case with no signal (SIGNAL_RULES)."""
    plain, _ = new_case()
    embargoed, v = new_case()
    embargo(embargoed, 30)
    embargoed.record_cs(CSEvent.P, None, at=day(2), actor=ACTOR)
    attempt(embargoed, v, 1)
    for case in (plain, embargoed):
        assert not case.signals
        for name in SIGNAL_RULES:
            for when in (day(0), day(5), day(60)):
                verdict = RULES[name](case, Policy(), when)
                assert verdict.findings == [] and verdict.next_check is None, name
    assert set(RULES) > SIGNAL_RULES


def _too_many_parties_as_written(case: Case, policy: Policy) -> tuple[int, float] | None:
    """The rule's test without its early exit."""
    in_embargo = [x for x in case.participants.values()
                  if x.consent in (Consent.INVITED, Consent.SIGNATORY)]
    n = len(in_embargo or list(case.participants.values()))
    risk = leak_risk(n, policy.leak_probability_per_party)
    return (n, risk) if risk > policy.max_leak_risk else None


@settings(max_examples=150, deadline=None)
@given(parties=st.integers(1, 80), invited=st.integers(0, 80),
       p=st.sampled_from([0.0, 0.0005, 0.001, 0.01, 0.05, 1.0]),
       limit=st.sampled_from([0.0, 0.01, 0.05, 0.2, 0.9999, 1.0]))
def test_too_many_parties_exits_early_only_when_it_cannot_fire(
        parties: int, invited: int, p: float, limit: float) -> None:
    case = Case.open("CVD-2026-0101", "Many", TLP.AMBER, at=T0, actor=ACTOR)
    for i in range(parties):
        x = case.add_participant(f"Party {i}", [Role.VENDOR], at=T0, actor=ACTOR)
        if i < invited:
            x.consent = Consent.INVITED  # as the embargo invitation leaves it
    policy = Policy(leak_probability_per_party=p, max_leak_risk=limit)
    found = too_many_parties.check(case, policy, day(1)).findings
    expected = _too_many_parties_as_written(case, policy)
    assert (found[0].title.split(" ")[0] if found else None) == (
        str(expected[0]) if expected else None)


def test_the_demo_like_case_gives_the_same_words_twice() -> None:
    """Kept pieces (shared evidence, remembered JSON kinds) do not leak from one case or
    one time into the next."""
    case, v = new_case()
    first = [facts_text(f) for f in diagnose(case, Policy(), day(3)).findings]
    later = [facts_text(f) for f in diagnose(case, Policy(), day(30)).findings]
    again = [facts_text(f) for f in diagnose(case, Policy(), day(3)).findings]
    assert first == again
    assert first != later
    assert all(json.loads(t)["subject"] in (None, v) for t in first)


def _attempts_plain(p: ParticipantState) -> str:
    """The attempts summary as written before it kept its parts (the reference)."""
    n = p.attempts
    return (f"{n} attempt{'' if n == 1 else 's'} on {plural(len(p.channels), 'channel')} "
            f"({', '.join(sorted(c.value for c in p.channels)) or 'none'}), first "
            f"{day_text(p.first_attempt_at)}, last {day_text(p.last_attempt_at)} "
            f"({p.last_attempt_outcome or 'no outcome'})")


_INSTANTS = st.one_of(st.none(), st.datetimes(
    min_value=datetime(1, 1, 1), max_value=datetime(9999, 1, 1), timezones=st.just(UTC)))


@settings(max_examples=200, deadline=None)
@given(attempts=st.integers(0, 3),
       channels=st.frozensets(st.sampled_from(list(Channel))),
       outcome=st.one_of(st.none(), st.sampled_from(list(AttemptOutcome))),
       first=_INSTANTS, last=_INSTANTS)
def test_the_attempts_summary_says_what_the_plain_words_say(
        attempts: int, channels: frozenset[Channel], outcome: AttemptOutcome | None,
        first: datetime | None, last: datetime | None) -> None:
    p = ParticipantState(3, "Acme", frozenset({Role.VENDOR}), T0, attempts=attempts,
                         channels=channels, last_attempt_outcome=outcome,
                         first_attempt_at=first, last_attempt_at=last)
    assert attempts_text(p) == _attempts_plain(p)
    assert attempts_text(p) == _attempts_plain(p)  # the second time from the kept parts


def test_a_verdict_is_made_as_the_dataclass_would_make_it() -> None:
    a, b = Verdict(), Verdict()
    assert a.findings == [] and a.findings is not b.findings
    assert (a.next_check, a.subject_checks, a.case_check) == (None, None, None)
    assert Verdict([], T0, {3: T0}, T0) == Verdict(findings=[], next_check=T0,
                                                   subject_checks={3: T0}, case_check=T0)
