"""Shared shape of the rules that fire on signals (observations and message analysis)."""

from __future__ import annotations

from collections.abc import Callable

from cvdesk.domain.case import Case
from cvdesk.domain.model import Role, SignalKind
from cvdesk.troubleshoot.common import signal_text, signals_of
from cvdesk.troubleshoot.finding import Action, Finding, Phase, Severity, Verdict


def signal_rule(case: Case, kinds: tuple[SignalKind, ...], *, problem: str, title: str,
                section: str, severity: Callable[[Case], Severity], phase: Phase,
                concerns: tuple[Role, ...], actions: tuple[Action, ...],
                extra_evidence: Callable[[Case], list[str]] | None = None) -> Verdict:
    """One finding per case listing every matching signal as evidence."""
    found = signals_of(case, *kinds)
    if not found:
        return Verdict()
    evidence = [signal_text(case, s) for s in found[-5:]]
    if len(found) > 5:
        evidence.insert(0, f"{len(found)} signals; the last five:")
    if extra_evidence:
        evidence.extend(extra_evidence(case))
    return Verdict([Finding(problem=problem, title=title, section=section,
                            severity=severity(case), case_id=case.case_id, phase=phase,
                            concerns=concerns, evidence=tuple(evidence), actions=actions)])
