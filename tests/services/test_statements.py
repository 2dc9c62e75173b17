"""Vulnerability details and vendor statements through the case service, on SQLite and
PostgreSQL (issue 10): the events round-trip through storage, ``show`` gives the current
versions, the vulnerabilities table follows updates, and refusals store nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cvdesk.domain.advisory import Remediation, RemediationKind
from cvdesk.domain.errors import InvalidInput, NotFound
from cvdesk.domain.events import EventType
from cvdesk.domain.model import AffectedProduct, Report, ReporterInfo, Vulnerability
from cvdesk.services import CaseService
from cvdesk.services.views import StatementView, VulnerabilityView
from cvdesk.store.tables import CaseRow, VulnerabilityRow
from tests.services.test_cases import db_state

V31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
V40 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"


def open_case(service: CaseService) -> str:
    report = Report(
        "Auth bypass in RouterOS", "A crafted cookie.", ReporterInfo("Rita"),
        vendors=("Acme Networks", "Gadget Corp"),
        vulnerabilities=(Vulnerability("Auth bypass",
                                       affected=(AffectedProduct("RouterOS", "Acme Networks"),)),
                         Vulnerability("Heap overflow", cve="CVE-2026-1111")))
    return service.submit_report(report).case_id


def table_rows(service: CaseService, case_id: str) -> list[tuple[str | None, str, dict]]:  # type: ignore[type-arg]
    with service.db.sessions() as s:
        pk = s.scalar(select(CaseRow.id).where(CaseRow.case_id == case_id))
        return [(r.cve, r.title, dict(r.data)) for r in s.scalars(
            select(VulnerabilityRow).where(VulnerabilityRow.case_pk == pk)
            .order_by(VulnerabilityRow.id))]


def test_details_and_statements_round_trip_and_show(service: CaseService) -> None:
    cid = open_case(service)
    view = service.update_vulnerability(
        cid, "V1", cve="CVE-2026-2222", cwes=["CWE-287"], description="Anyone is admin.",
        cvss=[V40, V31], references=["https://acme.example/sa"], reason="vendor analysis")
    assert isinstance(view, VulnerabilityView)
    assert view.key == "CVE-2026-2222"
    assert [(s["version"], s["base_score"]) for s in view.scores] == [("3.1", 9.8),
                                                                    ("4.0", 9.3)]
    said = service.record_statement(
        cid, "Acme Networks", "CVE-2026-2222", "RouterOS", "fixed", fixed_version="7.4.2",
        remediations=[Remediation(RemediationKind.VENDOR_FIX, "Upgrade",
                                  "https://acme.example/dl")],
        statement="Fixed.", on_behalf=True)
    assert isinstance(said, StatementView) and said.on_behalf
    service.record_statement(cid, "p4", "V2", "Gadget Hub", "not_affected",
                             justification="component_not_present")
    confirmed = service.confirm_statement(cid, "acme networks", "V1", "routeros")
    assert not confirmed.on_behalf and confirmed.confirmed_at is not None

    shown = service.show(cid)
    replayed = service.replay(cid)  # the whole log, from storage
    assert [v.key for v in shown.vulnerabilities] == ["CVE-2026-2222", "CVE-2026-1111"]
    assert [v.data["title"] for v in shown.vulnerabilities] == [
        v.title for v in replayed.vulnerabilities]
    assert shown.vulnerabilities[0].data["scores"][1]["vector"] == V40
    assert shown.vulnerabilities[1].data["affected"] == [
        {"product": "Gadget Hub", "vendor": "Gadget Corp", "versions": [], "version_text": "",
         "purl": "", "cpe": ""}]
    assert [(s.vendor, s.product, s.vulnerability, s.status, s.on_behalf)
            for s in shown.statements] == [
        ("Acme Networks", "RouterOS", "CVE-2026-2222", "fixed", False),
        ("Gadget Corp", "Gadget Hub", "CVE-2026-1111", "not_affected", False)]
    assert shown.statements[0].remediations == (
        {"kind": "vendor_fix", "text": "Upgrade", "url": "https://acme.example/dl"},)
    assert len(replayed.statements) == 2
    json = shown.to_json()
    assert json["statements"][0]["confirmed_at"] is not None
    assert json["vulnerabilities"][0]["key"] == "CVE-2026-2222"

    types = [e.type for e in service.timeline(cid)]
    assert types.count(EventType.VULNERABILITY_UPDATED) == 2  # one given, one for Gadget Hub
    assert types.count(EventType.STATEMENT_RECORDED) == 2
    assert types.count(EventType.STATEMENT_CONFIRMED) == 1


def test_the_vulnerabilities_table_follows_updates(service: CaseService) -> None:
    cid = open_case(service)
    service.update_vulnerability(cid, "V1", cve="CVE-2026-2222", title="Auth bypass (admin)",
                                 cvss=[V31])
    service.update_vulnerability(cid, "CVE-2026-1111", cve="", description="gone")
    rows = table_rows(service, cid)
    shown = service.show(cid).vulnerabilities
    assert [(cve, title) for cve, title, _ in rows] == [
        ("CVE-2026-2222", "Auth bypass (admin)"), (None, "Heap overflow")]
    for (_, _, data), view in zip(rows, shown, strict=True):
        assert data == {k: v for k, v in view.data.items() if k != "key"}
    assert rows[0][2]["scores"][0]["base_score"] == 9.8


def test_an_update_in_the_same_save_as_the_add_reaches_the_table(
        service: CaseService) -> None:
    cid = open_case(service)
    with service.case(cid) as case:
        case.add_vulnerability(Vulnerability("Third"), at=service.clock(), actor="t")
        case.update_vulnerability("V3", cve="CVE-2026-3333", at=service.clock(), actor="t")
    assert table_rows(service, cid)[2][:2] == ("CVE-2026-3333", "Third")
    assert service.show(cid).vulnerabilities[2].key == "CVE-2026-3333"


@pytest.mark.parametrize(("command", "error", "field"), [
    (lambda s, c: s.update_vulnerability(c, "V1", cvss=["CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/"
                                                         "C:H/I:H/A:H"]), InvalidInput, "cvss"),
    (lambda s, c: s.update_vulnerability(c, "V1", cvss=[V31, V31]), InvalidInput, "cvss"),
    (lambda s, c: s.update_vulnerability(c, "V9", title="x"), NotFound, None),
    (lambda s, c: s.update_vulnerability(c, "V1", references=["ftp://x.example"]),
     InvalidInput, "reference"),
    (lambda s, c: s.record_statement(c, "p3", "V1", "RouterOS", "not_affected"),
     InvalidInput, "justification"),
    (lambda s, c: s.record_statement(c, "p3", "V1", "RouterOS", "fixed"),
     InvalidInput, "fixed version"),
    (lambda s, c: s.record_statement(c, "p2", "V1", "RouterOS", "affected"),
     InvalidInput, "vendor"),
    (lambda s, c: s.record_statement(c, "p3", "V1", "New product", "affected",
                                     remediations=[Remediation("soon")]),  # type: ignore[arg-type]
     InvalidInput, "remediation"),
    (lambda s, c: s.confirm_statement(c, "p3", "V1", "RouterOS"), NotFound, None),
])
def test_refusals_store_nothing(service: CaseService, command, error, field) -> None:  # type: ignore[no-untyped-def]
    cid = open_case(service)
    before = db_state(service.db)
    with pytest.raises(error) as caught:
        command(service, cid)
    if field is not None:
        assert caught.value.field == field
    assert db_state(service.db) == before
    # a refused statement for a product not yet listed did not add the product either
    assert [len(v.data["affected"]) for v in service.show(cid).vulnerabilities] == [1, 0]
