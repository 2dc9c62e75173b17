"""SSVC on a case: the points the case log answers (with their evidence), the points people
give (``ssvc.assessed`` events), and the decisions that follow."""

from __future__ import annotations

import pytest

from cvdesk.domain import ssvc
from cvdesk.domain.case import Case
from cvdesk.domain.cs import CSEvent
from cvdesk.domain.errors import IllegalTransition, InvalidInput
from cvdesk.domain.events import EventType
from cvdesk.domain.model import Role, SignalKind
from cvdesk.domain.policy import Policy
from cvdesk.domain.rm import RMTrigger
from cvdesk.domain.ssvc_case import Assessment, assess, derive, given_values
from tests.troubleshoot.builders import (
    ACTOR,
    BOUNCED,
    T0,
    attempt,
    day,
    new_case,
    reply,
    unresponsive_case,
)

POLICY = Policy()


def values(case: Case, now_day: float = 30) -> dict[str, str | None]:
    found = derive(case, case.pending, POLICY, day(now_day))
    return {pid: d.value.value if d.value is not None else None for pid, d in found.items()}


def evidence(case: Case, pid: str, now_day: float = 30) -> str:
    return " | ".join(derive(case, case.pending, POLICY, day(now_day))[pid].evidence)


def run(case: Case, now_day: float = 30) -> Assessment:
    return assess(case, case.pending, POLICY, day(now_day))


def test_a_fresh_case_with_one_vendor_not_yet_contacted() -> None:
    case, _ = new_case()
    assert values(case) == {
        "exploitation": "none", "report_public": "no", "public_value_added": "precedence",
        "supplier_contacted": "no", "supplier_engagement": "unresponsive",
        "supplier_involvement": "uncooperative", "supplier_cardinality": "one"}
    assert evidence(case, "supplier_contacted") == "not contacted: p2 Acme Networks"
    assert evidence(case, "supplier_cardinality") == "one vendor on the case: p2 Acme Networks"
    assert "neither X (exploit public) nor A" in evidence(case, "exploitation")


def test_a_vendor_that_replied_is_contacted_engaged_and_cooperative() -> None:
    case, v = new_case()
    attempt(case, v, 0)
    reply(case, v, 2)
    got = values(case, 5)
    assert (got["supplier_contacted"], got["supplier_engagement"],
            got["supplier_involvement"]) == ("yes", "active", "cooperative")
    assert evidence(case, "supplier_contacted", 5) == (
        "contacted: p2 Acme Networks (1 attempt(s) from 2026-09-01, 1 reply, RM received)")
    assert evidence(case, "supplier_engagement", 5) == (
        "engaged: p2 Acme Networks (1 reply, last 2026-09-03; RM received)")


def test_a_bounced_attempt_is_not_a_contact() -> None:
    case, v = new_case()
    attempt(case, v, 0, outcome=BOUNCED)
    assert values(case)["supplier_contacted"] == "no"
    assert evidence(case, "supplier_contacted") == "not contacted: p2 Acme Networks"
    attempt(case, v, 1)
    assert values(case)["supplier_contacted"] == "yes"
    assert "1 attempt(s) from 2026-09-02, 1 bounced" in evidence(case, "supplier_contacted")


def test_a_vendor_that_went_silent_after_replying_is_unresponsive_per_policy() -> None:
    case, _ = unresponsive_case(attempts_after=(5, 10))  # replied day 1, tried days 5, 10
    assert values(case, 11)["supplier_engagement"] == "active"  # 10 days: not yet silent
    assert values(case, 30)["supplier_engagement"] == "unresponsive"
    assert evidence(case, "supplier_engagement", 30) == (
        "not engaged: p2 Acme Networks (2 attempt(s) since its last reply (2026-09-02), "
        "29 days silent (policy: 2 attempts, 14 days))")
    assert values(case, 30)["supplier_involvement"] == "uncooperative"


