"""Case repository: loads a case by replaying its log, saves new events and projections.

``save`` writes the pending events and, in the same transaction, every row that
is a projection of them (case summary, participants with their contact
summary, reports, vulnerabilities, messages).  A version column on the case
row refuses a write based on a stale read.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Iterator, Sequence
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cvdesk.domain import cs
from cvdesk.domain.case import Case, ParticipantState
from cvdesk.domain.codec import to_jsonable
from cvdesk.domain.errors import Conflict, NotFound
from cvdesk.domain.events import Event, EventType
from cvdesk.store.tables import (
    CaseRow,
    ContactRow,
    CounterRow,
    EventRow,
    MessageRow,
    OrganizationRow,
    ParticipantRow,
    ReportFingerprintRow,
    ReportKeyRow,
    ReportRow,
    RetrospectiveRow,
    VulnerabilityRow,
)

_TRACKING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class ConcurrentUpdate(Conflict):
    """Another writer changed the case between our read and our write; retry."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


class CaseRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # ------------------------------------------------------------ identifiers
    def next_number(self, name: str) -> int:
        s = self.session
        row = s.get(CounterRow, name, with_for_update=True)
        if row is None:
            row = CounterRow(name=name, value=0)
            s.add(row)
        row.value += 1
        s.flush()
        return row.value

    def new_case_id(self, year: int) -> str:
        return f"CVD-{year}-{self.next_number(f'case-{year}'):04d}"

    def new_tracking_id(self, at: datetime) -> str:
        """A report's tracking id, given to the reporter: not guessable from other ids."""
        while True:
            suffix = "".join(secrets.choice(_TRACKING_ALPHABET) for _ in range(6))
            tid = f"VR-{at:%y%m}-{suffix}"
            taken = select(ReportRow.id).where(ReportRow.tracking_id == tid)
            if self.session.scalar(taken) is None:
                return tid

    # ------------------------------------------------------------ reading
    def case_row(self, case_id: str, *, for_update: bool = False) -> CaseRow:
        stmt = select(CaseRow).where(CaseRow.case_id == case_id.upper())
        if for_update:
            stmt = stmt.with_for_update()
        row = self.session.scalar(stmt)
        if row is None:
            raise NotFound(f"no case '{case_id}'")
        return row

    def events(self, case_pk: int) -> list[Event]:
        rows = self.session.scalars(
            select(EventRow).where(EventRow.case_pk == case_pk).order_by(EventRow.seq))
        return [Event(EventType(r.type), r.at, r.actor, r.reason, r.participant, r.data, r.seq)
                for r in rows]

    def load(self, case_id: str) -> tuple[CaseRow, Case]:
        row = self.case_row(case_id, for_update=True)
        return row, Case.replay(row.case_id, self.events(row.id))

    def list_cases(self, status: str | None = None) -> Sequence[CaseRow]:
        stmt = select(CaseRow).order_by(CaseRow.opened_at, CaseRow.id)
        if status:
            stmt = stmt.where(CaseRow.status == status)
        return self.session.scalars(stmt).all()

    def participants(self, case_pk: int) -> Sequence[ParticipantRow]:
        return self.session.scalars(select(ParticipantRow).where(
            ParticipantRow.case_pk == case_pk).order_by(ParticipantRow.pid)).all()

    def reports(self, case_pk: int) -> Sequence[ReportRow]:
        return self.session.scalars(select(ReportRow).where(
            ReportRow.case_pk == case_pk).order_by(ReportRow.received_at)).all()

    def vulnerabilities(self, case_pk: int) -> Sequence[VulnerabilityRow]:
        return self.session.scalars(select(VulnerabilityRow).where(
            VulnerabilityRow.case_pk == case_pk).order_by(VulnerabilityRow.id)).all()

    def report_by_tracking_id(self, tracking_id: str) -> ReportRow:
        row = self.session.scalar(select(ReportRow).where(ReportRow.tracking_id == tracking_id))
        if row is None:
            raise NotFound(f"no report '{tracking_id}'")
        return row

    def open_report_forms(self, exclude: str = "") -> list[tuple[str, str, dict[str, Any]]]:
        """(case id, tracking id, form) of every report on an open case."""
        stmt = (select(CaseRow.case_id, ReportRow.tracking_id, ReportRow.form)
                .join(ReportRow, ReportRow.case_pk == CaseRow.id)
                .where(CaseRow.status == "open", CaseRow.case_id != exclude)
                .order_by(CaseRow.id))
        return [(c, t, f) for c, t, f in self.session.execute(stmt)]

    # ------------------------------------------------------------ report fingerprints
    def add_fingerprint(self, tracking_id: str, data: dict[str, Any], keys: Collection[str],
                        ) -> None:
        """File a stored report's fingerprint and look-up keys (guide 6.5)."""
        pk = self.report_by_tracking_id(tracking_id).id
        self.session.add(ReportFingerprintRow(report_pk=pk, data=data))
        self.session.add_all(ReportKeyRow(report_pk=pk, key=k) for k in sorted(keys))

    def key_counts(self, keys: Collection[str]) -> dict[str, int]:
        """How many stored reports are filed under each key (rare keys narrow a search)."""
        counts: dict[str, int] = {}
        for chunk in _chunks(sorted(keys)):
            counts.update((k, n) for k, n in self.session.execute(
                select(ReportKeyRow.key, func.count()).where(ReportKeyRow.key.in_(chunk))
                .group_by(ReportKeyRow.key)))
        return counts

    def reports_under(self, keys: Collection[str]) -> set[int]:
        """Reports filed under any of ``keys`` (open or not: ``fingerprints`` filters)."""
        found: set[int] = set()
        for chunk in _chunks(sorted(keys)):
            found.update(self.session.scalars(
                select(ReportKeyRow.report_pk).where(ReportKeyRow.key.in_(chunk))))
        return found

    def fingerprints(self, report_pks: Collection[int], exclude: str = "",
                     ) -> list[tuple[str, str, dict[str, Any]]]:
        """(case id, tracking id, fingerprint) of these reports on open cases, in the order
        ``open_report_forms`` gives (by case)."""
        found: list[tuple[int, int, str, dict[str, Any]]] = []
        for chunk in _chunks(sorted(report_pks)):
            found += ((c, r, t, d) for r, c, t, d in self.session.execute(
                select(ReportRow.id, ReportRow.case_pk, ReportRow.tracking_id,
                       ReportFingerprintRow.data)
                .join(ReportFingerprintRow, ReportFingerprintRow.report_pk == ReportRow.id)
                .where(ReportRow.id.in_(chunk))))
        cases: dict[int, str] = {}
        for chunk in _chunks(sorted({c for c, _, _, _ in found})):
            cases.update((pk, cid) for pk, cid in self.session.execute(
                select(CaseRow.id, CaseRow.case_id)
                .where(CaseRow.id.in_(chunk), CaseRow.status == "open",
                       CaseRow.case_id != exclude)))
        found.sort(key=lambda x: (x[0], x[1]))
        return [(cases[c], t, d) for c, _, t, d in found if c in cases]

    def count(self, table: type) -> int:
        return self.session.scalar(select(func.count()).select_from(table)) or 0

    # ------------------------------------------------------------ writing
    def add(self, case: Case) -> CaseRow:
        """Insert a new case (its pending events include case.opened)."""
        row = CaseRow(case_id=case.case_id, version=0)
        self._project_case(row, case)
        self.session.add(row)
        self.session.flush()
        self.save(row, case, expected_version=0)
        return row

    def save(self, row: CaseRow, case: Case, *, expected_version: int | None = None) -> None:
        """Append the pending events and update every projection, or raise ConcurrentUpdate
        (and write nothing) when the case changed since it was read."""
        if not case.pending:
            return
        s = self.session
        expected = row.version if expected_version is None else expected_version
        first = case.pending[0].seq
        if first != expected + 1:
            raise ConcurrentUpdate(f"{case.case_id}: log position {first - 1}, "
                                   f"stored version {expected}")
        # Claim the new version first: the row lock (PostgreSQL) or the write lock (SQLite)
        # then holds until commit, and a stale writer stops here before inserting anything.
        values = case_values(case)
        with s.no_autoflush:
            result = s.execute(update(CaseRow).where(CaseRow.id == row.id,
                                                     CaseRow.version == expected)
                               .values(version=case.seq, **values)
                               .execution_options(synchronize_session=False))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise ConcurrentUpdate(f"{case.case_id} was changed by someone else; try again")
        recorded = _utcnow()
        s.add_all(EventRow(case_pk=row.id, seq=e.seq, type=e.type.value, at=e.at, actor=e.actor,
                           reason=e.reason, participant=e.participant, data=e.data,
                           recorded_at=recorded) for e in case.pending)
        touched: set[int] = set()
        for e in case.pending:
            if e.participant is not None:
                touched.add(e.participant)
            self._project_side_tables(row, e)
        self._project_participants(row, case, touched)
        s.flush()
        s.expire(row)  # the UPDATE above bypassed the ORM; reload when next read
        case.pending.clear()

    # ------------------------------------------------------------ projections
    @staticmethod
    def _project_case(row: CaseRow, case: Case) -> None:
        for key, value in case_values(case).items():
            setattr(row, key, value)

    def _project_participants(self, row: CaseRow, case: Case, pids: set[int]) -> None:
        if not pids:
            return
        existing = {p.pid: p for p in self.session.scalars(select(ParticipantRow).where(
            ParticipantRow.case_pk == row.id, ParticipantRow.pid.in_(pids)))}
        for pid in sorted(pids):
            p = case.participants[pid]
            prow = existing.get(pid)
            if prow is None:
                prow = ParticipantRow(case_pk=row.id, pid=pid)
                prow.organization_id = self._organization_id(p)
                self.session.add(prow)
            for key, value in participant_values(p).items():
                setattr(prow, key, value)

    def _organization_id(self, p: ParticipantState) -> int | None:
        name = p.organization or (p.name if p.is_vendor else "")
        if not name:
            return None
        key = name.strip().lower()
        org = self.session.scalar(select(OrganizationRow).where(OrganizationRow.name_key == key))
        now = _utcnow()
        if org is None:
            org = OrganizationRow(name=name.strip(), name_key=key, created_at=now)
            self.session.add(org)
            self.session.flush()
        for kind, value in (("email", p.email), ("phone", p.phone)):
            if value and self.session.scalar(select(ContactRow.id).where(
                    ContactRow.organization_id == org.id, ContactRow.kind == kind,
                    ContactRow.value == value)) is None:
                self.session.add(ContactRow(organization_id=org.id, kind=kind, value=value,
                                            source="manual", created_at=now))
        return org.id

    def _project_side_tables(self, row: CaseRow, e: Event) -> None:
        d = e.data
        if e.type is EventType.REPORT_RECEIVED:
            self.session.add(ReportRow(tracking_id=d["tracking_id"], case_pk=row.id,
                                       received_at=e.at, title=d["report"]["title"],
                                       tlp=d["report"]["tlp"], form=d["report"]))
        elif e.type is EventType.VULNERABILITY:
            self.session.add(VulnerabilityRow(case_pk=row.id, cve=d.get("cve") or None,
                                              title=d["title"], data=d))
        elif e.type is EventType.RETROSPECTIVE:
            self.session.add(RetrospectiveRow(
                case_pk=row.id, went_well=d["went_well"], went_wrong=d["went_wrong"],
                do_differently=d["do_differently"], author=e.actor, created_at=e.at))
        elif e.type is EventType.MESSAGE:
            self.session.add(MessageRow(
                message_id=d["message_id"], case_pk=row.id, participant=e.participant,
                direction=d["direction"], channel=d["channel"], at=e.at,
                subject=d["subject"], body=d["body"], tlp=d["tlp"]))


