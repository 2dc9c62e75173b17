"""Which process sweeps a database (issue 11, periodic sweep): a lease that one process
at a time holds, for as long as it lives, on each backend's own terms.

- PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) on a connection of
  its own, opened outside the pool in autocommit mode (no transaction left open for
  hours).  The server lets go of it when that connection ends, so a desk that dies or
  loses its connection frees the lease without anyone cleaning up.  Advisory locks are
  per database: desks on other databases of the same server do not share one.
- SQLite: an exclusive ``flock`` on a file beside the database (``<db>.sweep-lock``),
  held while the process lives and let go by the kernel when it ends.  SQLite is for
  one machine, and so is the lock.  An in-memory database has one process by nature.

The lease keeps the sweeps of several web workers, or of several desks on one database,
from running at once and from running once per process.  The sweep itself would
survive meeting another: on SQLite it is one write transaction (BEGIN IMMEDIATE), so a
second waits and then finds nothing due; on PostgreSQL two could both judge a case and
both insert its new findings, which is what the advisory lock rules out.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from cvdesk.store.tables import FindingRow

#: The advisory lock's key: a fixed 64-bit number of the desk's own.
LOCK_KEY = int.from_bytes(hashlib.sha256(b"cvdesk periodic sweep").digest()[:8], "big",
                          signed=True)


class SweepLease:
    """``hold()``: whether this process holds the lease now, taking it when it is free;
    ``release()``: let it go.  Not shared between threads: the sweeping thread owns it."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self._conn: Any = None  # PostgreSQL: the connection that holds the lock
        self._fd: int | None = None  # SQLite: the locked file

    @property
    def held(self) -> bool:
        return self._conn is not None or self._fd is not None

    def hold(self) -> bool:
        if self.url.get_backend_name() == "postgresql":
            return self._hold_pg()
        path = self.url.database
        if not path or path == ":memory:" or path.startswith("file::memory:"):
            return True
        return self._hold_file(Path(f"{path}.sweep-lock"))

    def _hold_pg(self) -> bool:
        from sqlalchemy import create_engine
        from sqlalchemy.exc import DBAPIError
        from sqlalchemy.pool import NullPool

        if self._conn is not None:
            try:  # still connected, so still holding it
                self._conn.execute(text("SELECT 1"))
                return True
            except DBAPIError:
                self.release()
        engine = create_engine(self.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        conn = engine.connect()
        try:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:key)"),
                               {"key": LOCK_KEY}).scalar()
        except BaseException:
            conn.close()
            raise
        if got:
            self._conn = conn
            return True
        conn.close()
        return False

    def _hold_file(self, path: Path) -> bool:
        import fcntl

        if self._fd is not None:
            return True
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return True

    def release(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            # closing the connection frees the lock too: a connection already gone
            # has nothing left to unlock
            with contextlib.suppress(Exception):
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
            conn.close()
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing the file lets go of its lock


def findings_raised(session: Session, at: datetime) -> int:
    """How many findings a sweep at ``at`` raised (those first seen then)."""
    return session.scalar(select(func.count()).select_from(FindingRow)
                          .where(FindingRow.first_seen_at == at)) or 0
