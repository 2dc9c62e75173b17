"""The one mapping between a case and its projection rows, both ways.

Forward (``case_values``, ``participant_values``): the columns of the ``cases`` and
``participants`` rows as the log says they are.  ``CaseRepository.save`` writes them
event by event, the bulk loader (store/bulk.py) many cases at a time.

Backward (``participant_state``, ``case_state``): the domain state rebuilt from those
columns, which is how a sweep reads a case without replaying its log.  Rows come in two
shapes: mapped rows, whose column types have converted every value already, and plain
tuples read without the column types (``PARTICIPANT_COLUMNS``, ``CASE_COLUMNS``), which
the sweep uses because it reads hundreds of thousands of participants.  Cases of both
shapes end in ``case_state``; participants in ``participant_state`` (mapped rows) or
``SweptParticipant`` (plain tuples), which share the converters and are held to the same
fields.

A property test (tests/store/test_mapping_roundtrip.py) writes generated cases both ways
and checks that reading them back gives what a replay of the log gives.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import MISSING, fields
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
        "draft_shared_at": case.previewed_at,
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


class _Memo(dict[Any, Any]):
    """Values by their stored text, each made once on first use: dictionary look-ups,
    which a sweep makes a few hundred thousand times, instead of Enum calls and splits.
    The keys are the few texts a column holds (states, role and channel sets)."""

    def __init__(self, make: Callable[[Any], Any]) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, key: Any) -> Any:
        value = self[key] = self.make(key)
        return value


_RM = _Memo(RM)
_CONSENT = _Memo(Consent)
_OUTCOME = _Memo(lambda text: AttemptOutcome(text) if text else None)
_EVENTS = _Memo(lambda label: frozenset(cs.CSEvent(ch) for ch in label if ch.isupper()))
_ROLES = _Memo(lambda text: frozenset(Role(x) for x in text.split(",") if x))
_CHANNELS = _Memo(lambda text: frozenset(Channel(c) for c in text.split(",") if c))


def _events(label: str) -> cs.CSState:
    return _EVENTS[label]  # type: ignore[no-any-return]


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
        try:  # the text as the column writes it, naive UTC: read with its offset (faster
            return _fromisoformat(value + "+00:00")  # than .replace; the same UTC object)
        except ValueError:
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_fromisoformat = datetime.fromisoformat


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
    # Built as the dataclass's __init__ would build it, without running it (the 25 keyword
    # arguments cost more than the rest).
    state = _new(ParticipantState)
    state.__dict__ = {
        "pid": pid, "name": name, "roles": _ROLES[roles],
        "added_at": added_at, "organization": organization, "email": email, "phone": phone,
        "rm": _RM[rm_state], "rm_at": rm_at, "consent": _CONSENT[consent],
        "vfd": _EVENTS[vfd],
        "vfd_at": _times(times) if times else {}, "vfd_seq": _seqs(times) if times else {},
        "first_attempt_at": first_attempt, "last_attempt_at": last_attempt,
        "last_attempt_outcome": _OUTCOME[outcome],
        "attempts": attempts, "attempts_since_reply": since_reply, "attempt_times": [],
        "channels": _CHANNELS[channels],
        "first_reply_at": first_reply, "last_reply_at": last_reply, "replies": replies,
        "policy_days": policy_days}
    return state


_new = object.__new__
#: The dataclass's fields; a field added there must be added to both readers here.
_FIELDS = {"pid", "name", "roles", "added_at", "organization", "email", "phone", "rm", "rm_at",
           "consent", "vfd", "vfd_at", "vfd_seq", "first_attempt_at", "last_attempt_at",
           "last_attempt_outcome", "attempts", "attempts_since_reply", "attempt_times",
           "channels", "first_reply_at", "last_reply_at", "replies", "policy_days"}
assert {f.name for f in fields(ParticipantState)} == _FIELDS


#: The participant columns a sweep reads, in ``participant_state``'s order after the case
#: key, then whether it is a vendor; read untyped (see ``swept_participants``).
PARTICIPANT_COLUMNS = (
    "case_pk", "pid", "name", "roles", "organization", "email", "phone", "rm_state",
    "consent", "vfd", "last_attempt_outcome", "attempts", "attempts_since_reply", "channels",
    "replies", "policy_days", "added_at", "rm_at", "first_attempt_at", "last_attempt_at",
    "first_reply_at", "last_reply_at", "vfd_times", "is_vendor")


class _FromColumn:
    """An attribute of a ``SweptParticipant`` converted from its column (kept in the slot
    ``raw``) on first use, then kept in the instance's dictionary (a non-data descriptor:
    the kept value shadows it)."""

    __slots__ = ("convert", "name", "raw")

    def __init__(self, raw: str, convert: Callable[[Any], Any]) -> None:
        self.raw, self.convert = raw, convert
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.convert(getattr(obj, self.raw))
        return value


def _vfd_at(raw: Any) -> dict[cs.CSEvent, datetime]:
    return _times(raw_json(raw)) if raw is not None else {}


def _vfd_seq(raw: Any) -> dict[cs.CSEvent, int]:
    return _seqs(raw_json(raw)) if raw is not None else {}


class SweptParticipant(ParticipantState):
    """A participant as a sweep reads it, from a row of ``PARTICIPANT_COLUMNS``.

    It reads as a ``ParticipantState`` with the same values (a test compares every field
    with a replay of the log), but its fields live in slots, set by one positional call:
    a sweep builds a few hundred thousand, and the dataclass's 25 keyword arguments, or
    a dictionary per participant, cost about twice as much to make and to free.  What
    few rules ask for (the CS times, when the RM state was reached, the first reply) is
    converted on first use (``_FromColumn``); ``is_vendor`` is the column's value."""

    __slots__ = (
        "_first_reply_at",
        "_rm_at",
        "_vfd_times",
        "added_at",
        "attempts",
        "attempts_since_reply",
        "channels",
        "consent",
        "email",
        "first_attempt_at",
        "is_vendor",
        "last_attempt_at",
        "last_attempt_outcome",
        "last_reply_at",
        "name",
        "organization",
        "phone",
        "pid",
        "policy_days",
        "replies",
        "rm",
        "roles",
        "vfd",
    )

    rm_at = _FromColumn("_rm_at", raw_instant)  # type: ignore[assignment]
    first_reply_at = _FromColumn("_first_reply_at", raw_instant)  # type: ignore[assignment]
    vfd_at = _FromColumn("_vfd_times", _vfd_at)  # type: ignore[assignment]
    vfd_seq = _FromColumn("_vfd_times", _vfd_seq)  # type: ignore[assignment]
    # Not a column: the attempts' times are only known to a replay.  An empty list made
    # when asked for (rarely: no rule reads it), not one per participant read.
    attempt_times = _FromColumn("pid", lambda _: [])  # type: ignore[assignment]

    def __init__(self, pid: int, name: str, roles: frozenset[Role], added_at: datetime,
                 organization: str, email: str, phone: str, rm: RM, rm_at: Any,
                 consent: Consent, vfd: cs.CSState, vfd_times: Any,
                 first_attempt_at: datetime | None, last_attempt_at: datetime | None,
                 last_attempt_outcome: AttemptOutcome | None, attempts: int,
                 attempts_since_reply: int, channels: frozenset[Channel], first_reply_at: Any,
                 last_reply_at: datetime | None, replies: int, policy_days: int | None,
                 is_vendor: bool) -> None:
        self.pid, self.name, self.roles, self.added_at = pid, name, roles, added_at
        self.organization, self.email, self.phone = organization, email, phone
        self.rm, self._rm_at, self.consent, self.vfd = rm, rm_at, consent, vfd
        self._vfd_times = vfd_times
        self.first_attempt_at, self.last_attempt_at = first_attempt_at, last_attempt_at
        self.last_attempt_outcome, self.attempts = last_attempt_outcome, attempts
        self.attempts_since_reply = attempts_since_reply
        self.channels, self._first_reply_at = channels, first_reply_at
        self.last_reply_at, self.replies, self.policy_days = last_reply_at, replies, policy_days
        self.is_vendor = is_vendor  # type: ignore[misc]


