"""Vulnerability details after intake and vendor statements (issue 10), in the domain:
each change is an event, the folded state holds the current version, and the rules
of a statement (justification, fixed version, remediations, vendor) hold."""

from __future__ import annotations

import pytest

from cvdesk.domain.advisory import Justification, ProductStatus, Remediation, RemediationKind
from cvdesk.domain.case import Case
from cvdesk.domain.errors import IllegalTransition, InvalidInput, NotFound
from cvdesk.domain.events import EventType
from cvdesk.domain.model import AffectedProduct, Role, Vulnerability
from tests.troubleshoot.builders import ACTOR, VENDOR, day, new_case

V31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
V40 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"


def with_vulns() -> tuple[Case, int]:
    case, v = new_case()
    case.add_vulnerability(Vulnerability(
        "Auth bypass", affected=(AffectedProduct("RouterOS", VENDOR),)), at=day(1), actor=ACTOR)
    case.add_vulnerability(Vulnerability("Heap overflow", cve="CVE-2026-1111"), at=day(1),
                           actor=ACTOR)
    return case, v


def replayed(case: Case) -> Case:
    return Case.replay(case.case_id, case.pending)


# ------------------------------------------------------------------ vulnerability details
def test_keys_are_the_cve_or_the_place_and_a_place_keeps_working() -> None:
    case, _ = with_vulns()
    assert [case.vulnerability_key(i) for i in (1, 2)] == ["V1", "CVE-2026-1111"]
    assert case.find_vulnerability("v2") == case.find_vulnerability("cve-2026-1111") == 2
    case.update_vulnerability("V1", cve="CVE-2026-2222", at=day(2), actor=ACTOR)
    assert case.vulnerability_key(1) == "CVE-2026-2222"
    assert case.find_vulnerability("V1") == case.find_vulnerability("CVE-2026-2222") == 1
    with pytest.raises(NotFound, match=r"no vulnerability 'V3' \(known: CVE-2026-2222, "
                                       r"CVE-2026-1111\)"):
        case.find_vulnerability("V3")


