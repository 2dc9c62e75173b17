"""Skill against chance: how often each desideratum held in a desk's cases, set against
the model's chance baseline (cvdesk.metrics.histories).

alpha = (observed - chance) / (1 - chance) is Householder & Spring's skill measure
("Are We Skilled or Lucky?", 2021): 0 is what luck gives, 1 is every case right, and a
negative value is worse than luck.  The histories come from cases (guide 6.9: learn
from the experience), in one of two units:

- "vendor": one history per vendor in a case, that vendor's V F D with the case's P X A;
- "case": one history per case, V F D reached when the last vendor reaches them (every
  vendor aware, every fix ready, every fix deployed).  A vendor that never reached an
  event keeps the case from reaching it.  Only vendors count: a case without a vendor
  has no history in either unit.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from cvdesk.domain.cs import DESIDERATA, VENDOR_EVENTS, CSEvent
from cvdesk.metrics.histories import Decision, baseline, decide, desideratum_name
from cvdesk.metrics.views import DesideratumSkill, SkillReport

#: The two-sided 95% normal quantile (the inverse normal CDF at 0.975).
Z95 = 1.959963984540054

UNITS = ("vendor", "case")


@dataclass(frozen=True, slots=True)
class Observed:
    """One history as far as it is known: when each event happened (absent: not yet,
    or never for a closed case) and, where kept, its position in the case log."""

    times: Mapping[CSEvent, datetime | None]
    closed: bool
    seqs: Mapping[CSEvent, int] = field(default_factory=dict)
    undated: frozenset[CSEvent] = frozenset()


@dataclass(frozen=True, slots=True)
class VendorRecord:
    name: str
    organization: str
    times: Mapping[CSEvent, datetime]
    seqs: Mapping[CSEvent, int] = field(default_factory=dict)
    undated: frozenset[CSEvent] = frozenset()


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """A case as the skill measure reads it: its P X A and its vendors' V F D."""

    case_id: str
    closed: bool
    times: Mapping[CSEvent, datetime]
    vendors: tuple[VendorRecord, ...]
    seqs: Mapping[CSEvent, int] = field(default_factory=dict)
    undated: frozenset[CSEvent] = frozenset()


def alpha(observed: float, chance: float) -> float | None:
    """(observed - chance) / (1 - chance); None when chance is 1 (no room for skill)."""
    if chance >= 1:
        return None
    return (observed - chance) / (1 - chance)


def wilson(held: int, counted: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for a proportion held/counted.

    Chosen over the textbook normal ("Wald") interval because the desk's counts are
    small and the proportions often near 0 or 1, where Wald's interval collapses to a
    point or leaves [0, 1]; Wilson's stays inside and keeps close to its nominal
    coverage (checked by simulation in tests/metrics/test_skill.py)."""
    if counted <= 0:
        raise ValueError("no histories counted")
    p = held / counted
    z2 = z * z
    centre = (p + z2 / (2 * counted)) / (1 + z2 / counted)
    half = (z / (1 + z2 / counted)) * math.sqrt(p * (1 - p) / counted
                                                 + z2 / (4 * counted * counted))
    return max(0.0, centre - half), min(1.0, centre + half)


def desideratum_skill(name: str, held: int, counted: int, chance: float) -> DesideratumSkill:
    """One row of the report.  The 95% interval for alpha is the Wilson interval of the
    observed proportion mapped through alpha's transform p -> (p - chance)/(1 - chance).
    That map is linear and increasing, so the mapped interval covers alpha exactly as
    often as Wilson's covers the proportion."""
    if counted == 0:
        return DesideratumSkill(name, 0, 0, chance, None, None, None, None)
    observed = held / counted
    low, high = wilson(held, counted)
    return DesideratumSkill(name, held, counted, chance, observed, alpha(observed, chance),
                            alpha(low, chance), alpha(high, chance))


def skill_report(observed: Iterable[Observed], *, unit: str,
                 scope: Mapping[str, str | None] | None = None,
                 chance: Mapping[str, float] | None = None) -> SkillReport:
    """The report over the histories given.  Each desideratum counts only the histories
    where it is decided; ``left_out`` counts the undecided checks per reason."""
    chance = baseline() if chance is None else chance
    held: Counter[str] = Counter()
    counted: Counter[str] = Counter()
    left_out: Counter[str] = Counter()
    n = 0
    for history in observed:
        n += 1
        for a, b in DESIDERATA:
            name = desideratum_name(a, b)
            verdict = decide(a, b, history.times, closed=history.closed, seqs=history.seqs,
                             undated=history.undated)
            if verdict.decision is Decision.UNDECIDED:
                left_out[verdict.reason] += 1
                continue
            counted[name] += 1
            held[name] += verdict.decision is Decision.HELD
    rows = tuple(desideratum_skill(desideratum_name(a, b), held[desideratum_name(a, b)],
                                   counted[desideratum_name(a, b)],
                                   chance[desideratum_name(a, b)])
                 for a, b in DESIDERATA)
    return SkillReport(unit, dict(scope or {}), n, rows, dict(sorted(left_out.items())))


# ----------------------------------------------------------------- the two units
def vendor_histories(cases: Iterable[CaseRecord]) -> list[Observed]:
    """One history per vendor of each case."""
    found = []
    for case in cases:
        for vendor in case.vendors:
            found.append(Observed({**case.times, **vendor.times}, case.closed,
                                  {**case.seqs, **vendor.seqs},
                                  case.undated | vendor.undated))
    return found


def case_histories(cases: Iterable[CaseRecord]) -> list[Observed]:
    """One history per case with at least one vendor; V F D at the last vendor's."""
    found = []
    for case in cases:
        if not case.vendors:
            continue
        times: dict[CSEvent, datetime | None] = dict(case.times)
        seqs = dict(case.seqs)
        undated = set(case.undated)
        for event in VENDOR_EVENTS:
            if any(event not in v.times and event not in v.undated for v in case.vendors):
                continue  # some vendor has not reached it: the case has not
            if any(event in v.undated for v in case.vendors):
                undated.add(event)  # reached, but when the last one did is unknown
                continue
            last = max(case.vendors,
                       key=lambda v: (v.times[event], v.seqs.get(event, -1)))
            times[event] = last.times[event]
            if event in last.seqs:
                seqs[event] = last.seqs[event]
        found.append(Observed(times, case.closed, seqs, frozenset(undated)))
    return found


def histories_of(cases: Iterable[CaseRecord], unit: str) -> list[Observed]:
    """The histories of ``unit`` ("vendor" or "case"; see the module's docstring)."""
    if unit == "case":
        return case_histories(cases)
    return vendor_histories(cases)
