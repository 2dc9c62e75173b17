"""The one-pass "uniqueItems" the CVE record check uses (issue 10: publishing grows
linearly with the vendors): the same answers as jsonschema's own check, without its
pairwise comparison of objects."""

from __future__ import annotations

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator

from cvdesk.publish import cve
from cvdesk.publish.wire import linear_unique, schema_problems
from tests.publish.make_golden import ASSIGNER
from tests.publish.samples import RICH

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from([0.0, 1.0, 1.5, -2.0])
    | st.text(max_size=2),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner,
                                                                max_size=3),
    max_leaves=8)
SCHEMA = {"type": "array", "uniqueItems": True}


@settings(max_examples=300, deadline=None)
@given(items=st.lists(JSON, max_size=6))
def test_same_answer_as_jsonschema(items: list) -> None:
    ours = linear_unique(Draft7Validator)(SCHEMA)
    theirs = Draft7Validator(SCHEMA)
    assert [e.message for e in ours.iter_errors(items)] == [
        e.message for e in theirs.iter_errors(items)]


@pytest.mark.parametrize(("items", "unique"), [
    ([1, 1.0], False), ([True, 1], True), ([False, 0], True), ([{"a": 1}, {"a": 1.0}], False),
    ([{"a": [1, 2]}, {"a": [2, 1]}], True), ([[True], [1]], True), ([None, "null"], True),
])
def test_json_equality_not_python_equality(items: list, unique: bool) -> None:
    ours = linear_unique(Draft7Validator)(SCHEMA)
    assert ours.is_valid(items) is unique
    assert Draft7Validator(SCHEMA).is_valid(items) is unique


def test_the_cve_check_never_compares_objects_pairwise(monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: with jsonschema's check, the record of a case whose 2,000 vendors each
    gave a fix took time growing with the square of the vendors (its "solutions")."""
    def refuse(container: object) -> bool:
        raise AssertionError("jsonschema's pairwise uniqueItems was used")

    monkeypatch.setattr(jsonschema._keywords, "uniq", refuse)
    record = cve.write_cve(RICH, "CVE-2026-40000", **ASSIGNER)
    assert record.filename == "CVE-2026-40000.json"


def test_the_cve_check_still_refuses_repeats() -> None:
    record = cve.record_for(RICH, RICH.vulnerabilities[0], ASSIGNER["assigner_org_id"], "x1")
    record["containers"]["cna"]["references"] *= 2
    problems = schema_problems(cve.schema_errors(record))
    assert problems and problems[0].startswith("containers/cna/references: ")
    assert problems[0].endswith("...")  # the long message, shortened for a terminal
    record["containers"]["cna"]["references"] = [{"url": "https://a.example"}] * 2
    problems = schema_problems(cve.schema_errors(record))
    assert problems == ["containers/cna/references: [{'url': 'https://a.example'}, "
                        "{'url': 'https://a.example'}] has non-unique elements"]
