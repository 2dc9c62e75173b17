"""The parts of the case page (issue 11) as views: the timeline as a view model (marks
per day and lane, the embargo windows), message threads, and the rules that decide which
log entries, messages and findings a participant who is not staff may see.

Staff see everything.  A vendor or reporter sees the log entries about no one in
particular or about its own participants, except the desk's own working notes and the
entries that name other cases or other parties (guide 5.4: a vendor need not learn who
else is affected; 2.2: a reporter may stay unknown to the vendor).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from cvdesk.domain.codec import to_jsonable
from cvdesk.domain.events import Event, EventType
from cvdesk.domain.model import Role

if TYPE_CHECKING:
    from cvdesk.domain.accounts import CaseAccess
    from cvdesk.store.tables import MessageRow

#: Entries only staff see: the desk's working notes and prioritisation, hand-offs,
#: retrospectives, failures talking to CVE Services, and case-wide observations (a
#: possible duplicate names another case; a leak report may name its source).
STAFF_ONLY = frozenset({EventType.NOTE, EventType.HANDOFF, EventType.RETROSPECTIVE,
                        EventType.CVE_SUBMISSION_FAILED, EventType.SSVC_ASSESSED,
                        EventType.OBSERVATION})


def hidden_types(access: CaseAccess) -> frozenset[str]:
    """The entry types kept from this principal (none for staff).  The report as
    submitted names the reporter: only staff and the reporters see it."""
    if access.staff:
        return frozenset()
    hidden = set(STAFF_ONLY)
    if not access.is_reporter:
        hidden.add(EventType.REPORT_RECEIVED)
    return frozenset(t.value for t in hidden)


def shown_event(e: Event, access: CaseAccess,
                hide: re.Pattern[str] | None = None) -> dict[str, Any]:
    """An entry's JSON as this principal may see it (see ``shown_parts``)."""
    return shown_json(*shown_parts(e, access, hide))


def shown_parts(e: Event, access: CaseAccess,
                hide: re.Pattern[str] | None = None) -> tuple[Event, str, str]:
    """An entry as this principal may see it, with its reason and summary.  For those who
    are not staff, the names of participants they may not see (``hide``, see
    ``redactor``) become "another participant" in its reason and summary, a draft's
    recipients are cut down to their own participants, and a vulnerability's affected
    products (which name every vendor) are left out."""
    reason = e.reason
    if not access.staff:
        if e.type is EventType.ADVISORY_PREVIEWED:
            e = replace(e, data={**e.data, "recipients": [
                p for p in e.data.get("recipients", ()) if p in access.pids]})
        elif e.type is EventType.VULNERABILITY:
            e = replace(e, data={k: v for k, v in e.data.items() if k != "affected"})
        elif e.type is EventType.VULNERABILITY_UPDATED and "changes" in e.data:
            changes = e.data["changes"]
            e = replace(e, data={**e.data, "changes": {
                k: ("(not shown)" if k == "affected" else v) for k, v in changes.items()}})
    summary = e.summary()
    if hide is not None:
        reason, summary = hide.sub(HIDDEN_NAME, reason), hide.sub(HIDDEN_NAME, summary)
    return e, reason, summary


def shown_json(e: Event, reason: str, summary: str) -> dict[str, Any]:
    """The JSON of an entry made by ``shown_parts`` (its data turned into JSON values
    is most of an entry's cost: the case page, which shows no data, leaves it out)."""
    return {"seq": e.seq, "at": e.at.isoformat(), "type": e.type.value, "actor": e.actor,
            "participant": e.participant, "reason": reason, "summary": summary,
            "data": to_jsonable(e.data)}


# ------------------------------------------------------------------ timeline
#: The timeline's lanes, top to bottom: (name, label).
LANES = (("case", "Case events"), ("participants", "Participants"),
         ("attempts", "Contact attempts"), ("replies", "Replies"),
         ("messages", "Messages"))
_LANE_OF = {EventType.CONTACT_ATTEMPT.value: "attempts",
            EventType.CONTACT_REPLY.value: "replies",
            EventType.MESSAGE.value: "messages",
            **{t.value: "participants" for t in (
                EventType.PARTICIPANT_ADDED, EventType.RM, EventType.CONSENT,
                EventType.PARTICIPANT_POLICY, EventType.STATEMENT_RECORDED,
                EventType.STATEMENT_CONFIRMED, EventType.CREDIT)}}


