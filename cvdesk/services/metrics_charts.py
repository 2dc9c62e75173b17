"""The charts of "learning from experience" (guide 6.9; issue 12) for one scope of cases:
skill against chance from the metrics service, timing and findings from the timing
service, drawn by cvdesk.metrics.plots.

Both faces use this: ``cvdesk metrics plot`` writes the files, the web desk serves the
same bytes on its metrics page and dashboard.  The web's reads are for staff only (the
numbers span every case, embargoed ones included) and drawn charts are remembered for a
short while, so a dashboard that is reloaded does not make matplotlib draw again each
time; matplotlib itself is imported only when a chart is first drawn (by the plots).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from cvdesk.domain.accounts import Principal, require_staff
from cvdesk.domain.errors import InvalidInput, NotFound
from cvdesk.metrics import plots
from cvdesk.metrics.plots import CHARTS, FORMATS, desideratum_phrase
from cvdesk.metrics.views import SkillReport, TimingReport

#: How long a drawn chart is served again before it is drawn from fresh numbers.
TTL_SECONDS = 60.0
#: Drawn charts kept per service (name x format x scope).
KEPT = 64


@dataclass(frozen=True, slots=True)
class Scope:
    """Which cases are counted: opened from ``since`` to ``until`` (both days included,
    as the metrics service reads them), and one vendor's part only if one is named."""

    since: date | None = None
    until: date | None = None
    vendor: str | None = None

    def query(self) -> str:
        """The scope as a URL query ("" for all cases), for the chart links of a page."""
        from urllib.parse import urlencode

        pairs = [(k, str(v)) for k, v in (("since", self.since), ("until", self.until),
                                          ("vendor", self.vendor)) if v]
        return "?" + urlencode(pairs) if pairs else ""


def parse_scope(since: str | None, until: str | None, vendor: str | None) -> Scope:
    """A scope from text as people type it: dates as YYYY-MM-DD (a date-time is cut to
    its day), an empty value meaning "not limited"."""
    def day(value: str | None, field: str) -> date | None:
        if value is None or not value.strip():
            return None
        text = value.strip()
        try:
            return date.fromisoformat(text) if len(text) <= 10 else \
                datetime.fromisoformat(text).date()
        except ValueError:
            raise InvalidInput(field, f"'{value}' is not a date (YYYY-MM-DD, e.g. "
                               "2026-01-31)") from None
    # an until before since is refused by the services that count (one rule, one place)
    return Scope(day(since, "since"), day(until, "until"),
                 vendor.strip() if vendor and vendor.strip() else None)


def parse_formats(formats: Iterable[str]) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(f.strip().lower() for f in formats))
    bad = [f for f in chosen if f not in FORMATS]
    if bad:
        raise InvalidInput("format", f"'{bad[0]}' is not a chart format; the formats are "
                           + ", ".join(FORMATS))
    return chosen or FORMATS


@dataclass(frozen=True, slots=True)
class MetricsPage:
    """What the web's metrics page shows: the numbers and the charts drawn from them."""

    scope: Scope
    skill: SkillReport
    timing: TimingReport
    charts: tuple[tuple[str, str], ...]  # (name, what it shows)
    words: dict[str, str]  # desideratum ("V<P") -> it in words


class MetricsCharts:
    """``desk`` hands out the two services (``desk.metrics()`` for skill,
    ``desk.timing()`` for timing); it is the composition root, passed in, never
    imported from here."""

    def __init__(self, desk: Any, *, ttl: float = TTL_SECONDS,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.desk = desk
        self.ttl = ttl
        self.monotonic = monotonic
        self._kept: OrderedDict[tuple[str, str, Scope], tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    # ------------------------------------------------------------ numbers
    def skill(self, scope: Scope) -> SkillReport:
        report: SkillReport = self.desk.metrics().skill(
            since=scope.since, until=scope.until, vendor=scope.vendor)
        return report

    def timing(self, scope: Scope) -> TimingReport:
        report: TimingReport = self.desk.timing().timing(
            since=scope.since, until=scope.until, vendor=scope.vendor)
        return report

    # ------------------------------------------------------------ the command line
    def render(self, scope: Scope, formats: Iterable[str] = FORMATS) -> dict[str, bytes]:
        """Every chart in each format, by file name ("alpha.svg", ...)."""
        return plots.charts(self.skill(scope), self.timing(scope), parse_formats(formats))

    def write(self, out: Path, scope: Scope, formats: Iterable[str] = FORMATS) -> list[Path]:
        """The charts written into directory ``out`` (made if missing); the paths."""
        drawn = self.render(scope, formats)
        if out.exists() and not out.is_dir():
            raise InvalidInput("output directory", f"{out} exists and is not a directory")
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, data in drawn.items():
            path = out / name
            path.write_bytes(data)
            written.append(path)
        return written

    # ------------------------------------------------------------ the web desk
    # The scope comes as typed (query text) and is read after the staff check, so one
    # who may not see the metrics learns nothing from how a value is refused.
    def page(self, principal: Principal, *, since: str = "", until: str = "",
             vendor: str = "") -> MetricsPage:
        require_staff(principal, "the desk's metrics")
        scope = parse_scope(since, until, vendor)
        skill = self.skill(scope)
        return MetricsPage(scope, skill, self.timing(scope), tuple(CHARTS.items()),
                           {d.desideratum: desideratum_phrase(d.desideratum)
                            for d in skill.desiderata})

    def chart(self, principal: Principal, name: str, *, since: str = "", until: str = "",
              vendor: str = "", fmt: str = "svg") -> bytes:
        """One chart, drawn again only when the one kept is older than the TTL."""
        require_staff(principal, "the desk's metrics")
        scope = parse_scope(since, until, vendor)
        if name not in CHARTS:
            raise NotFound(f"no chart named '{name}'; the charts are "
                           + ", ".join(CHARTS))
        (fmt,) = parse_formats([fmt])
        key = (name, fmt, scope)
        now = self.monotonic()
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None and now - kept[0] < self.ttl:
                self._kept.move_to_end(key)
                return kept[1]
        needs_skill = name == "alpha"
        data = plots.chart(name, fmt, self.skill(scope) if needs_skill else None,
                     None if needs_skill else self.timing(scope))
        with self._lock:
            self._kept[key] = (now, data)
            while len(self._kept) > KEPT:
                self._kept.popitem(last=False)
        return data
