"""CVSS vectors (issue 10): checked and scored with the cvss package; a bad vector names
the metric in trouble; CVSS 3.0 and other versions are refused."""

from __future__ import annotations

import pytest
from cvss import CVSS3, CVSS4
from cvss import constants3 as c3
from cvss import constants4 as c4
from hypothesis import given, settings
from hypothesis import strategies as st

from cvdesk.domain.errors import InvalidInput
from cvdesk.domain.scores import check_metrics, score

V3_VALUES = {m: list(v) for m, v in c3.METRICS_VALUES.items()}
V4_VALUES = {m: list(v) for m, v in c4.METRICS_VALUE_NAMES.items()}
TABLES = {"3.1": (V3_VALUES, list(c3.METRICS_MANDATORY)),
          "4.0": (V4_VALUES, list(c4.METRICS_MANDATORY))}


@st.composite
def vectors(draw: st.DrawFn, version: str | None = None) -> tuple[str, list[tuple[str, str]]]:
    """A valid vector: every mandatory metric, some optional ones, in any order."""
    version = version or draw(st.sampled_from(["3.1", "4.0"]))
    values, mandatory = TABLES[version]
    optional = draw(st.lists(st.sampled_from([m for m in values if m not in mandatory]),
                             unique=True, max_size=6))
    metrics = [(m, draw(st.sampled_from(values[m]))) for m in [*mandatory, *optional]]
    metrics = draw(st.permutations(metrics))
    return f"CVSS:{version}/" + "/".join(f"{m}:{v}" for m, v in metrics), metrics


@settings(max_examples=150, deadline=None)
@given(vectors())
def test_a_valid_vector_scores_as_the_cvss_package_scores_it(
        drawn: tuple[str, list[tuple[str, str]]]) -> None:
    vector, _ = drawn
    got = score(vector)
    theirs = CVSS3(vector) if vector.startswith("CVSS:3.1/") else CVSS4(vector)
    assert got.version == vector[5:8]
    assert got.base_score == float(theirs.scores()[0])
    assert got.severity == theirs.severities()[0].upper()
    assert got.vector == theirs.clean_vector()
    assert score(got.vector) == got  # the normal form is itself valid and stable


@settings(max_examples=150, deadline=None)
@given(vectors(), st.data())
def test_a_vector_with_one_metric_corrupted_names_that_metric(
        drawn: tuple[str, list[tuple[str, str]]], data: st.DataObject) -> None:
    vector, metrics = drawn
    version = vector[5:8]
    values, _ = TABLES[version]
    index = data.draw(st.integers(0, len(metrics) - 1))
    metric, _ = metrics[index]
    bad = data.draw(st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=3).filter(
        lambda v: v not in values[metric]))
    parts = [f"{m}:{bad if i == index else v}" for i, (m, v) in enumerate(metrics)]
    with pytest.raises(InvalidInput) as caught:
        score(f"CVSS:{version}/" + "/".join(parts))
    assert caught.value.field == "cvss"
    assert caught.value.problem.startswith(f"{metric}: '{bad}' is not one of ")
    assert ", ".join(values[metric]) in caught.value.problem


@settings(max_examples=100, deadline=None)
@given(vectors(), st.data())
def test_a_vector_missing_a_mandatory_metric_names_it(
        drawn: tuple[str, list[tuple[str, str]]], data: st.DataObject) -> None:
    vector, metrics = drawn
    version = vector[5:8]
    _, mandatory = TABLES[version]
    dropped = data.draw(st.sampled_from(mandatory))
    kept = "/".join(f"{m}:{v}" for m, v in metrics if m != dropped)
    with pytest.raises(InvalidInput, match=f"cvss: missing mandatory metric {dropped}$"):
        score(f"CVSS:{version}/{kept}")


@pytest.mark.parametrize(("vector", "expected"), [
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", (9.8, "CRITICAL")),
    ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H", (5.9, "MEDIUM")),
    ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:N", (0.0, "NONE")),
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", (9.3, "CRITICAL")),
    ("  CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H  ", (9.8, "CRITICAL")),
])
def test_known_scores(vector: str, expected: tuple[float, str]) -> None:
    got = score(vector)
    assert (got.base_score, got.severity) == expected


def test_the_normal_form_puts_metrics_in_the_specifications_order() -> None:
    got = score("CVSS:3.1/A:H/I:H/C:H/S:U/UI:N/PR:N/AC:L/AV:N/E:X")
    assert got.vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"


@pytest.mark.parametrize(("vector", "problem"), [
    ("CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "AV: 'Q' is not one of N, A, L, P"),
    ("CVSS:3.1/AV:N/PR:N/UI:N/S:U/C:H/I:H/A:H", "missing mandatory metric AC"),
    ("CVSS:3.1/AV:N/UI:N/S:U/C:H/I:H/A:H", "missing mandatory metrics AC, PR"),
    ("CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "AV: given twice"),
    ("CVSS:3.1/AV:N/XX:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "'XX' is not a CVSS 3.1 metric"),
    ("CVSS:3.1/AT:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "'AT' is not a CVSS 3.1 metric"),
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/", "an empty metric"),
    ("CVSS:3.1/AV:N/ACL/PR:N/UI:N/S:U/C:H/I:H/A:H", "'ACL' is not metric:value"),
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:X/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
     "UI: 'X' is not one of N, P, A"),
    ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS 3.0 vectors are not taken"),
    ("CVSS:2.0/AV:N", "'CVSS:2.0' is not a version taken here"),
    ("AV:N/AC:L/Au:N/C:P/I:P/A:P", "does not start with CVSS:3.1/ or CVSS:4.0/"),
    ("", "must not be empty"),
    ("CVSS:3.1/" + "AV:N/" * 300, "too long"),
])
def test_bad_vectors_say_what_is_wrong(vector: str, problem: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        score(vector)
    assert caught.value.field == "cvss"
    assert problem in caught.value.problem


def test_check_metrics_returns_what_it_read() -> None:
    version, metrics = check_metrics("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/"
                                     "SC:N/SI:N/SA:N/U:Red")
    assert version == "4.0" and metrics["U"] == "Red" and len(metrics) == 12
