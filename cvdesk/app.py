"""The composition root: one place, outside every face, that builds the database and the
services from the settings and a clock.  The CLI (and a web face later) ask a ``Desk`` for
services instead of assembling them, so every face gets the same wiring and the same
"is the database ready" check.

Imports are deferred to first use: building a ``Desk`` costs nothing, and a command that
needs one service loads only that service's modules (start-up time, issue 9)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cvdesk.seed.demo import DemoSummary
    from cvdesk.seed.demo_users import DemoLogin
    from cvdesk.services.accounts import AccountService
    from cvdesk.services.admin import AdminService
    from cvdesk.services.cases import CaseService
    from cvdesk.services.contacts import ContactService
    from cvdesk.services.coordination import CoordinationService
    from cvdesk.services.database import Database
    from cvdesk.services.doctor import DoctorService
    from cvdesk.services.history_import import HistoryImport
    from cvdesk.services.inbound import InboundService
    from cvdesk.services.invitations import InvitationService
    from cvdesk.services.mail import MailService
    from cvdesk.services.metrics import MetricsService
    from cvdesk.services.metrics_timing import MetricsTiming
    from cvdesk.services.periodic_sweep import PeriodicSweep
    from cvdesk.services.portal import PortalService
    from cvdesk.services.portal_actions import PortalActions
    from cvdesk.services.progress import Progress
    from cvdesk.services.public_advisories import PublicAdvisoryService
    from cvdesk.services.public_reports import PublicReportService
    from cvdesk.services.publication import PublicationService
    from cvdesk.services.ssvc import SsvcService
    from cvdesk.services.worker import Worker
    from cvdesk.settings import Settings


def utcnow() -> datetime:
    return datetime.now(UTC)


class Desk:
    """The services of one desk, over one database, under one set of settings."""

    def __init__(self, settings: Settings, *, clock: Callable[[], datetime] = utcnow,
                 database: Database | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self._db = database
        self._ready = False

    @property
    def db(self) -> Database:
        if self._db is None:
            from cvdesk.services.database import open_database

            self._db = open_database(self.settings.database_url)
        return self._db

    def database_label(self) -> str:
        """The database URL without its password, to tell a person which one is meant."""
        from cvdesk.services.database import database_label

        return database_label(self.db)

    def init_database(self) -> tuple[str | None, str]:
        """Create or migrate the schema: (schema before, schema after)."""
        from cvdesk.services.database import init_database

        return init_database(self.db)

    def case_count(self) -> int:
        from cvdesk.services.database import counts

        return counts(self.db).cases

    def require_ready(self) -> None:
        """Raise DatabaseNotReady unless the schema is this version's (checked once)."""
        if not self._ready:
            from cvdesk.services.database import require_ready

            require_ready(self.db)
            self._ready = True

    def cases(self) -> CaseService:
        from cvdesk.services.cases import CaseService

        self.require_ready()
        return CaseService(self.db, self.settings, clock=self.clock)

    def accounts(self) -> AccountService:
        from cvdesk.services.accounts import AccountService

        self.require_ready()
        return AccountService(self.db, self.settings, clock=self.clock)

    def portal(self) -> PortalService:
        from cvdesk.services.portal import PortalService

        return PortalService(self.cases(), self.accounts())

    def portal_actions(self) -> PortalActions:
        """The writes of the web desk and its dashboard, checked per principal."""
        from cvdesk.services.portal_actions import PortalActions

        return PortalActions(self.cases(), self.accounts())

    def public_reports(self) -> PublicReportService:
        from cvdesk.services.public_reports import PublicReportService

        return PublicReportService(self.cases(), self.accounts())

    def invitations(self) -> InvitationService:
        from cvdesk.services.invitations import InvitationService

        return InvitationService(self.cases(), self.accounts())

    def admin(self) -> AdminService:
        from cvdesk.services.admin import AdminService

        return AdminService(self.accounts(), self.invitations())

    def coordination(self) -> CoordinationService:
        from cvdesk.services.coordination import CoordinationService

        return CoordinationService(self.cases())

    def doctor(self) -> DoctorService:
        from cvdesk.services.doctor import DoctorService

        self.require_ready()
        return DoctorService(self.db, self.settings, clock=self.clock)

    def periodic_sweep(self) -> PeriodicSweep | None:
        """The sweep ``cvdesk serve`` runs every ``web.sweep_minutes`` (None when 0)."""
        minutes = self.settings.web.sweep_minutes
        if not minutes:
            return None
        from cvdesk.services.periodic_sweep import PeriodicSweep

        return PeriodicSweep(self.db, self.doctor, self.clock, minutes=minutes)

    def contacts(self) -> ContactService:
        from cvdesk.services.contacts import ContactService

        self.require_ready()
        return ContactService(self.db, self.settings, clock=self.clock)

    def mail(self) -> MailService:
        from cvdesk.services.mail import MailService

        return MailService(self.cases())

    def inbound(self) -> InboundService:
        from cvdesk.services.inbound import InboundService

        return InboundService(self.cases())

    def publication(self) -> PublicationService:
        from cvdesk.services.publication import PublicationService

        return PublicationService(self.cases())

    def public_advisories(self) -> PublicAdvisoryService:
        """The published TLP:CLEAR advisories, for anyone to read (issue 11)."""
        from cvdesk.services.public_advisories import PublicAdvisoryService

        return PublicAdvisoryService(self.publication())

    def ssvc(self) -> SsvcService:
        from cvdesk.services.ssvc import SsvcService

        return SsvcService(self.cases())

    def metrics(self) -> MetricsService:
        """Skill against chance (issue 12).  The database is checked only when the
        cases are read: the model's histories and baseline need none."""
        from cvdesk.services.metrics import MetricsService

        def ready_db() -> Database:
            self.require_ready()
            return self.db

        return MetricsService(ready_db)

    def timing(self) -> MetricsTiming:
        """Timing metrics: time to acknowledgement, reply, fix and publication (issue 12)."""
        from cvdesk.services.metrics_timing import MetricsTiming

        self.require_ready()
        return MetricsTiming(self.db, self.settings, clock=self.clock)

    def history_import(self) -> HistoryImport:
        """Import of past cases from a CSV or JSON file (issue 12)."""
        from cvdesk.services.history_import import HistoryImport

        return HistoryImport(self.cases())

    def worker(self) -> Worker:
        from cvdesk.services.worker import Worker

        self.require_ready()
        return Worker(self.db, self.settings, clock=self.clock)

    def load_demo(self, *, force: bool = False, progress: Progress | None = None) -> DemoSummary:
        """Create or migrate the database, then write the demo dataset through the services."""
        from cvdesk.seed.demo import load_demo
        from cvdesk.services.progress import quiet

        self.init_database()
        return load_demo(self.cases(), force=force, progress=progress or quiet)

    def demo_logins(self) -> list[DemoLogin]:
        """One login per role on the demo (``cvdesk serve --demo``), new passwords each time."""
        from cvdesk.seed.demo_users import demo_logins

        return demo_logins(self.cases(), self.accounts())

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()
