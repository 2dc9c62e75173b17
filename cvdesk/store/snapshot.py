"""Build a domain Case from its projection rows, without replaying the log.

Sweeps use this: the rows hold every field the troubleshooting rules read.  A
test checks that, for every case of the demo, the result agrees with a replay.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

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


def _events(label: str) -> cs.CSState:
    return frozenset(cs.CSEvent(ch) for ch in label if ch.isupper())


def _utc(text: str) -> datetime:
    """Instants as the log gives them back: in UTC, whatever offset they were written with."""
    return datetime.fromisoformat(text).astimezone(UTC)


def _times(data: dict[str, Any]) -> dict[cs.CSEvent, datetime]:
    return {cs.CSEvent(k): _utc(v) for k, v in data.items() if k != "seq"}


def _seqs(data: dict[str, Any]) -> dict[cs.CSEvent, int]:
    """Log positions of the CS events (rows written before they were kept have none)."""
    return {cs.CSEvent(k): int(v) for k, v in data.get("seq", {}).items()}


def participant_from_row(r: ParticipantRow) -> ParticipantState:
    return ParticipantState(
        pid=r.pid, name=r.name, roles=frozenset(Role(x) for x in r.roles.split(",") if x),
        added_at=r.added_at, organization=r.organization, email=r.email, phone=r.phone,
        rm=RM(r.rm_state), rm_at=r.rm_at, consent=Consent(r.consent), vfd=_events(r.vfd),
        vfd_at=_times(r.vfd_times), vfd_seq=_seqs(r.vfd_times),
        first_attempt_at=r.first_attempt_at,
        last_attempt_at=r.last_attempt_at,
        last_attempt_outcome=AttemptOutcome(r.last_attempt_outcome)
        if r.last_attempt_outcome else None,
        attempts=r.attempts, attempts_since_reply=r.attempts_since_reply,
        channels=frozenset(Channel(c) for c in r.channels.split(",") if c),
        first_reply_at=r.first_reply_at, last_reply_at=r.last_reply_at, replies=r.replies,
        policy_days=r.policy_days)


def case_from_rows(row: CaseRow, participants: Iterable[ParticipantRow]) -> Case:
    return Case(
        case_id=row.case_id, title=row.title, tlp=TLP(row.tlp), status=CaseStatus(row.status),
        opened_at=row.opened_at, closed_at=row.closed_at,
        participants={p.pid: participant_from_row(p) for p in participants},
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
