"""SSVC through the service, on SQLite and PostgreSQL: given values are stored as
``ssvc.assessed`` events and read back; the case points follow the stored log."""

from __future__ import annotations

import pytest

from cvdesk.domain.cs import CSEvent
from cvdesk.domain.errors import InvalidInput, NotFound
from cvdesk.domain.events import EventType
from cvdesk.domain.model import AttemptOutcome, Channel, Report, ReporterInfo
from cvdesk.services import CaseService
from cvdesk.services.ssvc import SsvcService
from tests.conftest import TEST_NOW, Clock


def new_case(service: CaseService) -> str:
    report = Report("Heap overflow in parser", "desc", ReporterInfo("Rita"),
                    vendors=("Initech",))
    cid = service.submit_report(report).case_id
    service.contact_attempt(cid, "Initech", Channel.EMAIL, AttemptOutcome.SENT)
    return cid


def test_given_values_round_trip_through_storage(service: CaseService, clock: Clock) -> None:
    cid = new_case(service)
    ssvc = SsvcService(service)
    clock.advance(hours=1)
    view = ssvc.assess(cid, {"automatable": "yes", "Value Density": "C",
                             "safety_impact": "critical"}, actor="dana", reason="call")
    events = [e for e in service.timeline(cid) if e.type is EventType.SSVC_ASSESSED]
    assert len(events) == 1
    stored = events[0]
    assert stored.data == {"values": {"automatable": "yes", "value_density": "concentrated",
                                      "safety_impact": "critical"}}
    assert (stored.actor, stored.reason, stored.at) == ("dana", "call", clock.now)
    # read back in a fresh service call: the values, who and when
    again = ssvc.decisions(cid)
    assert again == view
    a = again.point("automatable")
    assert (a.value, a.source, a.given_by, a.given_at, a.given_reason) == (
        "yes", "given", "dana", clock.now, "call")
    assert again.point("utility").value == "super_effective"
    assert again.point("public_safety_impact").value == "significant"
    # a later assessment replaces one value and forgets another
    ssvc.assess(cid, {"automatable": "no", "safety_impact": ""})
    later = ssvc.decisions(cid)
    assert later.point("automatable").value == "no"
    assert later.point("automatable").given_by == "tester"
    assert later.point("safety_impact").source == "missing"
    assert later.point("value_density").value == "concentrated"


def test_case_points_follow_the_stored_log(service: CaseService) -> None:
    cid = new_case(service)
    ssvc = SsvcService(service)
    view = ssvc.decisions(cid)
    assert view.case_id == cid and view.at == TEST_NOW
    assert view.point("supplier_contacted").value == "yes"
    assert view.point("exploitation").value == "none"
    service.record_cs(cid, CSEvent.X)
    view = ssvc.decisions(cid)
    assert (view.point("exploitation").value, view.point("report_public").value) == (
        "public_poc", "yes")
    assert view.point("exploitation").evidence[0].startswith("X (exploit public) recorded")
    publish = view.decision("coordinator_publish")
    assert publish.outcome is None and publish.needs == ("public_value_added",)
    view = ssvc.assess(cid, {"public_value_added": "ampliative"})
    # Initech was tried once and has not replied: uncooperative; public PoC, ampliative
    assert view.decision("coordinator_publish").outcome == "publish"
    data = view.to_json()
    assert data["case_id"] == cid
    assert [d["id"] for d in data["decisions"]] == [
        "coordinator_triage", "coordinator_publish", "supplier_patch_priority",
        "deployer_patch_priority"]
    assert {p["id"]: p["source"] for p in data["points"]}["public_value_added"] == "given"


def test_refusals_store_nothing(service: CaseService) -> None:
    cid = new_case(service)
    ssvc = SsvcService(service)
    before = len(service.timeline(cid))
    with pytest.raises(InvalidInput, match=r"^Supplier Engagement: comes from the case log"):
        ssvc.assess(cid, {"supplier_engagement": "active"})
    with pytest.raises(InvalidInput, match=r"^System Exposure: 'wide' is not one of"):
        ssvc.assess(cid, {"system_exposure": "wide"})
    assert len(service.timeline(cid)) == before
    with pytest.raises(NotFound):
        ssvc.decisions("CVD-1999-0001")
