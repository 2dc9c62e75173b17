"""How many statements one page view sends to the database (issue 11, speed): each is a
round trip to a PostgreSQL server, so the count is pinned here and a change that adds
one fails this test rather than going unnoticed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from tests.web.conftest import CASE, OTHER, Web


@contextmanager
def counted(web: Web) -> Iterator[list[str]]:
    """The statements sent while inside, BEGIN/COMMIT/ROLLBACK included (as words)."""
    engine = web.desk.db.engine
    seen: list[str] = []

    def on_execute(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
        seen.append(statement.split(None, 1)[0].upper())

    def on(word: str) -> Any:
        def hook(conn: Any) -> None:
            # What reaches the server: psycopg sends nothing for these in autocommit;
            # SQLite's BEGIN is a statement of its own (counted above).
            dbapi = conn.connection.dbapi_connection
            if not getattr(dbapi, "autocommit", False) and not (
                    word == "BEGIN" and conn.dialect.name == "sqlite"):
                seen.append(word)
        return hook

    hooks = [("before_cursor_execute", on_execute), ("begin", on("BEGIN")),
             ("commit", on("COMMIT")), ("rollback", on("ROLLBACK"))]
    for name, fn in hooks:
        event.listen(engine, name, fn)
    try:
        yield seen
    finally:
        for name, fn in hooks:
            event.remove(engine, name, fn)


#: (backend, who, path) -> statements (BEGIN/COMMIT/ROLLBACK included) of one page view
#: by a signed-in user, the case page's remembered reads (services/portal_cache) warm.
#: CASE is under embargo: its page writes an audit entry (the INSERT).  Before issue 11's
#: round-trip work PostgreSQL took 15 (coordinator) and 18 (vendor) for the case page, 6
#: for the list; SQLite's BEGIN costs no round trip and its read transaction is a snapshot.
EXPECTED = {
    ("postgresql", "coord@test.example", f"/cases/{CASE}"): 9,
    ("postgresql", "vendor@test.example", f"/cases/{CASE}"): 10,
    ("postgresql", "coord@test.example", "/cases"): 2,
    ("postgresql", "vendor@test.example", "/cases"): 2,
    ("postgresql", "vendor@test.example", f"/cases/{OTHER}"): 2,  # 404
    ("sqlite", "coord@test.example", f"/cases/{CASE}"): 15,
    ("sqlite", "vendor@test.example", f"/cases/{CASE}"): 18,
    ("sqlite", "coord@test.example", "/cases"): 6,
    ("sqlite", "vendor@test.example", "/cases"): 6,
    ("sqlite", "vendor@test.example", f"/cases/{OTHER}"): 6,  # 404
}


def test_statements_per_page_are_pinned(web: Web) -> None:
    backend = web.desk.db.backend
    clients = {}
    for (on, who, path), expected in EXPECTED.items():
        if on != backend:
            continue
        client = clients.get(who) or clients.setdefault(who, web.login(who))
        client.get(path)  # warm the remembered reads
        with counted(web) as seen:
            r = client.get(path)
        assert r.status_code == (404 if path.endswith(OTHER) else 200)
        assert len(seen) == expected, (who, path, seen)


def test_embargoed_read_is_audited_and_committed(web: Web) -> None:
    """The audit entry of a read under embargo is committed before the page is sent,
    also when PostgreSQL writes it without BEGIN/COMMIT (one statement)."""
    client = web.login("vendor@test.example")
    before = web.desk.accounts().audit_log(None, case_id=CASE).total
    assert client.get(f"/cases/{CASE}").status_code == 200
    # read through another connection: what is committed, not the writer's view
    entries = web.desk.accounts().audit_log(None, case_id=CASE)
    assert entries.total == before + 1
    assert entries.items[0].action == "read embargoed case"
    assert client.get(f"/cases/{OTHER}").status_code == 404
    assert web.desk.accounts().audit_log(None, case_id=CASE).total == before + 1


def test_writes_after_autocommit_reads_still_roll_back(web: Web) -> None:
    """A pooled connection used for autocommit reads goes back to transactions for the
    next writer: a failed unit of work leaves nothing behind."""
    client = web.login("coord@test.example")
    assert client.get(f"/cases/{CASE}").status_code == 200
    accounts = web.desk.accounts()
    count = accounts.audit_log(None).total
    try:
        with web.desk.db.transaction() as session:
            accounts._repo(session).audit(at=web.clock(), user_id=None, actor="t",
                                          action="doomed")
            raise RuntimeError("undo")
    except RuntimeError:
        pass
    assert accounts.audit_log(None).total == count
