"""SSVC on a case: the decision points the case log already answers, the ones people gave
(``ssvc.assessed`` events), and the four decisions that follow.

What the log answers, and from what:
- Exploitation: A (attacks observed) makes it active, else X (exploit public) a public
  PoC, else none.
- Report Public: P (public aware).
- Supplier Contacted: a contact attempt to a vendor that did not bounce, a reply from it,
  or its report-management state past start.
- Supplier Engagement: every contacted vendor is engaged, that is it has a fix ready, or
  replied (or was recorded valid or accepted) and has neither declined (RM invalid,
  deferred or closed without a fix) nor gone silent since (the 6.2 thresholds of the
  policy: repeated attempts since its last reply and that many days without one).
- Supplier Cardinality: two or more vendors on the case, or downstream vendors observed
  (6.10 rows 16, 17), make it multiple; one vendor, one.
- Supplier Involvement: fix ready when every vendor has F; uncooperative when any vendor
  is not engaged (not contacted yet counts: it has not responded); else cooperative.
- Public Value Added: precedence while P is not recorded (a publication now would be the
  first); once public it is a judgement, given by a person.
Every value keeps its evidence (events, counts and dates), so the desk can show why.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cvdesk.domain import ssvc
from cvdesk.domain.cs import CSEvent
from cvdesk.domain.events import Event, EventType
from cvdesk.domain.model import AttemptOutcome, SignalKind
from cvdesk.domain.policy import Policy
from cvdesk.domain.rm import RM
from cvdesk.domain.ssvc import POINTS, Origin, Point, SsvcValue, Table
from cvdesk.domain.state import CaseState, ParticipantState

#: Report-management states in which a vendor has turned the report down.
_DECLINED = frozenset({RM.INVALID, RM.DEFERRED, RM.CLOSED})
_DOWNSTREAM = frozenset({SignalKind.DOWNSTREAM_AFFECTED, SignalKind.UNKNOWN_DOWNSTREAM})
_LISTED = 5  # vendors named in one line of evidence; the rest are counted


@dataclass(frozen=True)
class Given:
    """A value a person gave, with who and when (the ``ssvc.assessed`` event)."""

    value: str
    by: str
    at: datetime
    seq: int
    reason: str = ""


@dataclass(frozen=True)
class Derived:
    """What the case log says about one point: a value, or None when it cannot tell."""

    value: SsvcValue | None
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class PointValue:
    """One decision point as used: its value and where it came from ("case", "given",
    "table" or "missing"); ``set_aside`` is a given value the case log overrules."""

    point: Point
    value: SsvcValue | None
    source: str
    evidence: tuple[str, ...] = ()
    given: Given | None = None
    set_aside: Given | None = None


@dataclass(frozen=True)
class Decision:
    table: Table
    outcome: SsvcValue | None
    needs: tuple[Point, ...]


@dataclass(frozen=True)
class Assessment:
    points: tuple[PointValue, ...]
    decisions: tuple[Decision, ...]

    def point(self, pid: str) -> PointValue:
        return next(p for p in self.points if p.point.id == pid)

    def decision(self, table_id: str) -> Decision:
        return next(d for d in self.decisions if d.table.id == table_id)


def _day(at: datetime) -> str:
    return at.astimezone(UTC).date().isoformat()


def given_values(log: Iterable[Event]) -> dict[str, Given]:
    """The values given, the latest per point; an empty value forgets the earlier one."""
    given: dict[str, Given] = {}
    for e in sorted(log, key=lambda e: e.seq):
        if e.type is not EventType.SSVC_ASSESSED:
            continue
        for pid, value in e.data["values"].items():
            if value is None:
                given.pop(pid, None)
            else:
                given[pid] = Given(value, e.actor, e.at, e.seq, e.reason)
    return given


# ------------------------------------------------------------------ vendors
@dataclass(frozen=True)
class _Vendor:
    p: ParticipantState
    contacted: bool
    contact: str  # how it was reached, for Supplier Contacted
    engaged: bool
    fix_ready: bool
    why: str  # why it counts as engaged or not


def _engagement(p: ParticipantState, contacted: bool, policy: Policy,
                now: datetime) -> tuple[bool, str]:
    pol = policy.for_party(p.organization, p.name)
    if CSEvent.F in p.vfd:
        return True, f"F (fix ready) recorded {_day(p.vfd_at[CSEvent.F])}"
    if p.rm in _DECLINED:
        return False, f"RM {p.rm.value} without a fix"
    if p.replies and p.last_reply_at is not None:
        silent = now - p.last_reply_at
        if (p.attempts_since_reply >= pol.unresponsive_min_attempts
                and silent >= timedelta(days=pol.unresponsive_silence_days)):
            return False, (f"{p.attempts_since_reply} attempt(s) since its last reply "
                           f"({_day(p.last_reply_at)}), {silent.days} days silent (policy: "
                           f"{pol.unresponsive_min_attempts} attempts, "
                           f"{pol.unresponsive_silence_days} days)")
        return True, (f"{p.replies} repl{'y' if p.replies == 1 else 'ies'}, last "
                      f"{_day(p.last_reply_at)}; RM {p.rm.value}")
    if p.rm in (RM.VALID, RM.ACCEPTED):
        return True, f"RM {p.rm.value}"
    return False, ("no reply" if contacted else "not contacted yet")


def _vendors(case: CaseState, log: Sequence[Event], policy: Policy,
             now: datetime) -> list[_Vendor]:
    delivered: dict[int, list[datetime]] = {}
    bounced: dict[int, int] = {}
    for e in log:
        if e.type is EventType.CONTACT_ATTEMPT and e.participant is not None:
            if e.data.get("outcome") == AttemptOutcome.BOUNCED:
                bounced[e.participant] = bounced.get(e.participant, 0) + 1
            else:
                delivered.setdefault(e.participant, []).append(e.at)
    found = []
    for p in sorted(case.vendors, key=lambda p: p.pid):
        sent = delivered.get(p.pid, [])
        contacted = bool(sent) or p.replies > 0 or p.rm is not RM.START
        parts = [f"{len(sent)} attempt(s) from {_day(min(sent))}"] if sent else []
        if p.pid in bounced:
            parts.append(f"{bounced[p.pid]} bounced")
        if p.replies:
            parts.append(f"{p.replies} repl{'y' if p.replies == 1 else 'ies'}")
        if p.rm is not RM.START:
            parts.append(f"RM {p.rm.value}")
        engaged, why = _engagement(p, contacted, policy, now)
        found.append(_Vendor(p, contacted, ", ".join(parts) or "no attempt", engaged,
                             CSEvent.F in p.vfd, why))
    return found


def _names(vendors: Sequence[_Vendor], detail: str = "why") -> str:
    shown = [f"{v.p.label} ({getattr(v, detail)})" if detail else v.p.label
             for v in vendors[:_LISTED]]
    more = len(vendors) - _LISTED
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


# ------------------------------------------------------------------ deriving
def derive(case: CaseState, log: Sequence[Event], policy: Policy,
           now: datetime) -> dict[str, Derived]:
    """The points the case log answers (ssvc.Origin CASE and CASE_FIRST), with evidence."""
    out: dict[str, Derived] = {}

    def cs_seen(event: CSEvent) -> str:
        return (f"{event.value} ({event.title}) recorded {_day(case.pxa_at[event])} "
                f"(#{case.pxa_seq.get(event, 0)})")

    E = ssvc.Exploitation
    if CSEvent.A in case.pxa:
        out["exploitation"] = Derived(E.ACTIVE, (cs_seen(CSEvent.A),))
    elif CSEvent.X in case.pxa:
        out["exploitation"] = Derived(E.PUBLIC_POC, (cs_seen(CSEvent.X),))
    else:
        out["exploitation"] = Derived(E.NONE, ("neither X (exploit public) nor A (attacks "
                                               "observed) is recorded",))
    public = CSEvent.P in case.pxa
    out["report_public"] = (Derived(ssvc.YesNo.YES, (cs_seen(CSEvent.P),)) if public else
                            Derived(ssvc.YesNo.NO, ("P (public aware) is not recorded",)))
    out["public_value_added"] = (
        Derived(None, (f"the report is public ({cs_seen(CSEvent.P)}): what a publication "
                       "adds is a judgement",)) if public else
        Derived(ssvc.PublicValueAdded.PRECEDENCE,
                ("P (public aware) is not recorded: a publication now would be the first",)))

    vendors = _vendors(case, log, policy, now)
    contacted = [v for v in vendors if v.contacted]
    waiting = [v for v in vendors if not v.contacted]
    if not vendors:
        none = ("no vendor on the case",)
        out["supplier_contacted"] = Derived(ssvc.YesNo.NO, none)
        out["supplier_engagement"] = Derived(ssvc.SupplierEngagement.UNRESPONSIVE,
                                             ("no vendor on the case, so none is responding",))
        out["supplier_involvement"] = Derived(None, none)
    else:
        lines = [f"contacted: {_names(contacted, 'contact')}"] if contacted else []
        if waiting:
            lines.append(f"not contacted: {_names(waiting, '')}")
        out["supplier_contacted"] = Derived(ssvc.YesNo.YES if contacted else ssvc.YesNo.NO,
                                            tuple(lines))
        quiet = [v for v in contacted if not v.engaged]
        engaged = [v for v in contacted if v.engaged]
        SE = ssvc.SupplierEngagement
        if not contacted:
            out["supplier_engagement"] = Derived(SE.UNRESPONSIVE, (
                "no vendor has been contacted, so none is responding",))
        else:
            lines = [f"not engaged: {_names(quiet)}"] if quiet else []
            if engaged:
                lines.append(f"engaged: {_names(engaged)}")
            out["supplier_engagement"] = Derived(SE.UNRESPONSIVE if quiet else SE.ACTIVE,
                                                 tuple(lines))
        SINV = ssvc.SupplierInvolvement
        ready = [v for v in vendors if v.fix_ready]
        against = [v for v in vendors if not v.engaged]
        if len(ready) == len(vendors):
            out["supplier_involvement"] = Derived(SINV.FIX_READY,
                                                  (f"fix ready: {_names(ready)}",))
        elif against:
            out["supplier_involvement"] = Derived(SINV.UNCOOPERATIVE, (
                f"not responding or declined: {_names(against)}",))
        else:
            working = [v for v in vendors if not v.fix_ready]
            out["supplier_involvement"] = Derived(SINV.COOPERATIVE, (
                f"working on a fix: {_names(working)}",))

    SC = ssvc.SupplierCardinality
    downstream = [s for s in case.signals if s.kind in _DOWNSTREAM]
    if len(vendors) >= 2:
        out["supplier_cardinality"] = Derived(SC.MULTIPLE, (
            f"{len(vendors)} vendors on the case: {_names(vendors, '')}",))
    elif downstream:
        first = min(downstream, key=lambda s: s.at)
        out["supplier_cardinality"] = Derived(SC.MULTIPLE, (
            f"{first.kind.value} observed {_day(first.at)} (#{first.seq})",))
    elif vendors:
        out["supplier_cardinality"] = Derived(SC.ONE, (
            f"one vendor on the case: {vendors[0].p.label}",))
    else:
        out["supplier_cardinality"] = Derived(None, ("no vendor on the case",))
    return out


def assess(case: CaseState, log: Sequence[Event], policy: Policy,
           now: datetime) -> Assessment:
    """Every decision point (from the case, given, or from a helper table) and the four
    decisions, each with its outcome or the points it still needs."""
    derived = derive(case, log, policy, now)
    given = given_values(log)
    used: dict[str, PointValue] = {}
    for pid, point in POINTS.items():
        if point.origin is Origin.TABLE:
            continue
        d = derived.get(pid)
        g = given.get(pid)
        if d is not None and d.value is not None:
            used[pid] = PointValue(point, d.value, "case", d.evidence,
                                   set_aside=g if point.origin is not Origin.CASE else None)
        elif g is not None and point.origin is not Origin.CASE:
            used[pid] = PointValue(point, point.parse(g.value), "given",
                                   d.evidence if d else (), given=g)
        else:
            used[pid] = PointValue(point, None, "missing", d.evidence if d else ())
    values = {pid: pv.value for pid, pv in used.items() if pv.value is not None}
    composed = ssvc.compose(values)
    for pid, helper in ssvc.HELPERS.items():
        got = composed.get(pid)
        inputs = ", ".join(f"{POINTS[i].name} {values[i].value}" for i in helper.inputs
                           if i in values)
        used[pid] = (PointValue(POINTS[pid], got, "table",
                                (f"{inputs} ({helper.name} table)",)) if got is not None
                     else PointValue(POINTS[pid], None, "missing"))
    decisions = []
    for table in ssvc.DECISIONS:
        missing = ssvc.needs(table, composed)
        outcome = None if missing else table.lookup(*(composed[i] for i in table.inputs))
        decisions.append(Decision(table, outcome, missing))
    order = list(POINTS)
    points = tuple(sorted(used.values(), key=lambda pv: order.index(pv.point.id)))
    return Assessment(points, tuple(decisions))
