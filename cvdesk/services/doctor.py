"""The troubleshooting sweep.

``sweep`` is incremental and stored: it asks the rules only about open cases
whose log changed since the last sweep or whose next check time has come
(``cases.needs_sweep`` / ``cases.next_check_at``), records the findings
(de-duplicated by key, resolved when their cause goes away) and re-arms each
case's next check.  ``preview`` judges cases as of any time, from their logs,
and stores nothing (time travel).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from cvdesk.domain.case import Case
from cvdesk.domain.checks import choose
from cvdesk.domain.errors import InvalidInput
from cvdesk.domain.model import CaseStatus, check_aware
from cvdesk.services.cases import utcnow
from cvdesk.services.collector import collector_paused
from cvdesk.services.progress import Progress, quiet
from cvdesk.services.views import ShownFinding, SweepResult
from cvdesk.settings import Settings
from cvdesk.store.cases import CaseRepository
from cvdesk.store.db import Database
from cvdesk.store.findings import (
    ACKNOWLEDGED,
    OPEN,
    SNOOZED,
    CaseOutcome,
    FindingRepository,
    json_text,
)
from cvdesk.store.snapshot import cases_of, participants_by_case
from cvdesk.troubleshoot import Diagnosis, Finding, diagnose
from cvdesk.troubleshoot.stored import facts, short_text, worded, words

BATCH = 500


class FindingAction(StrEnum):
    """What a person may do with a finding; each value is the status it leaves behind,
    so every face names the same two actions."""

    ACKNOWLEDGE = ACKNOWLEDGED
    SNOOZE = SNOOZED


def finding_data(f: Finding) -> dict[str, Any]:
    """A finding's words (``data`` of ``ShownFinding``)."""
    return words(f)


def stored_text(f: Finding, kinds: dict[str, str]) -> str:
    """The JSON text a sweep stores for ``f``: the short form, which names its kind (added
    to ``kinds``) and keeps the facts that vary (see troubleshoot/stored.py); a finding
    whose words hold a NUL is stored whole, NUL replaced as the data column would."""
    text = short_text(f, kinds)
    return json_text(facts(f)) if "\\u0000" in text else text


class DoctorService:
    def __init__(self, db: Database, settings: Settings,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock

    def sweep(self, *, case_id: str | None = None, show_handled: bool = False,
              progress: Progress = quiet) -> SweepResult:
        now = self.clock()
        swept = self.run_sweep(now, case_id=case_id, progress=progress)
        return self.current(at=now, swept=swept, case_id=case_id, show_handled=show_handled)

    def run_sweep(self, now: datetime, *, case_id: str | None = None,
                  progress: Progress = quiet) -> int:
        """Re-check the due cases and store their findings; returns how many were checked.
        ``progress`` hears (cases checked, cases due) after each batch of a whole sweep."""
        swept = 0
        with collector_paused(), self.db.transaction() as session:
            repo = FindingRepository(session)
            if case_id:
                CaseRepository(session).case_row(case_id)  # NotFound for an unknown case
            total = repo.due_count(now) if progress is not quiet and not case_id else 0
            progress(0, total)
            after = 0
            while True:
                due = repo.due_cases(now, case_id, limit=BATCH, after=after)
                if not due:
                    break
                swept += self._sweep_batch(repo, due, now)
                session.flush()
                progress(swept, max(total, swept))
                if case_id:
                    break
                after = due[-1][0]
                gc.collect(1)  # the young generations only: cheap, and frees any cycles
        return swept

    def _sweep_batch(self, repo: FindingRepository, due: Sequence[Any], now: datetime) -> int:
        """Judge a batch of due cases (rows of ``mapping.CASE_COLUMNS``) and store the
        outcome.  Each finding goes to the store as its JSON text with its problem and
        severity, so that the store compares and writes without looking inside."""
        pks = [row[0] for row in due]
        existing = repo.unresolved_of(pks)
        policy = self.settings.policy
        verdicts = []
        kinds: dict[str, str] = {}
        for case, pk in zip(cases_of(due, participants_by_case(repo.session, pks)), pks,
                            strict=True):
            diagnosis = diagnose(case, policy, now)
            verdicts.append(CaseOutcome(
                pk, case.seq, {f.key: (f.problem, int(f.severity), stored_text(f, kinds))
                               for f in diagnosis.findings},
                diagnosis.next_check, existing[pk]))
        repo.record_batch(verdicts, now, kinds)
        return len(due)

    def current(self, *, at: datetime, swept: int = 0, case_id: str | None = None,
                show_handled: bool = False) -> SweepResult:
        statuses = (OPEN, ACKNOWLEDGED, SNOOZED) if show_handled else (OPEN,)
        with self.db.sessions() as session:
            repo = FindingRepository(session)
            rows = repo.listing(statuses=statuses, case_id=case_id)
            kinds = repo.kinds()
            # Stored facts are worded for the time asked about: a count of days is as of
            # ``at``, not as of the sweep that last wrote the finding.
            shown = tuple(ShownFinding(f.id, c.case_id, c.title, f.status,
                                       worded(f.data, at, kinds),
                                       f.first_seen_at, f.snoozed_until, f.handled_reason)
                          for f, c in rows)
            cases = CaseRepository(session).list_cases("open")
            checks = {c.case_id: c.next_check_at for c in cases
                      if not case_id or c.case_id == case_id.upper()}
        return SweepResult(at, swept, len(checks), shown, checks)

    def preview(self, *, at: datetime, case_id: str | None = None) -> SweepResult:
        """Judge the cases that were open at ``at``, as their logs say they were then,
        closed-since ones included; stores nothing."""
        check_aware(at, "at")
        shown: list[ShownFinding] = []
        checks: dict[str, datetime | None] = {}
        with self.db.sessions() as session:
            repo = CaseRepository(session)
            rows = [repo.case_row(case_id)] if case_id else [
                r for r in repo.list_cases(None) if r.opened_at <= at]
            for row in rows:
                events = [e for e in repo.events(row.id) if e.at <= at]
                if not events:
                    continue
                case = Case.replay(row.case_id, events)
                if case.status is not CaseStatus.OPEN:  # closed as of ``at``: not judged
                    continue
                diagnosis: Diagnosis = diagnose(case, self.settings.policy, at)
                checks[row.case_id] = diagnosis.next_check
                shown.extend(ShownFinding(None, row.case_id, row.title, "preview",
                                          finding_data(f)) for f in diagnosis.findings)
        shown.sort(key=lambda s: (-s.data["severity_level"], s.case_id, s.data["key"]))
        return SweepResult(at, len(checks), len(checks), tuple(shown), checks)

    def handle(self, finding_id: int, action: FindingAction | str, *, reason: str, actor: str,
               until: datetime | None = None) -> ShownFinding:
        """Acknowledge a finding, or snooze it until a time; the reason is kept."""
        action = choose([a.value for a in FindingAction], str(action), "action",
                        "finding action")
        if action == SNOOZED:
            if until is None:
                raise InvalidInput("until", "a snooze needs an end time")
            check_aware(until, "until")
            if until <= self.clock():
                raise InvalidInput("until", f"{until.isoformat()} is not in the future")
        with self.db.transaction() as session:
            repo = FindingRepository(session)
            row = repo.handle(finding_id, action, actor=actor, reason=reason, until=until)
            return ShownFinding(row.id, row.data["case_id"], "", row.status,
                                worded(row.data, self.clock(), repo.kinds()), row.first_seen_at,
                                row.snoozed_until, row.handled_reason)