def test_a_vendor_that_declined_is_uncooperative_and_one_with_a_fix_is_fix_ready() -> None:
    case, v = new_case()
    attempt(case, v, 0)
    reply(case, v, 1)
    case.rm(v, RMTrigger.VALIDATE, at=day(2), actor=ACTOR)
    case.rm(v, RMTrigger.DEFER, at=day(3), actor=ACTOR)
    assert values(case, 4)["supplier_involvement"] == "uncooperative"
    assert "RM deferred without a fix" in evidence(case, "supplier_involvement", 4)
    fixed, w = new_case()
    attempt(fixed, w, 0)
    fixed.record_cs(CSEvent.V, w, at=day(1), actor=ACTOR)
    fixed.record_cs(CSEvent.F, w, at=day(20), actor=ACTOR)
    got = values(fixed, 60)  # never replied, but shipped a fix
    assert (got["supplier_involvement"], got["supplier_engagement"]) == ("fix_ready", "active")
    assert evidence(fixed, "supplier_involvement", 60) == (
        "fix ready: p2 Acme Networks (F (fix ready) recorded 2026-09-21)")


def test_exploitation_and_report_public_come_from_x_a_and_p() -> None:
    case, v = new_case()
    attempt(case, v, 0)
    case.record_cs(CSEvent.X, None, at=day(3), actor=ACTOR)  # implies P
    got = values(case)
    assert (got["exploitation"], got["report_public"]) == ("public_poc", "yes")
    assert evidence(case, "exploitation") == "X (exploit public) recorded 2026-09-04 (#5)"
    assert evidence(case, "report_public") == "P (public aware) recorded 2026-09-04 (#6)"
    assert got["public_value_added"] is None  # once public, a judgement
    case.record_cs(CSEvent.A, None, at=day(4), actor=ACTOR)
    assert values(case)["exploitation"] == "active"
    assert evidence(case, "exploitation").startswith("A (attacks observed) recorded 2026-09-05")


def test_attacks_alone_make_exploitation_active() -> None:
    case, _ = new_case()
    case.record_cs(CSEvent.A, None, at=day(1), actor=ACTOR)
    assert values(case)["exploitation"] == "active"
    assert values(case)["report_public"] == "no"


def test_cardinality_from_vendors_and_downstream_observations() -> None:
    case, _ = new_case()
    case.observe(SignalKind.UNKNOWN_DOWNSTREAM, at=day(2), actor=ACTOR, text="OEMs?")
    assert values(case)["supplier_cardinality"] == "multiple"
    assert evidence(case, "supplier_cardinality") == "unknown-downstream observed 2026-09-03 (#4)"
    two, _ = new_case()
    two.add_participant("Initech", [Role.VENDOR], at=day(1), actor=ACTOR)
    assert values(two)["supplier_cardinality"] == "multiple"
    assert evidence(two, "supplier_cardinality") == (
        "2 vendors on the case: p2 Acme Networks; p3 Initech")


def test_without_vendors_cardinality_and_involvement_are_asked_for() -> None:
    case = Case.open("CVD-2026-0100", "No vendor yet", "AMBER", at=T0, actor=ACTOR)
    got = values(case)
    assert got["supplier_cardinality"] is None and got["supplier_involvement"] is None
    assert got["supplier_contacted"] == "no"
    publish = run(case).decision("coordinator_publish")
    assert [p.id for p in publish.needs] == ["supplier_involvement"]
    case.assess_ssvc({"supplier_involvement": "uncooperative",
                      "supplier_cardinality": "multiple"}, at=day(1), actor="dana")
    result = run(case)
    assert result.decision("coordinator_publish").outcome is ssvc.Publish.PUBLISH  # precedence
    used = result.point("supplier_involvement")
    assert (used.source, used.given.by if used.given else None) == ("given", "dana")