def _chunks(items: Sequence[Any], size: int = 900) -> Iterator[list[Any]]:
    """IN lists of bounded length (SQLite limits the parameters of one statement)."""
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def cs_times(times: dict[cs.CSEvent, datetime],
             seqs: dict[cs.CSEvent, int]) -> dict[str, Any]:
    """When each CS event happened, and under "seq" its place in the log: two events with
    the same time are ordered by the log (store/snapshot.py reads both back)."""
    out: dict[str, Any] = {e.value: t.isoformat() for e, t in times.items()}
    if seqs:
        out["seq"] = {e.value: n for e, n in seqs.items()}
    return out


def case_values(case: Case) -> dict[str, Any]:
    """The case row's columns as the log says they are (shared with the bulk loader)."""
    assert case.opened_at is not None and case.last_event_at is not None
    return {
        "case_id": case.case_id, "title": case.title, "tlp": case.tlp.value,
        "status": case.status.value, "em_state": case.em.value,
        "embargo_end": case.embargo_end,
        "embargo_end_text": case.embargo_end.isoformat() if case.embargo_end else None,
        "proposed_end_text": case.proposed_end.isoformat() if case.proposed_end else None,
        "pxa": case.cs_label(),
        "pxa_times": cs_times(case.pxa_at, case.pxa_seq),
        "participants_count": len(case.participants), "vendors_count": len(case.vendors),
        "opened_at": case.opened_at, "closed_at": case.closed_at,
        "last_event_at": case.last_event_at, "updated_at": _utcnow(), "needs_sweep": True,
        "signals": [to_jsonable(sig) for sig in case.signals],
    }


def participant_values(p: ParticipantState) -> dict[str, Any]:
    """A participant row's columns, the contact summary included."""
    return {
        "pid": p.pid, "name": p.name, "roles": ",".join(sorted(r.value for r in p.roles)),
        "is_vendor": p.is_vendor, "organization": p.organization, "email": p.email,
        "phone": p.phone, "rm_state": p.rm.value, "rm_at": p.rm_at,
        "consent": p.consent.value, "vfd": cs.label(p.vfd)[:3],
        "vfd_times": cs_times(p.vfd_at, p.vfd_seq),
        "first_attempt_at": p.first_attempt_at, "last_attempt_at": p.last_attempt_at,
        "last_attempt_outcome": p.last_attempt_outcome.value if p.last_attempt_outcome
        else None,
        "attempts": p.attempts, "attempts_since_reply": p.attempts_since_reply,
        "channels": ",".join(sorted(c.value for c in p.channels)),
        "channels_count": len(p.channels), "first_reply_at": p.first_reply_at,
        "last_reply_at": p.last_reply_at, "replies": p.replies, "policy_days": p.policy_days,
        "added_at": p.added_at,
    }
