"""Create or upgrade the schema with the Alembic migrations shipped inside the package."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, text

from cvdesk.store.db import Database

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported inside the functions that migrate or compare: every command checks
# the schema revision (stored_revision, HEAD) and that needs one query, not Alembic.

MIGRATIONS = Path(__file__).with_name("migrations")

#: The newest revision in migrations/versions.  tests/cli/test_startup.py checks that it
#: equals Alembic's own head, so a new migration without updating it fails the tests.
HEAD = "0016"


def alembic_config(db: Database) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    return cfg


def upgrade(db: Database, revision: str = "head") -> tuple[str | None, str]:
    """Migrate to ``revision``; returns (revision before, revision after).

    SQLite changes a column's type by rebuilding its table, and dropping a table that
    others refer to trips their foreign keys; SQLite's own procedure is to switch foreign
    keys off (possible only outside a transaction), migrate, check them, switch them on.
    """
    from alembic import command

    before = current_revision(db)
    cfg = alembic_config(db)
    sqlite = db.backend == "sqlite"
    with db.engine.connect() as conn:
        if sqlite:
            _sqlite_foreign_keys(conn, on=False)
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
                if sqlite and conn.exec_driver_sql("PRAGMA foreign_key_check").first():
                    raise RuntimeError("the migration left rows whose foreign keys point "
                                       "nowhere; nothing was changed")
        finally:
            if sqlite:
                _sqlite_foreign_keys(conn, on=True)
    return before, current_revision(db) or ""


def _sqlite_foreign_keys(conn: Connection, *, on: bool) -> None:
    # On the driver's connection: SQLAlchemy would open a transaction first, and inside
    # one SQLite ignores this pragma.
    conn.connection.driver_connection.execute(  # type: ignore[union-attr]
        f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def current_revision(db: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def stored_revision(db: Database) -> str | None:
    """The revision recorded in ``alembic_version``; None when there is none (no table, or
    an empty one), as Alembic's MigrationContext.get_current_revision would say."""
    from sqlalchemy import inspect

    with db.engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    if len(rows) > 1:
        raise RuntimeError(f"the schema has several revisions at once: {', '.join(rows)}")
    return rows[0] if rows else None


def head_revision(db: Database) -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(db)).get_current_head()
    assert head is not None
    return head


def schema_differences(db: Database) -> list[object]:
    """What the migrated schema lacks or has beyond the tables' declarations (empty when
    they agree); constraints declared for the other backend only are left out."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from cvdesk.store.tables import Base, applies_to

    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={
            "compare_type": True,
            "include_object": lambda obj, *_: applies_to(obj, conn.dialect.name)})
        return list(compare_metadata(ctx, Base.metadata))
