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
from pathlib import Path
from typing import Any

from cvdesk.domain.accounts import Principal, require_staff
from cvdesk.domain.errors import InvalidInput, NotFound
from cvdesk.metrics import plots
from cvdesk.metrics.plots import CHARTS, FORMATS, desideratum_phrase
from cvdesk.metrics.views import SkillReport, TimingReport
from cvdesk.services.metrics_period import Scope, parse_scope

#: How long a drawn chart is served again before it is drawn from fresh numbers.
TTL_SECONDS = 60.0
#: Drawn charts kept per service (name x format x scope).
KEPT = 64


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
        written = []
        path = out
        try:
            out.mkdir(parents=True, exist_ok=True)
            for name, data in drawn.items():
                path = out / name
                path.write_bytes(data)
                written.append(path)
        except OSError as exc:
            raise InvalidInput("output directory", f"{path}: {exc.strerror or exc}") from None
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
