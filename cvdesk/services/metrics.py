"""Skill against chance (issue 12; guide 6.9, "learn from the experience"): the
histories the case-state model allows, the chance baseline, and how the desk's cases
compare with it.

The histories and the baseline are the model's own and need no database; the skill
reads the vendors of the cases (cvdesk.store.metrics) and hands them to the pure
computation (cvdesk.metrics.skill).  Faces get this service from ``Desk.metrics()``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from cvdesk.domain.errors import InvalidInput
from cvdesk.metrics.skill import UNITS
from cvdesk.metrics.views import SkillReport
from cvdesk.services.metrics_period import period_instants

if TYPE_CHECKING:
    from cvdesk.metrics.skill import CaseRecord
    from cvdesk.store.db import Database
    from cvdesk.store.metrics import VendorRow

__all__ = ["UNITS", "MetricsService", "SkillReport"]


class MetricsService:
    """``database`` is called when the cases are first read, so the model's histories
    and baseline work without a database (or a ready schema)."""

    def __init__(self, database: Callable[[], Database]) -> None:
        self._database = database

    @staticmethod
    def histories() -> tuple[str, ...]:
        """Every order of V F D P X A the case-state model allows ("VFDPXA", ...),
        found by walking the model's transition table from the empty state."""
        from cvdesk.metrics.histories import histories

        return tuple(h.label for h in histories())

    @staticmethod
    def baseline() -> dict[str, float]:
        """Each desideratum ("V<P", ...) -> how often it holds when, from every state,
        each transition the model enables is equally likely."""
        from cvdesk.metrics.histories import baseline

        return baseline()

    def skill(self, *, since: date | None = None, until: date | None = None,
              vendor: str | None = None, unit: str = "vendor") -> SkillReport:
        """Skill over the cases opened from ``since`` to ``until`` (both days included,
        in UTC; the day a case was opened places it, so a case counts once whatever
        happens to it later), per vendor or per case.

        ``vendor`` names a vendor by its organization or its participant name, ignoring
        case.  Per vendor it keeps that vendor's histories; per case it keeps the cases
        the vendor takes part in, each with all its vendors.  A vendor in no case gives
        an empty report (no histories), like a period with no cases: "nothing to count"
        is an answer, and the desk cannot tell a misspelt vendor from one it never
        worked with."""
        from cvdesk.metrics.skill import histories_of, skill_report
        from cvdesk.store.metrics import vendor_rows

        if unit not in UNITS:
            raise InvalidInput("unit", f"'{unit}' is not one of {', '.join(UNITS)}")
        opened_from, opened_before = period_instants(since, until)
        name = None
        if vendor is not None:
            name = vendor.strip()
            if not name:
                raise InvalidInput("vendor", "must not be empty")
        db = self._database()
        with db.sessions() as session:
            rows = vendor_rows(session, opened_from=opened_from,
                               opened_before=opened_before, vendor=name,
                               whole_cases=unit == "case")
        scope = {"since": since.isoformat() if since else None,
                 "until": until.isoformat() if until else None, "vendor": name}
        return skill_report(histories_of(_cases(rows), unit), unit=unit, scope=scope)


def _cases(rows: list[VendorRow]) -> list[CaseRecord]:
    """The rows (ordered by case) grouped into one record per case."""
    from cvdesk.metrics.skill import CaseRecord, VendorRecord

    grouped: dict[str, tuple[VendorRow, list[VendorRecord]]] = {}
    for row in rows:
        vendor = VendorRecord(row.name, row.organization, row.vendor_events.times,
                              row.vendor_events.seqs, row.vendor_events.undated)
        grouped.setdefault(row.case_id, (row, []))[1].append(vendor)
    return [CaseRecord(first.case_id, first.closed, first.case_events.times, tuple(vendors),
                       first.case_events.seqs, first.case_events.undated)
            for first, vendors in grouped.values()]
