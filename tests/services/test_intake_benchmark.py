"""The intake benchmark's pipeline at a small scale: bulk-loaded reports are filed with the
keys a submit files, so a submit of a copy of a stored report finds it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from benchmarks.intake import NOW, build, planted, submits, time_submits
from cvdesk.domain.codec import report_from_dict
from cvdesk.services import CaseService
from cvdesk.settings import load_settings
from cvdesk.store.tables import ReportRow


def test_a_copy_of_a_bulk_loaded_report_is_flagged(tmp_path: Path) -> None:
    db = build(tmp_path / "intake.db", 40)
    with db.sessions() as s:
        form = s.scalars(select(ReportRow.form).order_by(ReportRow.id)).first()
    assert form is not None
    service = CaseService(db, load_settings(database_url=db.url), clock=lambda: NOW)
    case_id = service.submit_report(report_from_dict(form)).case_id
    assert [e for e in service.timeline(case_id) if e.data.get("case_id") == "CVD-2026-000001"]
    [(seconds, cpu, flagged)] = time_submits([db], [planted(db, 40, submits(3))])
    assert len(seconds) == len(cpu) == 3 and min(seconds) > 0
    assert flagged >= 2  # the copy above, and the planted copy of a stored report
