"""CSAF 2.0 writer (issue 10): valid documents from the samples, the standard's file name
and checksum files, product status from the vendor statements, and that the offline
validation really refuses each kind of mandatory-test failure."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cvdesk.domain.advisory import (
    Acknowledgment,
    Advisory,
    AdvisoryStatus,
    AdvisoryVulnerability,
    Involvement,
    InvolvementStatus,
    Justification,
    ProductStatus,
    Publisher,
    Remediation,
    RemediationKind,
    Revision,
    Score,
    VendorStatement,
)
from cvdesk.domain.model import TLP, AffectedProduct, VersionRange
from cvdesk.publish import csaf_check
from cvdesk.publish.common import InvalidAdvisory
from cvdesk.publish.csaf import checksums, csaf_filename, write_csaf
from tests.publish.samples import MINIMAL, SAMPLE

ROOT = Path(__file__).resolve().parents[2]


def _doc(adv: Advisory = SAMPLE, *, vex: bool = False) -> dict:
    return json.loads(write_csaf(adv, vex=vex).content)


def _pid(doc: dict, name: str) -> str:
    """The product id of the full product name ``name`` in the tree."""
    found = []

    def walk(branches: list[dict]) -> None:
        for b in branches:
            if "product" in b and b["product"]["name"] == name:
                found.append(b["product"]["product_id"])
            walk(b.get("branches", []))

    walk(doc["product_tree"]["branches"])
    assert len(found) == 1, (name, found)
    return found[0]


# -- the samples -------------------------------------------------------------------------

@pytest.mark.parametrize("vex", [False, True])
def test_sample_writes_a_valid_document(vex: bool) -> None:
    rendered = write_csaf(SAMPLE, vex=vex)
    doc = json.loads(rendered.content)
    assert csaf_check.problems(doc) == []
    assert rendered.format == ("csaf-vex" if vex else "csaf")
    assert rendered.filename == "cvd-2026-0042.json"
    assert rendered.media_type == "application/json"
    assert doc["document"]["category"] == ("csaf_vex" if vex else "csaf_security_advisory")
    assert doc["document"]["csaf_version"] == "2.0"
    tracking = doc["document"]["tracking"]
    assert (tracking["id"], tracking["status"], tracking["version"]) == (
        "CVD-2026-0042", "final", "2")
    assert [r["number"] for r in tracking["revision_history"]] == ["1", "2"]
    assert tracking["generator"]["engine"]["name"] == "cvdesk"
    assert doc["document"]["distribution"]["tlp"]["label"] == "WHITE"  # TLP 2.0 CLEAR


def test_output_is_deterministic() -> None:
    assert write_csaf(SAMPLE).content == write_csaf(SAMPLE).content
    doc = _doc()
    ids = [_pid(doc, n) for n in ("Acme Networks RouterOS >= 7.0, < 7.4.2",
                                  "Acme Networks RouterOS 7.4.2")]
    assert ids == ["CSAFPID-0001", "CSAFPID-0002"]


def test_minimal_is_refused_with_what_is_missing() -> None:
    """MINIMAL names no product, so no CSAF profile can be met: refused, not padded."""
    for vex in (False, True):
        with pytest.raises(InvalidAdvisory) as err:
            write_csaf(MINIMAL, vex=vex)
        assert err.value.format == ("csaf-vex" if vex else "csaf")
        text = "; ".join(err.value.problems)
        assert "no product is named" in text and "V1" in text


def test_minimal_with_one_statement_is_valid_in_both_profiles() -> None:
    adv = replace(MINIMAL, statements=(
        VendorStatement("Acme", "Widget", "V1", ProductStatus.UNDER_INVESTIGATION),
        VendorStatement("Acme", "Gizmo", "V1", ProductStatus.AFFECTED),
    ))
    doc = _doc(adv)
    assert doc["document"]["tracking"]["status"] == "draft"
    assert doc["document"]["distribution"]["tlp"]["label"] == "AMBER"
    vex = _doc(adv, vex=True)
    rem = vex["vulnerabilities"][0]["remediations"]
    assert [r["category"] for r in rem] == ["none_available"]  # 6.1.27.10


def test_an_unknown_version_is_refused_clearly() -> None:
    with pytest.raises(InvalidAdvisory, match=r"writes CSAF 2\.0 and 2\.1"):
        write_csaf(SAMPLE, version="2.2")


def test_amber_strict_is_amber_with_the_stricter_rule_spelled_out() -> None:
    doc = _doc(replace(SAMPLE, tlp=TLP.AMBER_STRICT))
    dist = doc["document"]["distribution"]
    assert dist["tlp"]["label"] == "AMBER"
    assert "AMBER+STRICT" in dist["text"]


def test_self_reference_when_the_url_is_known() -> None:
    url = "https://csirt.example/.well-known/csaf/white/2026/cvd-2026-0042.json"
    doc = json.loads(write_csaf(SAMPLE, self_url=url).content)
    assert {"category": "self", "summary": "This document", "url": url} in (
        doc["document"]["references"])


# -- product status from the statements ---------------------------------------------------

def test_product_status_matches_the_statements() -> None:
    doc = _doc()
    v1, v2 = doc["vulnerabilities"]
    router_range = _pid(doc, "Acme Networks RouterOS >= 7.0, < 7.4.2")
    router_fix = _pid(doc, "Acme Networks RouterOS 7.4.2")
    switch = _pid(doc, "Acme Networks SwitchOS >= 2.1, <= 2.9")
    quill_range = _pid(doc, "libquill project libquill >= 2.0.0, < 2.8.4")
    quill_fix = _pid(doc, "libquill project libquill 2.8.4")
    gadget = _pid(doc, "Gadget Corp Gadget Hub all versions")
    assert v1["cve"] == "CVE-2026-12345"
    assert v1["product_status"] == {"known_affected": [router_range, switch],
                                    "fixed": [router_fix], "first_fixed": [router_fix]}
    assert v2["product_status"] == {"known_affected": [quill_range], "fixed": [quill_fix],
                                    "first_fixed": [quill_fix],
                                    "known_not_affected": [gadget]}
    assert v2["flags"] == [{"label": "vulnerable_code_not_in_execute_path",
                            "product_ids": [gadget]}]
    assert v2["threats"][0]["category"] == "impact"
    assert {(r["category"], tuple(r["product_ids"])) for r in v1["remediations"]} == {
        ("vendor_fix", (router_range,)), ("workaround", (switch,)),
        ("no_fix_planned", (switch,))}
    assert v1["scores"][0]["cvss_v3"]["baseScore"] == 9.8
    assert v1["scores"][0]["products"] == [router_range, switch]
    # the tree: vendor -> product_name -> version (range), purl with the version on leaves
    quill = next(b for b in doc["product_tree"]["branches"] if b["name"] == "libquill project")
    leaves = quill["branches"][0]["branches"]
    assert [(b["category"], b["name"]) for b in leaves] == [
        ("product_version_range", "vers:pypi/>=2.0.0|<2.8.4"), ("product_version", "2.8.4")]
    assert leaves[1]["product"]["product_identification_helper"] == {
        "purl": "pkg:pypi/libquill@2.8.4"}


def test_what_csaf_2_0_has_no_field_for_goes_in_notes() -> None:
    doc = _doc()
    v1, v2 = doc["vulnerabilities"]
    notes = {n["title"]: n for n in v1["notes"]}
    assert notes["Description"]["category"] == "description"
    assert "CVSS:4.0/" in notes["CVSS v4.0"]["text"]
    gadget = {n["title"]: n["text"] for n in v2["notes"]}["Statement on Gadget Corp Gadget Hub"]
    assert "not yet confirmed by Gadget Corp" in gadget  # on_behalf stays visible
    assert v2["ids"] == [{"system_name": "Example CSIRT advisory", "text": "CVD-2026-0042/V2"}]
    more = replace(SAMPLE.vulnerabilities[0], cwes=("CWE-287", "CWE-306"))
    doc = _doc(replace(SAMPLE, vulnerabilities=(more, SAMPLE.vulnerabilities[1])))
    assert doc["vulnerabilities"][0]["cwe"] == {"id": "CWE-287",
                                                "name": "Improper Authentication"}
    assert {n["title"]: n["text"] for n in doc["vulnerabilities"][0]["notes"]}[
        "Further weaknesses (CWE)"] == "CWE-306"


def test_same_day_involvements_of_one_party_kind_are_merged() -> None:
    day = SAMPLE.involvements[0].at
    adv = replace(SAMPLE, involvements=(
        Involvement("libquill project", "vendor", InvolvementStatus.COMPLETED, day),
        Involvement("Gadget Corp", "vendor", InvolvementStatus.CONTACT_ATTEMPTED, day)))
    inv = _doc(adv)["vulnerabilities"][1]["involvements"]
    assert len(inv) == 1
    assert "libquill project" in inv[0]["summary"] and "Gadget Corp" in inv[0]["summary"]


def test_a_score_that_disagrees_with_its_vector_is_refused() -> None:
    bad = replace(SAMPLE.vulnerabilities[0], scores=(
        Score("3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 5.0, "MEDIUM"),))
    with pytest.raises(InvalidAdvisory, match="does not match its vector"):
        write_csaf(replace(SAMPLE, vulnerabilities=(bad, SAMPLE.vulnerabilities[1])))


def test_an_advisory_needs_a_conclusive_status_but_vex_does_not() -> None:
    adv = replace(MINIMAL, statements=(
        VendorStatement("Acme", "Widget", "V1", ProductStatus.UNDER_INVESTIGATION),))
    with pytest.raises(InvalidAdvisory, match="still under investigation"):
        write_csaf(adv)
    assert _doc(adv, vex=True)["vulnerabilities"][0]["product_status"] == {
        "under_investigation": ["CSAFPID-0001"]}


def test_vex_refuses_not_affected_without_a_reason() -> None:
    s = replace(SAMPLE.statements[3], justification=None, statement="")
    adv = replace(SAMPLE, statements=(*SAMPLE.statements[:3], s))
    write_csaf(adv)  # the security advisory profile does not ask for one
    with pytest.raises(InvalidAdvisory, match="no justification or statement"):
        write_csaf(adv, vex=True)


# -- file name and checksums --------------------------------------------------------------

@pytest.mark.parametrize(("tracking_id", "name"), [
    ("CVD-2026-0042", "cvd-2026-0042.json"),
    ("Example Company - 2019-YH3234", "example_company_-_2019-yh3234.json"),  # CSAF 5.1
    ("RHBA-2019:0024", "rhba-2019_0024.json"),
    ("cisco-sa-20190513-secureboot", "cisco-sa-20190513-secureboot.json"),
    ("Größe+1 //x", "gr_e+1_x.json"),
])
def test_file_name_rule(tracking_id: str, name: str) -> None:
    assert csaf_filename(tracking_id) == name


def test_checksum_files() -> None:
    rendered = write_csaf(SAMPLE)
    sha256, sha512 = checksums(rendered)
    assert sha256.filename == "cvd-2026-0042.json.sha256"
    assert sha512.filename == "cvd-2026-0042.json.sha512"
    assert sha256.content.decode() == (
        f"{hashlib.sha256(rendered.content).hexdigest()}  cvd-2026-0042.json\n")
    assert sha512.content.decode() == (
        f"{hashlib.sha512(rendered.content).hexdigest()}  cvd-2026-0042.json\n")
    assert sha256.media_type == "text/plain"


# -- each mandatory test refuses a crafted bad document -----------------------------------

Mutation = Callable[[dict], None]


def _v(doc: dict, i: int = 0) -> dict:
    return doc["vulnerabilities"][i]


def _leaf(doc: dict, i: int) -> dict:
    """The i-th full product name in the tree (0: RouterOS range, 1: RouterOS 7.4.2)."""
    out: list[dict] = []

    def walk(branches: list[dict]) -> None:
        for b in branches:
            if "product" in b:
                out.append(b["product"])
            walk(b.get("branches", []))

    walk(doc["product_tree"]["branches"])
    return out[i]


def _revisions(doc: dict, numbers: list[str], version: str, status: str = "final") -> None:
    t = doc["document"]["tracking"]
    t["revision_history"] = [{"date": f"2026-11-{20 + i}T12:00:00+00:00", "number": n,
                              "summary": "x"} for i, n in enumerate(numbers)]
    t["version"], t["status"] = version, status


def _set(path: str, value: object) -> Mutation:
    def mutate(doc: dict) -> None:
        *head, last = path.split("/")
        node: object = doc
        for key in head:
            node = node[int(key)] if isinstance(node, list) else node[key]  # type: ignore[index]
        node[int(last) if isinstance(node, list) else last] = value  # type: ignore[index]
    return mutate


def _score_copy(doc: dict) -> None:
    _v(doc)["scores"].append(copy.deepcopy(_v(doc)["scores"][0]))


def _relationship_loop(doc: dict) -> None:
    doc["product_tree"]["relationships"] = [{
        "category": "installed_on", "product_reference": "CSAFPID-0100",
        "relates_to_product_reference": "CSAFPID-0001",
        "full_product_name": {"name": "loop", "product_id": "CSAFPID-0100"}}]


def _swap_revision_dates(doc: dict) -> None:
    first, second = doc["document"]["tracking"]["revision_history"]
    first["date"], second["date"] = second["date"], first["date"]


def _groups(doc: dict) -> None:
    group = {"group_id": "CSAFGID-0001", "product_ids": ["CSAFPID-0001", "CSAFPID-0002"]}
    doc["product_tree"]["product_groups"] = [group, copy.deepcopy(group)]


def _hashes(doc: dict) -> None:
    h = {"algorithm": "sha256", "value": "a" * 64}
    _leaf(doc, 0)["product_identification_helper"] = {"hashes": [{
        "filename": "x.bin", "file_hashes": [h, copy.deepcopy(h)]}]}


def _no_vex_ids(doc: dict) -> None:
    for v in doc["vulnerabilities"]:
        v.pop("cve", None)
        v.pop("ids", None)


def _drop(path: str, key: str) -> Mutation:
    def mutate(doc: dict) -> None:
        node = doc
        for part in path.split("/") if path else ():
            node = node[int(part)] if isinstance(node, list) else node[part]
        node.pop(key)
    return mutate


def _all(*mutations: Mutation) -> Mutation:
    def mutate(doc: dict) -> None:
        for m in mutations:
            m(doc)
    return mutate


#: (test, profile, mutation, run the schema too): one crafted failure per mandatory test
BAD: list[tuple[str, bool, Mutation, bool]] = [
    ("6.1.1", False, lambda d: _v(d)["product_status"]["known_affected"].append(
        "CSAFPID-9999"), True),
    ("6.1.2", False, lambda d: _leaf(d, 1).update(product_id="CSAFPID-0001"), True),
    ("6.1.3", False, _relationship_loop, True),
    ("6.1.4", False, lambda d: _v(d)["remediations"][0].update(group_ids=["CSAFGID-0404"]),
     True),
    ("6.1.5", False, _groups, True),
    ("6.1.6", False, lambda d: _v(d)["product_status"]["fixed"].append("CSAFPID-0001"), True),
    ("6.1.7", False, _score_copy, True),
    ("6.1.8", False, _set("vulnerabilities/0/scores/0/cvss_v3/baseSeverity", "HUGE"), False),
    ("6.1.9", False, _set("vulnerabilities/0/scores/0/cvss_v3/baseScore", 5.0), True),
    ("6.1.10", False, _set("vulnerabilities/0/scores/0/cvss_v3/attackVector", "LOCAL"), True),
    ("6.1.11", False, _set("vulnerabilities/0/cwe/name", "Not The Catalog Name"), True),
    ("6.1.12", False, _set("document/lang", "EZ"), True),
    ("6.1.13", False, lambda d: _leaf(d, 0).update(
        product_identification_helper={"purl": "pkg:maven/@1.3.4"}), True),
    ("6.1.14", False, _swap_revision_dates, True),
    ("6.1.15", False, _set("document/publisher/category", "translator"), True),
    ("6.1.16", False, _set("document/tracking/version", "1"), True),
    ("6.1.17", False, lambda d: _revisions(d, ["0"], "0"), True),
    ("6.1.18", False, lambda d: _revisions(d, ["0", "1"], "1"), True),
    ("6.1.19", False, lambda d: _revisions(d, ["1.0.0-rc.1", "1.0.0"], "1.0.0"), True),
    ("6.1.20", False, lambda d: _revisions(d, ["1.0.0-rc.1"], "1.0.0-rc.1"), True),
    ("6.1.21", False, lambda d: _revisions(d, ["1", "3"], "3"), True),
    ("6.1.22", False, lambda d: _revisions(d, ["1", "1"], "1"), True),
    ("6.1.23", False, lambda d: _v(d, 1).update(cve="CVE-2026-12345"), True),
    ("6.1.24", False, lambda d: _v(d, 1)["involvements"].append(
        {**_v(d, 1)["involvements"][0], "summary": "again"}), True),
    ("6.1.25", False, _hashes, True),
    ("6.1.26", False, _set("document/category", "Csaf Vex"), True),
    # 6.1.27 profile tests: security advisory ...
    ("6.1.27", False, _drop("", "product_tree"), True),  # .4 product tree
    ("6.1.27", False, _drop("vulnerabilities/0", "notes"), True),  # .5 vulnerability notes
    ("6.1.27", False, _all(_drop("vulnerabilities/0", "product_status"),
                           _drop("vulnerabilities/0", "remediations"),
                           _drop("vulnerabilities/0", "scores")), True),  # .6 product status
    ("6.1.27", False, _drop("", "vulnerabilities"), True),  # .11 vulnerabilities
    ("6.1.27", False, _drop("vulnerabilities/0", "remediations"), True),  # fixed w/o remedy
    # ... and VEX
    ("6.1.27", True, lambda d: _v(d)["product_status"].update(
        first_fixed=["CSAFPID-0002"]), True),  # .7 VEX product status
    ("6.1.27", True, _no_vex_ids, True),  # .8 vulnerability id
    ("6.1.27", True, _all(_drop("vulnerabilities/1", "flags"),
                          _drop("vulnerabilities/1", "threats")), True),  # .9 impact
    ("6.1.27", True, _drop("vulnerabilities/0", "remediations"), True),  # .10 action
    ("6.1.28", False, _set("document/source_lang", "en"), True),
    ("6.1.29", False, lambda d: _v(d)["remediations"][0].pop("product_ids"), False),
    ("6.1.30", False, lambda d: _revisions(d, ["1", "2.0.0"], "2.0.0"), True),
    ("6.1.31", False, _set("product_tree/branches/0/branches/0/branches/1/name", "<7.4.2"),
     True),
    ("6.1.32", False, lambda d: _v(d, 1)["flags"][0].pop("product_ids"), False),
    ("6.1.33", False, lambda d: _v(d, 1)["flags"].append(
        {"label": "component_not_present", "product_ids": ["CSAFPID-0006"]}), True),
]


@pytest.fixture(scope="module")
def good() -> dict[bool, dict]:
    return {False: _doc(), True: _doc(vex=True)}


@pytest.mark.parametrize(("test_id", "vex", "mutate", "schema"), BAD,
                         ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_each_mandatory_test_refuses_a_crafted_bad_document(
        good: dict[bool, dict], test_id: str, vex: bool, mutate: Mutation,
        schema: bool) -> None:
    doc = copy.deepcopy(good[vex])
    assert csaf_check.problems(doc, only=frozenset({test_id}), schema=schema) == []
    mutate(doc)
    found = csaf_check.problems(doc, only=frozenset({test_id}), schema=schema)
    assert found and all(p.startswith(f"{test_id} ") for p in found), found
    assert csaf_check.problems(doc)  # and the full run refuses it too


def test_every_mandatory_test_of_the_package_has_a_crafted_failure() -> None:
    assert sorted({b[0] for b in BAD}) == sorted(csaf_check.mandatory_test_ids())


# -- generated advisories -----------------------------------------------------------------

VENDORS = ("Acme", "Globex", "")
PRODUCTS = ("Router", "lib/x", "Hub 2")
VECTORS = (("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
           ("CVSS:3.0/AV:L/AC:H/PR:H/UI:R/S:C/C:L/I:N/A:N", 2.3),
           ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3))
T0 = datetime(2026, 1, 1, tzinfo=UTC)

versions = st.sampled_from(["1.0", "2.0.1", "0", "7.4.2", "10.0-rc1", "a|b"])
ranges = st.builds(VersionRange, introduced=versions,
                   fixed=st.none() | versions) | st.builds(
    VersionRange, introduced=st.none() | versions, last_affected=versions)
products = st.builds(AffectedProduct, product=st.sampled_from(PRODUCTS),
                     vendor=st.sampled_from(VENDORS),
                     versions=st.lists(ranges, max_size=2).map(tuple),
                     version_text=st.sampled_from(["", "all", "before 3.0"]),
                     purl=st.sampled_from(["", "pkg:npm/x"]))


@st.composite
def advisories(draw: st.DrawFn) -> Advisory:
    n = draw(st.integers(1, 3))
    vulns = []
    for i in range(n):
        cve = draw(st.sampled_from(["", f"CVE-2026-{1000 + i}"]))
        vec = draw(st.lists(st.sampled_from(VECTORS), max_size=2))
        vulns.append(AdvisoryVulnerability(
            key=cve or f"V{i + 1}", title=f"Bug {i}", cve=cve,
            cwes=tuple(draw(st.lists(st.sampled_from(["CWE-79", "CWE-787", "CWE-20"]),
                                     max_size=2, unique=True))),
            description=draw(st.sampled_from(["", "Details."])),
            scores=tuple(Score(v.split("/")[0][5:], v, s, "X") for v, s in vec),
            products=tuple(draw(st.lists(products, max_size=3)))))
    statements = []
    for _ in range(draw(st.integers(0, 4))):
        status = draw(st.sampled_from(list(ProductStatus)))
        statements.append(VendorStatement(
            vendor=draw(st.sampled_from(VENDORS[:2])), product=draw(st.sampled_from(PRODUCTS)),
            vulnerability=draw(st.sampled_from([v.key for v in vulns])), status=status,
            justification=draw(st.none() | st.sampled_from(list(Justification)))
            if status is ProductStatus.NOT_AFFECTED else None,
            fixed_version=draw(st.sampled_from(["", "3.1"])),
            remediations=tuple(draw(st.lists(st.builds(
                Remediation, st.sampled_from(list(RemediationKind)),
                st.sampled_from(["", "Do this."])), max_size=2))),
            statement=draw(st.sampled_from(["", "Our word."])),
            on_behalf=draw(st.booleans()),
            at=T0 + timedelta(days=draw(st.integers(0, 5)))))
    revs = draw(st.integers(1, 3))
    return Advisory(
        case_id="CVD-2026-0100", tracking_id="CVD-2026-0100", title="Generated",
        tlp=draw(st.sampled_from(list(TLP))),
        status=draw(st.sampled_from([AdvisoryStatus.FINAL, AdvisoryStatus.INTERIM,
                                     AdvisoryStatus.DRAFT])),
        publisher=Publisher(name="CSIRT", namespace="https://csirt.example"),
        summary=draw(st.sampled_from(["", "Summary."])), vulnerabilities=tuple(vulns),
        statements=tuple(statements),
        acknowledgments=(Acknowledgment("A. Finder"),),
        involvements=tuple(Involvement(p, r, s, d) for p, r, s, d in draw(st.lists(
            st.tuples(st.sampled_from(["Acme", "Globex", "CERT"]),
                      st.sampled_from(["vendor", "coordinator", "reporter"]),
                      st.sampled_from(list(InvolvementStatus)),
                      st.none() | st.just(T0)), max_size=4))),
        timeline=(),
        revisions=tuple(Revision(str(i + 1), T0 + timedelta(days=i), "r")
                        for i in range(revs)))


#: the writer's own refusals (domain words); the validator's would start "schema"/"6.1."
WRITER_REFUSALS = ("no product is named", "is not affected, but no justification",
                   "still under investigation")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(adv=advisories(), vex=st.booleans())
def test_generated_advisories_always_validate_or_are_refused_in_domain_words(
        adv: Advisory, vex: bool) -> None:
    try:
        rendered = write_csaf(adv, vex=vex)
    except InvalidAdvisory as err:
        assert all(any(w in p for w in WRITER_REFUSALS) for p in err.problems), err.problems
        return
    doc = json.loads(rendered.content)
    assert csaf_check.problems(doc) == []
    ps = [v.get("product_status", {}) for v in doc["vulnerabilities"]]
    assert all(ps)


# -- offline and quiet ---------------------------------------------------------------------

def test_writing_and_validating_needs_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network used")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    csaf_check._validator.cache_clear()
    assert json.loads(write_csaf(SAMPLE, vex=True).content)["vulnerabilities"]


def test_the_csaf_package_does_not_take_over_logging() -> None:
    code = ("import logging\n"
            "from cvdesk.publish.csaf import write_csaf\n"
            "from tests.publish.samples import SAMPLE\n"
            "write_csaf(SAMPLE)\n"
            "assert logging.getLogger().handlers == [], logging.getLogger().handlers\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})


# -- provider directory --------------------------------------------------------------------

def test_provider_directory(tmp_path: Path) -> None:
    from csaf import audit_tree  # the csaf package's own check of a local provider tree

    from cvdesk.publish.csaf_provider import write_provider_dir

    adv = write_csaf(SAMPLE)
    amber = write_csaf(replace(SAMPLE, tracking_id="CVD-2025-0007", tlp=TLP.AMBER))
    written = write_provider_dir(
        [adv, amber], tmp_path, publisher=SAMPLE.publisher,
        base_url="https://csirt.example/.well-known/csaf/", now=T0,
        sign=lambda data: b"SIG:" + hashlib.sha256(data).hexdigest().encode())
    root = tmp_path / "white"
    doc = root / "2026" / "cvd-2026-0042.json"
    assert doc.read_bytes() == adv.content
    assert (root / "2026" / "cvd-2026-0042.json.sha512").read_bytes() == (
        checksums(adv)[1].content)
    assert (root / "2026" / "cvd-2026-0042.json.asc").read_bytes().startswith(b"SIG:")
    assert (root / "index.txt").read_text() == "2026/cvd-2026-0042.json\n"
    assert (root / "changes.csv").read_text() == (
        '"2026/cvd-2026-0042.json","2026-11-28T12:00:00+00:00"\n')
    assert (tmp_path / "amber" / "2026" / "cvd-2025-0007.json").exists()
    meta = json.loads((tmp_path / "provider-metadata.json").read_text())
    assert meta["canonical_url"] == (
        "https://csirt.example/.well-known/csaf/provider-metadata.json")
    assert [d["directory_url"] for d in meta["distributions"]] == [
        "https://csirt.example/.well-known/csaf/amber/",
        "https://csirt.example/.well-known/csaf/white/"]
    assert (meta["metadata_version"], meta["role"]) == ("2.0", "csaf_provider")
    assert len(written) == 2 * 4 + 2 * 2 + 1
    for tlp in ("white", "amber"):
        audit = audit_tree(str(tmp_path / tlp))
        # its changes.csv check expects CSAF 2.1's column order (date first); CSAF 2.0
        # (7.1.14) puts the path first, as written above
        others = [v for v in audit.violations if v.rule != "changes-csv"]
        assert audit.advisory_count == 1 and not others and not audit.errors


def test_provider_directory_refuses_two_documents_on_one_path(tmp_path: Path) -> None:
    from cvdesk.publish.csaf_provider import write_provider_dir

    with pytest.raises(InvalidAdvisory, match="two documents"):
        write_provider_dir([write_csaf(SAMPLE), write_csaf(SAMPLE, vex=True)], tmp_path,
                           publisher=SAMPLE.publisher, base_url="https://x.example", now=T0)
    with pytest.raises(InvalidAdvisory, match="must sign"):
        write_provider_dir([], tmp_path, publisher=SAMPLE.publisher,
                           base_url="https://x.example", now=T0, role="csaf_trusted_provider")
