"""Part of a case log without the rest: reading the events of some types only (issue
10), and appending contact attempts without replaying the log (issue 9).

``case show`` needs the vulnerabilities and vendor statements as the log says they are
now.  Those fold from their own events alone (cvdesk.domain.state), so reading just
those keeps ``show`` from reading and decoding every contact attempt of a case with
thousands of vendors.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from cvdesk.domain.case import Case, ParticipantState
from cvdesk.domain.events import Event, EventType
from cvdesk.domain.model import AttemptOutcome, CaseStatus, Channel
from cvdesk.store.cases import ConcurrentUpdate
from cvdesk.store.driver import Many
from cvdesk.store.tables import CaseRow, EventRow, ParticipantRow


def events_of_types(session: Session, case_pk: int, types: Iterable[EventType]) -> list[Event]:
    """The case's events of these types, in log order."""
    table = EventRow.__table__
    rows = session.execute(
        select(table.c.type, table.c.at, table.c.actor, table.c.reason,
               table.c.participant, table.c.data, table.c.seq)
        .where(table.c.case_pk == case_pk, table.c.type.in_([t.value for t in types]))
        .order_by(table.c.seq))
    return [Event(EventType(t), at, actor, reason, participant, data, seq)
            for t, at, actor, reason, participant, data, seq in rows]


# ------------------------------------------------------------------ contact attempts


@dataclass(frozen=True)
class Attempt:
    """One contact attempt to log: on participant ``pid``, to ``address``."""

    pid: int
    outcome: AttemptOutcome
    reason: str = ""
    address: str = ""


#: The participant columns a contact attempt changes (``_on_attempt`` in
#: cvdesk.domain.state), written as ``participant_values`` writes them; the columns read
#: besides are what that fold reads.  tests/mail/test_attempt_log.py holds the result to
#: what ``CaseRepository.save`` writes after a replay.
_SUMMARY = ("attempts", "attempts_since_reply", "first_attempt_at", "last_attempt_at",
            "last_attempt_outcome", "channels", "channels_count")
_READ = (*_SUMMARY, "first_reply_at", "last_reply_at", "replies")


def append_contact_attempts(session: Session, case_pk: int, attempts: Sequence[Attempt], *,
                            channel: Channel, at: datetime, actor: str) -> bool:
    """Log contact attempts on a case without replaying its log: False (nothing written)
    when the case is closed, as a replayed case refuses them.

    The outbox worker logs one attempt per delivered message, on cases with thousands of
    events; replaying the whole log and bringing every participant's row in line for that
    cost it more than the delivery itself.  An attempt (other than an acknowledgement,
    which moves the RM state and needs the whole case) reads and changes only the case's
    log position, its last activity and the contact summary of its participant, so the
    domain's own command runs here on a case that holds just those: the same checks
    (case open, participant known, time not before the case opened, an actor), the same
    event, the same fold.  The version guard is the one ``save`` uses: the case row is
    locked first, and a writer holding an older read of the case is refused afterwards."""
    if not attempts:
        return True
    if any(a.outcome is AttemptOutcome.ACKNOWLEDGED for a in attempts):
        raise ValueError("an acknowledgement changes more than the contact summary")
    cases, people = CaseRow.__table__, ParticipantRow.__table__
    found = session.execute(
        select(cases.c.case_id, cases.c.version, cases.c.status, cases.c.opened_at,
               cases.c.last_event_at).where(cases.c.id == case_pk).with_for_update()).one()
    case_id, version, status, opened_at, last_event_at = found
    case = Case(case_id)
    case.status, case.opened_at = CaseStatus(status), opened_at
    case.seq, case.last_event_at = version, last_event_at
    if case.status is CaseStatus.CLOSED:
        return False
    pids = sorted({a.pid for a in attempts})
    for chunk in _chunks(pids):
        for pid, *values in session.execute(
                select(people.c.pid, *(people.c[n] for n in _READ))
                .where(people.c.case_pk == case_pk, people.c.pid.in_(chunk))):
            case.participants[pid] = _summary(pid, dict(zip(_READ, values, strict=True)))
    for a in attempts:
        case.contact_attempt(a.pid, channel, a.outcome, at=at, actor=actor, reason=a.reason,
                             address=a.address)
    moved = session.execute(
        update(cases).where(cases.c.id == case_pk, cases.c.version == version)
        .values(version=case.seq, last_event_at=case.last_event_at,
                updated_at=datetime.now(UTC), needs_sweep=True))
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise ConcurrentUpdate(f"{case_id} was changed by someone else; try again")
    recorded = datetime.now(UTC)
    _EVENTS.run(session, [(case_pk, e.seq, e.type.value, e.at, e.actor, e.reason, e.participant,
                           e.data, recorded) for e in case.pending])
    _SUMMARIES.run(session, [(*_columns(case.participants[pid]), case_pk, pid)
                             for pid in pids])
    case.pending.clear()
    # Rows of this case the session holds as objects are stale now (save() does the same).
    for obj in list(session.identity_map.values()):
        if ((isinstance(obj, CaseRow) and obj.__dict__.get("id") == case_pk)
                or (isinstance(obj, ParticipantRow)
                    and obj.__dict__.get("case_pk") == case_pk)):
            session.expire(obj)
    return True


def _summary(pid: int, row: dict[str, Any]) -> ParticipantState:
    """A participant holding its contact summary only: what the fold reads and writes.
    Anything else the fold ever reads fails loudly here (AttributeError), not silently."""
    state: ParticipantState = object.__new__(ParticipantState)
    state.__dict__.update(
        pid=pid, attempts=row["attempts"], attempts_since_reply=row["attempts_since_reply"],
        first_attempt_at=row["first_attempt_at"], last_attempt_at=row["last_attempt_at"],
        last_attempt_outcome=(AttemptOutcome(row["last_attempt_outcome"])
                              if row["last_attempt_outcome"] else None),
        channels=frozenset(Channel(c) for c in row["channels"].split(",") if c),
        attempt_times=[], first_reply_at=row["first_reply_at"],
        last_reply_at=row["last_reply_at"], replies=row["replies"])
    return state


def _columns(p: ParticipantState) -> tuple[Any, ...]:
    """The ``_SUMMARY`` columns' values, as ``participant_values`` gives them."""
    return (p.attempts, p.attempts_since_reply, p.first_attempt_at, p.last_attempt_at,
            p.last_attempt_outcome.value if p.last_attempt_outcome else None,
            ",".join(sorted(c.value for c in p.channels)), len(p.channels))


#: The two writes of a batch of attempts, by the driver (store/driver.py says why).
_EVENT_COLUMNS = ("case_pk", "seq", "type", "at", "actor", "reason", "participant", "data",
                  "recorded_at")
_EVENTS = Many(insert(EventRow.__table__).inline(), _EVENT_COLUMNS)
_SUMMARIES = Many(
    ParticipantRow.__table__.update().where(
        ParticipantRow.__table__.c.case_pk == bindparam("b_case"),
        ParticipantRow.__table__.c.pid == bindparam("b_pid")),
    (*_SUMMARY, "b_case", "b_pid"))


def _chunks(items: Sequence[Any], size: int = 500) -> Iterator[list[Any]]:
    """IN lists of bounded length (SQLite limits the parameters of one statement)."""
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk
