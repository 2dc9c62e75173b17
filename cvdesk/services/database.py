"""Creating, migrating and checking the database."""

from __future__ import annotations

from cvdesk.domain.errors import DomainError
from cvdesk.store import migrate
from cvdesk.store.db import Database


class DatabaseNotReady(DomainError):
    """The database has no schema yet, or an older one."""


def init_database(db: Database) -> tuple[str | None, str]:
    """Create or migrate to the newest schema; returns (revision before, revision after)."""
    return migrate.upgrade(db)


def require_ready(db: Database) -> None:
    try:
        current = migrate.current_revision(db)
    except Exception as exc:  # the driver's own error: unreachable server, bad file...
        raise DatabaseNotReady(f"cannot open the database {db.engine.url!r}: {exc}") from None
    head = migrate.head_revision(db)
    if current is None:
        raise DatabaseNotReady(f"the database {db.engine.url!r} is not initialised; "
                               "run 'cvdesk init'")
    if current != head:
        raise DatabaseNotReady(f"the database {db.engine.url!r} is at schema {current}, "
                               f"this cvdesk needs {head}; run 'cvdesk init' to migrate")
