"""The CLI through its entry point (cvdesk.cli.main.main), on SQLite and PostgreSQL.

Bad input must exit non-zero with a message naming the field and the problem, and
must write nothing: every refusal test counts the rows of every table before and after.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cvdesk.store import migrate
from tests.conftest import Cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def case(cli: Cli) -> str:
    """A submitted case: p1 desk, p2 reporter (Sam Okafor), p3 vendor (Contoso Home)."""
    result = cli.json("report", "submit", str(EXAMPLES / "report.yaml"))
    assert isinstance(result, dict)
    return str(result["case_id"])


def refused(cli: Cli, code: int, *args: str, says: tuple[str, ...]) -> str:
    before = cli.counts()
    got, out, err = cli(*args)
    assert got == code, (args, out, err)
    for text in says:
        assert text in err, (text, err)
    assert cli.counts() == before, "a refused command wrote to the database"
    return err


# ------------------------------------------------------------------ init and intake
def test_init_creates_then_reports_up_to_date(cli: Cli) -> None:
    assert f"up to date (schema {migrate.HEAD})" in cli.ok("init")


def test_a_fresh_database_must_be_initialised(cli: Cli, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CVDESK_DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")
    code, _, err = cli("case", "list")
    assert code == 1 and "run 'cvdesk init'" in err
    assert "created database" in cli.ok("init")
    assert "0 case(s)" in cli.ok("case", "list")


def test_submit_yaml_and_json(cli: Cli) -> None:
    a = cli.json("report", "submit", str(EXAMPLES / "report.yaml"))
    b = cli.ok("report", "submit", str(EXAMPLES / "report.json"))
    assert isinstance(a, dict) and a["case_id"] == f"CVD-{datetime.now(UTC).year}-0001"
    assert a["tracking_id"].startswith("VR-")
    assert f"(case CVD-{datetime.now(UTC).year}-0002)" in b
    shown = cli.json("case", "show", a["case_id"])
    assert isinstance(shown, dict)
    assert shown["title"] == "Unauthenticated firmware upload in Contoso SmartPlug"
    assert [p["name"] for p in shown["participants"]] == ["cvdesk", "Sam Okafor",
                                                         "Contoso Home"]
    assert shown["participants"][1]["roles"] == ["finder", "reporter"]
    assert shown["participants"][1]["rm_state"] == "accepted"
    assert shown["reports"][0]["tracking_id"] == a["tracking_id"]
    assert shown["vulnerabilities"][0]["cwes"] == ["CWE-306", "CWE-494"]


@pytest.mark.parametrize(("content", "suffix", "says"), [
    ('{"title": "x", ', ".json", ("invalid JSON at line 1",)),
    ("title: [unclosed\n", ".yaml", ("invalid YAML",)),
    ('{"title": "t", "description": "d", "reporter": {"name": "n"}, "colour": 1}', ".json",
     ("colour: unknown field",)),
    ('{"title": "t", "reporter": {"name": "n"}}', ".json",
     ("description: required field is missing",)),
    ('{"title": "t", "description": "d", "reporter": {"name": "n"}, "tlp": "PURPLE"}', ".json",
     ("tlp:",)),
    ('{"title": "t", "description": "d", "reporter": {"name": "n"}, '
     '"disclosure_date": "2027-01-01T10:00"}', ".json", ("disclosure_date", "time zone")),
    ('{"title": "t", "description": "d", "reporter": {"name": "n", "email": "nope"}}',
     ".json", ("reporter.email: not an e-mail address",)),
    ('{"title": "t", "description": "d", "reporter": {"name": "n"}, '
     '"products": [{"product": "p", "purl": "not-a-purl"}]}', ".json",
     ("products[0].purl",)),
    ("[1, 2]", ".json", ("the form must be a mapping",)),
    ("title: t", ".txt", ("unknown format",)),
])
def test_bad_report_forms_are_refused(cli: Cli, tmp_path: Path, content: str, suffix: str,
                                      says: tuple[str, ...]) -> None:
    path = tmp_path / f"form{suffix}"
    path.write_text(content)
    refused(cli, 2, "report", "submit", str(path), says=says)


def test_missing_file_is_refused(cli: Cli) -> None:
    refused(cli, 2, "report", "submit", "nowhere.yaml", says=("no such file",))


# ------------------------------------------------------------------ reading
def test_list_show_timeline(cli: Cli, case: str) -> None:
    listed = cli.json("case", "list")
    assert isinstance(listed, list) and [c["case_id"] for c in listed] == [case]
    assert listed[0]["em_state"] == "none" and listed[0]["pxa"] == "pxa"
    timeline = cli.json("case", "timeline", case)
    assert isinstance(timeline, list)
    assert [e["type"] for e in timeline[:3]] == ["case.opened", "report.received",
                                                 "participant.added"]
    assert all(e["actor"] == "tester" for e in timeline)
    assert "case.opened" in cli.ok("case", "timeline", case)
    refused(cli, 2, "case", "list", "--status", "bogus", says=("--status",))


def test_unknown_case_and_participant(cli: Cli, case: str) -> None:
    refused(cli, 4, "case", "show", "CVD-1999-0001", says=("no case 'CVD-1999-0001'",))
    refused(cli, 4, "rm", "receive", case, "p9", says=("no participant p9",))
    refused(cli, 4, "contact", "reply", case, "Nobody", says=("no participant 'Nobody'",))


# ------------------------------------------------------------------ changing things
def test_participants_and_contact_log(cli: Cli, case: str) -> None:
    added = cli.json("participant", "add", case, "--name", "Fabrikam", "--role", "vendor",
                     "--role", "deployer", "--email", "psirt@fabrikam.example")
    assert added == {"case_id": case, "participant": 4}
    when = (datetime.now(UTC) - timedelta(days=10)).replace(microsecond=0)
    refused(cli, 2, "contact", "attempt", case, "p4", "--channel", "email", "--at",
            when.isoformat(), says=("--at", "is before", "was opened"))
    old = cli.json("report", "submit", str(EXAMPLES / "report.json"), "--at",
                   (when - timedelta(days=1)).isoformat())  # a report that arrived earlier
    assert isinstance(old, dict)
    cli.ok("contact", "attempt", str(old["case_id"]), "p3", "--channel", "email", "--at",
           when.isoformat())
    [earlier] = [p for p in cli.json("participant", "list", str(old["case_id"]))
                 if p["pid"] == 3]
    assert datetime.fromisoformat(earlier["first_attempt_at"]) == when
    cli.ok("contact", "attempt", case, "p4", "--channel", "email", "--outcome", "sent")
    cli.ok("contact", "attempt", case, "Fabrikam", "--channel", "phone", "--outcome",
           "no-reply")
    cli.ok("contact", "reply", case, "4", "--channel", "email")
    people = cli.json("participant", "list", case)
    assert isinstance(people, list)
    fab = people[3]
    assert fab["roles"] == ["deployer", "vendor"]
    assert (fab["attempts"], fab["replies"], fab["channels"]) == (2, 1, ["email", "phone"])
    assert fab["first_attempt_at"] is not None
    assert fab["rm_state"] == "received"  # a reply shows they have the report
    refused(cli, 2, "participant", "add", case, "--name", "X", "--role", "hacker",
            says=("--role: 'hacker' is not one of",))
    refused(cli, 2, "participant", "add", case, "--name", "X", "--role", "vendor",
            "--email", "bad", says=("--email",))
    refused(cli, 2, "contact", "attempt", case, "p4", "--channel", "pigeon",
            says=("--channel: 'pigeon' is not one of",))
    refused(cli, 2, "contact", "attempt", case, "p4", "--channel", "email", "--outcome",
            "maybe", says=("--outcome",))
    refused(cli, 2, "contact", "reply", case, "p4", "--at", "2026-01-01T10:00",
            says=("--at", "no time zone"))
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    refused(cli, 2, "contact", "reply", case, "p4", "--at", future, says=("in the future",))


def test_report_management_transitions(cli: Cli, case: str) -> None:
    err = refused(cli, 3, "rm", "close", case, "p3", says=("RM (report management)",
                                                           "'close' is not allowed in state "
                                                           "'start'", "allowed from 'start': "
                                                           "receive"))
    assert "p3 Contoso Home" in err
    for trigger, state in (("receive", "received"), ("validate", "valid"),
                           ("accept", "accepted"), ("defer", "deferred"),
                           ("accept", "accepted"), ("close", "closed")):
        assert f"RM {trigger} -> {state}" in cli.ok("rm", trigger, case, "p3")
    refused(cli, 3, "rm", "receive", case, "p3", says=("final state",))


def test_case_state_events(cli: Cli, case: str) -> None:
    refused(cli, 3, "event", "record", case, "F", "--vendor", "p3",
            says=("CS (case state)", "'F' is not allowed in state 'vfdpxa'"))
    refused(cli, 2, "event", "record", case, "V", says=("vendor",))
    refused(cli, 2, "event", "record", case, "P", "--vendor", "p3", says=("case-wide",))
    refused(cli, 2, "event", "record", case, "Q", says=("'Q' is not one of",))
    refused(cli, 2, "event", "record", case, "V", "--vendor", "p2", says=("not a vendor",))
    written = cli.json("event", "record", case, "X")
    assert written == [
        {"seq": written[0]["seq"], "event": "X", "participant": None, "implied": False},
        {"seq": written[0]["seq"] + 1, "event": "P", "participant": None, "implied": True},
        {"seq": written[0]["seq"] + 2, "event": "V", "participant": 3, "implied": True},
    ]
    assert "[implied]" in cli.ok("case", "timeline", case)
    cli.ok("event", "record", case, "F", "--vendor", "Contoso Home")
    shown = cli.json("case", "show", case)
    assert isinstance(shown, dict)
    assert shown["pxa"] == "PXa" and shown["participants"][2]["vfd"] == "VFd"
    refused(cli, 3, "event", "record", case, "X", says=("'X' is not allowed",))


def test_embargo_lifecycle(cli: Cli, case: str) -> None:
    refused(cli, 2, "embargo", "propose", case, "--end", "2027-01-10T12:00",
            says=("--end", "no time zone"))
    refused(cli, 3, "embargo", "accept", case, says=("EM (embargo management)",
                                                     "allowed from 'none': propose"))
    refused(cli, 3, "embargo", "sign", case, "p3", says=("EM (embargo management)",
                                                         "allowed from 'none': propose"))
    end = (datetime.now(UTC) + timedelta(days=40)).replace(microsecond=0, second=0)
    local = end.astimezone(UTC).replace(tzinfo=None).isoformat() + "+01:00"
    cli.ok("embargo", "propose", case, "--end", local)
    cli.ok("embargo", "sign", case, "p3")
    cli.ok("embargo", "decline", case, "p2")
    assert "EM accept -> active" in cli.ok("embargo", "accept", case)
    shown = cli.json("case", "show", case)
    assert isinstance(shown, dict)
    assert shown["embargo_end"] == local  # the time zone it was given in
    consents = [p["consent"] for p in shown["participants"]]
    assert consents == ["invited", "declined", "signatory"]
    cli.ok("embargo", "propose", case, "--end", (end + timedelta(days=5)).isoformat())
    assert "EM reject -> active" in cli.ok("embargo", "reject", case)
    assert "EM terminate -> exited" in cli.ok("embargo", "terminate", case, "--reason",
                                               "published")
    shown = cli.json("case", "show", case)
    assert isinstance(shown, dict)
    assert shown["em_state"] == "exited" and shown["proposed_end"] is None
    assert shown["participants"][2]["consent"] == "lapsed"
    refused(cli, 3, "embargo", "terminate", case, says=("final state",))


def test_vulnerabilities_notes_messages_close_reopen(cli: Cli, case: str) -> None:
    cli.ok("vuln", "add", case, "--title", "Second bug", "--cve", "cve-2026-12345", "--cwe",
           "cwe-79")
    refused(cli, 2, "vuln", "add", case, "--title", "x", "--cve", "CVE-26-1",
            says=("cve: 'CVE-26-1' is not a CVE id",))
    refused(cli, 2, "vuln", "add", case, "--title", "x", "--cve", "CVE-2026-12345",
            says=("already on",))
    cli.ok("case", "note", case, "called the vendor")
    cli.ok("message", "log", case, "--participant", "p3", "--subject", "Re",
           "--body", "Our lawyers will send a cease and desist.")
    refused(cli, 2, "message", "log", case, "--subject", "x", says=("--body",))
    timeline = cli.json("case", "timeline", case)
    assert isinstance(timeline, list)
    assert timeline[-1]["data"]["flags"] == {"legal-threat": ["our lawyers",
                                                              "cease and desist"]}
    assert "closed" in cli.ok("case", "close", case, "--reason", "done", "--no-retro")
    assert cli.json("case", "list") == []
    refused(cli, 3, "rm", "receive", case, "p3",
            says=("case: 'rm receive' is not allowed in state 'closed'", "reopen"))
    cli.ok("case", "reopen", case)
    assert len(cli.json("case", "list")) == 1  # type: ignore[arg-type]


def test_settings_errors(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[policy]\nembargo_default_days = 200\n")
    code, _, err = cli("--config", str(bad), "case", "list")
    assert code == 2 and "embargo_default_days" in err
    code, _, err = cli("--config", str(tmp_path / "none.toml"), "case", "list")
    assert code == 2 and "not found" in err
    monkeypatch.setenv("CVDESK_POLICY__STALLED_DAYS", "-3")
    code, _, err = cli("case", "list")
    assert code == 2 and "stalled_days" in err


def test_demo_loads_once(cli: Cli) -> None:
    out = cli.ok("demo")
    assert "loaded 16 demo cases" in out
    refused(cli, 1, "demo", says=("already has 16 case(s)",))
    listed = cli.json("case", "list", "--status", "all")
    assert isinstance(listed, list) and len(listed) == 16
    assert max(c["vendors_count"] for c in listed) >= 200
