"""Many rows written by the database driver itself, in the session's transaction.

The outbox worker writes a row per delivered message in a few statements (the contact
attempts on the case, the summaries of the participants reached); through SQLAlchemy's
execution path, building each row's parameters cost more than the database's own work.
``Many`` compiles its statement once per dialect, and binds each value with its column
type's processor, as SQLAlchemy does (UTC instants, NUL-free text and JSON), then hands
all the rows to the driver's ``executemany``.  The engine's NUL net (store/db.py) is not
on this path, so every text value is made NUL-free here as well, whatever its column.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement

from cvdesk.store.types import without_nul


class DefaultsMissing(ValueError):
    """The rows leave out a column whose default SQLAlchemy would fill in (raised before
    anything is written)."""


class Many:
    """One INSERT or UPDATE to run for many parameter sets.  ``keys`` name its values in
    the order the rows give them (column names, or the names of the statement's
    bindparams)."""

    def __init__(self, statement: ClauseElement, keys: Sequence[str]) -> None:
        self.statement, self.keys = statement, tuple(keys)
        self._by_dialect: dict[str, tuple[str, Callable[[tuple[Any, ...]], Any]]] = {}

    def run(self, session: Session, rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        conn = session.connection()
        dialect = conn.dialect
        if dialect.name not in self._by_dialect:
            self._by_dialect[dialect.name] = self._compile(dialect)
        sql, bind = self._by_dialect[dialect.name]
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(sql, [bind(r) for r in rows])
        finally:
            cursor.close()

    def _compile(self, dialect: Any) -> tuple[str, Callable[[tuple[Any, ...]], Any]]:
        compiled = self.statement.compile(dialect=dialect, column_keys=list(self.keys))
        kinds = {k: b.type for k, b in compiled.binds.items()}
        if set(kinds) != set(self.keys):  # a column default SQLAlchemy would fill in
            raise DefaultsMissing(f"the statement binds {sorted(kinds)}, not "
                                  f"{sorted(self.keys)}")
        # Each value through its column's processor; text whose type does not make it
        # NUL-free (SafeText and SafeJSON do) is scrubbed here as the net would.
        convert = [_processor(kinds[k], dialect) for k in self.keys]
        convert = [_then_no_nul(c) if isinstance(kinds[k], String) else c
                   for c, k in zip(convert, self.keys, strict=True)]
        order = compiled.positiontup
        keys = self.keys

        def values(row: tuple[Any, ...]) -> list[Any]:
            return [c(v) if c is not None else v for c, v in zip(convert, row, strict=True)]

        if order is not None:  # positional (sqlite3's qmark): the statement's own order
            where = [keys.index(k) for k in order]

            def positional(row: tuple[Any, ...]) -> tuple[Any, ...]:
                done = values(row)
                return tuple(done[i] for i in where)

            return compiled.string, positional

        def named(row: tuple[Any, ...]) -> dict[str, Any]:
            return dict(zip(keys, values(row), strict=True))

        return compiled.string, named


def _processor(kind: Any, dialect: Any) -> Callable[[Any], Any] | None:
    return kind.dialect_impl(dialect).bind_processor(dialect)  # type: ignore[no-any-return]


def _then_no_nul(convert: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    def scrubbed(value: Any) -> Any:
        if convert is not None:
            value = convert(value)
        return without_nul(value) if value.__class__ is str else value

    return scrubbed
