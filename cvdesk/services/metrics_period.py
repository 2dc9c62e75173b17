"""The period the metrics count (guide 6.9): whole days in UTC, the same for every measure
and every face.

A case counts in the period when the day it was opened (UTC) falls from ``since`` to
``until``, both days included.  People type the days (``--since``, the metrics page's
form); ``parse_scope`` reads them for every face, and the services that count take the
days as ``date`` values and turn them into instants with ``period_instants``.  A
date-time is refused rather than cut to its day: which day "2026-03-01T23:00-05:00"
means would be a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from cvdesk.domain.errors import InvalidInput
from cvdesk.domain.model import check_year

__all__ = ["Scope", "parse_day", "parse_scope", "period_instants"]


@dataclass(frozen=True, slots=True)
class Scope:
    """Which cases are counted: opened from ``since`` to ``until`` (both days included,
    UTC), and one vendor's part only if one is named."""

    since: date | None = None
    until: date | None = None
    vendor: str | None = None

    def query(self) -> str:
        """The scope as a URL query ("" for all cases), for the chart links of a page."""
        from urllib.parse import urlencode

        pairs = [(k, str(v)) for k, v in (("since", self.since), ("until", self.until),
                                          ("vendor", self.vendor)) if v]
        return "?" + urlencode(pairs) if pairs else ""


def parse_day(value: str | None, field: str) -> date | None:
    """A day as people type it (YYYY-MM-DD, or another ISO 8601 form of a day such as
    20260301), None for an empty value ("not limited")."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        day: date | None = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is None:
        try:
            datetime.fromisoformat(text)
        except ValueError:
            raise InvalidInput(field, f"'{value}' is not a date (YYYY-MM-DD, e.g. "
                               "2026-01-31)") from None
        raise InvalidInput(field, f"'{value}' is a date and time; the period counts whole "
                           "days (UTC): give a day, YYYY-MM-DD")
    check_year(datetime.combine(day, time(), tzinfo=UTC), field, text)
    return day


def parse_scope(since: str | None, until: str | None, vendor: str | None) -> Scope:
    """A scope from text as people type it (``parse_day``); an empty vendor means all.
    An ``until`` before ``since`` is refused by the services that count
    (``period_instants``), so that a caller with dates hears the same."""
    return Scope(parse_day(since, "since"), parse_day(until, "until"),
                 vendor.strip() if vendor and vendor.strip() else None)


def period_instants(since: date | None, until: date | None,
                    ) -> tuple[datetime | None, datetime | None]:
    """The period as instants: its first moment, and the first moment after it (the
    start of the day after ``until``; None when there is no such day)."""
    for value, name in ((since, "since"), (until, "until")):
        if isinstance(value, datetime):  # a date-time is a date too: not silently cut
            raise InvalidInput(name, f"'{value.isoformat()}' is a date and time; the "
                               "period counts whole days (UTC): give a day")
    if since is not None and until is not None and until < since:
        raise InvalidInput("until", f"{until.isoformat()} is before since "
                           f"({since.isoformat()})")
    start = datetime.combine(since, time(), tzinfo=UTC) if since is not None else None
    try:
        before = (datetime.combine(until + timedelta(days=1), time(), tzinfo=UTC)
                  if until is not None else None)
    except OverflowError:
        before = None  # the last day there is: no upper bound
    return start, before
