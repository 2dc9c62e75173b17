"""``cvdesk report reindex``: the duplicate check's word order re-cut from today's counts
(cvdesk.store.word_order); it changes which entries are read, never what is found."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "report.json"


def _duplicates_of(cli: Cli, case_id: str) -> set[str]:
    log = cli.json("case", "timeline", case_id)
    return {e["data"]["case_id"] for e in log
            if e["data"].get("kind") == "possible-duplicate"}


def test_reindex_refiles_every_report_and_keeps_finding_duplicates(demo_cli: Cli) -> None:
    first = demo_cli.json("report", "submit", str(EXAMPLE))["case_id"]
    refiled = demo_cli.json("report", "reindex")["refiled"]
    assert refiled == len(demo_cli.json("case", "list", "--status", "all")) > 1
    assert demo_cli.ok("report", "reindex").startswith(f"re-indexed {refiled} report(s)")
    # The same report sent again after re-indexing is still found to repeat the first.
    second = demo_cli.json("report", "submit", str(EXAMPLE))["case_id"]
    assert first in _duplicates_of(demo_cli, second)
