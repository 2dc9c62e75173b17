"""The one mapping between a case and its projection rows, both ways.

Forward (``case_values``, ``participant_values``): the columns of the ``cases`` and
``participants`` rows as the log says they are.  ``CaseRepository.save`` writes them
event by event, the bulk loader (store/bulk.py) many cases at a time.

Backward (``participant_state``, ``case_state``): the domain state rebuilt from those
columns, which is how a sweep reads a case without replaying its log.  Rows come in two
shapes: mapped rows, whose column types have converted every value already, and plain
tuples read without the column types (``PARTICIPANT_COLUMNS``, ``CASE_COLUMNS``), which
the sweep uses because it reads hundreds of thousands of participants.  Both end in the
same constructor, so there is one reverse mapping.

A property test (tests/store/test_mapping_roundtrip.py) writes generated cases both ways
and checks that reading them back gives what a replay of the log gives.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

from cvdesk.domain import cs
from cvdesk.domain.case import Case, ParticipantState
from cvdesk.domain.codec import to_jsonable
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

# ------------------------------------------------------------------ forward


def _utcnow() -> datetime:
    return datetime.now(UTC)


def cs_times(times: dict[cs.CSEvent, datetime],
             seqs: dict[cs.CSEvent, int]) -> dict[str, Any]:
    """When each CS event happened, and under "seq" its place in the log: two events with
    the same time are ordered by the log, so both are kept."""
    out: dict[str, Any] = {e.value: t.isoformat() for e, t in times.items()}
    if seqs:
        out["seq"] = {e.value: n for e, n in seqs.items()}
    return out


def case_values(case: Case) -> dict[str, Any]:
    """The case row's columns as the log says they are."""
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


# ------------------------------------------------------------------ backward
# Enum members and sets by stored text: dictionary look-ups, which a sweep makes a few
# hundred thousand times, instead of Enum calls and splits.
_RM = {m.value: m for m in RM}
_CONSENT = {m.value: m for m in Consent}
_OUTCOME: dict[str | None, AttemptOutcome | None] = {None: None, "": None}
_OUTCOME.update((m.value, m) for m in AttemptOutcome)
_EVENTS: dict[str, cs.CSState] = {}
_ROLES: dict[str, frozenset[Role]] = {}
_CHANNELS: dict[str, frozenset[Channel]] = {}


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


_CS = {e.value: e for e in cs.CSEvent}


def _times(data: dict[str, Any]) -> dict[cs.CSEvent, datetime]:
    return {_CS[k]: _utc(v) for k, v in data.items() if k != "seq"}


def _seqs(data: dict[str, Any]) -> dict[cs.CSEvent, int]:
    """Log positions of the CS events (rows written before they were kept have none)."""
    return {_CS[k]: int(v) for k, v in data.get("seq", {}).items()}


def raw_instant(value: Any) -> datetime | None:
    """An instant read without the column type: SQLite gives the stored UTC text,
    PostgreSQL an aware datetime; both come back in UTC as ``UTCDateTime`` gives them."""
    if value is None:
        return None
    if value.__class__ is str:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def raw_json(value: Any) -> Any:
    """A JSON column read without the column type: text on SQLite, parsed on PostgreSQL."""
    if value.__class__ is not str:
        return value
    return {} if value == "{}" else json.loads(value)


def participant_state(pid: int, name: str, roles: str, organization: str, email: str,
                      phone: str, rm_state: str, consent: str, vfd: str,
                      outcome: str | None, attempts: int, since_reply: int, channels: str,
                      replies: int, policy_days: int | None, added_at: datetime,
                      rm_at: datetime | None, first_attempt: datetime | None,
                      last_attempt: datetime | None, first_reply: datetime | None,
                      last_reply: datetime | None, times: dict[str, Any] | None,
                      ) -> ParticipantState:
    """A participant from its row's values, instants and CS times already converted
    (the argument order is ``PARTICIPANT_COLUMNS``' without the case key)."""
    # Built as the dataclass's __init__ would build it, without running it: a sweep makes a
    # few hundred thousand of these, and the 25 keyword arguments cost more than the rest.
    state = _new_participant(ParticipantState)
    state.__dict__ = {
        "pid": pid, "name": name, "roles": _ROLES.get(roles) or _roles(roles),
        "added_at": added_at, "organization": organization, "email": email, "phone": phone,
        "rm": _RM.get(rm_state) or RM(rm_state), "rm_at": rm_at,
        "consent": _CONSENT.get(consent) or Consent(consent),
        "vfd": _EVENTS.get(vfd) or _events(vfd),
        "vfd_at": _times(times) if times else {}, "vfd_seq": _seqs(times) if times else {},
        "first_attempt_at": first_attempt, "last_attempt_at": last_attempt,
        "last_attempt_outcome": _OUTCOME[outcome] if outcome in _OUTCOME
        else AttemptOutcome(outcome),
        "attempts": attempts, "attempts_since_reply": since_reply, "attempt_times": [],
        "channels": _CHANNELS.get(channels) or _channels(channels),
        "first_reply_at": first_reply, "last_reply_at": last_reply, "replies": replies,
        "policy_days": policy_days}
    return state