def test_given_values_are_kept_and_the_latest_wins() -> None:
    case, _ = new_case()
    stored = case.assess_ssvc({"automatable": "Y", "safety impact": "critical"}, at=day(1),
                              actor="dana", reason="triage call")
    assert stored == {"automatable": "yes", "safety_impact": "critical"}
    event = case.pending[-1]
    assert event.type is EventType.SSVC_ASSESSED and event.actor == "dana"
    assert event.summary() == "SSVC: automatable=yes, safety_impact=critical"
    case.assess_ssvc({"automatable": "no", "safety_impact": None}, at=day(2), actor="eli")
    given = given_values(case.pending)
    assert set(given) == {"automatable"}
    assert (given["automatable"].value, given["automatable"].by) == ("no", "eli")
    assert case.pending[-1].summary() == "SSVC: automatable=no, safety_impact=(cleared)"
    again = Case.replay(case.case_id, case.pending)  # the event folds without changing state
    assert again.seq == case.seq and again.participants.keys() == case.participants.keys()


def test_a_given_value_the_case_overrules_is_shown_as_set_aside() -> None:
    case, _ = new_case()
    case.assess_ssvc({"public_value_added": "limited"}, at=day(1), actor="dana")
    pva = run(case).point("public_value_added")
    assert (pva.value, pva.source) == (ssvc.PublicValueAdded.PRECEDENCE, "case")
    assert pva.set_aside is not None and pva.set_aside.value == "limited"
    case.record_cs(CSEvent.P, None, at=day(2), actor=ACTOR)
    pva = run(case).point("public_value_added")
    assert (pva.value, pva.source, pva.set_aside) == (ssvc.PublicValueAdded.LIMITED, "given",
                                                      None)


def test_refused_values_write_nothing() -> None:
    case, _ = new_case()
    before = len(case.pending)
    for bad, field in (({"exploitation": "active"}, "Exploitation"),
                       ({"automatable": "maybe"}, "Automatable"),
                       ({"colour": "red"}, "decision point")):
        with pytest.raises(InvalidInput) as err:
            case.assess_ssvc(bad, at=day(1), actor=ACTOR)
        assert err.value.field == field
    assert len(case.pending) == before
    case.close(at=day(2), actor=ACTOR)
    with pytest.raises(IllegalTransition):
        case.assess_ssvc({"automatable": "yes"}, at=day(3), actor=ACTOR)


def test_all_four_decisions_once_everything_is_known() -> None:
    case, v = new_case()
    attempt(case, v, 0)
    reply(case, v, 1)
    case.record_cs(CSEvent.A, None, at=day(2), actor=ACTOR)
    judged = {"report_credibility": "credible", "automatable": "yes",
              "value_density": "concentrated", "technical_impact": "total",
              "safety_impact": "negligible", "mission_impact": "mef_failure",
              "system_exposure": "open"}
    before = run(case, 3)
    assert all(d.outcome is None and d.needs for d in before.decisions
               if d.table is not ssvc.COORDINATOR_PUBLISH)
    case.assess_ssvc(dict(judged), at=day(3), actor="dana")
    result = run(case, 3)
    assert [d.needs for d in result.decisions] == [(), (), (), ()]
    outcomes = {d.table.id: d.outcome for d in result.decisions}
    # triage: private, contacted, credible, one supplier, engaged, super effective, minimal
    assert outcomes == {"coordinator_triage": ssvc.Coordinate.DECLINE,
                        "coordinator_publish": ssvc.Publish.PUBLISH,  # C, active, precedence
                        "supplier_patch_priority": ssvc.Priority.IMMEDIATE,
                        "deployer_patch_priority": ssvc.Priority.OUT_OF_CYCLE}  # A O Y M
    all_values = {p.point.id: p.value for p in result.points if p.value is not None}
    for d in result.decisions:
        assert ssvc.decide(d.table, all_values) is d.outcome
    assert result.point("utility").source == "table"
    assert result.point("human_impact").value is ssvc.HumanImpact.MEDIUM
