"""Use cases: the only writers. Each public method is one transaction."""

from cvdesk.services.cases import CaseService, CaseView, Submitted
from cvdesk.services.database import DatabaseNotReady, init_database, require_ready

__all__ = ["CaseService", "CaseView", "DatabaseNotReady", "Submitted", "init_database",
           "require_ready"]
