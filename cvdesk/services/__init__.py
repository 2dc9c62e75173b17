"""Use cases: the only writers. Each public method is one transaction.

The names below are loaded on first use (PEP 562), so that importing one service
module (say, cvdesk.services.database for a start-up check) does not import them all.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cvdesk.services.cases import CaseService, CaseView, Submitted
    from cvdesk.services.database import DatabaseNotReady, init_database, require_ready

_WHERE = {"CaseService": "cases", "CaseView": "cases", "Submitted": "cases",
          "DatabaseNotReady": "database", "init_database": "database",
          "require_ready": "database"}

__all__ = ["CaseService", "CaseView", "DatabaseNotReady", "Submitted", "init_database",
           "require_ready"]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value
    return value
