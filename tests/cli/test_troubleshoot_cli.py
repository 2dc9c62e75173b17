"""doctor, finding, observe, coordinator, credit and retro through the entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli


@pytest.fixture
def run(demo_cli: Cli) -> Cli:
    """The command line on a copy of the demo (loaded once per session by ``cvdesk demo``)."""
    return demo_cli


def test_doctor_finding_lifecycle(run) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run("doctor", "--json")
    assert code == 0
    swept = json.loads(out)
    problems = {f["problem"] for f in swept["findings"]}
    assert {"vendor-unresponsive", "vendor-unreachable", "legal-threat", "leak",
            "too-many-parties", "active-exploitation"} <= problems
    assert swept["swept"] == swept["open_cases"] == 14
    unresponsive = next(f for f in swept["findings"] if f["problem"] == "vendor-unresponsive")
    assert run("finding", "ack", str(unresponsive["id"]), "--reason", "phoning")[0] == 0
    ids = [f["id"] for f in json.loads(run("doctor", "--json")[1])["findings"]]
    assert unresponsive["id"] not in ids
    every = json.loads(run("doctor", "--all", "--json")[1])["findings"]
    assert next(f for f in every if f["id"] == unresponsive["id"])["status"] == "acknowledged"
    other = ids[0]
    assert run("finding", "snooze", str(other), "--days", "2", "--reason", "wait")[0] == 0
    assert run("finding", "ack", "99999", "--reason", "x")[0] == 4
    assert run("finding", "snooze", str(other), "--reason", "x")[0] == 2
    assert run("doctor", "--at", "2026-10-01T00:00")[0] == 2
    code, out, _ = run("doctor")
    assert code == 0 and "re-checked" in out and "(guide 6." in out
    one = json.loads(run("doctor", "--case", unresponsive["case_id"], "--json", "--all")[1])
    assert {f["case_id"] for f in one["findings"]} == {unresponsive["case_id"]}
    assert run("doctor", "--case", "CVD-1999-0001")[0] == 4


def test_observe_coordinator_credit_retro(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("observe", "CVD-2026-0001", "media-attention", "--text", "TV interview")[0] == 0
    assert run("observe", "CVD-2026-0001", "gossip")[0] == 2
    code, _, _ = run("coordinator", "handoff", "CVD-2026-0003", "--to", "NCSC-NL",
                     "--out", str(tmp_path / "h.json"))
    assert code == 0 and json.loads((tmp_path / "h.json").read_text())["to"]["name"] == "NCSC-NL"
    assert run("coordinator", "handoff", "CVD-2026-0003", "--to", "Nobody")[0] == 4
    assert run("credit", "add", "CVD-2026-0001", "--name", "Dana", "--for", "found it",
               "--public")[0] == 0
    credits = json.loads(run("credit", "list", "CVD-2026-0001", "--json")[1])
    assert credits == [{"name": "Dana", "role": "finder", "contribution": "found it",
                        "public": True, "participant": None}]
    assert run("embargo", "publish-early", "CVD-2026-0004", "--reason", "attacks")[0] == 0
    assert run("case", "close", "CVD-2026-0004", "--no-retro")[0] == 0
    missing = json.loads(run("retro", "list", "--missing", "--json")[1])
    assert "CVD-2026-0004" in missing
    assert run("retro", "add", "CVD-2026-0004", "--went-wrong", "waited too long")[0] == 0
    found = json.loads(run("retro", "list", "waited", "--json")[1])
    assert [r["case_id"] for r in found] == ["CVD-2026-0004"]
    assert run("retro", "add", "CVD-2026-0004")[0] == 2  # nothing answered, not a terminal
