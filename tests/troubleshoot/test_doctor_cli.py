"""``cvdesk doctor`` and ``cvdesk finding`` through the entry point, on the demo data.

The demo is dated relative to the real clock, so every expectation is computed from the
stored logs (replayed and judged at the time the command reports), never from fixed dates.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from cvdesk.domain.case import Case
from cvdesk.domain.model import CaseStatus
from cvdesk.services.doctor import finding_data
from cvdesk.settings import load_settings
from cvdesk.store.cases import CaseRepository
from cvdesk.store.db import Database
from cvdesk.store.tables import FindingRow
from cvdesk.troubleshoot import diagnose
from tests.conftest import Cli

Run = Callable[..., tuple[int, str, str]]
HANDLING = ("id", "status", "first_seen_at", "snoozed_until", "handled_reason")


@pytest.fixture
def cli(demo_cli: Cli, live_demo_db_url: str) -> Iterator[tuple[Run, Database]]:
    """The command line on a copy of the demo, loaded once per session as ``cvdesk demo``
    loads it (real clock; the template checks that all 16 cases were loaded)."""
    db = Database(live_demo_db_url)
    yield demo_cli, db
    db.dispose()


def doctor_json(run: Run, *args: str) -> dict[str, Any]:
    code, out, err = run("doctor", *args, "--json")
    assert code == 0, err
    return json.loads(out)


def case_id_of(db: Database, title_start: str) -> str:
    with db.sessions() as s:
        [cid] = [r.case_id for r in CaseRepository(s).list_cases()
                 if r.title.startswith(title_start)]
    return cid


def expected(db: Database, at: datetime, case_id: str | None = None,
             *, up_to: datetime | None = None) -> tuple[list[Any], dict[str, str | None]]:
    """The findings (as JSON) and next checks the rules give for the open cases' logs."""
    policy = load_settings().policy
    findings: list[Any] = []
    checks: dict[str, str | None] = {}
    with db.sessions() as s:
        repo = CaseRepository(s)
        for row in repo.list_cases("open"):
            if case_id and row.case_id != case_id:
                continue
            events = [e for e in repo.events(row.id) if up_to is None or e.at <= up_to]
            if not events:
                continue
            case = Case.replay(row.case_id, events)
            if case.status is not CaseStatus.OPEN:
                continue
            d = diagnose(case, policy, at)
            findings += [json.loads(json.dumps(finding_data(f))) for f in d.findings]
            checks[row.case_id] = d.next_check.isoformat() if d.next_check else None
    return sorted(findings, key=_order), checks


def _order(f: dict[str, Any]) -> tuple[int, str, str]:
    return (-f["severity_level"], f["case_id"], f["key"])


def rule_part(f: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in f.items() if k not in HANDLING}


def count_findings(db: Database) -> int:
    with db.sessions() as s:
        return s.scalar(select(func.count()).select_from(FindingRow)) or 0


def test_doctor_json_is_what_the_logs_say(cli: tuple[Run, Database]) -> None:
    run, db = cli
    result = doctor_json(run)
    assert set(result) == {"at", "swept", "open_cases", "next_checks", "findings"}
    at = datetime.fromisoformat(result["at"])
    with db.sessions() as s:
        open_cases = len(CaseRepository(s).list_cases("open"))
    assert open_cases == 14
    assert result["swept"] == result["open_cases"] == open_cases
    problems = {f["problem"] for f in result["findings"]}
    assert {"vendor-unresponsive", "vendor-unreachable", "no-acknowledgement",
            "too-many-parties"} <= problems
    findings, checks = expected(db, at)
    assert [rule_part(f) for f in result["findings"]] == findings  # same order, same words
    assert result["next_checks"] == checks
    assert all(f["status"] == "open" and isinstance(f["id"], int)
               and datetime.fromisoformat(f["first_seen_at"]) == at
               and f["snoozed_until"] is None and f["handled_reason"] == ""
               for f in result["findings"])
    assert len({f["id"] for f in result["findings"]}) == len(result["findings"])
    assert count_findings(db) == len(result["findings"])
    # the unreachable vendor: the numbers are the log's
    initech = case_id_of(db, "Hard-coded root password in Initech")
    [unreachable] = [f for f in result["findings"] if f["problem"] == "vendor-unreachable"]
    assert (unreachable["case_id"], unreachable["subject_name"]) == (initech,
                                                                     "Initech Devices")
    assert unreachable["evidence"][0].startswith("4 attempts on 3 channels (email, phone, "
                                                 "web-form)")
    again = doctor_json(run)
    assert again["swept"] == 0
    assert [f["id"] for f in again["findings"]] == [f["id"] for f in result["findings"]]