def test_an_update_carries_only_what_changed_and_folds_into_the_current_version() -> None:
    case, _ = with_vulns()
    changes = case.update_vulnerability(
        "V1", at=day(2), actor=ACTOR, title="Auth bypass", cve="cve-2026-3333",
        cwes=["cwe-287", "CWE-287"], cvss_v3=V31, cvss_v4=V40,
        references=["https://acme.example/a", "https://acme.example/a"])
    assert set(changes) == {"cve", "cwes", "scores", "references"}  # the title is the same
    event = case.pending[-1]
    assert event.type is EventType.VULNERABILITY_UPDATED
    assert event.data["vulnerability"] == 1 and event.data["key"] == "V1"
    assert event.data["changes"] == changes
    v = case.vulnerabilities[0]
    assert (v.cve, v.cwes, v.references) == ("CVE-2026-3333", ("CWE-287",),
                                             ("https://acme.example/a",))
    assert [(s.version, s.base_score, s.severity) for s in v.scores] == [
        ("3.1", 9.8, "CRITICAL"), ("4.0", 9.3, "CRITICAL")]
    assert v.affected == (AffectedProduct("RouterOS", VENDOR),)  # untouched
    # one version's score changes, the other stays; an empty vector removes one
    case.update_vulnerability("V1", at=day(3), actor=ACTOR,
                              cvss_v3="CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
    assert [s.base_score for s in case.vulnerabilities[0].scores] == [8.4, 9.3]
    case.update_vulnerability("V1", at=day(3), actor=ACTOR, cvss_v4="")
    assert [s.version for s in case.vulnerabilities[0].scores] == ["3.1"]
    assert replayed(case).vulnerabilities == case.vulnerabilities


def test_an_update_that_changes_nothing_writes_nothing() -> None:
    case, _ = with_vulns()
    before = len(case.pending)
    assert case.update_vulnerability("V2", cve="CVE-2026-1111", at=day(2), actor=ACTOR) == {}
    assert len(case.pending) == before


@pytest.mark.parametrize(("kwargs", "field"), [
    ({}, "vulnerability"),
    ({"title": " "}, "title"),
    ({"cve": "CVE-26-1"}, "cve"),
    ({"cve": "CVE-2026-1111"}, "cve"),  # already on the second vulnerability
    ({"cwes": ["XSS"]}, "cwe"),
    ({"cvss_v3": "CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}, "cvss"),
    ({"cvss_v3": V40}, "cvss"),  # a 4.0 vector in the 3.1 place
    ({"references": ["ftp://acme.example/x"]}, "reference"),
    ({"references": ["javascript:alert(1)"]}, "reference"),
])
def test_bad_updates_are_refused_naming_the_field(kwargs: dict[str, object],
                                                  field: str) -> None:
    case, _ = with_vulns()
    before = len(case.pending)
    with pytest.raises(InvalidInput) as caught:
        case.update_vulnerability("V1", at=day(2), actor=ACTOR, **kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert len(case.pending) == before


def test_old_vulnerability_events_without_scores_still_fold() -> None:
    case, _ = new_case()
    case._emit(EventType.VULNERABILITY, day(1), ACTOR, "",
               data={"title": "Old", "cve": "", "cwes": [], "affected": [],
                     "description": ""})
    assert replayed(case).vulnerabilities == [Vulnerability("Old")]


# ------------------------------------------------------------------ statements
def test_a_statement_names_a_product_not_yet_listed_by_adding_it() -> None:
    case, v = with_vulns()
    s = case.record_statement(v, "CVE-2026-1111", "SwitchOS", ProductStatus.AFFECTED,
                              at=day(2), actor=ACTOR)
    assert case.vulnerabilities[1].affected == (AffectedProduct("SwitchOS", VENDOR),)
    assert [e.type for e in case.pending[-2:]] == [EventType.VULNERABILITY_UPDATED,
                                                   EventType.STATEMENT_RECORDED]
    assert (s.vendor, s.vendor_name, s.vulnerability) == (v, VENDOR, 2)
    # a product already listed (names compared as people write them) is not added again
    case.record_statement(v, "V1", " routeros ", "fixed", fixed_version="7.4.2", at=day(2),
                          actor=ACTOR)
    assert case.vulnerabilities[0].affected == (AffectedProduct("RouterOS", VENDOR),)
    assert case.pending[-1].type is EventType.STATEMENT_RECORDED


def test_a_later_statement_replaces_the_earlier_and_confirming_clears_on_behalf() -> None:
    case, v = with_vulns()
    case.record_statement(v, "V1", "RouterOS", "under_investigation", on_behalf=True,
                          at=day(2), actor=ACTOR)
    case.record_statement(v, "V1", "RouterOS", "fixed", fixed_version="7.4.2", on_behalf=True,
                          remediations=[Remediation(RemediationKind.VENDOR_FIX, "Upgrade",
                                                    "https://acme.example/dl")],
                          statement="Fixed in 7.4.2.", at=day(3), actor=ACTOR)
    assert len(case.statements) == 1
    (s,) = case.statements.values()
    assert (s.status, s.fixed_version, s.on_behalf, s.at) == (ProductStatus.FIXED, "7.4.2",
                                                              True, day(3))
    confirmed = case.confirm_statement(v, "V1", "routeros", at=day(4), actor=ACTOR)
    assert (confirmed.on_behalf, confirmed.confirmed_at) == (False, day(4))
    assert confirmed.statement == "Fixed in 7.4.2."
    with pytest.raises(InvalidInput, match="already the vendor's own"):
        case.confirm_statement(v, "V1", "RouterOS", at=day(5), actor=ACTOR)
    # the vendor's own statement, recorded without on_behalf, is not marked
    own = case.record_statement(v, "V1", "RouterOS", "fixed", fixed_version="7.4.3",
                                at=day(6), actor=ACTOR)
    assert not own.on_behalf
    again = replayed(case)
    assert again.statements == case.statements
    assert again.vulnerabilities == case.vulnerabilities


def test_statements_for_other_products_or_vulnerabilities_stand_side_by_side() -> None:
    case, v = with_vulns()
    other = case.add_participant("Gadget Corp", [Role.VENDOR], at=day(1), actor=ACTOR).pid
    case.record_statement(v, "V1", "RouterOS", "affected", at=day(2), actor=ACTOR)
    case.record_statement(v, "V2", "RouterOS", "affected", at=day(2), actor=ACTOR)
    case.record_statement(other, "V1", "RouterOS", "not_affected",
                          justification="component_not_present", at=day(2), actor=ACTOR)
    assert len(case.statements) == 3
    # Gadget Corp's RouterOS is a different product from Acme's: listed on its own
    assert AffectedProduct("RouterOS", "Gadget Corp") in case.vulnerabilities[0].affected


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"status": "broken"}, "status"),
    ({"status": "not_affected"}, "justification"),
    ({"status": "affected", "justification": "component_not_present"}, "justification"),
    ({"status": "not_affected", "justification": "because"}, "justification"),
    ({"status": "fixed"}, "fixed version"),
    ({"status": "affected", "fixed_version": "1.2"}, "fixed version"),
    ({"status": "affected", "remediations": [Remediation("patch")]}, "remediation"),  # type: ignore[arg-type]
    ({"status": "affected",
      "remediations": [Remediation(RemediationKind.WORKAROUND, "x", "file:///etc")]},
     "remediation URL"),
    ({"status": "affected", "product": " "}, "product"),
    ({"status": "affected", "statement": "x" * 100_001}, "statement"),
])
def test_statement_rules(kwargs: dict[str, object], field: str) -> None:
    case, v = with_vulns()
    args = {"product": "RouterOS", **kwargs}
    before = len(case.pending)
    with pytest.raises(InvalidInput) as caught:
        case.record_statement(v, "V1", args.pop("product"), args.pop("status"),  # type: ignore[arg-type]
                              at=day(2), actor=ACTOR, **args)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert len(case.pending) == before


