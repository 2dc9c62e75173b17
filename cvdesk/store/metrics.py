"""The read behind skill against chance (issue 12): one row per vendor of a case, with
the case's P X A and the vendor's V F D, when each happened and their places in the log.

One Core query over the projections ``cases`` and ``participants`` (never a replay of
the log), the same on SQLite and PostgreSQL.  The CS times are JSON written by
cvdesk.store.mapping.cs_times ({"V": ISO time, ..., "seq": {"V": n}}); they are read
defensively, because rows written by older versions or by hand may lack a time or hold
one that does not parse: such an event counts as happened at an unknown time
("undated"), which the skill measure leaves out where the time would matter.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from cvdesk.domain.cs import CASE_EVENTS, VENDOR_EVENTS, CSEvent
from cvdesk.store.tables import CaseRow, ParticipantRow

_CS = {e.value: e for e in CSEvent}


@dataclass(frozen=True, slots=True)
class CsTimes:
    """When the events of one row happened: dated ones, their log positions, and those
    known to have happened whose time could not be read."""

    times: dict[CSEvent, datetime]
    seqs: dict[CSEvent, int]
    undated: frozenset[CSEvent]


@dataclass(frozen=True, slots=True)
class VendorRow:
    case_id: str
    closed: bool
    opened_at: datetime
    closed_at: datetime | None
    case_events: CsTimes
    pid: int
    name: str
    organization: str
    vendor_events: CsTimes


def _instant(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_cs_times(label: str | None, raw: Any, allowed: frozenset[CSEvent]) -> CsTimes:
    """The events of ``allowed`` that happened (upper case in ``label``, or with a time in
    ``raw``), each with its time when it can be read.  Keys outside ``allowed`` are
    ignored: a vendor row speaks only for V F D, a case row only for P X A."""
    if isinstance(raw, str | bytes):
        try:
            raw = json.loads(raw)
        except ValueError:
            raw = {}
    data: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    happened = {_CS[ch] for ch in label or "" if ch in _CS} & allowed
    times: dict[CSEvent, datetime] = {}
    for key, value in data.items():
        event = _CS.get(key)
        if event is None or event not in allowed:
            continue
        happened.add(event)
        moment = _instant(value)
        if moment is not None:
            times[event] = moment
    seqs: dict[CSEvent, int] = {}
    raw_seqs = data.get("seq")
    if isinstance(raw_seqs, Mapping):
        for key, value in raw_seqs.items():
            event = _CS.get(key)
            if event in times and isinstance(value, int) and not isinstance(value, bool):
                seqs[event] = value
    return CsTimes(times, seqs, frozenset(happened - set(times)))


def _names(p: Any, vendor: str) -> ColumnElement[bool]:
    """The participant's organization or name equals ``vendor``, ignoring case.  lower()
    on both sides, so each backend folds the two alike (SQLite folds ASCII letters only)."""
    wanted = func.lower(vendor.strip())
    return or_(func.lower(p.organization) == wanted, func.lower(p.name) == wanted)


def vendor_rows(session: Session, *, opened_from: datetime | None = None,
                opened_before: datetime | None = None, vendor: str | None = None,
                whole_cases: bool = False) -> list[VendorRow]:
    """Every vendor participant of the cases opened in [``opened_from``,
    ``opened_before``), oldest case first.  ``vendor`` keeps the vendors whose
    organization or name it is; with ``whole_cases`` it keeps instead every vendor of
    the cases such a vendor takes part in (a case's history needs all its vendors)."""
    c, p = CaseRow, ParticipantRow
    conds: list[ColumnElement[bool]] = [p.is_vendor.is_(True)]
    if opened_from is not None:
        conds.append(c.opened_at >= opened_from)
    if opened_before is not None:
        conds.append(c.opened_at < opened_before)
    if vendor is not None:
        if whole_cases:
            other = aliased(ParticipantRow)
            conds.append(exists().where(other.case_pk == c.id, other.is_vendor.is_(True),
                                        _names(other, vendor)))
        else:
            conds.append(_names(p, vendor))
    stmt = (select(c.case_id, c.status, c.opened_at, c.closed_at, c.pxa, c.pxa_times,
                   p.pid, p.name, p.organization, p.vfd, p.vfd_times)
            .join(p, p.case_pk == c.id).where(and_(*conds))
            .order_by(c.opened_at, c.case_id, p.pid))
    return [VendorRow(case_id, status == "closed", opened_at, closed_at,
                      parse_cs_times(pxa, pxa_times, CASE_EVENTS), pid, name,
                      organization or "", parse_cs_times(vfd, vfd_times, VENDOR_EVENTS))
            for (case_id, status, opened_at, closed_at, pxa, pxa_times, pid, name,
                 organization, vfd, vfd_times) in session.execute(stmt)]