# Every field is a slot or converted on first use.
assert {n.lstrip("_") for n in SweptParticipant.__slots__} | {
    n for n, v in vars(SweptParticipant).items() if isinstance(v, _FromColumn)} >= _FIELDS

#: When participants were added, by the untyped value: most of a case's participants were
#: added at one time.
_INSTANTS = _Memo(raw_instant)


def swept_participants(rows: Iterable[tuple[Any, ...]],
                       into: dict[int, list[ParticipantState]]) -> None:
    """Each row of ``PARTICIPANT_COLUMNS`` read untyped, as a ``SweptParticipant`` appended
    to the list of its case in ``into``."""
    for pk, people in swept_by_case(rows).items():
        into[pk].extend(people)


def swept_by_case(rows: Iterable[tuple[Any, ...]]) -> dict[int, list[ParticipantState]]:
    """Rows of ``PARTICIPANT_COLUMNS`` read untyped, as ``SweptParticipant``s by case key,
    the cases and their participants in the rows' order."""
    if len(_INSTANTS) > 100_000:
        _INSTANTS.clear()
    rows = rows if isinstance(rows, list) else list(rows)
    try:
        return _from_text(rows)
    except (TypeError, ValueError):  # not SQLite's naive UTC text: each value converted
        return _from_any(rows)


