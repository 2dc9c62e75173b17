"""``cvdesk ssvc`` through the entry point, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def case(cli: Cli) -> str:
    result = cli.json("report", "submit", str(EXAMPLES / "report.yaml"))
    assert isinstance(result, dict)
    return str(result["case_id"])


@pytest.mark.parametrize(("given", "says"), [
    ("automatable=maybe", "Automatable: 'maybe' is not one of no, yes"),
    ("colour=red", "decision point: 'colour' is not an SSVC decision point"),
    ("exploitation=active", "Exploitation: comes from the case log"),
    ("utility=laborious", "Utility: follows from Automatable and Value Density"),
    ("automatable", "decision point: 'automatable' is not point=value"),
])
def test_a_bad_point_or_value_exits_2_naming_the_point(cli: Cli, case: str, given: str,
                                                       says: str) -> None:
    before = cli.counts()
    code, out, err = cli("ssvc", case, "--set", "value_density=diffuse", "--set", given)
    assert code == 2, (out, err)
    assert says in err
    assert cli.counts() == before, "a refused assessment wrote to the database"


def test_set_then_show_as_json_and_text(cli: Cli, case: str) -> None:
    data = cli.json("ssvc", case, "--set", "automatable=yes", "--set", "vd=concentrated",
                    "--reason", "triage \x1b[2J call")
    points = {p["id"]: p for p in data["points"]}
    assert points["automatable"]["value"] == "yes"
    assert points["automatable"]["given_by"] == "tester"
    assert points["automatable"]["given_reason"] == "triage \x1b[2J call"  # exact in JSON
    assert points["utility"]["value"] == "super_effective"
    assert points["report_public"]["source"] == "case"
    triage = data["decisions"][0]
    assert triage["id"] == "coordinator_triage"
    assert triage["outcome"] is None and triage["needs"] == ["report_credibility",
                                                             "safety_impact"]
    text = cli.ok("ssvc", case)
    assert "Coordinator Triage" in text and "needs: report_credibility, safety_impact" in text
    assert "given by tester at" in text
    assert "\x1b" not in text and "triage \\x1b[2J call" in text  # escaped on output
    assert "Supplier Contacted" in text and "case: " in text


def test_options_that_go_with_set_and_unknown_cases(cli: Cli, case: str) -> None:
    code, _, err = cli("ssvc", case, "--at", "2026-01-01T00:00Z")
    assert code == 2 and "goes with --set" in err
    code, _, err = cli("ssvc", "CVD-1999-0001")
    assert code == 4 and "CVD-1999-0001" in err
