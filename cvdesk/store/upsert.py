"""INSERT that settles a clash with an existing key in the same statement, on both
backends: ``INSERT ... ON CONFLICT``.

Reading first and inserting what was missing is not enough on PostgreSQL: two
transactions can both read a key as new and both insert it, and the second then fails
on the key (SQLite takes its write lock at BEGIN, so there the second reads after the
first has committed).  With ON CONFLICT the second insert waits for the first
transaction and then skips the row (``DO NOTHING``) or changes it (``DO UPDATE``).
``DO NOTHING`` without a named key settles a clash with any unique or exclusion
constraint, so it also covers the hash exclusion constraints PostgreSQL uses for
outsiders' text (tables.outsider_unique)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

__all__ = ["insert_or_ignore", "upsert"]


def upsert(session: Session, table: Table | Any) -> Any:
    """The backend's own INSERT for ``table``, with ``on_conflict_do_nothing`` and
    ``on_conflict_do_update``."""
    backend = session.get_bind().dialect.name
    return (pg_insert if backend == "postgresql" else sqlite_insert)(table)


def insert_or_ignore(session: Session, table: Table | Any) -> Any:
    """INSERT into ``table`` that skips each row clashing with one already there (or one
    that a transaction still running holds: it waits for that one to end)."""
    return upsert(session, table).on_conflict_do_nothing()
