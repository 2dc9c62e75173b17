"""The troubleshooting sweep while the web desk serves (issue 11): every
``web.sweep_minutes`` the open cases that are due are judged again (guide 6: a problem
should show on the dashboard when it arises, not when someone runs ``cvdesk doctor``).

One process sweeps a database: with ``cvdesk serve --workers N`` every worker starts a
``PeriodicSweep``, and the one that holds the database's sweep lease
(store/periodic_sweep.py: an advisory lock on PostgreSQL, a file lock beside an SQLite
database) sweeps; the others stand by and try for the lease at each interval, so one
takes over when the sweeping worker ends.  Two desks on one database share the lease
the same way.  The first sweep comes one interval after the start (``cvdesk serve
--demo`` sweeps at its start already), and each sweep is the incremental one of
``cvdesk doctor``: only the cases whose log changed or whose next check has come.

The sweep runs in a thread of its own, not on the event loop (it is blocking database
work) nor in the pool that serves requests.  Stopping waits for a sweep under way to
commit, then lets go of the lease.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cvdesk.services.doctor import DoctorService
    from cvdesk.store.db import Database

log = logging.getLogger("cvdesk.sweep")


@dataclass(frozen=True, slots=True)
class SweepRound:
    at: datetime
    swept: int  # cases judged
    raised: int  # findings first seen in this sweep


class PeriodicSweep:
    def __init__(self, db: Database, doctor: Callable[[], DoctorService],
                 clock: Callable[[], datetime], *, minutes: float) -> None:
        from cvdesk.store.periodic_sweep import SweepLease

        self.db = db
        self.doctor = doctor
        self.clock = clock
        self.interval = minutes * 60.0
        self.lease = SweepLease(db.url)
        self.rounds: list[SweepRound] = []  # the last few, newest last (for tests, status)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._standing_by = False

    # ------------------------------------------------------------ one round
    def sweep_once(self) -> SweepRound | None:
        """Sweep now if this process holds the lease (taking it when free); None when
        another process sweeps this database."""
        from cvdesk.store.periodic_sweep import findings_raised

        if not self.lease.hold():
            if not self._standing_by:
                log.info("periodic sweep: another process sweeps this database; "
                         "process %d stands by", os.getpid())
                self._standing_by = True
            return None
        if self._standing_by:
            log.info("periodic sweep: process %d sweeps now", os.getpid())
            self._standing_by = False
        now = self.clock()
        swept = self.doctor().run_sweep(now)
        with self.db.sessions() as session:
            raised = findings_raised(session, now)
        done = SweepRound(now, swept, raised)
        self.rounds = [*self.rounds[-9:], done]
        log.info("periodic sweep: %d case(s) swept, %d finding(s) raised (process %d)",
                 swept, raised, os.getpid())
        return done

    # ------------------------------------------------------------ the thread
    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="cvdesk-sweep", daemon=True)
        self._thread.start()
        log.info("periodic sweep: every %g minute(s)", self.interval / 60)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    self.sweep_once()
                except Exception:
                    log.exception("periodic sweep failed; trying again in %g minute(s)",
                                  self.interval / 60)
        finally:
            self.lease.release()

    def stop(self, timeout: float = 60.0) -> bool:
        """Stop sweeping; True once the thread has ended (a sweep under way commits
        first).  A sweep still running after ``timeout`` is left to the process's end,
        which rolls it back."""
        thread, self._thread = self._thread, None
        if thread is None:
            return True
        self._stop.set()
        thread.join(timeout)
        stopped = not thread.is_alive()
        log.info("periodic sweep: stopped" if stopped
                 else "periodic sweep: a sweep is still running; leaving it to the exit")
        return stopped
