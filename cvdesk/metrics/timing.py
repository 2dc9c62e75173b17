"""How long cases take, from plain records read out of the case log (guide 6.9 "learn
from it"; issue 12).

Every measure counts days from the moment the case was opened (the report reached the
desk), because that is the moment the reporter starts waiting:

- **acknowledgement**: the desk's first answer to the report: the desk's own RM leaving
  "received" (it validated or invalidated the report: triage done, 4.x / 6.10 ask for it
  within 24-48 hours), or a message logged outbound to a reporter, whichever came first.
  The desk is the case's first participant (the case-building path adds it first).  A
  case the desk reported itself has nobody to acknowledge and no such measure.
- **first reply**: each vendor's first reply (one value per vendor and case).
- **fix ready**: each vendor's F (one value per vendor and case).
- **publication**: the case's P (one value per case).

The coordinator of a case is the one who acknowledged the report (the actor of that
event), else the one who opened the case: per person or channel at the desk, and
"import" for imported cases.

Embargoes (EM, 6.4 and 6.10 rows 2, 8, 11): an embargo counts once agreed (accepted).
It was *extended* when a revision accepted later moved its end later.  It was *broken*
when it ended (terminated, or the case became public) before the agreed end, or a leak
was observed while it held; *kept* when it ended on or after the agreed end with no
leak.  One still in force is neither kept nor broken yet.  Extended is counted apart
from the outcome: an extended embargo is also kept or broken (or still running).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from cvdesk.metrics.views import Distribution, EmbargoCounts, TimingReport

ACKNOWLEDGEMENT, FIRST_REPLY, FIX_READY, PUBLICATION = (
    "acknowledgement", "first reply", "fix ready", "publication")
MEASURES = (ACKNOWLEDGEMENT, FIRST_REPLY, FIX_READY, PUBLICATION)
#: Acknowledgement is the desk's act, so it is not a vendor's measure.
VENDOR_MEASURES = (FIRST_REPLY, FIX_READY, PUBLICATION)
OVERALL = "all"
DAY_SECONDS = 86400.0


@dataclass(frozen=True, slots=True)
class VendorTimes:
    """One vendor on one case: its name (organization, else participant name)."""

    name: str
    first_reply_at: datetime | None = None
    fixed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class EmbargoStep:
    """One EM transition: propose (with the end proposed), accept, reject, terminate."""

    trigger: str
    at: datetime
    end: datetime | None = None


@dataclass(frozen=True, slots=True)
class CaseTimes:
    case_id: str
    opened_at: datetime
    coordinator: str
    acknowledged_at: datetime | None = None
    published_at: datetime | None = None
    vendors: tuple[VendorTimes, ...] = ()
    embargo: tuple[EmbargoStep, ...] = ()
    leaks: tuple[datetime, ...] = ()


@dataclass(frozen=True, slots=True)
class FindingRaised:
    """A finding as first raised: its problem id and when the sweep first saw it."""

    problem: str
    raised_at: datetime


class LogEntry(NamedTuple):
    """One event of a case log as the store reads it (plain values)."""

    type: str
    at: datetime
    actor: str
    participant: int | None
    data: Mapping[str, Any]


class Party(NamedTuple):
    """One participant as the store's projection has it."""

    pid: int
    name: str
    organization: str
    roles: frozenset[str]
    is_vendor: bool
    first_reply_at: datetime | None
    vfd_times: Mapping[str, Any]


