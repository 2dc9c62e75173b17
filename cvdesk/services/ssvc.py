"""SSVC decisions on a case (cvdesk.domain.ssvc): record the decision points a person
judged, and show the four decisions with every point and where its value came from.

The points the case log answers are read from the log each time, so the decisions
follow the case (an A recorded tomorrow makes exploitation active tomorrow); the points
people judge are kept in the log as ``ssvc.assessed`` events, with who and when."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cvdesk.domain.case import Case
from cvdesk.domain.ssvc_case import Assessment, Decision, PointValue, assess
from cvdesk.services.cases import CaseService

__all__ = ["SsvcDecisionView", "SsvcPointView", "SsvcService", "SsvcView"]


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True, slots=True)
class SsvcPointView:
    """One decision point: ``source`` is case, given, table or missing; ``origin`` says
    where its value may come from (case, case_first, given, table)."""

    id: str
    name: str
    ssvc_id: str
    origin: str
    choices: tuple[str, ...]
    value: str | None
    value_name: str | None
    source: str
    evidence: tuple[str, ...]
    given_by: str | None
    given_at: datetime | None
    given_reason: str
    set_aside: str | None
    hint: str

    @classmethod
    def of(cls, pv: PointValue) -> SsvcPointView:
        p, g = pv.point, pv.given
        return cls(p.id, p.name, p.ssvc_id, p.origin.value,
                   tuple(v.value for v in p.values),
                   pv.value.value if pv.value is not None else None,
                   pv.value.title if pv.value is not None else None, pv.source, pv.evidence,
                   g.by if g else None, g.at if g else None, g.reason if g else "",
                   pv.set_aside.value if pv.set_aside else None, p.hint)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "ssvc_id": self.ssvc_id,
                "origin": self.origin, "choices": list(self.choices), "value": self.value,
                "value_name": self.value_name, "source": self.source,
                "evidence": list(self.evidence), "given_by": self.given_by,
                "given_at": _time(self.given_at), "given_reason": self.given_reason,
                "set_aside": self.set_aside}


@dataclass(frozen=True, slots=True)
class SsvcDecisionView:
    """One decision: its outcome, or the points (as people give them) it still needs."""

    id: str
    name: str
    ssvc_key: str
    inputs: tuple[str, ...]
    outcome: str | None
    outcome_name: str | None
    needs: tuple[str, ...]

    @classmethod
    def of(cls, d: Decision) -> SsvcDecisionView:
        t = d.table
        return cls(t.id, t.name, t.key, t.inputs,
                   d.outcome.value if d.outcome is not None else None,
                   d.outcome.title if d.outcome is not None else None,
                   tuple(p.id for p in d.needs))

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "ssvc_key": self.ssvc_key,
                "inputs": list(self.inputs), "outcome": self.outcome,
                "outcome_name": self.outcome_name, "needs": list(self.needs)}


@dataclass(frozen=True, slots=True)
class SsvcView:
    """The SSVC decisions of one case as of ``at``."""

    case_id: str
    at: datetime
    decisions: tuple[SsvcDecisionView, ...]
    points: tuple[SsvcPointView, ...]

    @classmethod
    def of(cls, case_id: str, at: datetime, result: Assessment) -> SsvcView:
        return cls(case_id, at, tuple(SsvcDecisionView.of(d) for d in result.decisions),
                   tuple(SsvcPointView.of(p) for p in result.points))

    def point(self, pid: str) -> SsvcPointView:
        return next(p for p in self.points if p.id == pid)

    def decision(self, did: str) -> SsvcDecisionView:
        return next(d for d in self.decisions if d.id == did)

    def to_json(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "at": _time(self.at),
                "decisions": [d.to_json() for d in self.decisions],
                "points": [p.to_json() for p in self.points]}


class SsvcService:
    def __init__(self, cases: CaseService) -> None:
        self.cases = cases

    def assess(self, case_id: str, values: Mapping[str, str | None], *,
               at: datetime | None = None, actor: str | None = None,
               reason: str = "") -> SsvcView:
        """Record the decision points a person gave (point -> value; an empty value forgets
        one), then return the decisions as they now stand."""
        when, who = self.cases.when(at), self.cases.actor(actor)
        with self.cases.case(case_id) as case:
            case.assess_ssvc(dict(values), at=when, actor=who, reason=reason)
        return self.decisions(case_id)

    def decisions(self, case_id: str) -> SsvcView:
        """Every decision point and the four decisions, judged now from the case log."""
        timeline = self.cases.timeline(case_id)
        log = sorted(timeline, key=lambda e: e.seq)
        case = Case.replay(timeline.case_id, log)
        now = self.cases.clock()
        return SsvcView.of(case.case_id, now,
                           assess(case, log, self.cases.settings.policy, now))
