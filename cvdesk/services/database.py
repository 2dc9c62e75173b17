"""Creating, migrating and checking the database."""

from __future__ import annotations

from dataclasses import dataclass

from cvdesk.domain.errors import Unavailable
from cvdesk.store import migrate
from cvdesk.store.db import Database, sqlite_path
from cvdesk.store.files import create_private


@dataclass(frozen=True, slots=True)
class Counts:
    """How much the database holds."""

    cases: int
    participants: int
    events: int

    def to_json(self) -> dict[str, int]:
        return {"cases": self.cases, "participants": self.participants, "events": self.events}


def counts(db: Database) -> Counts:
    # Imported here: it loads the ORM tables, which the schema check run before every
    # command does not need (issue 9, start-up).
    from cvdesk.store.stats import row_counts

    with db.sessions() as session:
        return Counts(*row_counts(session))


__all__ = ["Counts", "Database", "DatabaseNotReady", "counts", "database_label",
           "init_database", "open_database", "require_ready"]


def open_database(url: str) -> Database:
    """The database the settings name (engines are made on first use)."""
    return Database(url)


def database_label(db: Database) -> str:
    """The database URL without its password, to tell a person which one is meant."""
    return db.engine.url.render_as_string(hide_password=True)


class DatabaseNotReady(Unavailable):
    """The database has no schema yet, or an older one (exit 1, like any other failure
    that is not the user's input)."""


def init_database(db: Database) -> tuple[str | None, str]:
    """Create or migrate to the newest schema; returns (revision before, revision after).

    A new SQLite file is created here, readable by its owner only (0600, in a 0700
    directory when that is new too); SQLite gives its -wal and -shm files the same
    permissions as the database file.
    """
    path = sqlite_path(db.url)
    if path is not None:
        create_private(path)
    return migrate.upgrade(db)


def require_ready(db: Database) -> None:
    """Refuse a database that is missing, empty or at another schema than this cvdesk's.

    Run before every command: one query on ``alembic_version`` against the head revision
    known to the package (migrate.HEAD), without loading Alembic.
    """
    path = sqlite_path(db.url)
    if path is not None and not path.is_file():
        # Checked before connecting: SQLite would create an empty file.
        raise DatabaseNotReady(f"there is no database file {path}; run 'cvdesk init' to "
                               "create it (or set CVDESK_DATABASE_URL / --database-url)")
    try:
        current = migrate.stored_revision(db)
    except Exception as exc:  # the driver's own error: unreachable server, bad file...
        raise DatabaseNotReady(f"cannot open the database {db.engine.url!r}: {exc}") from None
    head = migrate.HEAD
    if current is None:
        raise DatabaseNotReady(f"the database {db.engine.url!r} is not initialised; "
                               "run 'cvdesk init'")
    if current != head:
        raise DatabaseNotReady(f"the database {db.engine.url!r} is at schema {current}, "
                               f"this cvdesk needs {head}; run 'cvdesk init' to migrate")
