"""Engine and session set-up for SQLite (the default) and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from cvdesk.domain.errors import InvalidInput
from cvdesk.store.types import without_nul

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

# The ORM (sqlalchemy.orm, about 90 ms to import) is loaded when a session is first asked
# for: a read through SQLAlchemy Core (cvdesk.store.queries) runs without it (issue 9).

WRITE_OPTION = "cvdesk_write"


SUPPORTED = "sqlite:///PATH (a file) or postgresql://USER@HOST[:PORT]/NAME"
DATABASE_URL = "database URL"


class UnsupportedDatabase(InvalidInput):
    """A database URL that names no backend cvdesk supports (exit 2: bad input)."""

    def __init__(self, problem: str) -> None:
        super().__init__(DATABASE_URL, f"{problem}; cvdesk supports {SUPPORTED}")


def normalize_url(url: str) -> str:
    """Check the URL; use psycopg 3 for ``postgresql://`` and expand ``~`` in SQLite paths.

    Only SQLite with a file and PostgreSQL (through psycopg) are supported: anything else
    is refused here, before a driver is looked for or a file is created.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise UnsupportedDatabase(f"'{url}' is not a database URL") from None
    shown = parsed.render_as_string(hide_password=True).replace("%3A", ":")
    backend, _, driver = parsed.drivername.partition("+")
    if backend in ("postgresql", "postgres"):
        if driver not in ("", "psycopg"):
            raise UnsupportedDatabase(f"'{shown}' asks for the driver {driver}")
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend == "sqlite":
        if driver not in ("", "pysqlite"):
            raise UnsupportedDatabase(f"'{shown}' asks for the driver {driver}")
        if not parsed.database or parsed.database == ":memory:":
            raise UnsupportedDatabase(f"'{shown}' names no database file")
        parsed = parsed.set(database=str(Path(parsed.database).expanduser()))
    else:
        raise UnsupportedDatabase(f"'{shown}' is a {backend} database")
    return parsed.render_as_string(hide_password=False)


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL, None for PostgreSQL."""
    parsed = make_url(normalize_url(url))
    return Path(parsed.database or "") if parsed.get_backend_name() == "sqlite" else None


def _has_nul(params: Any) -> bool:
    """Whether a NUL hides in ``params`` (one parameter set, or a list of them)."""
    values = params.values() if isinstance(params, dict) else params
    for v in values:
        cls = v.__class__
        if cls is str:
            if "\x00" in v:
                return True
        elif (cls is dict or cls is list or cls is tuple) and _has_nul(v):
            return True
    return False


def _scrub(params: Any) -> Any:
    """``params`` with NUL replaced in every string; ``params`` itself when it has none
    (the common case, checked without copying)."""
    if isinstance(params, dict | list | tuple) and _has_nul(params):
        if isinstance(params, dict):
            return {k: without_nul(v) if isinstance(v, str) else _scrub(v)
                    for k, v in params.items()}
        return type(params)(without_nul(v) if isinstance(v, str) else _scrub(v)
                            for v in params)
    return params


def _nul_safe(engine: Engine) -> None:
    # The column types (cvdesk.store.types) replace NUL in what they bind; a value compared
    # through a function (lower(name) = :x) or a text() query bypasses them.  This net
    # catches those, so that PostgreSQL never sees a NUL and both backends agree.
    @event.listens_for(engine, "before_cursor_execute", retval=True)
    def _before(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any,
                _executemany: bool) -> tuple[str, Any]:
        return statement, _scrub(parameters)


def make_engine(url: str, **kwargs: Any) -> Engine:
    engine = _make_engine(url, **kwargs)
    _nul_safe(engine)
    return engine


def _make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # No directory or file is made here: connecting would create an empty database
        # file, so only 'cvdesk init' creates one (cvdesk.services.database, 0600).
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Python's sqlite3 opens transactions lazily; let SQLAlchemy issue BEGIN itself so
            # that a write transaction takes its lock at the start (see _begin_immediate).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            # A write transaction takes SQLite's write lock up front (no lock upgrade
            # deadlocks later); reads begin deferred and, with WAL, never block a writer.
            write = conn.get_execution_options().get(WRITE_OPTION)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    engine = create_engine(url, **kwargs)
    _ping_when_idle(engine)
    return engine


#: A pooled PostgreSQL connection that sat unused this long is checked before use.
PING_AFTER_IDLE = 10.0


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use only when it sat idle in the pool for a
    while (the server may have restarted or dropped it meanwhile).  SQLAlchemy's
    ``pool_pre_ping`` pings at every checkout: a round trip for each unit of work, three
    per web page (session, page, audit), on connections used a moment ago (issue 11,
    speed).  A failed check discards the connection and the pool opens a new one."""
    from sqlalchemy.exc import DisconnectionError

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["cvdesk_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop("cvdesk_idle_since", None)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # any failure: let the pool open a fresh connection
            raise DisconnectionError(str(exc)) from exc


class Database:
    """One engine and its session factories."""

    def __init__(self, url: str) -> None:
        self.url = normalize_url(url)
        self.engine = make_engine(self.url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        """Sessions for reading. Writers use ``transaction()``."""
        from sqlalchemy.orm import sessionmaker

        return sessionmaker(self.engine, expire_on_commit=False)

    @cached_property
    def _writers(self) -> sessionmaker[Session]:
        from sqlalchemy.orm import sessionmaker

        return sessionmaker(self.engine.execution_options(**{WRITE_OPTION: True}),
                            expire_on_commit=False)

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits on success, rolls back everything on any error."""
        with self._writers() as session, session.begin():
            yield session

    @cached_property
    def _write_engine(self) -> Engine:
        return self.engine.execution_options(**{WRITE_OPTION: True})

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """A write transaction on a Core connection, for a statement or two that need
        no ORM session (an audit entry written at every read of an embargoed case): the
        same BEGIN IMMEDIATE on SQLite, the same commit-or-roll-back as ``transaction``."""
        with self._write_engine.begin() as conn:
            yield conn

    @cached_property
    def _autocommit_engine(self) -> Engine | None:
        """PostgreSQL without BEGIN and ROLLBACK around a read (issue 11, speed): at its
        READ COMMITTED level every statement sees its own snapshot inside a transaction
        too, so a read transaction bought no consistency, only two round trips.  None on
        SQLite, whose read transaction is a snapshot (WAL) and costs no round trip."""
        if self.backend == "sqlite":
            return None
        return self.engine.execution_options(isolation_level="AUTOCOMMIT")

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A Core connection for reads: on PostgreSQL each statement is one round trip
        (no BEGIN/ROLLBACK); on SQLite one read transaction, as ``engine.connect()``."""
        with (self._autocommit_engine or self.engine).connect() as conn:
            yield conn

    @contextmanager
    def writing_one(self) -> Iterator[Connection]:
        """A connection for ONE write statement (an audit entry): on PostgreSQL it
        commits by itself, atomically, before the statement returns (one round trip
        instead of BEGIN, INSERT, COMMIT); on SQLite it is ``writing()``.  Never use it
        for two statements that must stand or fall together."""
        engine = self._autocommit_engine
        if engine is None:
            with self.writing() as conn:
                yield conn
            return
        with engine.connect() as conn:
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()
