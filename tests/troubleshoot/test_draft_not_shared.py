"""draft-not-shared (6.10: share the draft 1-2 weeks before publication): it reads the
``advisory.previewed`` event, from the log and, in a sweep, from the case row."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cvdesk.domain.cs import CSEvent
from cvdesk.domain.policy import Policy
from cvdesk.services.cases import CaseService
from cvdesk.services.doctor import DoctorService
from cvdesk.services.publication import PublicationService
from cvdesk.settings import load_settings
from cvdesk.store.cases import CaseRepository
from cvdesk.store.snapshot import case_from_rows, due_cases, swept_cases
from cvdesk.troubleshoot import Severity
from cvdesk.troubleshoot.rules import RULES, draft_not_shared
from tests.conftest import Clock
from tests.troubleshoot.builders import ACTOR, SEC, day, embargo, iso, new_case, only, quiet

P = Policy()


def test_fires_14_days_ahead_and_is_high_inside_the_last_7() -> None:
    case, _ = new_case()
    embargo(case, end=40)
    quiet(draft_not_shared.check(case, P, day(26) - SEC), day(26))
    f = only(draft_not_shared.check(case, P, day(26)))
    assert (f.problem, f.severity, f.section) == ("draft-not-shared", Severity.MEDIUM, "6.10")
    assert f.evidence == (f"embargo end {iso(40)}: ends in 14 days",
                          "no draft sent for review (advisory preview) yet",
                          "policy: share the draft 7-14 days before publication")
    assert draft_not_shared.check(case, P, day(26)).next_check == day(33)
    assert only(draft_not_shared.check(case, P, day(33))).severity is Severity.HIGH
    quiet(draft_not_shared.check(case, P, day(40)))  # the date passed: other rules take over


def test_stops_after_a_preview_and_after_publication() -> None:
    case, v = new_case()
    embargo(case, end=40)
    case.preview_advisory([1, v], until=day(35), digest="0" * 64, at=day(27), actor=ACTOR)
    quiet(draft_not_shared.check(case, P, day(30)))
    other, _ = new_case()
    embargo(other, end=40)
    other.record_cs(CSEvent.P, None, at=day(20), actor=ACTOR)
    quiet(draft_not_shared.check(other, P, day(30)))


def test_registered_and_policy_driven() -> None:
    assert RULES["draft-not-shared"] is draft_not_shared.check
    case, _ = new_case()
    embargo(case, end=40)
    wider = Policy(draft_share_min_days=10, draft_share_max_days=21)
    quiet(draft_not_shared.check(case, wider, day(19) - SEC), day(19))
    assert only(draft_not_shared.check(case, wider, day(19))).evidence[2] == (
        "policy: share the draft 10-21 days before publication")


@pytest.fixture
def svc(demo_service: CaseService) -> CaseService:
    settings = load_settings(database_url=demo_service.db.url, actor="tester",
                             desk={"name": "Example CSIRT", "email": "cert@example.org"})
    return CaseService(demo_service.db, settings, clock=demo_service.clock)


def test_a_preview_silences_the_rule_in_the_sweep_too(svc: CaseService, clock: Clock) -> None:
    """Demo case 0004's embargo ends 5 days after TEST_NOW: the rule fires; after
    ``advisory preview`` it is quiet, judged from the log and from the rows alike."""
    case_id = "CVD-2026-0004"
    doctor = DoctorService(svc.db, svc.settings, clock=clock)
    before = doctor.sweep(case_id=case_id)
    assert "draft-not-shared" in {f.data["problem"] for f in before.findings}
    PublicationService(svc).preview(case_id, until=clock() + timedelta(days=3))
    clock.advance(minutes=1)
    with svc.db.sessions() as session:
        repo = CaseRepository(session)
        row = repo.case_row(case_id)
        log = svc.replay(case_id)
        rows = case_from_rows(row, repo.participants(row.id))
        [swept] = swept_cases(session, due_cases(session, clock(), case_id))
    assert log.previewed_at is not None
    assert rows.previewed_at == swept.previewed_at == log.previewed_at
    for case in (log, rows, swept):
        quiet(draft_not_shared.check(case, svc.settings.policy, clock()))
    after = doctor.sweep(case_id=case_id)
    assert "draft-not-shared" not in {f.data["problem"] for f in after.findings}