def test_only_a_vendor_gives_a_statement_on_a_known_vulnerability() -> None:
    case, v = with_vulns()
    with pytest.raises(InvalidInput, match="vendor: p1 Rita is not a vendor"):
        case.record_statement(1, "V1", "RouterOS", "affected", at=day(2), actor=ACTOR)
    with pytest.raises(NotFound, match="no participant p9"):
        case.record_statement(9, "V1", "RouterOS", "affected", at=day(2), actor=ACTOR)
    with pytest.raises(NotFound, match="no vulnerability 'CVE-2026-9999'"):
        case.record_statement(v, "CVE-2026-9999", "RouterOS", "affected", at=day(2),
                              actor=ACTOR)
    with pytest.raises(NotFound, match="no statement by p2 Acme Networks on 'RouterOS'"):
        case.confirm_statement(v, "V1", "RouterOS", at=day(2), actor=ACTOR)


def test_a_closed_case_takes_no_statement() -> None:
    case, v = with_vulns()
    case.close(at=day(2), actor=ACTOR)
    with pytest.raises(IllegalTransition):
        case.record_statement(v, "V1", "RouterOS", "affected", at=day(3), actor=ACTOR)
    with pytest.raises(IllegalTransition):
        case.update_vulnerability("V1", title="x", at=day(3), actor=ACTOR)


def test_statement_enums_take_their_text_values() -> None:
    case, v = with_vulns()
    s = case.record_statement(v, "V1", "RouterOS", " not_affected ",
                              justification="vulnerable_code_not_in_execute_path",
                              at=day(2), actor=ACTOR)
    assert s.justification is Justification.VULNERABLE_CODE_NOT_IN_EXECUTE_PATH
    summary = case.pending[-1].summary()
    assert summary == "p2 statement by Acme Networks on RouterOS (V1): not_affected"
