"""The troubleshooting sweep: run every rule over the open cases at a given time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from cvdesk.domain.case import Case
from cvdesk.domain.model import check_aware
from cvdesk.services.cases import utcnow
from cvdesk.settings import Settings
from cvdesk.store.cases import CaseRepository
from cvdesk.store.db import Database
from cvdesk.troubleshoot import Diagnosis, diagnose


class DoctorService:
    def __init__(self, db: Database, settings: Settings,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock

    def sweep(self, *, at: datetime | None = None, case_id: str | None = None,
              ) -> list[tuple[str, Diagnosis]]:
        """(title, diagnosis) for each open case (or the one named), most urgent first.

        With ``at`` in the past, a case is judged on the events that had happened by then.
        """
        now = self.clock() if at is None else check_aware(at, "--at")
        results: list[tuple[str, Diagnosis]] = []
        with self.db.sessions() as session:
            repo = CaseRepository(session)
            rows = [repo.case_row(case_id)] if case_id else repo.list_cases("open")
            for row in rows:
                events = [e for e in repo.events(row.id) if e.at <= now]
                if not events:
                    continue
                case = Case.replay(row.case_id, events)
                results.append((row.title, diagnose(case, self.settings.policy, now)))
        results.sort(key=lambda r: (-r[1].top_severity, -len(r[1].findings), r[1].case_id))
        return results
