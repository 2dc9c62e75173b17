"""Findings are stored as facts (counts of days and hours as pieces, troubleshoot/timed.py)
and worded when read.  Worded for the rule's own time, the facts give exactly the rule's
words; their JSON text, written from remembered pieces, is the one json.dumps gives; and
read later, the counts move as the rule's own words would."""

from __future__ import annotations

import json
from datetime import timedelta

from cvdesk.domain.case import Case
from cvdesk.domain.policy import Policy
from cvdesk.services import CaseService
from cvdesk.store.cases import CaseRepository
from cvdesk.troubleshoot import diagnose
from cvdesk.troubleshoot.stored import facts, facts_text, worded, words
from cvdesk.troubleshoot.timed import Timed
from tests.conftest import Clock
from tests.troubleshoot.builders import ACTOR, attempt, day, embargo, new_case, reply

OFFSETS = [timedelta(0), timedelta(hours=5), timedelta(days=1, hours=1), timedelta(days=30),
           timedelta(days=400)]


def check_forms(case: Case, policy: Policy, when: list) -> int:  # type: ignore[type-arg]
    timed = 0
    for now in when:
        for f in diagnose(case, policy, now).findings:
            stored = facts(f)
            assert facts_text(f) == json.dumps(stored)
            assert worded(json.loads(facts_text(f)), now) == words(f)
            assert all(e.__class__ is str for e in words(f)["evidence"])
            timed += sum(isinstance(e, Timed) for e in f.evidence)
    return timed


def test_demo_findings_stored_as_facts_read_back_as_the_rules_words(
        demo_service: CaseService, clock: Clock) -> None:
    policy = demo_service.settings.policy
    timed = 0
    with demo_service.db.sessions() as session:
        repo = CaseRepository(session)
        for row in repo.list_cases("open"):
            case = Case.replay(row.case_id, repo.events(row.id))
            timed += check_forms(case, policy, [clock.now + dt for dt in OFFSETS])
    assert timed > 10  # the demo has findings that count time


def test_counts_and_the_embargo_wording_follow_the_time_of_reading() -> None:
    """An embargo ended early, then its agreed end passes while the vendor stays silent:
    the stored facts stay the same, and worded later they say what the rule says then."""
    case, v = new_case()
    attempt(case, v, 0)
    reply(case, v, 1)
    embargo(case, 80, at=1)
    attempt(case, v, 5)
    attempt(case, v, 10)
    case.terminate_embargo(at=day(20), actor=ACTOR, reason="ended early")
    policy = Policy()
    early = day(60)
    first = {f.key: facts(f) for f in diagnose(case, policy, early).findings}
    assert "vendor-unresponsive:p2" in first
    for later in (day(61), day(79), day(80), day(95)):
        now = {f.key: f for f in diagnose(case, policy, later).findings}
        assert facts(now["vendor-unresponsive:p2"]) == first["vendor-unresponsive:p2"]
        assert worded(first["vendor-unresponsive:p2"], later) == words(
            now["vendor-unresponsive:p2"])
    assert "ended before its agreed end" in worded(first["vendor-unresponsive:p2"],
                                                   day(79))["evidence"][3]
    assert "has passed" in worded(first["vendor-unresponsive:p2"], day(80))["evidence"][3]
    check_forms(case, policy, [early, day(80), day(200)])
