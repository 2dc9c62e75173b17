"""Actions the advice leads to (guide 6.9): hand-off, publish early, credits, retrospectives."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path

import pytest

from cvdesk.domain.cs import CSEvent
from cvdesk.domain.errors import DomainError, InvalidInput, NotFound
from cvdesk.domain.events import EventType
from cvdesk.domain.model import AttemptOutcome, Channel, Report, ReporterInfo, Retrospective, Role
from cvdesk.services import CaseService
from cvdesk.services.coordination import HANDOFF_FORMAT, CoordinationService
from tests.conftest import Clock


def new_case(service: CaseService, share: bool) -> str:
    report = Report("Unreachable vendor bug", "desc", ReporterInfo("Rita", email="rita@x.org",
                                                                   phone="+1 555 0100"),
                    vendors=("Initech",), share_contact=share)
    cid = service.submit_report(report).case_id
    service.contact_attempt(cid, "Initech", Channel.EMAIL, AttemptOutcome.BOUNCED,
                            address="security@initech.example")
    service.contact_attempt(cid, "Initech", Channel.PHONE, AttemptOutcome.NO_REPLY)
    return cid


def test_directory_is_seeded_and_editable(service: CaseService) -> None:
    coord = CoordinationService(service)
    names = [c.name for c in coord.coordinators()]
    assert names[:4] == ["CERT/CC", "JPCERT/CC", "NCSC-FI", "NCSC-NL"]
    assert {c.kind for c in coord.coordinators()} >= {"coordinator", "national-csirt",
                                                      "bug-bounty"}
    coord.add_coordinator("CERT-EU", "coordinator", country="EU", url="https://cert.europa.eu")
    with pytest.raises(InvalidInput, match="already"):
        coord.add_coordinator("cert-eu", "coordinator")
    with pytest.raises(InvalidInput, match=r"^kind: "):
        coord.add_coordinator("X", "friend")
    with pytest.raises(InvalidInput, match=r"^url: "):
        coord.add_coordinator("Y", "coordinator", url="ftp://y")
    coord.remove_coordinator("CERT-EU")
    with pytest.raises(NotFound):
        coord.coordinator("CERT-EU")


@pytest.mark.parametrize("share", [True, False])
def test_handoff_package(service: CaseService, clock: Clock, tmp_path: Path,
                         share: bool) -> None:
    cid = new_case(service, share)
    clock.advance(days=5)
    coord = CoordinationService(service)
    path, digest = coord.handoff(cid, "cert/cc", tmp_path / "pkg.json", reason="unreachable")
    raw = path.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == digest
    pkg = json.loads(raw)
    assert pkg["format"] == HANDOFF_FORMAT and pkg["to"]["name"] == "CERT/CC"
    assert pkg["case"]["case_id"] == cid and pkg["tlp"] == "AMBER"
    assert [(a["name"], a["channel"], a["outcome"]) for a in pkg["contact_attempts"]] == [
        ("Initech", "email", "bounced"), ("Initech", "phone", "no-reply")]
    assert [f["problem"] for f in pkg["open_findings"]] == ["no-acknowledgement"]
    rita = next(p for p in pkg["participants"] if p["name"] == "Rita")
    form_reporter = pkg["reports"][0]["form"]["reporter"]
    if share:
        assert rita["email"] == "rita@x.org" and form_reporter["phone"] == "+1 555 0100"
    else:
        assert rita["email"].startswith("(withheld") and rita["phone"] == "(withheld)"
        assert form_reporter["email"].startswith("(withheld")
    case = service.replay(cid)
    assert any(p.name == "CERT/CC" and Role.COORDINATOR in p.roles
               for p in case.participants.values())
    handoff = [e for e in service.timeline(cid) if e.type is EventType.HANDOFF]
    assert [(e.data["coordinator"], e.data["sha256"], e.reason) for e in handoff] == [
        ("CERT/CC", digest, "unreachable")]


def test_handoff_to_unwritable_place_logs_nothing(service: CaseService, tmp_path: Path) -> None:
    cid = new_case(service, True)
    before = len(service.timeline(cid))
    with pytest.raises(InvalidInput, match=r"^output file: "):
        CoordinationService(service).handoff(cid, "CERT/CC", tmp_path / "no" / "dir" / "x.json")
    assert len(service.timeline(cid)) == before


def test_publish_early(service: CaseService, clock: Clock) -> None:
    cid = new_case(service, True)
    coord = CoordinationService(service)
    with pytest.raises(DomainError, match="no embargo"):
        coord.publish_early(cid, reason="x")
    with pytest.raises(InvalidInput, match=r"^reason: "):
        coord.publish_early(cid, reason=" ")
    service.propose_embargo(cid, clock.now + timedelta(days=45))
    service.embargo(cid, "accept")
    assert coord.publish_early(cid, reason="vendor unreachable", public=True) == "exited"
    case = service.replay(cid)
    assert CSEvent.P in case.pxa and case.em.value == "exited"
    last = [e for e in service.timeline(cid) if e.type is EventType.EM][-1]
    assert last.reason == "publish early (6.9): vendor unreachable"


def test_credits_and_retrospectives(service: CaseService) -> None:
    cid = new_case(service, True)
    coord = CoordinationService(service)
    coord.add_credit(cid, "Rita", Role.FINDER, "found it", public=True, participant="Rita")
    coord.add_credit(cid, "Anon helper", Role.OTHER, "translated the advisory", public=False)
    assert [(c.name, c.public, c.participant) for c in coord.credits(cid)] == [
        ("Rita", True, 2), ("Anon helper", False, None)]
    with pytest.raises(InvalidInput, match="contribution"):
        coord.add_credit(cid, "X", Role.OTHER, " ", public=True)
    service.close(cid, reason="published")
    assert [c.case_id for c in coord.closed_without_retrospective()] == [cid]
    with pytest.raises(InvalidInput, match="at least one"):
        coord.add_retrospective(cid, Retrospective("", " ", ""))
    coord.add_retrospective(cid, Retrospective("coordinator took over fast",
                                               "vendor never answered", "phone first"))
    assert coord.closed_without_retrospective() == []
    [retro] = coord.retrospectives(query="vendor ANSWERED")
    assert retro.case_id == cid and retro.do_differently == "phone first"
    assert coord.retrospectives(query="nothing-like-this") == []
    assert len(coord.retrospectives(case_id=cid)) == 1
    # Words are conditions of one statement: a word repeated counts once, and more than
    # MAX_QUERY_WORDS different ones are refused, naming the field (before, 1,200 words
    # stopped SQLite: "Expression tree is too large").
    assert len(coord.retrospectives(query=" ".join(["Vendor", "vendor"] * 1_000))) == 1
    many = " ".join(f"w{i}" for i in range(1_200))
    for search in (coord.retrospectives, coord.search_retrospectives):
        with pytest.raises(InvalidInput, match="at most 32 different words") as refused:
            search(query=many)
        assert refused.value.field == "query"
    assert len(coord.retrospectives(query=" ".join(f"w{i}" for i in range(32)))) == 0