def _from_text(rows: list[tuple[Any, ...]]) -> dict[int, list[ParticipantState]]:
    """``swept_participants`` for rows whose instants are the naive UTC text SQLite keeps
    (``raw_instant``'s first way, written out: a sweep converts a million of them); any
    other value raises, and the rows are read again by ``_from_any``."""
    made: dict[int, list[ParticipantState]] = {}
    make, t, parse, utc = SweptParticipant, _INSTANTS, _fromisoformat, "+00:00"
    roles, rm, consent, events, outcome, channels = (
        _ROLES, _RM, _CONSENT, _EVENTS, _OUTCOME, _CHANNELS)
    current, people = None, []
    for (pk, pid, name, role_text, organization, email, phone, rm_state, consent_text,
         vfd, last_outcome, attempts, since_reply, channel_text, replies, policy_days,
         added_at, rm_at, first_attempt, last_attempt, first_reply, last_reply, times,
         is_vendor) in rows:
        if pk != current:
            current, people = pk, made.setdefault(pk, [])
        people.append(make(
            pid, name, roles[role_text], t[added_at], organization, email, phone,
            rm[rm_state], rm_at, consent[consent_text], events[vfd], times,
            None if first_attempt is None else parse(first_attempt + utc),
            None if last_attempt is None else parse(last_attempt + utc),
            outcome[last_outcome], attempts, since_reply, channels[channel_text], first_reply,
            None if last_reply is None else parse(last_reply + utc), replies, policy_days,
            bool(is_vendor)))
    return made


def _from_any(rows: list[tuple[Any, ...]]) -> dict[int, list[ParticipantState]]:
    made: dict[int, list[ParticipantState]] = {}
    make, t, instant = SweptParticipant, _INSTANTS, raw_instant
    roles, rm, consent, events, outcome, channels = (
        _ROLES, _RM, _CONSENT, _EVENTS, _OUTCOME, _CHANNELS)
    for (pk, pid, name, role_text, organization, email, phone, rm_state, consent_text,
         vfd, last_outcome, attempts, since_reply, channel_text, replies, policy_days,
         added_at, rm_at, first_attempt, last_attempt, first_reply, last_reply, times,
         is_vendor) in rows:
        made.setdefault(pk, []).append(make(
            pid, name, roles[role_text], t[added_at], organization, email, phone,
            rm[rm_state], rm_at, consent[consent_text], events[vfd], times,
            instant(first_attempt), instant(last_attempt), outcome[last_outcome], attempts,
            since_reply, channels[channel_text], first_reply, instant(last_reply), replies,
            policy_days, bool(is_vendor)))
    return made


