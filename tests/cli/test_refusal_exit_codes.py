"""Issue 8 at the command line (SQLite and PostgreSQL): refused transitions exit 3, bad
input exits 2, and neither writes anything; doctor --at sees cases closed since."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.cli.test_commands import EXAMPLES, case, refused
from tests.conftest import Cli

__all__ = ["case"]  # a fixture shared with test_commands


def test_refusals_exit_with_their_codes_and_write_nothing(cli: Cli, case: str) -> None:
    refused(cli, 3, "embargo", "sign", case, "p3", says=(
        "EM (embargo management): 'embargo sign' is not allowed in state 'none'",
        "allowed from 'none': propose"))
    far = (datetime.now(UTC) + timedelta(days=120)).replace(microsecond=0).isoformat()
    refused(cli, 2, "embargo", "propose", case, "--end", far, says=(
        "end: embargo end", "maximum of 90 days (policy embargo_max_days)"))
    refused(cli, 2, "participant", "add", case, "--name", "contoso home", "--role", "vendor",
            says=("already on the case as p3 (Contoso Home)",))
    cli.ok("contact", "reply", case, "p3")  # the vendor replied: aware (V) from now on
    timeline = cli.json("case", "timeline", case)
    assert isinstance(timeline, list)
    [aware] = [e for e in timeline if e["type"] == "cs.event"]
    assert (aware["participant"], aware["data"]["event"], aware["data"]["auto"]) == (
        3, "V", True)
    refused(cli, 3, "event", "record", case, "V", "--vendor", "p3", says=(
        "CS (case state)", "'V' is not allowed"))


def test_doctor_at_judges_a_case_closed_since(cli: Cli) -> None:
    then = datetime.now(UTC) - timedelta(days=20)
    made = cli.json("report", "submit", str(EXAMPLES / "report.yaml"), "--at",
                    then.isoformat())
    assert isinstance(made, dict)
    cid = str(made["case_id"])
    cli.ok("contact", "attempt", cid, "p3", "--channel", "email", "--at",
           (then + timedelta(hours=1)).isoformat())
    cli.ok("case", "close", cid, "--reason", "vendor took it over")
    past = cli.json("doctor", "--at", (then + timedelta(days=5)).isoformat())
    assert isinstance(past, dict)
    assert cid in past["next_checks"]
    assert "no-acknowledgement" in {f["problem"] for f in past["findings"]}
    now = cli.json("doctor", "--at", datetime.now(UTC).isoformat())
    assert isinstance(now, dict) and cid not in now["next_checks"]
