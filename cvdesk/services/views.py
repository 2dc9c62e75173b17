"""What the services hand back to the faces: frozen views, each with one JSON form.

A view is copied out of the store while the query's session is still open, so no ORM
row leaves store/: a face cannot trigger a lazy load after the session is gone, cannot
change a row by accident, and does not depend on the table layout.  Each view has a
single ``to_json()`` that returns plain JSON data (strings, numbers, lists, dicts; times
as ISO 8601 text).  The CLI's ``--json`` prints exactly that, and a web API will send
exactly that, so one concept has one shape for every face.

Some attributes are left out of the JSON on purpose; each class says which and why.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, overload

from cvdesk.domain.codec import to_jsonable
from cvdesk.domain.events import Event

if TYPE_CHECKING:
    from cvdesk.domain.model import Vulnerability
    from cvdesk.domain.statements import Statement
    from cvdesk.store.tables import CaseRow, ParticipantRow, ReportRow, VulnerabilityRow


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _split(text: str) -> list[str]:
    return [part for part in text.split(",") if part]


# ------------------------------------------------------------------ cases
@dataclass(frozen=True, slots=True)
class CaseSummary:
    """One case's formal states and counts, as the projections hold them.

    ``embargo_end`` is the end in UTC, for sorting and local display; the JSON gives the
    end as it was agreed (``embargo_end_text``, with the offset the participants used),
    which is the same instant."""

    case_id: str
    title: str
    tlp: str
    status: str
    em_state: str
    embargo_end: datetime | None
    embargo_end_text: str | None
    proposed_end_text: str | None
    pxa: str
    participants_count: int
    vendors_count: int
    opened_at: datetime
    closed_at: datetime | None
    last_event_at: datetime
    version: int

    @classmethod
    def of(cls, row: CaseRow) -> CaseSummary:
        return cls(row.case_id, row.title, row.tlp, row.status, row.em_state, row.embargo_end,
                   row.embargo_end_text, row.proposed_end_text, row.pxa,
                   row.participants_count, row.vendors_count, row.opened_at, row.closed_at,
                   row.last_event_at, row.version)

    def to_json(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "title": self.title, "tlp": self.tlp,
                "status": self.status, "em_state": self.em_state, "pxa": self.pxa,
                "participants_count": self.participants_count,
                "vendors_count": self.vendors_count, "opened_at": _time(self.opened_at),
                "closed_at": _time(self.closed_at), "last_event_at": _time(self.last_event_at),
                "version": self.version, "embargo_end": self.embargo_end_text,
                "proposed_end": self.proposed_end_text}


@dataclass(frozen=True, slots=True)
class CaseList(Sequence[CaseSummary]):
    """The cases of one listing, oldest first.  It reads like a sequence of its cases,
    so a caller that only loops over them needs nothing else."""

    cases: tuple[CaseSummary, ...]

    @overload
    def __getitem__(self, index: int) -> CaseSummary: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[CaseSummary, ...]: ...
    def __getitem__(self, index: int | slice) -> CaseSummary | tuple[CaseSummary, ...]:
        return self.cases[index]

    def __len__(self) -> int:
        return len(self.cases)

    def __iter__(self) -> Iterator[CaseSummary]:
        return iter(self.cases)

    def to_json(self) -> list[dict[str, Any]]:
        return [c.to_json() for c in self.cases]


@dataclass(frozen=True, slots=True)
class ParticipantView:
    """A participant with their RM state, embargo consent, V/F/D and contact summary.

    ``roles`` and ``channels`` are the comma-separated labels the desk prints; the JSON
    gives them as lists.  ``is_vendor`` follows from the roles and is not repeated in
    the JSON."""

    pid: int
    name: str
    roles: str
    is_vendor: bool
    organization: str
    email: str
    phone: str
    rm_state: str
    consent: str
    vfd: str
    first_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_attempt_outcome: str | None
    attempts: int
    channels: str
    first_reply_at: datetime | None
    last_reply_at: datetime | None
    replies: int
    added_at: datetime

    @classmethod
    def of(cls, row: ParticipantRow) -> ParticipantView:
        return cls(row.pid, row.name, row.roles, row.is_vendor, row.organization, row.email,
                   row.phone, row.rm_state, row.consent, row.vfd, row.first_attempt_at,
                   row.last_attempt_at, row.last_attempt_outcome, row.attempts, row.channels,
                   row.first_reply_at, row.last_reply_at, row.replies, row.added_at)

    def to_json(self) -> dict[str, Any]:
        return {"pid": self.pid, "name": self.name, "roles": _split(self.roles),
                "organization": self.organization, "email": self.email, "phone": self.phone,
                "rm_state": self.rm_state, "consent": self.consent, "vfd": self.vfd,
                "first_attempt_at": _time(self.first_attempt_at),
                "last_attempt_at": _time(self.last_attempt_at),
                "last_attempt_outcome": self.last_attempt_outcome, "attempts": self.attempts,
                "channels": _split(self.channels),
                "first_reply_at": _time(self.first_reply_at),
                "last_reply_at": _time(self.last_reply_at), "replies": self.replies,
                "added_at": _time(self.added_at)}


@dataclass(frozen=True, slots=True)
class ReportView:
    """A report filed on a case.  ``form`` (the report as submitted) comes along for
    services that package a whole case (the hand-off, 6.9) but stays out of this JSON:
    the case shows its reports by tracking id, and ``CaseService.report`` gives one
    report's form (``ReportForm``)."""

    tracking_id: str
    received_at: datetime
    title: str
    tlp: str
    form: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def of(cls, row: ReportRow) -> ReportView:
        return cls(row.tracking_id, row.received_at, row.title, row.tlp, dict(row.form))

    def to_json(self) -> dict[str, Any]:
        return {"tracking_id": self.tracking_id, "received_at": _time(self.received_at),
                "title": self.title, "tlp": self.tlp}


