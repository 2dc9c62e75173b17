"""PostgreSQL connections are checked before use only after sitting idle in the pool
(issue 11, speed): one a moment old is used as it is (no round trip per unit of work),
one whose server side went away meanwhile is replaced without an error."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from cvdesk.store import db as store_db
from cvdesk.store.db import Database


def _pings(database: Database, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    seen: list[int] = []
    real = database.engine.dialect.do_ping

    def counted(conn: Any) -> bool:
        seen.append(1)
        return real(conn)

    monkeypatch.setattr(database.engine.dialect, "do_ping", counted)
    return seen


def test_a_connection_used_a_moment_ago_is_not_pinged(db: Database,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    if db.backend != "postgresql":
        pytest.skip("SQLite has no server to lose")
    pings = _pings(db, monkeypatch)
    for _ in range(5):
        with db.engine.connect() as conn:
            assert conn.scalar(text("SELECT 1")) == 1
    assert pings == []


def test_an_idle_connection_whose_server_side_ended_is_replaced(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    if db.backend != "postgresql":
        pytest.skip("SQLite has no server to lose")
    with db.engine.connect() as conn:
        pid = conn.scalar(text("SELECT pg_backend_pid()"))
    other = Database(db.url)
    try:
        with other.engine.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            conn.commit()
    finally:
        other.dispose()
    monkeypatch.setattr(store_db, "PING_AFTER_IDLE", 0.0)  # as if it sat idle long enough
    pings = _pings(db, monkeypatch)
    with db.engine.connect() as conn:
        assert conn.scalar(text("SELECT pg_backend_pid()")) != pid
    assert pings
