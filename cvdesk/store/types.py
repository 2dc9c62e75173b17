"""Column types that behave the same on SQLite and PostgreSQL.

Text that strangers control (reports, mail headers, names, security.txt fields) is
stored as received with one exception: PostgreSQL ``text`` and ``jsonb`` cannot hold
the NUL character (U+0000), and a write that contains one fails.  ``SafeText`` and
``JSONType`` therefore replace each NUL by U+FFFD (the Unicode replacement character)
on the way in, on both backends so that a case reads back the same wherever it is
stored.  Lookups go through the same types, so a Message-ID that held a NUL is still
found by the value it came with.  Nothing else is changed; control characters and bidi
marks are neutralised only when printed (cvdesk.cli.output).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

NUL = "\x00"
NUL_REPLACEMENT = "\ufffd"


def without_nul(value: Any) -> Any:
    """``value`` with NUL replaced in every string, dictionary keys and nested lists too."""
    if isinstance(value, str):
        return value.replace(NUL, NUL_REPLACEMENT) if NUL in value else value
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [without_nul(v) for v in value]
    return value


class UTCDateTime(TypeDecorator[datetime]):
    """Stores instants in UTC (timestamptz on PostgreSQL) and returns aware datetimes."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if getattr(dialect, "name", "") == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class SafeText(TypeDecorator[str]):
    """Unbounded text whose NUL characters become U+FFFD (see the module's docstring)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return without_nul(value)

    @property
    def python_type(self) -> type:
        return str


class SafeString(SafeText):
    """Bounded text for the desk's own codes (states, TLP, case ids); NUL-safe so that a
    lookup with a stranger's value finds nothing instead of failing on PostgreSQL."""

    impl = String
    cache_ok = True


class SafeJSON(TypeDecorator[Any]):
    """JSON (jsonb on PostgreSQL) whose strings, keys included, carry no NUL."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            # Imported here: loading the PostgreSQL dialect costs a third of importing
            # SQLAlchemy, and a SQLite desk never needs it (issue 9, start-up).
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(JSON())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return without_nul(value)


JSONType = SafeJSON()
