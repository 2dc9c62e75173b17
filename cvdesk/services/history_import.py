"""Import past cases (issue 12): a team measures its past before adopting the desk.

The file is read and checked whole first (cvdesk.intake.history_file); then every case is
built in memory by the domain's own commands, the way a live case is built, so a refusal
of the model is also named by row before anything is written; then all of them are
written in one transaction, or none.

An imported case is a real case: opened at its "reported" date by the actor ``import``
with the reason "imported from FILE; reference REF", the desk and the vendors as
participants, the desk's RM validated at "acknowledged", each vendor's first reply, V,
F and D, the case's P, X and A recorded at their dates (implied events as the model
implies them), and closed at "closed".  So skill (cases.pxa_times, participants.vfd_times)
and timing count it like any other.

A reference imported before (from any file) is skipped and listed, never imported twice:
running the same file again adds nothing, and a file grown by new rows adds those.  The
references are kept in their own table with a unique key, so two imports of one file at
the same moment cannot both add a case: the later one is refused as a Conflict and
writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cvdesk.domain.case import Case
from cvdesk.domain.cs import CSEvent
from cvdesk.domain.errors import DomainError, InvalidInput
from cvdesk.domain.model import TLP, Channel, Role
from cvdesk.domain.rm import RMTrigger
from cvdesk.intake.history_file import HistoryFileError, PastCase, read_history_file
from cvdesk.services.cases import CaseService
from cvdesk.store.metrics_timing import (
    IMPORT_ACTOR,
    REFERENCE_MARK,
    file_reference,
    imported_references,
)

__all__ = ["HistoryFileError", "HistoryImport", "ImportResult", "ImportedCase"]

#: Order of things that happen on the same date: the model's order, a reply after V.
_RANK = {"acknowledged": 0, "V": 1, "replied": 2, "F": 3, "D": 4, "P": 5, "X": 6, "A": 7,
         "closed": 9}


@dataclass(frozen=True)
class ImportedCase:
    reference: str
    case_id: str | None  # None on a dry run
    title: str
    vendors: int
    closed: bool

    def to_json(self) -> dict[str, Any]:
        return {"reference": self.reference, "case_id": self.case_id, "title": self.title,
                "vendors": self.vendors, "closed": self.closed}


@dataclass(frozen=True)
class ImportResult:
    source: str
    dry_run: bool
    imported: tuple[ImportedCase, ...]
    skipped: tuple[tuple[str, str], ...]  # (reference, case id it was imported as)
    notes: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "dry_run": self.dry_run,
                "imported": [c.to_json() for c in self.imported],
                "skipped": [{"reference": r, "case_id": c} for r, c in self.skipped],
                "notes": list(self.notes)}


class HistoryImport:
    def __init__(self, cases: CaseService) -> None:
        self.cases = cases
        self.db = cases.db

    def run(self, path: Path, *, dry_run: bool = False) -> ImportResult:
        """Check the file and import its cases in one transaction (nothing on a dry run
        or when any row is bad: HistoryFileError names them all)."""
        now = self.cases.clock()
        limit = now + timedelta(minutes=self.cases.settings.policy.future_skew_minutes)
        past = read_history_file(path, now=limit)
        source = path.name
        problems: list[tuple[str, str, str]] = []
        for case in past:
            try:
                self.build(case, "CVD-0000-0000", source)
            except DomainError as exc:
                field = exc.field if isinstance(exc, InvalidInput) else "history"
                problem = exc.problem if isinstance(exc, InvalidInput) else str(exc)
                problems.append((case.where, field, problem))
        if problems:
            raise HistoryFileError(source, problems)
        notes = tuple(dict.fromkeys(n for c in past for n in c.notes))
        imported: list[ImportedCase] = []
        skipped: list[tuple[str, str]] = []
        with (self.db.sessions() if dry_run else self.db.transaction()) as session:
            from cvdesk.store.cases import CaseRepository

            repo = CaseRepository(session)
            known = imported_references(session.connection())
            for case in past:
                if case.reference in known:
                    skipped.append((case.reference, known[case.reference]))
                    continue
                case_id = None
                if not dry_run:
                    case_id = repo.new_case_id(case.dates["reported"].year)
                    row = repo.add(self.build(case, case_id, source))
                    file_reference(session.connection(), case.reference, row.id)
                imported.append(ImportedCase(case.reference, case_id, case.title,
                                             len(case.vendors), "closed" in case.dates))
        return ImportResult(source, dry_run, tuple(imported), tuple(skipped), notes)

    def build(self, past: PastCase, case_id: str, source: str) -> Case:
        """The case as the domain builds it, every event at its past date."""
        desk, who = self.cases.settings.desk, IMPORT_ACTOR
        reported = past.dates["reported"]
        case = Case.open(case_id, past.title, TLP.AMBER, at=reported, actor=who,
                         reason=f"imported from {source}{REFERENCE_MARK}{past.reference}")
        me = case.add_participant(desk.name, [Role(desk.role)], at=reported, actor=who,
                                  email=desk.email, reason="the desk handling this case")
        case.rm(me.pid, RMTrigger.RECEIVE, at=reported, actor=who, reason="past case imported")
        steps: list[tuple[datetime, int, str, int | None]] = []
        if "acknowledged" in past.dates:
            steps.append((past.dates["acknowledged"], _RANK["acknowledged"], "acknowledged",
                          me.pid))
        for vendor in past.vendors:
            pid = case.add_participant(vendor.name, [Role.VENDOR], at=reported, actor=who,
                                       reason=f"vendor of the past case ({vendor.where})").pid
            steps += [(at, _RANK[name], name, pid) for name, at in vendor.dates.items()]
        steps += [(at, _RANK[name], name, None) for name, at in past.dates.items()
                  if name in ("P", "X", "A", "closed")]
        for at, _, name, pid in sorted(steps, key=lambda s: (s[0], s[1], s[3] or 0)):
            why = f"past case imported from {source}"
            if name == "acknowledged":
                case.rm(me.pid, RMTrigger.VALIDATE, at=at, actor=who,
                        reason="report acknowledged (imported)")
            elif name == "replied":
                assert pid is not None
                case.contact_reply(pid, Channel.EMAIL, at=at, actor=who,
                                   reason="first reply (imported; channel not recorded)")
            elif name == "closed":
                case.close(at=at, actor=who, reason=why)
            elif pid is not None:
                if CSEvent(name) not in case.participants[pid].vfd:
                    case.record_cs(CSEvent(name), pid, at=at, actor=who, reason=why)
            elif CSEvent(name) not in case.pxa:
                case.record_cs(CSEvent(name), None, at=at, actor=who, reason=why)
        return case