def lane_of(event_type: str) -> str:
    return _LANE_OF.get(event_type, "case")


@dataclass(frozen=True, slots=True)
class TimelineMark:
    """What happened in one lane on one (UTC) day: one mark however many entries."""

    lane: str
    day: date
    count: int
    first_at: datetime
    last_at: datetime
    kinds: tuple[tuple[str, int], ...]  # entry type, how many

    def to_json(self) -> dict[str, Any]:
        return {"lane": self.lane, "day": self.day.isoformat(), "count": self.count,
                "first_at": self.first_at.isoformat(), "last_at": self.last_at.isoformat(),
                "kinds": {k: n for k, n in self.kinds}}


@dataclass(frozen=True, slots=True)
class EmbargoWindow:
    """A stretch of time under an embargo (``active``) or under a proposal nobody had
    accepted yet (``proposed``).  ``end`` is when it ended, or the agreed end while it is
    still in force; ``planned_end`` is the end agreed at the time."""

    kind: str
    start: datetime
    end: datetime
    planned_end: datetime | None
    ended_early: bool

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "start": self.start.isoformat(),
                "end": self.end.isoformat(),
                "planned_end": self.planned_end.isoformat() if self.planned_end else None,
                "ended_early": self.ended_early}


def embargo_windows(events: list[Event], now: datetime) -> tuple[EmbargoWindow, ...]:
    """The embargo's stretches from its EM entries (in log order): a proposal runs from
    its proposing to its acceptance or rejection; an embargo from its acceptance to its
    exit, or to its agreed end while in force.  A revision that is accepted moves the end
    of the stretch in force; one that is rejected leaves it."""
    out: list[EmbargoWindow] = []
    proposed_at: datetime | None = None
    proposed_end: datetime | None = None
    active_at: datetime | None = None
    agreed: datetime | None = None
    for e in events:
        d = e.data
        trigger, to = d.get("trigger"), d.get("to")
        if trigger == "propose":
            proposed_end = datetime.fromisoformat(d["end"]) if d.get("end") else None
            if active_at is None and proposed_at is None:
                proposed_at = e.at
        elif trigger == "accept":
            if active_at is None:
                if proposed_at is not None:
                    out.append(EmbargoWindow("proposed", proposed_at, e.at, proposed_end,
                                             False))
                active_at = e.at
            agreed, proposed_at = proposed_end, None
        elif trigger == "reject":
            if active_at is None and proposed_at is not None:
                out.append(EmbargoWindow("proposed", proposed_at, e.at, proposed_end, True))
            proposed_at = None
            proposed_end = agreed
        elif trigger == "terminate" or to == "exited":
            if active_at is not None:
                early = agreed is not None and e.at < agreed
                out.append(EmbargoWindow("active", active_at, e.at, agreed, early))
            active_at = proposed_at = None
    if active_at is not None:
        out.append(EmbargoWindow("active", active_at, max(agreed or now, active_at), agreed,
                                 False))
    elif proposed_at is not None:
        out.append(EmbargoWindow("proposed", proposed_at, max(proposed_end or now, proposed_at),
                                 proposed_end, False))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class TimelineView:
    """A case's history as the timeline draws it: one mark per lane and day, the embargo
    windows, and now.  ``start`` and ``end`` span all of it."""

    case_id: str
    start: datetime
    end: datetime
    now: datetime
    marks: tuple[TimelineMark, ...]
    windows: tuple[EmbargoWindow, ...]
    entries: int  # log entries behind the marks

    @classmethod
    def build(cls, case_id: str, opened_at: datetime, now: datetime,
              counts: list[tuple[str, str, int, datetime, datetime]],
              windows: tuple[EmbargoWindow, ...]) -> TimelineView:
        by_key: dict[tuple[str, str], list[tuple[str, int, datetime, datetime]]] = {}
        for day, kind, n, first, last in counts:
            by_key.setdefault((lane_of(kind), day), []).append((kind, n, first, last))
        marks = []
        for (lane, day), parts in sorted(by_key.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            marks.append(TimelineMark(
                lane, date.fromisoformat(day), sum(p[1] for p in parts),
                min(p[2] for p in parts), max(p[3] for p in parts),
                tuple(sorted(((p[0], p[1]) for p in parts), key=lambda k: (-k[1], k[0])))))
        instants = [opened_at, now, *(m.first_at for m in marks), *(m.last_at for m in marks),
                    *(w.start for w in windows), *(w.end for w in windows)]
        return cls(case_id, min(instants), max(instants), now, tuple(marks), windows,
                   sum(m.count for m in marks))

    def to_json(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "start": self.start.isoformat(),
                "end": self.end.isoformat(), "now": self.now.isoformat(),
                "entries": self.entries, "lanes": [name for name, _ in LANES],
                "marks": [m.to_json() for m in self.marks],
                "embargo": [w.to_json() for w in self.windows]}


# ------------------------------------------------------------------ messages
@dataclass(frozen=True, slots=True)
class MessageView:
    """A message filed on a case: ``participant`` None for one to the whole case."""

    message_id: str
    participant: int | None
    direction: str
    channel: str
    at: datetime
    subject: str
    body: str
    tlp: str

    @classmethod
    def of(cls, row: MessageRow) -> MessageView:
        return cls(row.message_id, row.participant, row.direction, row.channel, row.at,
                   row.subject, row.body, row.tlp)

    def to_json(self) -> dict[str, Any]:
        return {"message_id": self.message_id, "participant": self.participant,
                "direction": self.direction, "channel": self.channel,
                "at": self.at.isoformat(), "subject": self.subject, "body": self.body,
                "tlp": self.tlp}


@dataclass(frozen=True, slots=True)
class ThreadView:
    """One thread: the case-wide one (``participant`` None) or a participant's private
    one with the desk."""

    participant: int | None
    name: str
    messages: int
    last_at: datetime | None

    @property
    def key(self) -> str:
        return "case" if self.participant is None else f"p{self.participant}"

    def to_json(self) -> dict[str, Any]:
        return {"thread": self.key, "participant": self.participant, "name": self.name,
                "messages": self.messages,
                "last_at": self.last_at.isoformat() if self.last_at else None}


@dataclass(frozen=True, slots=True)
class MessagesView:
    """The threads a principal may see (a page of them) and a page of messages, of one
    thread or of all of them."""

    case_id: str
    thread: str  # "all", "case" or "p<pid>"
    threads: Any  # Page of ThreadView
    messages: Any  # Page of MessageView

    def to_json(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "thread": self.thread,
                "threads": self.threads.to_json(), "messages": self.messages.to_json()}


# ------------------------------------------------------------------ findings
def visible_finding(data: dict[str, Any], access: CaseAccess) -> dict[str, Any] | None:
    """A finding's words as this principal may see them, or None.  Staff see every
    finding whole.  Others see those that concern one of their roles, with only the
    actions for those roles, and about a participant only when it is their own, except
    that a reporter sees the findings about vendors that concern reporters (the guide
    asks the reporter to act when a vendor goes silent, 6.2)."""
    if access.staff:
        return data
    mine = {r.value for r in access.roles}
    if not mine & set(data.get("concerns", ())):
        return None
    subject = data.get("subject")
    reporters = {Role.REPORTER.value, Role.FINDER.value}
    if subject is not None and subject not in access.pids and not (
            access.is_reporter and reporters & set(data["concerns"])):
        return None
    return {**data, "actions": [a for a in data.get("actions", ()) if a["role"] in mine]}


def redactor(names: list[str]) -> re.Pattern[str] | None:
    """A pattern that finds any of ``names`` (the participants a principal may not see)
    in a finding's words; None when there are none to hide."""
    names = sorted({n for n in names if len(n.strip()) >= 2}, key=len, reverse=True)
    if not names:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(n) for n in names) + r")(?!\w)")


def redacted(data: dict[str, Any], pattern: re.Pattern[str] | None) -> dict[str, Any]:
    """A finding's words with the names of participants the principal may not see put as
    "another participant": a finding about the whole case may name them in its evidence
    (which vendors are not aware yet, say)."""
    if pattern is None:
        return data

    def hide(text: Any) -> Any:
        return pattern.sub(HIDDEN_NAME, text) if isinstance(text, str) else text

    return {**data, "title": hide(data.get("title", "")),
            "subject_name": hide(data.get("subject_name", "")),
            "evidence": [hide(e) for e in data.get("evidence", ())]}


HIDDEN_NAME = "another participant"

#: The embargo states in words (Vultron EM), for the embargo panel.
EM_WORDS = {
    "none": "no embargo",
    "proposed": "an embargo is proposed, not yet agreed",
    "active": "an embargo is in force",
    "revise": "an embargo is in force; a change to it is proposed",
    "exited": "the embargo has ended",
}