def test_doctor_one_case_then_the_rest(cli: tuple[Run, Database]) -> None:
    run, db = cli
    globex = case_id_of(db, "SQL injection in Globex")
    one = doctor_json(run, "--case", globex.lower())
    assert (one["swept"], one["open_cases"], list(one["next_checks"])) == (1, 1, [globex])
    assert {f["case_id"] for f in one["findings"]} == {globex}
    at = datetime.fromisoformat(one["at"])
    findings, checks = expected(db, at, globex)
    assert [rule_part(f) for f in one["findings"]] == findings
    assert one["next_checks"] == checks
    [unresponsive] = [f for f in one["findings"] if f["problem"] == "vendor-unresponsive"]
    with db.sessions() as s:
        repo = CaseRepository(s)
        vendor = next(p for p in repo.participants(repo.case_row(globex).id)
                      if p.name == "Globex Software")
    silent = int((at - vendor.last_reply_at) / timedelta(days=1))
    assert unresponsive["evidence"] == [
        f"prior contact: 1 reply, last {vendor.last_reply_at:%Y-%m-%d}",
        f"3 attempts since that reply; 4 attempts on 2 channels (email, web-form), first "
        f"{vendor.first_attempt_at:%Y-%m-%d}, last {vendor.last_attempt_at:%Y-%m-%d} "
        "(no-reply)",
        f"{silent} days silent (policy: 14)",
        "no embargo in force; 42+ days since the last reply"]
    rest = doctor_json(run)
    assert rest["swept"] == rest["open_cases"] - 1
    code, out, _ = run("doctor", "--case", globex)
    assert code == 0 and "0 case(s) re-checked" in out
    assert "vendor-unresponsive  (guide 6.2; 6.10 row 6)  Globex Software stopped " \
           "responding" in out
    assert run("doctor", "--case", "CVD-1999-0001", "--json")[0] == 4


def test_acknowledge_and_snooze_from_the_command_line(cli: tuple[Run, Database]) -> None:
    run, db = cli
    first = doctor_json(run)
    [target] = [f for f in first["findings"] if f["problem"] == "vendor-unresponsive"]
    code, out, _ = run("finding", "ack", str(target["id"]), "--reason", "x")
    assert code == 0
    assert out.strip() == f"#{target['id']} vendor-unresponsive on {target['case_id']}: " \
                          "acknowledged"
    listed = doctor_json(run)
    assert target["id"] not in [f["id"] for f in listed["findings"]]
    assert len(listed["findings"]) == len(first["findings"]) - 1
    every = doctor_json(run, "--all")
    assert [f["id"] for f in every["findings"]] == [f["id"] for f in first["findings"]]
    acked = next(f for f in every["findings"] if f["id"] == target["id"])
    assert (acked["status"], acked["handled_reason"]) == ("acknowledged", "x")

    [other] = [f for f in listed["findings"] if f["problem"] == "too-many-parties"]
    before = datetime.now(UTC)
    code, out, _ = run("finding", "snooze", str(other["id"]), "--days", "2", "--reason", "y")
    after = datetime.now(UTC)
    assert code == 0 and f"#{other['id']} too-many-parties on {other['case_id']}: snoozed " \
                         "until " in out
    snoozed = next(f for f in doctor_json(run, "--all")["findings"] if f["id"] == other["id"])
    until = datetime.fromisoformat(snoozed["snoozed_until"])
    assert (snoozed["status"], snoozed["handled_reason"]) == ("snoozed", "y")
    assert before + timedelta(days=2) <= until <= after + timedelta(days=2)
    assert other["id"] not in [f["id"] for f in doctor_json(run)["findings"]]
    code, out, _ = run("finding", "list", "--json")
    statuses = {f["id"]: f["status"] for f in json.loads(out)}
    assert (statuses[target["id"]], statuses[other["id"]]) == ("acknowledged", "snoozed")
    assert count_findings(db) == len(first["findings"])

    # refused requests: exit codes, and nothing changes
    assert run("finding", "ack", "99999", "--reason", "x")[0] == 4
    assert run("finding", "snooze", str(other["id"]), "--reason", "y")[0] == 2
    assert run("finding", "snooze", str(other["id"]), "--days", "1",
               "--until", "2099-01-01T00:00Z", "--reason", "y")[0] == 2
    assert run("finding", "snooze", str(other["id"]), "--until", "2020-01-01T00:00Z",
               "--reason", "y")[0] == 2
    assert run("finding", "snooze", str(other["id"]), "--until", "2099-01-01T00:00",
               "--reason", "y")[0] == 2  # no time zone
    assert run("finding", "ack", str(other["id"]), "--reason", " ")[0] == 2
    assert run("finding", "ack", str(other["id"]))[0] == 2  # --reason is required
    code, _, err = run("doctor", "--at", "2026-10-01T00:00")
    assert code == 2 and "time zone" in err
    assert run("doctor", "--at", "yesterday")[0] == 2
    still = next(f for f in doctor_json(run, "--all")["findings"] if f["id"] == other["id"])
    assert (still["status"], still["snoozed_until"]) == ("snoozed", snoozed["snoozed_until"])


def test_doctor_at_previews_without_storing(cli: tuple[Run, Database]) -> None:
    run, db = cli
    assert count_findings(db) == 0
    with db.sessions() as s:
        first_event = min(r.opened_at for r in CaseRepository(s).list_cases("open"))
    for at in (datetime.now(UTC) + timedelta(days=20),
               first_event + timedelta(days=10, hours=1),
               datetime.now(UTC) - timedelta(days=3)):
        text = at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
        result = doctor_json(run, "--at", text)
        when = datetime.fromisoformat(result["at"])
        assert when == at.replace(microsecond=0)
        findings, checks = expected(db, when, up_to=when)
        assert [rule_part(f) for f in result["findings"]] == findings
        assert result["next_checks"] == checks
        assert result["swept"] == result["open_cases"] == len(checks)
        assert {(f["id"], f["status"]) for f in result["findings"]} <= {(None, "preview")}
    assert count_findings(db) == 0
    code, out, _ = run("doctor", "--at", "2026-10-01T00:00+02:00")
    assert code == 0 and "(preview, nothing stored)" in out
    assert count_findings(db) == 0
