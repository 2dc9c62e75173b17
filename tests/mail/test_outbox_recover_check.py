"""The worker asks, in a read, whether any lease ran out before it opens recover()'s write
transaction (issue 9, notify): the read must say yes exactly when recover() would change
something, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select

from cvdesk.services import CaseService
from cvdesk.store.outbox import COMMITTED, FAILED, PENDING, SENDING, SENT, OutboxRepository
from cvdesk.store.tables import OutboxRow

NOW = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)

_ROW = st.tuples(st.sampled_from([PENDING, SENDING, COMMITTED, SENT, FAILED]),
                 st.booleans(),  # logged
                 st.one_of(st.none(), st.integers(-3, 3)))  # lease end, minutes from now


def _snapshot(svc: CaseService) -> list[tuple[Any, ...]]:
    with svc.db.sessions() as s:
        return [tuple(r) for r in s.execute(
            select(OutboxRow.id, OutboxRow.status, OutboxRow.logged, OutboxRow.in_doubt,
                   OutboxRow.lease_until).order_by(OutboxRow.id))]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(_ROW, max_size=6))
def test_expired_says_whether_recover_changes_anything(
        service: CaseService, rows: list[tuple[str, bool, int | None]]) -> None:
    with service.db.transaction() as s:
        s.execute(delete(OutboxRow))
        if rows:
            s.execute(insert(OutboxRow.__table__), [dict(
                idempotency_key=f"k{i}", case_pk=None, participant=None,
                template="new-case", sender="cert@example.org", recipient="p@example.org",
                message_id=f"<m{i}@x>", raw="x", status=status, attempts=0,
                next_attempt_at=NOW, created_at=NOW, worker="gone", last_error="",
                in_doubt=False, logged=logged,
                lease_until=None if lease is None else NOW + timedelta(minutes=lease))
                for i, (status, logged, lease) in enumerate(rows)])
    with service.db.sessions() as s:
        said = OutboxRepository(s).expired(NOW)
    before = _snapshot(service)
    with service.db.transaction() as s:
        doubtful, unlogged = OutboxRepository(s).recover(NOW)
    changed = _snapshot(service) != before
    assert said == changed, (rows, doubtful, unlogged)
    assert said or not (doubtful or unlogged)
