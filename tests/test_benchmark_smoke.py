"""The sweep benchmark's pipeline at a small scale, on both backends: the generator builds
valid cases, the bulk loader writes the product's projections, and the sweep finds exactly
the unresponsive vendors that the hand-written SQL finds."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from benchmarks import interpreter
from benchmarks.generate import synthetic_cases
from benchmarks.sweep import NOW, UNRESPONSIVE_SQL
from cvdesk.domain.case import Case
from cvdesk.services.doctor import DoctorService
from cvdesk.settings import load_settings
from cvdesk.store.bulk import insert_cases
from cvdesk.store.cases import CaseRepository
from cvdesk.store.db import Database
from cvdesk.store.snapshot import case_from_rows
from cvdesk.store.tables import CaseRow, FindingRow
from cvdesk.troubleshoot import diagnose


def test_sweep_agrees_with_hand_written_sql(db: Database) -> None:
    with db.transaction() as session:
        assert insert_cases(session, synthetic_cases(120, NOW), batch=50) == 120
    settings = load_settings(database_url=db.url)
    policy = settings.policy
    assert DoctorService(db, settings, clock=lambda: NOW).run_sweep(NOW) == 120
    assert DoctorService(db, settings, clock=lambda: NOW).run_sweep(NOW) == 0
    with db.sessions() as s:
        expected = {(c, p) for c, p in s.execute(UNRESPONSIVE_SQL, {
            "min_attempts": policy.unresponsive_min_attempts, "now": NOW,
            "silent_before": NOW - timedelta(days=policy.unresponsive_silence_days),
            "quiet_before": NOW - timedelta(days=policy.unresponsive_no_embargo_days)})}
        found = {(c, int(k.split(":p")[1])) for c, k in s.execute(
            select(CaseRow.case_id, FindingRow.key).join(CaseRow, CaseRow.id == FindingRow.case_pk)
            .where(FindingRow.problem == "vendor-unresponsive"))}
        assert expected and found == expected
        # The bulk-loaded projections are what a replay of each log gives.
        repo = CaseRepository(s)
        for row in repo.list_cases("open")[:30]:
            replayed = Case.replay(row.case_id, repo.events(row.id))
            snap = case_from_rows(row, repo.participants(row.id))
            assert diagnose(snap, policy, NOW) == diagnose(replayed, policy, NOW)
        assert s.scalar(select(func.count()).select_from(CaseRow)) == 120


def test_benchmarks_name_the_interpreter_they_run_on() -> None:
    """Every benchmark prints this line first: the interpreter's build changes the figures
    by about a tenth (docs/benchmarks.md, "Which Python")."""
    line = interpreter()
    assert line.startswith(f"python {sys.version.split()[0]} (")
    assert getattr(sys, "_base_executable", sys.executable) in line
    maps = Path("/proc/self/maps")
    if maps.exists():  # Linux: how the interpreter is linked is known, and said
        shared = "libpython" in maps.read_text(errors="replace")
        assert line.endswith("through a shared libpython)" if shared
                             else "the interpreter in the executable)")
