"""The SSVC tables encoded in cvdesk.domain.ssvc, checked row by row against the published
tables (JSON, SSVC schema 2.0.0) that CI places beside the clone at ../shared."""

from __future__ import annotations

import json
from itertools import product
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cvdesk.domain import ssvc
from cvdesk.domain.errors import InvalidInput

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "ssvc"
FILES = {
    "coordinator_triage_1_0_0.json": "DT_COORD_TRIAGE",
    "coordinator_publish_decision_table_1_0_0.json": "DT_COORD_PUBLISH",
    "supplier_patch_development_priority_1_0_0.json": "DT_SP",
    "deployer_patch_application_priority_1_0_0.json": "DT_DP",
    "human_impact_1_0_0.json": "DT_HI",
    "public_safety_impact_1_0_0.json": "DT_PSI",
    "utility_1_0_0.json": "DT_U",
}
#: Every point and outcome group we encode, by its SSVC id ("ssvc:E:1.1.0").
BY_SSVC_ID = {p.ssvc_id: p for p in (*ssvc.POINTS.values(), *ssvc.OUTCOMES.values())}


def _load(name: str) -> dict[str, Any]:
    return json.loads((REFERENCE / name).read_text(encoding="utf-8"))


def _rows() -> list[Any]:
    if not REFERENCE.is_dir():
        return [pytest.param(None, None, marks=pytest.mark.skip(
            reason=f"the SSVC reference tables are not at {REFERENCE} (CI copies shared/ "
                   "beside the clone)"))]
    params = []
    for name in FILES:
        for i, row in enumerate(_load(name)["mapping"]):
            params.append(pytest.param(name, row, id=f"{name.removesuffix('.json')}-{i}"))
    return params


def _member(ssvc_id: str, key: str) -> ssvc.SsvcValue:
    point = BY_SSVC_ID[ssvc_id]
    return {v.key: v for v in point.values}[key]


@pytest.mark.parametrize(("name", "row"), _rows())
def test_every_reference_row_matches_our_table(name: str, row: dict[str, str]) -> None:
    table = ssvc.TABLES[FILES[name]]
    values = {BY_SSVC_ID[k].id: _member(k, v) for k, v in row.items()}
    expected = values.pop(table.outcome.id)
    assert table.lookup(*(values[i] for i in table.inputs)) is expected
    if table in ssvc.DECISIONS and table is not ssvc.COORDINATOR_PUBLISH:
        return  # helper points as inputs: decide() is checked below from the base points
    assert ssvc.decide(table, values) is expected


@pytest.mark.skipif(not REFERENCE.is_dir(), reason=f"no SSVC reference tables at {REFERENCE}")
@pytest.mark.parametrize("name", sorted(FILES))
def test_each_table_has_the_reference_points_values_and_size(name: str) -> None:
    ref = _load(name)
    table = ssvc.TABLES[ref["key"]]
    assert ref["key"] == FILES[name]
    assert ref["outcome"] == table.outcome.ssvc_id
    inputs = [k for k in ref["decision_points"] if k != ref["outcome"]]
    assert [BY_SSVC_ID[k].id for k in inputs] == list(table.inputs)  # same order
    for ssvc_id, point in ref["decision_points"].items():
        ours = BY_SSVC_ID[ssvc_id]
        assert ours.name == point["name"]
        assert sorted((v.key, v.title) for v in ours.values) == sorted(
            (v["key"], v["name"]) for v in point["values"])  # Report Public lists Y first
    assert len(ref["mapping"]) == len(table.mapping)
    assert len({tuple(r[k] for k in inputs) for r in ref["mapping"]}) == len(ref["mapping"])


def test_each_table_covers_every_combination_of_its_inputs_once() -> None:
    for table in ssvc.TABLES.values():
        domains = [ssvc.POINTS[i].values for i in table.inputs]
        assert sorted(table.mapping) == sorted(product(*domains)), table.id
        assert all(isinstance(o, table.outcome.values) for o in table.mapping.values())