# ------------------------------------------------------------------ from the log
def _instant(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def case_times(case_id: str, entries: Sequence[LogEntry], parties: Sequence[Party],
               ) -> CaseTimes:
    """The record of one case from its log entries (in log order) and participants."""
    opened = next((e for e in entries if e.type == "case.opened"), None)
    if opened is None:
        raise ValueError(f"{case_id}: no case.opened event")
    desk = min(parties, key=lambda p: p.pid) if parties else None
    reporters = {p.pid for p in parties
                 if "reporter" in p.roles and (desk is None or p.pid != desk.pid)}
    desk_reports = desk is not None and "reporter" in desk.roles
    ack: LogEntry | None = None
    published: datetime | None = None
    steps: list[EmbargoStep] = []
    leaks: list[datetime] = []
    for e in entries:
        d = e.data
        if e.type == "rm.transition" and desk is not None and e.participant == desk.pid:
            answered = d.get("from") == "received" and d.get("to") in ("valid", "invalid")
        elif e.type == "message.logged":
            answered = d.get("direction") == "out" and e.participant in reporters
        else:
            answered = False
        if answered and not desk_reports and (ack is None or e.at < ack.at):
            ack = e
        if e.type == "cs.event" and d.get("event") == "P" and published is None:
            published = e.at
        elif e.type == "em.transition":
            steps.append(EmbargoStep(str(d.get("trigger")), e.at, _instant(d.get("end"))))
        elif e.type == "observation.recorded" and d.get("kind") == "leak":
            leaks.append(e.at)
    vendors = tuple(VendorTimes(p.organization.strip() or p.name, p.first_reply_at,
                                _instant(p.vfd_times.get("F")))
                    for p in sorted(parties, key=lambda p: p.pid) if p.is_vendor)
    return CaseTimes(case_id, opened.at, ack.actor if ack else opened.actor,
                     ack.at if ack else None, published, vendors, tuple(steps), tuple(leaks))


# ------------------------------------------------------------------ embargoes
def embargo_outcome(steps: Iterable[EmbargoStep], published_at: datetime | None = None,
                    leaks: Iterable[datetime] = ()) -> tuple[str | None, bool]:
    """("kept" | "broken" | None, extended) of one case's embargo (module docstring)."""
    agreed: datetime | None = None
    proposed: datetime | None = None
    accepted_at: datetime | None = None
    ended_at: datetime | None = None
    extended = False
    for step in steps:
        if step.trigger == "propose":
            proposed = step.end
        elif step.trigger == "accept":
            if proposed is not None:
                if agreed is not None and proposed > agreed:
                    extended = True
                agreed = proposed
            accepted_at = accepted_at or step.at
            proposed = None
        elif step.trigger == "reject":
            proposed = None
        elif step.trigger == "terminate" and agreed is not None:
            ended_at = step.at
            break
    if agreed is None or accepted_at is None:
        return None, False
    ends = [t for t in (ended_at, published_at) if t is not None and t >= accepted_at]
    ended = min(ends) if ends else None
    leaked = any(accepted_at <= t < agreed and (ended is None or t <= ended) for t in leaks)
    if leaked or (ended is not None and ended < agreed):
        return "broken", extended
    return ("kept" if ended is not None else None), extended


# ------------------------------------------------------------------ the report
def days(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / DAY_SECONDS


def _same(name: str, wanted: str | None) -> bool:
    return wanted is None or name.strip().casefold() == wanted.strip().casefold()


def timing_report(cases: Iterable[CaseTimes], findings: Iterable[FindingRaised] = (), *,
                  vendor: str | None = None) -> TimingReport:
    """Distributions per measure (all cases, per vendor, per coordinator), embargo
    outcomes, findings per problem and per month (by first raised, UTC).  ``vendor``
    keeps only that vendor's values of the per-vendor measures (the cases themselves are
    chosen by the caller)."""
    overall: dict[str, list[float]] = {m: [] for m in MEASURES}
    by_vendor: dict[str, dict[str, list[float]]] = defaultdict(
        lambda: {m: [] for m in VENDOR_MEASURES})
    by_coordinator: dict[str, dict[str, list[float]]] = defaultdict(
        lambda: {m: [] for m in MEASURES})
    kept = extended = broken = 0
    for case in cases:
        mine = by_coordinator[case.coordinator]
        start = case.opened_at
        values: list[tuple[str, float]] = []
        if case.acknowledged_at is not None:
            values.append((ACKNOWLEDGEMENT, days(start, case.acknowledged_at)))
        if case.published_at is not None:
            values.append((PUBLICATION, days(start, case.published_at)))
        for v in case.vendors:
            if not _same(v.name, vendor):
                continue
            group = by_vendor[v.name]
            if v.first_reply_at is not None:
                values.append((FIRST_REPLY, days(start, v.first_reply_at)))
                group[FIRST_REPLY].append(values[-1][1])
            if v.fixed_at is not None:
                values.append((FIX_READY, days(start, v.fixed_at)))
                group[FIX_READY].append(values[-1][1])
            if case.published_at is not None:
                group[PUBLICATION].append(days(start, case.published_at))
        for measure, value in values:
            overall[measure].append(value)
            mine[measure].append(value)
        outcome, was_extended = embargo_outcome(case.embargo, case.published_at, case.leaks)
        kept += outcome == "kept"
        broken += outcome == "broken"
        extended += was_extended
    raised = Counter[str]()
    monthly = Counter[tuple[str, str]]()
    for f in findings:
        raised[f.problem] += 1
        monthly[(f"{f.raised_at.astimezone(UTC):%Y-%m}", f.problem)] += 1
    return TimingReport(
        overall=tuple(Distribution(m, OVERALL, tuple(overall[m])) for m in MEASURES),
        per_vendor=_groups(by_vendor, VENDOR_MEASURES),
        per_coordinator=_groups(by_coordinator, MEASURES),
        embargoes=EmbargoCounts(kept, extended, broken),
        findings=tuple(sorted(raised.items(), key=lambda x: (-x[1], x[0]))),
        findings_per_month=tuple((m, p, n) for (m, p), n in sorted(monthly.items())))


def _groups(groups: Mapping[str, Mapping[str, list[float]]], measures: Sequence[str],
            ) -> tuple[Distribution, ...]:
    return tuple(Distribution(m, name, tuple(groups[name][m]))
                 for name in sorted(groups, key=lambda n: (n.casefold(), n))
                 for m in measures)
