"""The results of the metrics, as frozen values with one JSON form each.

They are shared by the computations (cvdesk.metrics), the services that fill them from
the database, the plots and both faces, so one concept has one shape everywhere.
Durations are in days (floats), because the guide and the policies count days.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


@dataclass(frozen=True, slots=True)
class DesideratumSkill:
    """How often one desired ordering (for example "V<P": the vendor knew before the
    public) held over the histories counted, against how often chance makes it hold.

    ``alpha`` = (observed - chance) / (1 - chance); ``low``/``high`` are its 95%
    confidence interval.  ``observed``, ``alpha``, ``low`` and ``high`` are None when no
    history decided this ordering (``counted`` is 0)."""

    desideratum: str
    held: int
    counted: int
    chance: float
    observed: float | None
    alpha: float | None
    low: float | None
    high: float | None

    def to_json(self) -> dict[str, Any]:
        return {"desideratum": self.desideratum, "held": self.held, "counted": self.counted,
                "chance": _round(self.chance), "observed": _round(self.observed),
                "alpha": _round(self.alpha), "low": _round(self.low),
                "high": _round(self.high)}


@dataclass(frozen=True, slots=True)
class SkillReport:
    """Skill over a set of cases.  ``unit`` is "vendor" (one history per vendor in a
    case) or "case" (one history per case); ``left_out`` counts, per reason, the
    desideratum checks that could not be decided (an open case, an event missing)."""

    unit: str
    scope: dict[str, str | None]
    histories: int
    desiderata: tuple[DesideratumSkill, ...]
    left_out: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {"unit": self.unit, "scope": dict(self.scope), "histories": self.histories,
                "desiderata": [d.to_json() for d in self.desiderata],
                "left_out": dict(self.left_out)}


@dataclass(frozen=True, slots=True)
class Distribution:
    """The durations (days) of one measure ("acknowledgement", "first reply",
    "fix ready", "publication") for one group ("all", a vendor, a coordinator)."""

    measure: str
    group: str
    days: tuple[float, ...]

    @property
    def count(self) -> int:
        return len(self.days)

    @property
    def median(self) -> float | None:
        return quantile(self.days, 0.5)

    @property
    def p90(self) -> float | None:
        return quantile(self.days, 0.9)

    def to_json(self) -> dict[str, Any]:
        return {"measure": self.measure, "group": self.group, "count": self.count,
                "median": _round(self.median), "p90": _round(self.p90)}


@dataclass(frozen=True, slots=True)
class EmbargoCounts:
    kept: int
    extended: int
    broken: int

    def to_json(self) -> dict[str, int]:
        return {"kept": self.kept, "extended": self.extended, "broken": self.broken}


@dataclass(frozen=True, slots=True)
class TimingReport:
    """Timing over a set of cases: per measure for all cases, per vendor and per
    coordinator; embargoes kept, extended and broken; findings raised per problem;
    findings per month (month "YYYY-MM", problem, count)."""

    overall: tuple[Distribution, ...]
    per_vendor: tuple[Distribution, ...]
    per_coordinator: tuple[Distribution, ...]
    embargoes: EmbargoCounts
    findings: tuple[tuple[str, int], ...]
    findings_per_month: tuple[tuple[str, str, int], ...]

    def to_json(self) -> dict[str, Any]:
        return {"overall": [d.to_json() for d in self.overall],
                "per_vendor": [d.to_json() for d in self.per_vendor],
                "per_coordinator": [d.to_json() for d in self.per_coordinator],
                "embargoes": self.embargoes.to_json(),
                "findings": [{"problem": p, "count": n} for p, n in self.findings],
                "findings_per_month": [{"month": m, "problem": p, "count": n}
                                       for m, p, n in self.findings_per_month]}


def quantile(values: tuple[float, ...] | list[float], q: float) -> float | None:
    """The q-quantile by linear interpolation between closest ranks (the usual
    "type 7" definition, as numpy and spreadsheets compute it); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)