def _base_points(table: ssvc.Table) -> list[str]:
    out: list[str] = []
    for pid in table.inputs:
        helper = ssvc.HELPERS.get(pid)
        out.extend(i for i in (helper.inputs if helper else (pid,)) if i not in out)
    return out


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_every_combination_of_given_points_yields_exactly_one_outcome(data: Any) -> None:
    table = data.draw(st.sampled_from(ssvc.DECISIONS))
    values = {pid: data.draw(st.sampled_from(list(ssvc.POINTS[pid].values)))
              for pid in _base_points(table)}
    outcomes = {o for o in table.outcome.values if ssvc.decide(table, values) is o}
    assert len(outcomes) == 1
    assert ssvc.needs(table, ssvc.compose(values)) == ()
    # spelt as people type them (SSVC keys, any case) it is the same decision
    keyed = {pid: v.key.lower() for pid, v in values.items()}
    assert ssvc.decide(table, keyed) in outcomes


def test_helpers_compose_into_the_decisions() -> None:
    values = {"exploitation": "active", "automatable": "yes", "value_density": "diffuse",
              "technical_impact": "total", "safety_impact": "negligible"}
    # utility: yes + diffuse = efficient; public safety: negligible = minimal -> A E T M = O
    assert ssvc.decide(ssvc.SUPPLIER_PATCH_PRIORITY, values) is ssvc.Priority.OUT_OF_CYCLE
    composed = ssvc.compose(values)
    assert composed["utility"] is ssvc.Utility.EFFICIENT
    assert composed["public_safety_impact"] is ssvc.PublicSafetyImpact.MINIMAL
    # a helper point may be given directly instead of its inputs
    assert ssvc.decide(ssvc.SUPPLIER_PATCH_PRIORITY, {
        "exploitation": "A", "utility": "super effective", "technical_impact": "P",
        "public_safety_impact": "minimal"}) is ssvc.Priority.IMMEDIATE


def test_a_helper_point_that_disagrees_with_its_inputs_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"^Utility: given as laborious, but Automatable "
                       r"yes, Value Density concentrated give super_effective"):
        ssvc.compose({"automatable": "yes", "value_density": "concentrated",
                      "utility": "laborious"})


def test_a_missing_point_is_named_in_ssvc_words() -> None:
    with pytest.raises(InvalidInput) as err:
        ssvc.decide(ssvc.DEPLOYER_PATCH_PRIORITY, {"exploitation": "none",
                                                   "system_exposure": "open"})
    assert err.value.field == "Automatable"
    assert "needed for the Deployer Patch Application Priority decision" in str(err.value)
    assert [p.id for p in ssvc.needs(ssvc.DEPLOYER_PATCH_PRIORITY, {})] == [
        "exploitation", "system_exposure", "automatable", "safety_impact", "mission_impact"]


@pytest.mark.parametrize(("point", "value", "field"), [
    ("exploitation", "sometimes", "Exploitation"),
    ("value density", "dense", "Value Density"),
    ("MI", "MSCX", "Mission Impact"),
])
def test_a_wrong_value_is_named_with_its_point_and_choices(point: str, value: str,
                                                           field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        ssvc.decide(ssvc.DEPLOYER_PATCH_PRIORITY, {point: value})
    assert err.value.field == field
    assert f"'{value}' is not one of" in err.value.problem


def test_values_are_read_in_our_spelling_and_ssvcs() -> None:
    mi = ssvc.POINTS["mission_impact"]
    for text in ("mef_support_crippled", "MEF-support-crippled", "MSC", "MEF Support Crippled"):
        assert mi.parse(text) is ssvc.MissionImpact.MEF_SUPPORT_CRIPPLED
    assert ssvc.point_named("Value Density").id == "value_density"
    assert ssvc.point_named("vd").id == "value_density"
    assert ssvc.point_named("public-safety-impact").id == "public_safety_impact"
    with pytest.raises(InvalidInput, match=r"^decision point: 'colour' is not an SSVC"):
        ssvc.point_named("colour")


def test_what_people_may_give() -> None:
    assert ssvc.check_given({"Automatable": "Y", "vd": "diffuse", "safety_impact": ""}) == {
        "automatable": "yes", "value_density": "diffuse", "safety_impact": None}
    cases = [({"exploitation": "active"}, "Exploitation", "comes from the case log"),
             ({"report public": "yes"}, "Report Public", "record P (public aware)"),
             ({"supplier_engagement": "active"}, "Supplier Engagement", "cannot be given"),
             ({"human_impact": "low"}, "Human Impact", "Safety Impact and Mission Impact"),
             ({"automatable": "yes", "A": "no"}, "Automatable", "given twice"),
             ({}, "decision point", "at least one")]
    for values, field, says in cases:
        with pytest.raises(InvalidInput) as err:
            ssvc.check_given(values)
        assert err.value.field == field and says in err.value.problem, (values, err.value)
