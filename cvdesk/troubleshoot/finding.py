"""What a troubleshooting rule says about a case: a Finding, and when to ask again."""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from datetime import datetime
from enum import IntEnum, StrEnum
from inspect import Parameter, signature
from typing import ClassVar

from cvdesk.domain.model import Role


class Severity(IntEnum):
    INFO = 1
    LOW = 2
    MEDIUM = 3
    HIGH = 4
    CRITICAL = 5

    @property
    def label(self) -> str:
        return self.name.lower()


class Phase(StrEnum):
    """The CVD phases of the guide (section 2/3)."""

    DISCOVERY = "discovery"
    REPORTING = "reporting"
    VALIDATION = "validation-and-triage"
    REMEDIATION = "remediation"
    PUBLIC_AWARENESS = "public-awareness"
    DEPLOYMENT = "promote-deployment"


@dataclass(frozen=True)
class Action:
    role: Role
    text: str


@dataclass(frozen=True)
class Finding:
    """One problem in one case, with the evidence that a reader can check in the case log."""

    problem: str
    title: str
    section: str
    severity: Severity
    case_id: str
    phase: Phase
    concerns: tuple[Role, ...]
    evidence: tuple[str, ...]
    actions: tuple[Action, ...]
    subject: int | None = None
    subject_name: str = ""

    #: Identity across sweeps: the same problem about the same participant
    #: ("vendor-unresponsive:p3", "case-stalled:-"); set with the fields, not one of them.
    key: ClassVar[str]

    # Written by hand: a cold sweep makes a few hundred thousand findings, and the frozen
    # dataclass's own __init__ sets each field through object.__setattr__ (about twice
    # the cost).  The same parameters, checked below.
    def __init__(self, problem: str, title: str, section: str, severity: Severity,
                 case_id: str, phase: Phase, concerns: tuple[Role, ...],
                 evidence: tuple[str, ...], actions: tuple[Action, ...],
                 subject: int | None = None, subject_name: str = "") -> None:
        _set(self, "__dict__", {
            "problem": problem, "title": title, "section": section, "severity": severity,
            "case_id": case_id, "phase": phase, "concerns": concerns, "evidence": evidence,
            "actions": actions, "subject": subject, "subject_name": subject_name,
            "key": f"{problem}:-" if subject is None else f"{problem}:p{subject}"})


_set = object.__setattr__
assert [(p.name, p.default) for p in signature(Finding).parameters.values()] == [
    (f.name, Parameter.empty if f.default is MISSING else f.default) for f in fields(Finding)]


@dataclass
class Verdict:
    """A rule's answer: its findings, and the earliest time the answer could change by
    the clock alone (None when only a new event can change it).

    A rule that judges each participant on its own (rules.PARTICIPANT_RULES) names the
    participant a time is about (``subject``); those times are also kept per participant
    (``subject_checks``), so that a sweep can later ask the rule about that participant
    alone.  Times given without a subject are ``case_check``."""

    findings: list[Finding] = field(default_factory=list)
    next_check: datetime | None = None
    subject_checks: dict[int, datetime] | None = None
    case_check: datetime | None = None

    # Written by hand, without the default factory's call: every rule makes one per case
    # it is asked about (a few hundred thousand in a cold sweep).  The same parameters,
    # checked below.
    def __init__(self, findings: list[Finding] | None = None,
                 next_check: datetime | None = None,
                 subject_checks: dict[int, datetime] | None = None,
                 case_check: datetime | None = None) -> None:
        self.findings = [] if findings is None else findings
        self.next_check, self.subject_checks = next_check, subject_checks
        self.case_check = case_check

    def reached(self, when: datetime, now: datetime, subject: int | None = None) -> bool:
        """True once ``now`` has reached ``when``; until then, remember ``when`` as a time
        at which the answer may change."""
        if now >= when:
            return True
        self.check_at(when, now, subject)
        return False

    def check_at(self, when: datetime | None, now: datetime,
                 subject: int | None = None) -> None:
        if when is None or when <= now:
            return
        if self.next_check is None or when < self.next_check:
            self.next_check = when
        if subject is None:
            if self.case_check is None or when < self.case_check:
                self.case_check = when
            return
        checks = self.subject_checks
        if checks is None:
            self.subject_checks = {subject: when}
        elif subject not in checks or when < checks[subject]:
            checks[subject] = when


assert [p.name for p in signature(Verdict).parameters.values()] == [
    f.name for f in fields(Verdict)]
