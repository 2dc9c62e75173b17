"""``cvdesk vuln update``, ``cvdesk statement add|confirm`` and what ``case show`` prints
of them (issue 10), through the entry point on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from cvdesk.cli.advisory_data import parse_remediation
from cvdesk.domain.advisory import Remediation
from tests.conftest import Cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
V31 = "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
VENDOR = "Contoso Home"
PRODUCT = "Contoso SmartPlug P100"


@pytest.fixture
def case(cli: Cli) -> str:
    result = cli.json("report", "submit", str(EXAMPLES / "report.yaml"))
    assert isinstance(result, dict)
    return str(result["case_id"])


def test_update_add_confirm_and_show(cli: Cli, case: str) -> None:
    out = cli.ok("vuln", "update", case, "V1", "--cve", "CVE-2026-4242", "--cvss", V31,
                 "--reference", "https://contoso.example/sa-1", "--cwe", "CWE-306")
    assert "CVD" in out and "CVE-2026-4242" in out
    assert "CVSS 3.1 8.8 HIGH  " + V31 in out
    said = cli.json("statement", "add", case, "--vendor", VENDOR, "--vuln", "CVE-2026-4242",
                    "--product", PRODUCT, "--status", "fixed", "--fixed-version", "1.8.4",
                    "--remediation", "vendor_fix:Update to 1.8.4: via the app:"
                                     "https://contoso.example/fw",
                    "--remediation", "workaround:Block port 80",
                    "--text", "Fixed in \x1b[31m1.8.4", "--on-behalf")
    assert said["on_behalf"] is True and said["vulnerability"] == "CVE-2026-4242"
    assert said["remediations"] == [
        {"kind": "vendor_fix", "text": "Update to 1.8.4: via the app",
         "url": "https://contoso.example/fw"},
        {"kind": "workaround", "text": "Block port 80", "url": ""}]
    shown = cli.ok("case", "show", case)
    assert "vulnerability CVE-2026-4242: Missing authentication for firmware upload" in shown
    assert "vendor statements" in shown and "ON BEHALF: entered by the coordinator" in shown
    assert "\\x1b[31m1.8.4" in shown and "\x1b" not in shown  # the vendor's words, escaped
    assert cli.ok("statement", "confirm", case, "--vendor", VENDOR, "--vuln", "V1",
                  "--product", PRODUCT).startswith("confirmed: Contoso Home")
    data = cli.json("case", "show", case)
    assert data["statements"][0]["on_behalf"] is False
    assert data["vulnerabilities"][0]["scores"][0]["base_score"] == 8.8
    assert data["vulnerabilities"][0]["references"] == ["https://contoso.example/sa-1"]
    timeline = cli.ok("case", "timeline", case)
    assert "statement.confirmed" in timeline and "vulnerability.updated" in timeline


@pytest.mark.parametrize(("args", "says"), [
    (["vuln", "update", "{case}", "V1", "--cvss", "CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"],
     "cvss: AV: 'Q' is not one of N, A, L, P"),
    (["vuln", "update", "{case}", "V1", "--cvss", "CVSS:3.1/AV:N/PR:N/UI:N/S:U/C:H/I:H/A:H"],
     "cvss: missing mandatory metric AC"),
    (["vuln", "update", "{case}", "V1", "--cvss", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"],
     "cvss: CVSS 3.0 vectors are not taken"),
    (["vuln", "update", "{case}", "V1"], "vulnerability: give at least one field to change"),
    (["vuln", "update", "{case}", "V1", "--cve", "CVE-1"], "cve: 'CVE-1' is not a CVE id"),
    (["vuln", "update", "{case}", "V1", "--reference", "ftp://x.example"],
     "reference: 'ftp://x.example' is not an http or https URL"),
    (["statement", "add", "{case}", "--vendor", VENDOR, "--vuln", "V1", "--product", PRODUCT,
      "--status", "not_affected"], "justification: a product that is not affected needs"),
    (["statement", "add", "{case}", "--vendor", VENDOR, "--vuln", "V1", "--product", PRODUCT,
      "--status", "fixed"], "fixed version: a fixed product needs the first fixed version"),
    (["statement", "add", "{case}", "--vendor", VENDOR, "--vuln", "V1", "--product", PRODUCT,
      "--status", "gone"], "status: 'gone' is not a known product status name"),
    (["statement", "add", "{case}", "--vendor", "Sam Okafor", "--vuln", "V1", "--product",
      PRODUCT, "--status", "affected"], "vendor: p2 Sam Okafor is not a vendor"),
    (["statement", "add", "{case}", "--vendor", VENDOR, "--vuln", "V1", "--product", PRODUCT,
      "--status", "affected", "--remediation", "patch:soon"],
     "remediation: 'patch' is not a known remediation kind name"),
])
def test_bad_input_exits_2_naming_the_field(cli: Cli, case: str, args: list[str],
                                            says: str) -> None:
    before = cli.counts()
    code, out, err = cli(*(a.format(case=case) for a in args))
    assert code == 2, (out, err)
    assert says in err
    assert cli.counts() == before


def test_unknown_things_exit_4(cli: Cli, case: str) -> None:
    code, _, err = cli("vuln", "update", case, "V7", "--title", "x")
    assert code == 4 and "no vulnerability 'V7'" in err
    code, _, err = cli("statement", "confirm", case, "--vendor", VENDOR, "--vuln", "V1",
                       "--product", PRODUCT)
    assert code == 4 and "no statement by p3 Contoso Home" in err
    code, _, err = cli("statement", "add", "CVD-2099-9999", "--vendor", VENDOR, "--vuln",
                       "V1", "--product", PRODUCT, "--status", "affected")
    assert code == 4


def test_a_repeated_list_option_replaces_and_an_empty_one_clears(cli: Cli, case: str) -> None:
    cli.ok("vuln", "update", case, "V1", "--reference", "https://a.example/1",
           "--reference", "https://a.example/2")
    data = cli.json("case", "show", case)
    assert data["vulnerabilities"][0]["references"] == ["https://a.example/1",
                                                        "https://a.example/2"]
    cli.ok("vuln", "update", case, "V1", "--reference", "", "--cwe", "")
    data = cli.json("case", "show", case)
    assert data["vulnerabilities"][0]["references"] == []
    assert data["vulnerabilities"][0]["cwes"] == []


@pytest.mark.parametrize(("text", "expected"), [
    ("vendor_fix", Remediation("vendor_fix")),  # type: ignore[arg-type]
    ("workaround:Turn it off", Remediation("workaround", "Turn it off")),  # type: ignore[arg-type]
    ("mitigation:https://x.example/m", Remediation("mitigation", "", "https://x.example/m")),  # type: ignore[arg-type]
    ("vendor_fix:Update: now:https://x.example/a:b", Remediation(
        "vendor_fix", "Update: now", "https://x.example/a:b")),  # type: ignore[arg-type]
    ("workaround::https://x.example", Remediation("workaround", "", "https://x.example")),  # type: ignore[arg-type]
])
def test_remediation_option_syntax(text: str, expected: Remediation) -> None:
    assert parse_remediation(text) == expected