@dataclass(frozen=True, slots=True)
class ReportForm:
    """One report as it was submitted, found by its tracking id."""

    tracking_id: str
    form: dict[str, Any]

    @classmethod
    def of(cls, row: ReportRow) -> ReportForm:
        return cls(row.tracking_id, dict(row.form))

    def to_json(self) -> dict[str, Any]:
        return {"tracking_id": self.tracking_id, "form": to_jsonable(self.form)}


@dataclass(frozen=True, slots=True)
class VulnerabilityView:
    """A vulnerability recorded on a case, in its current version; the JSON is the
    vulnerability (title, CVE, CWEs, affected products, description, CVSS scores,
    references) with its advisory ``key`` (its CVE id, else "V" and its place)."""

    title: str
    cve: str | None
    data: dict[str, Any]
    key: str = ""

    @classmethod
    def of(cls, row: VulnerabilityRow) -> VulnerabilityView:
        return cls(row.title, row.cve, dict(row.data))

    @classmethod
    def of_vulnerability(cls, key: str, vuln: Vulnerability) -> VulnerabilityView:
        return cls(vuln.title, vuln.cve or None, {"key": key, **to_jsonable(vuln)}, key)

    @property
    def scores(self) -> list[dict[str, Any]]:
        return list(self.data.get("scores", ()))

    @property
    def references(self) -> list[str]:
        return list(self.data.get("references", ()))

    def to_json(self) -> dict[str, Any]:
        return to_jsonable(self.data)  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class StatementView:
    """A vendor's statement on one product and one vulnerability.  ``on_behalf`` marks
    one the coordinator entered that the vendor has not confirmed; ``vendor`` is the
    participant's name and ``participant`` its number."""

    vendor: str
    participant: int
    vulnerability: str  # the vulnerability's key
    product: str
    status: str
    justification: str | None
    fixed_version: str
    remediations: tuple[dict[str, str], ...]
    statement: str
    on_behalf: bool
    at: datetime | None
    confirmed_at: datetime | None

    @classmethod
    def of(cls, key: str, s: Statement) -> StatementView:
        return cls(s.vendor_name, s.vendor, key, s.product, s.status.value,
                   s.justification.value if s.justification else None, s.fixed_version,
                   tuple({"kind": r.kind.value, "text": r.text, "url": r.url}
                         for r in s.remediations),
                   s.statement, s.on_behalf, s.at, s.confirmed_at)

    def to_json(self) -> dict[str, Any]:
        return {"vendor": self.vendor, "participant": self.participant,
                "vulnerability": self.vulnerability, "product": self.product,
                "status": self.status, "justification": self.justification,
                "fixed_version": self.fixed_version,
                "remediations": [dict(r) for r in self.remediations],
                "statement": self.statement, "on_behalf": self.on_behalf,
                "at": _time(self.at), "confirmed_at": _time(self.confirmed_at)}