_new_participant = object.__new__
# The fields above must be the dataclass's own; a field added there must be added here.
assert {f.name for f in fields(ParticipantState)} == {
    "pid", "name", "roles", "added_at", "organization", "email", "phone", "rm", "rm_at",
    "consent", "vfd", "vfd_at", "vfd_seq", "first_attempt_at", "last_attempt_at",
    "last_attempt_outcome", "attempts", "attempts_since_reply", "attempt_times", "channels",
    "first_reply_at", "last_reply_at", "replies", "policy_days"}


#: The participant columns a sweep reads, in ``participant_state``'s order after the case
#: key; the instants and the CS times come last, read untyped (see ``participant_from_raw``).
PARTICIPANT_COLUMNS = (
    "case_pk", "pid", "name", "roles", "organization", "email", "phone", "rm_state",
    "consent", "vfd", "last_attempt_outcome", "attempts", "attempts_since_reply", "channels",
    "replies", "policy_days", "added_at", "rm_at", "first_attempt_at", "last_attempt_at",
    "first_reply_at", "last_reply_at", "vfd_times")
#: Where the instants start in a row of ``PARTICIPANT_COLUMNS``.
_FIRST_INSTANT = PARTICIPANT_COLUMNS.index("added_at")


def participant_from_raw(values: tuple[Any, ...] | list[Any],
                         instant: Callable[[Any], datetime | None] = raw_instant,
                         ) -> ParticipantState:
    """A participant from a row of ``PARTICIPANT_COLUMNS`` read without the column types
    (``instant`` converts the instants; a sweep passes one that remembers them)."""
    i = _FIRST_INSTANT
    times = values[i + 6]
    return participant_state(
        *values[1:i], instant(values[i]),  # type: ignore[arg-type]  # never NULL
        instant(values[i + 1]), instant(values[i + 2]), instant(values[i + 3]),
        instant(values[i + 4]), instant(values[i + 5]),
        raw_json(times) if times is not None else None)


def participant_from_row(r: Any) -> ParticipantState:
    """A participant from its mapped row (``ParticipantRow``: values already typed)."""
    return participant_state(
        r.pid, r.name, r.roles, r.organization, r.email, r.phone, r.rm_state, r.consent,
        r.vfd, r.last_attempt_outcome, r.attempts, r.attempts_since_reply, r.channels,
        r.replies, r.policy_days, r.added_at, r.rm_at, r.first_attempt_at, r.last_attempt_at,
        r.first_reply_at, r.last_reply_at, r.vfd_times)


def _signal(d: dict[str, Any]) -> Signal:
    return Signal(SignalKind(d["kind"]), _utc(d["at"]), d["seq"], d["participant"],
                  d["text"], d["url"], d["source"])


def case_state(case_id: str, title: str, tlp: str, status: str, em_state: str,
               embargo_end_text: str | None, proposed_end_text: str | None, pxa: str,
               pxa_times: dict[str, Any], signals: list[dict[str, Any]],
               opened_at: datetime, closed_at: datetime | None, last_event_at: datetime,
               version: int, participants: Iterable[ParticipantState],
               case_type: type[Case] = Case) -> Case:
    """A case from its row's values (instants converted) and its participants."""
    return case_type(
        case_id=case_id, title=title, tlp=TLP(tlp), status=CaseStatus(status),
        opened_at=opened_at, closed_at=closed_at,
        participants={p.pid: p for p in participants},
        em=EM(em_state),
        embargo_end=datetime.fromisoformat(embargo_end_text) if embargo_end_text else None,
        proposed_end=datetime.fromisoformat(proposed_end_text) if proposed_end_text
        else None,
        pxa=_events(pxa), pxa_at=_times(pxa_times), pxa_seq=_seqs(pxa_times),
        last_event_at=last_event_at, signals=[_signal(d) for d in signals], seq=version)


#: The case columns a sweep reads: the key, then ``case_state``'s arguments in order.
CASE_COLUMNS = (
    "id", "case_id", "title", "tlp", "status", "em_state", "embargo_end_text",
    "proposed_end_text", "pxa", "pxa_times", "signals", "opened_at", "closed_at",
    "last_event_at", "version")


def case_from_raw(values: tuple[Any, ...] | list[Any], participants: Iterable[ParticipantState],
                  case_type: type[Case] = Case) -> Case:
    """A case from a row of ``CASE_COLUMNS`` read without the column types."""
    (_, case_id, title, tlp, status, em_state, end, proposed, pxa, pxa_times, signals,
     opened, closed, last, version) = values
    return case_state(case_id, title, tlp, status, em_state, end, proposed, pxa,
                      raw_json(pxa_times), raw_json(signals) if signals else [],
                      raw_instant(opened), raw_instant(closed),  # type: ignore[arg-type]
                      raw_instant(last), version, participants,  # type: ignore[arg-type]
                      case_type)


def case_from_rows(row: Any, participants: Iterable[Any]) -> Case:
    """The case of a mapped row (``CaseRow``, or a row of its typed columns); its
    participants as mapped rows or as already built states."""
    return case_state(
        row.case_id, row.title, row.tlp, row.status, row.em_state, row.embargo_end_text,
        row.proposed_end_text, row.pxa, row.pxa_times, row.signals, row.opened_at,
        row.closed_at, row.last_event_at, row.version,
        (p if isinstance(p, ParticipantState) else participant_from_row(p)
         for p in participants))