def participant_from_raw(values: tuple[Any, ...] | list[Any]) -> ParticipantState:
    """A participant from a row of ``PARTICIPANT_COLUMNS`` read without the column types."""
    into: dict[int, list[ParticipantState]] = {values[0]: []}
    swept_participants([tuple(values)], into)
    return into[values[0]][0]


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
               case_type: type[Case] = Case, *,
               draft_shared_at: datetime | None = None) -> Case:
    """A case from its row's values (instants converted) and its participants."""
    # Set as the dataclass's __init__ would set it, without its keyword arguments (a sweep
    # builds one per case; see participant_state): the defaults, then the row's values.
    case = _new(case_type)
    values = dict(_CASE_DEFAULTS)
    for name, make in _CASE_FACTORIES:
        values[name] = make()
    values.update(
        case_id=case_id, title=title, tlp=_TLP[tlp], status=_STATUS[status],
        opened_at=opened_at, closed_at=closed_at,
        participants={p.pid: p for p in participants}, em=_EM[em_state],
        embargo_end=datetime.fromisoformat(embargo_end_text) if embargo_end_text else None,
        proposed_end=datetime.fromisoformat(proposed_end_text) if proposed_end_text
        else None,
        pxa=_EVENTS[pxa], pxa_at=_times(pxa_times), pxa_seq=_seqs(pxa_times),
        signals=[_signal(d) for d in signals], last_event_at=last_event_at, seq=version,
        previewed_at=draft_shared_at)
    case.__dict__ = values
    return case


_TLP, _STATUS, _EM = _Memo(TLP), _Memo(CaseStatus), _Memo(EM)
_CASE_DEFAULTS = {f.name: f.default for f in fields(Case) if f.default is not MISSING}
_CASE_FACTORIES = [(f.name, f.default_factory) for f in fields(Case)
                   if f.default_factory is not MISSING]
# Every field without a default is one that case_state sets.
assert {f.name for f in fields(Case)} - set(_CASE_DEFAULTS) - {n for n, _ in _CASE_FACTORIES} \
    <= {"case_id"}


#: The case columns a sweep reads: the key, then ``case_state``'s arguments in order.
CASE_COLUMNS = (
    "id", "case_id", "title", "tlp", "status", "em_state", "embargo_end_text",
    "proposed_end_text", "pxa", "pxa_times", "signals", "opened_at", "closed_at",
    "last_event_at", "version", "draft_shared_at")
assert len(CASE_COLUMNS) == 16  # as case_from_raw unpacks them


def case_from_raw(values: tuple[Any, ...] | list[Any], participants: Iterable[ParticipantState],
                  case_type: type[Case] = Case) -> Case:
    """A case from a row of ``CASE_COLUMNS`` read without the column types (further
    columns after those, such as a sweep's own, are left alone)."""
    (_, case_id, title, tlp, status, em_state, end, proposed, pxa, pxa_times, signals,
     opened, closed, last, version, draft_shared_at) = values[:16]
    return case_state(case_id, title, tlp, status, em_state, end, proposed, pxa,
                      raw_json(pxa_times), raw_json(signals) if signals else [],
                      raw_instant(opened), raw_instant(closed),  # type: ignore[arg-type]
                      raw_instant(last), version, participants,  # type: ignore[arg-type]
                      case_type, draft_shared_at=raw_instant(draft_shared_at))


def case_from_rows(row: Any, participants: Iterable[Any]) -> Case:
    """The case of a mapped row (``CaseRow``, or a row of its typed columns); its
    participants as mapped rows or as already built states."""
    return case_state(
        row.case_id, row.title, row.tlp, row.status, row.em_state, row.embargo_end_text,
        row.proposed_end_text, row.pxa, row.pxa_times, row.signals, row.opened_at,
        row.closed_at, row.last_event_at, row.version,
        (p if isinstance(p, ParticipantState) else participant_from_row(p)
         for p in participants), draft_shared_at=row.draft_shared_at)
