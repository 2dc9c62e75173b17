"""Skill against chance through the service and the command line, on both backends: a
case built through the services with a known answer, the demo, and refused input."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from cvdesk.domain.cs import CSEvent
from cvdesk.domain.errors import InvalidInput
from cvdesk.domain.model import Report, ReporterInfo
from cvdesk.metrics.histories import NEITHER_YET, UNREADABLE
from cvdesk.services.cases import CaseService
from cvdesk.services.metrics import MetricsService
from cvdesk.store.db import Database
from cvdesk.store.tables import CaseRow, ParticipantRow

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _day(n: float) -> datetime:
    return T + timedelta(days=n)


def _metrics(service: CaseService) -> MetricsService:
    return MetricsService(lambda: service.db)


def _rows(report) -> dict[str, tuple[int, int]]:  # type: ignore[no-untyped-def]
    return {r.desideratum: (r.held, r.counted) for r in report.desiderata}


def _two_vendor_case(service: CaseService) -> str:
    """Acme aware on day 1 and fix ready on day 2; the public learns on day 5, which
    makes Globex aware at the same instant (written after P in the log)."""
    case_id = service.submit_report(Report("Bug", "d", ReporterInfo("Rita"),
                                           vendors=("Acme", "Globex")), at=T).case_id
    service.record_cs(case_id, CSEvent.V, "Acme", at=_day(1))
    service.record_cs(case_id, CSEvent.F, "Acme", at=_day(2))
    service.record_cs(case_id, CSEvent.P, at=_day(5))
    return case_id


def test_skill_of_a_case_built_through_the_services(service: CaseService) -> None:
    _two_vendor_case(service)
    service.submit_report(Report("No vendor", "d", ReporterInfo("Rita")), at=T)
    metrics = _metrics(service)
    per_vendor = metrics.skill()
    assert per_vendor.histories == 2
    rows = _rows(per_vendor)
    # V<P: Acme before; Globex at P's time but after it in the log (the tie is ordered)
    assert rows["V<P"] == (1, 2) and rows["F<P"] == (1, 2) and rows["D<P"] == (0, 2)
    assert rows["P<X"] == (2, 2)  # P happened, X not yet: decided although open
    assert rows["X<A"] == (0, 0) and per_vendor.left_out == {NEITHER_YET: 3 + 5}
    per_case = metrics.skill(unit="case")
    assert per_case.histories == 1  # the case without a vendor has no history
    rows = _rows(per_case)
    assert rows["V<P"] == (0, 1)  # the last vendor learnt with the public
    assert rows["F<P"] == (0, 1)  # Globex never readied a fix: the case did not
    assert per_case.left_out == {NEITHER_YET: 5}  # F<X F<A D<X D<A X<A


def test_filters_by_vendor_and_by_the_day_a_case_was_opened(service: CaseService) -> None:
    _two_vendor_case(service)
    metrics = _metrics(service)
    acme = metrics.skill(vendor="  aCmE ")
    assert acme.histories == 1 and _rows(acme)["V<P"] == (1, 1)
    assert acme.scope == {"since": None, "until": None, "vendor": "aCmE"}
    assert metrics.skill(vendor="acme", unit="case").histories == 1
    assert metrics.skill(vendor="Initech").histories == 0  # unknown: nothing to count
    assert metrics.skill(since=T.date(), until=T.date()).histories == 2
    assert metrics.skill(since=T.date() + timedelta(days=1)).histories == 0
    assert metrics.skill(until=T.date() - timedelta(days=1)).histories == 0
    assert metrics.skill(until=date.max).histories == 2


def test_a_time_that_does_not_parse_leaves_the_order_undecided(service: CaseService) -> None:
    case_id = _two_vendor_case(service)
    with service.db.engine.begin() as conn:
        case_pk = conn.execute(select(CaseRow.id).where(CaseRow.case_id == case_id)).scalar()
        conn.execute(update(ParticipantRow).where(ParticipantRow.case_pk == case_pk,
                                                  ParticipantRow.name == "Acme")
                     .values(vfd_times={"V": "yesterday-ish", "F": 17, "seq": "x"}))
    report = _metrics(service).skill(vendor="Acme")
    assert _rows(report)["V<P"] == (0, 0) and _rows(report)["F<P"] == (0, 0)
    assert report.left_out[UNREADABLE] == 2
    assert _rows(report)["V<X"] == (1, 1)  # V happened, X not: decided without its time


@pytest.mark.parametrize("kwargs, field", [
    ({"since": date(2026, 5, 1), "until": date(2026, 4, 30)}, "until"),
    ({"unit": "team"}, "unit"),
    ({"vendor": "  "}, "vendor"),
])
def test_bad_input_names_the_field(service: CaseService, kwargs, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput) as caught:
        _metrics(service).skill(**kwargs)
    assert caught.value.field == field


def test_the_demo_counts_every_vendor_once(demo_db_url: str) -> None:
    db = Database(demo_db_url)
    try:
        with db.sessions() as session:
            vendors = session.scalar(select(func.count()).select_from(ParticipantRow)
                                     .where(ParticipantRow.is_vendor.is_(True)))
            cases = session.scalar(select(func.count(func.distinct(ParticipantRow.case_pk)))
                                   .where(ParticipantRow.is_vendor.is_(True)))
        metrics = MetricsService(lambda: db)
        for unit, expected in (("vendor", vendors), ("case", cases)):
            report = metrics.skill(unit=unit)
            assert report.histories == expected > 0
            decided = sum(r.counted for r in report.desiderata)
            assert decided + sum(report.left_out.values()) == 12 * report.histories
            assert all(r.held <= r.counted for r in report.desiderata)
            assert any(r.counted for r in report.desiderata)
    finally:
        db.dispose()


# ----------------------------------------------------------------- the command line
def test_model_and_baseline_commands(cli_runner) -> None:  # type: ignore[no-untyped-def]
    listed = cli_runner.json("model", "histories")
    assert listed["count"] == 70 == len(set(listed["histories"]))
    assert listed["histories"][0] == "VFDPXA"
    assert cli_runner.json("metrics", "baseline") == MetricsService.baseline()
    text = cli_runner.ok("metrics", "baseline")
    assert "V<P" in text and "0.3333" in text
    assert cli_runner.ok("model", "histories").startswith("70 histories")


def test_skill_on_the_demo(demo_cli) -> None:  # type: ignore[no-untyped-def]
    report = demo_cli.json("metrics", "skill")
    assert report["unit"] == "vendor" and report["histories"] > 0
    assert [d["desideratum"] for d in report["desiderata"]][:3] == ["V<P", "V<X", "V<A"]
    per_case = demo_cli.json("metrics", "skill", "--per", "case", "--since", "2000-01-01")
    assert per_case["unit"] == "case" and 0 < per_case["histories"] < report["histories"]
    text = demo_cli.ok("metrics", "skill", "--per", "case")
    assert "held/counted" in text and "95% CI" in text
    assert f"{per_case['histories']} histories counted" in text
    assert "left out" in text and NEITHER_YET in text
    nobody = demo_cli.json("metrics", "skill", "--vendor", "No Such Vendor")
    assert nobody["histories"] == 0 and nobody["desiderata"][0]["alpha"] is None


@pytest.mark.parametrize("args, field", [
    (["--since", "2026-13-01"], "since"),
    (["--until", "yesterday"], "until"),
    (["--since", "2026-05-01", "--until", "2026-04-30"], "until"),
    (["--per", "team"], "unit"),
])
def test_bad_input_exits_2_naming_the_field(cli, args, field) -> None:  # type: ignore[no-untyped-def]
    code, out, err = cli("metrics", "skill", *args)
    assert code == 2 and out == ""
    assert f"{field}:" in err


@pytest.mark.parametrize("args", [
    ["--since", "2026-03-01T12:00"],
    ["--until", "2026-02-30"],
    ["--since", "2026-05-01", "--until", "2026-04-30"],
])
def test_every_metrics_command_reads_the_period_alike(cli, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                       args: list[str]) -> None:
    """skill, timing and plot take one period, refused with the same words."""
    answers = set()
    for command in (["skill"], ["timing"], ["plot", "--out", str(tmp_path / "charts")]):
        code, out, err = cli("metrics", *command, *args)
        assert code == 2 and out == "", command
        answers.add(err)
    assert len(answers) == 1, answers
    assert not (tmp_path / "charts").exists()


def test_the_model_commands_start_without_the_database_layer(tmp_path: Path) -> None:
    script = ("import json, sys\nfrom cvdesk.cli.main import main\n"
              "codes = [main(['model', 'histories']), main(['metrics', 'baseline'])]\n"
              "print(json.dumps([codes, sorted(sys.modules)]))\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, check=True,
                          capture_output=True, text=True)
    codes, modules = json.loads(done.stdout.splitlines()[-1])
    assert codes == [0, 0], done.stderr
    assert [m for m in modules if m.split(".")[0] in ("sqlalchemy", "pydantic")] == []
