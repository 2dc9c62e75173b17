"""Build a domain Case from its projection rows, without replaying the log.

Sweeps use this: the rows hold every field the troubleshooting rules read.  A
test checks that, for every case of the demo, the result agrees with a replay.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, select, type_coerce
from sqlalchemy.orm import Session

from cvdesk.domain import cs
from cvdesk.domain.case import Case, ParticipantState
from cvdesk.domain.em import EM, Consent
from cvdesk.domain.model import (
    TLP,
    AttemptOutcome,
    CaseStatus,
    Channel,
    Role,
    Signal,
    SignalKind,
)
from cvdesk.domain.rm import RM
from cvdesk.store.tables import CaseRow, ParticipantRow

_EVENTS: dict[str, cs.CSState] = {}
_ROLES: dict[str, frozenset[Role]] = {}
_CHANNELS: dict[str, frozenset[Channel]] = {}
# Enum members by stored value: a dictionary look-up instead of an Enum call, which the
# sweep would otherwise make a few hundred thousand times.
_RM = {m.value: m for m in RM}
_CONSENT = {m.value: m for m in Consent}
_OUTCOME = {m.value: m for m in AttemptOutcome}


def _events(label: str) -> cs.CSState:
    found = _EVENTS.get(label)
    if found is None:
        found = _EVENTS[label] = frozenset(cs.CSEvent(ch) for ch in label if ch.isupper())
    return found


def _roles(text: str) -> frozenset[Role]:
    found = _ROLES.get(text)
    if found is None:
        found = _ROLES[text] = frozenset(Role(x) for x in text.split(",") if x)
    return found


def _channels(text: str) -> frozenset[Channel]:
    found = _CHANNELS.get(text)
    if found is None:
        found = _CHANNELS[text] = frozenset(Channel(c) for c in text.split(",") if c)
    return found


def _utc(text: str) -> datetime:
    """Instants as the log gives them back: in UTC, whatever offset they were written with."""
    return datetime.fromisoformat(text).astimezone(UTC)


def _times(data: dict[str, Any]) -> dict[cs.CSEvent, datetime]:
    return {cs.CSEvent(k): _utc(v) for k, v in data.items() if k != "seq"}


def _seqs(data: dict[str, Any]) -> dict[cs.CSEvent, int]:
    """Log positions of the CS events (rows written before they were kept have none)."""
    return {cs.CSEvent(k): int(v) for k, v in data.get("seq", {}).items()}


def participant_from_row(r: ParticipantRow) -> ParticipantState:
    times = r.vfd_times
    outcome = r.last_attempt_outcome
    return ParticipantState(
        pid=r.pid, name=r.name, roles=_roles(r.roles),
        added_at=r.added_at, organization=r.organization, email=r.email, phone=r.phone,
        rm=_RM.get(r.rm_state) or RM(r.rm_state), rm_at=r.rm_at,
        consent=_CONSENT.get(r.consent) or Consent(r.consent), vfd=_events(r.vfd),
        vfd_at=_times(times) if times else {}, vfd_seq=_seqs(times) if times else {},
        first_attempt_at=r.first_attempt_at,
        last_attempt_at=r.last_attempt_at,
        last_attempt_outcome=(_OUTCOME.get(outcome) or AttemptOutcome(outcome))
        if outcome else None,
        attempts=r.attempts, attempts_since_reply=r.attempts_since_reply,
        channels=_channels(r.channels),
        first_reply_at=r.first_reply_at, last_reply_at=r.last_reply_at, replies=r.replies,
        policy_days=r.policy_days)


def _raw_instant(value: Any) -> datetime | None:
    """An instant read without the column type: SQLite gives the stored UTC text,
    PostgreSQL an aware datetime; both come back in UTC as ``UTCDateTime`` gives them."""
    if value is None:
        return None
    if value.__class__ is str:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _raw_json(value: Any) -> Any:
    """A JSON column read without the column type: text on SQLite, parsed on PostgreSQL."""
    if value.__class__ is not str:
        return value
    return {} if value == "{}" else json.loads(value)


_PEOPLE = ParticipantRow.__table__.c
_INSTANTS = ("added_at", "rm_at", "first_attempt_at", "last_attempt_at", "first_reply_at",
             "last_reply_at")
_PLAIN = ("pid", "name", "roles", "organization", "email", "phone", "rm_state", "consent",
          "vfd", "last_attempt_outcome", "attempts", "attempts_since_reply", "channels",
          "replies", "policy_days")


def participants_by_case(session: Session, case_pks: Sequence[int],
                         ) -> dict[int, list[ParticipantState]]:
    """The participants of many cases, in one query, ordered by number.

    The sweep reads tens of participants per case; the instants and the CS times are
    fetched untyped and converted here, which is several times cheaper than going
    through the column types row by row.
    """
    result: dict[int, list[ParticipantState]] = {pk: [] for pk in case_pks}
    if not case_pks:
        return result
    cols = [_PEOPLE.case_pk, *(_PEOPLE[n] for n in _PLAIN),
            *(type_coerce(_PEOPLE[n], String).label(n) for n in _INSTANTS),
            type_coerce(_PEOPLE.vfd_times, String).label("vfd_times")]
    stmt = select(*cols).where(_PEOPLE.case_pk.in_(case_pks)).order_by(
        _PEOPLE.case_pk, _PEOPLE.pid)
    seen: dict[Any, datetime | None] = {None: None}

    def instant(value: Any) -> datetime | None:
        # Participants of a case often share instants (added together, one mail to all):
        # convert each distinct value once per batch.
        try:
            return seen[value]
        except KeyError:
            found = seen[value] = _raw_instant(value)
            return found

    for (case_pk, pid, name, roles, organization, email, phone, rm_state, consent, vfd,
         outcome, attempts, since_reply, channels, replies, policy_days, added_at, rm_at,
         first_attempt, last_attempt, first_reply, last_reply, times,
         ) in session.execute(stmt):
        times = _raw_json(times)
        result[case_pk].append(ParticipantState(
            pid=pid, name=name, roles=_roles(roles),
            added_at=instant(added_at),  # type: ignore[arg-type]  # never NULL
            organization=organization, email=email, phone=phone,
            rm=_RM.get(rm_state) or RM(rm_state), rm_at=instant(rm_at),
            consent=_CONSENT.get(consent) or Consent(consent), vfd=_events(vfd),
            vfd_at=_times(times) if times else {}, vfd_seq=_seqs(times) if times else {},
            first_attempt_at=instant(first_attempt), last_attempt_at=instant(last_attempt),
            last_attempt_outcome=(_OUTCOME.get(outcome) or AttemptOutcome(outcome))
            if outcome else None,
            attempts=attempts, attempts_since_reply=since_reply, channels=_channels(channels),
            first_reply_at=instant(first_reply), last_reply_at=instant(last_reply),
            replies=replies, policy_days=policy_days))
    return result


def case_from_rows(row: CaseRow,
                   participants: Iterable[ParticipantRow | ParticipantState]) -> Case:
    """The case of ``row``; its participants as rows, or as built by
    ``participants_by_case``."""
    return Case(
        case_id=row.case_id, title=row.title, tlp=TLP(row.tlp), status=CaseStatus(row.status),
        opened_at=row.opened_at, closed_at=row.closed_at,
        participants={p.pid: p if isinstance(p, ParticipantState) else
                      participant_from_row(p) for p in participants},
        em=EM(row.em_state),
        embargo_end=datetime.fromisoformat(row.embargo_end_text)
        if row.embargo_end_text else None,
        proposed_end=datetime.fromisoformat(row.proposed_end_text)
        if row.proposed_end_text else None,
        pxa=_events(row.pxa), pxa_at=_times(row.pxa_times), pxa_seq=_seqs(row.pxa_times),
        last_event_at=row.last_event_at,
        signals=[Signal(SignalKind(d["kind"]), _utc(d["at"]), d["seq"],
                        d["participant"], d["text"], d["url"], d["source"])
                 for d in row.signals],
        seq=row.version)