@dataclass(frozen=True, slots=True)
class CaseView:
    """A read-only picture of one case: the states, participants and reports from the
    projections; the vulnerabilities and vendor statements folded from their own events
    (no whole-log replay)."""

    case: CaseSummary
    participants: tuple[ParticipantView, ...]
    reports: tuple[ReportView, ...]
    vulnerabilities: tuple[VulnerabilityView, ...]
    statements: tuple[StatementView, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {**self.case.to_json(),
                "participants": [p.to_json() for p in self.participants],
                "reports": [r.to_json() for r in self.reports],
                "vulnerabilities": [v.to_json() for v in self.vulnerabilities],
                "statements": [s.to_json() for s in self.statements]}


def event_json(e: Event) -> dict[str, Any]:
    """One log entry as the timeline shows it (the domain's Event has no JSON of its own)."""
    return {"seq": e.seq, "at": _time(e.at), "type": e.type.value, "actor": e.actor,
            "participant": e.participant, "reason": e.reason, "data": to_jsonable(e.data)}


@dataclass(frozen=True, slots=True)
class Timeline(Sequence[Event]):
    """A case log in time order (back-dated entries where they happened).  The entries
    are the domain's own frozen events, so a timeline can also be replayed; it reads like
    a sequence of them."""

    case_id: str
    events: tuple[Event, ...]

    @overload
    def __getitem__(self, index: int) -> Event: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[Event, ...]: ...
    def __getitem__(self, index: int | slice) -> Event | tuple[Event, ...]:
        return self.events[index]

    def __len__(self) -> int:
        return len(self.events)

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events)

    def to_json(self) -> list[dict[str, Any]]:
        return [event_json(e) for e in self.events]


# ------------------------------------------------------------------ troubleshooting
@dataclass(frozen=True, slots=True)
class ShownFinding:
    """A finding as the desk shows it: the rule's words (``data``, see
    ``doctor.finding_data``) plus how the desk is handling it."""

    id: int | None
    case_id: str
    case_title: str
    status: str
    data: dict[str, Any]
    first_seen_at: datetime | None = None
    snoozed_until: datetime | None = None
    handled_reason: str = ""

    def to_json(self) -> dict[str, Any]:
        """The rule's words at the top level, next to the desk's handling; the case
        title is left out (``data`` names the case by id)."""
        return {"id": self.id, "status": self.status, "first_seen_at": _time(self.first_seen_at),
                "snoozed_until": _time(self.snoozed_until),
                "handled_reason": self.handled_reason, **to_jsonable(self.data)}


@dataclass(frozen=True, slots=True)
class SweepResult:
    """What a sweep (or a preview as of some time) found, and when each case is due
    to be looked at again."""

    at: datetime
    swept: int
    open_cases: int
    findings: tuple[ShownFinding, ...]
    next_checks: dict[str, datetime | None]

    def to_json(self) -> dict[str, Any]:
        return {"at": _time(self.at), "swept": self.swept, "open_cases": self.open_cases,
                "next_checks": {cid: _time(t) for cid, t in self.next_checks.items()},
                "findings": [f.to_json() for f in self.findings]}
