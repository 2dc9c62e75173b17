"""Reading part of a case log: the events of some types only (issue 10).

``case show`` needs the vulnerabilities and vendor statements as the log says they are
now.  Those fold from their own events alone (cvdesk.domain.state), so reading just
those keeps ``show`` from reading and decoding every contact attempt of a case with
thousands of vendors.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from cvdesk.domain.events import Event, EventType
from cvdesk.store.tables import EventRow


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
