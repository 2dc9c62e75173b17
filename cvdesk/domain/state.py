"""The state of one case as its log says it is: what each event changes, and the queries.

``CaseState._apply`` folds one event into the state and is the only code that
changes it; the commands that decide which events to write live in
cvdesk.domain.case.  Replaying a stored log therefore gives exactly the state the
commands saw, and the sweeps rebuild the same state from the projection rows
(cvdesk.store.snapshot).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from cvdesk.domain import cs
from cvdesk.domain.codec import dt, to_jsonable, vulnerability_from_dict
from cvdesk.domain.em import EM, Consent, EMTrigger
from cvdesk.domain.errors import InvalidInput, NotFound
from cvdesk.domain.events import Event, EventType
from cvdesk.domain.model import (
    TLP,
    AttemptOutcome,
    CaseStatus,
    Channel,
    Credit,
    Role,
    Signal,
    SignalKind,
    Vulnerability,
)
from cvdesk.domain.rm import RM
from cvdesk.domain.statements import Statement, statement_from_event, statement_key


@dataclass
class ParticipantState:
    """One participant as the case sees it, including the contact summary the sweeps read."""

    pid: int
    name: str
    roles: frozenset[Role]
    added_at: datetime
    organization: str = ""
    email: str = ""
    phone: str = ""
    rm: RM = RM.START
    rm_at: datetime | None = None
    consent: Consent = Consent.NO_EMBARGO
    vfd: cs.CSState = frozenset()
    vfd_at: dict[cs.CSEvent, datetime] = field(default_factory=dict)
    vfd_seq: dict[cs.CSEvent, int] = field(default_factory=dict)
    first_attempt_at: datetime | None = None
    last_attempt_at: datetime | None = None
    last_attempt_outcome: AttemptOutcome | None = None
    attempts: int = 0
    attempts_since_reply: int = 0
    attempt_times: list[datetime] = field(default_factory=list, repr=False)
    channels: frozenset[Channel] = frozenset()
    first_reply_at: datetime | None = None
    last_reply_at: datetime | None = None
    replies: int = 0
    policy_days: int | None = None

    @property
    def is_vendor(self) -> bool:
        return Role.VENDOR in self.roles

    @property
    def label(self) -> str:
        return f"p{self.pid} {self.name}"


@dataclass(frozen=True, slots=True)
class Publication:
    """One published version of the case's advisory (an ``advisory.published`` event)."""

    version: int
    at: datetime
    summary: str
    formats: tuple[str, ...] = ()
    early: bool = False
    reason: str = ""


def _earliest(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b < a else a


def _latest(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b > a else a


@dataclass
class CaseState:
    """Everything the log says about one case; ``seq`` is the position of its last event."""

    case_id: str
    title: str = ""
    tlp: TLP = TLP.AMBER
    status: CaseStatus = CaseStatus.OPEN
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    participants: dict[int, ParticipantState] = field(default_factory=dict)
    em: EM = EM.NONE
    em_at: datetime | None = None
    embargo_end: datetime | None = None
    proposed_end: datetime | None = None
    pxa: cs.CSState = frozenset()
    pxa_at: dict[cs.CSEvent, datetime] = field(default_factory=dict)
    pxa_seq: dict[cs.CSEvent, int] = field(default_factory=dict)
    cs_at: datetime | None = None
    reports: list[dict[str, Any]] = field(default_factory=list)
    vulnerabilities: list[Vulnerability] = field(default_factory=list)  # current versions
    # (vendor pid, product key, vulnerability place) -> the latest statement (issue 10)
    statements: dict[tuple[int, str, int], Statement] = field(default_factory=dict)
    signals: list[Signal] = field(default_factory=list)
    credits: list[Credit] = field(default_factory=list)
    retrospectives: int = 0
    # The advisory (issue 10): each publication is a revision, oldest first; the last
    # draft sent for review (advisory.previewed) and the date it asked replies by.
    publications: list[Publication] = field(default_factory=list)
    previewed_at: datetime | None = None
    preview_until: datetime | None = None
    last_event_at: datetime | None = None
    seq: int = 0
    pending: list[Event] = field(default_factory=list)

    # ----------------------------------------------------------------- queries
    def participant(self, pid: int) -> ParticipantState:
        try:
            return self.participants[pid]
        except KeyError:
            raise NotFound(f"{self.case_id} has no participant p{pid}") from None

    def find_participant(self, ref: str) -> ParticipantState:
        """By number ('3' or 'p3') or by exact name, case-insensitive."""
        text = ref.strip()
        digits = text[1:] if text[:1] in "pP" else text
        if digits.isdigit():
            return self.participant(int(digits))
        matches = [p for p in self.participants.values() if p.name.lower() == text.lower()]
        if len(matches) == 1:
            return matches[0]
        if matches:
            ids = ", ".join(f"p{p.pid}" for p in matches)
            raise InvalidInput("participant", f"'{ref}' names several participants ({ids}); "
                               "use the number")
        raise NotFound(f"{self.case_id} has no participant '{ref}'")

    @property
    def vendors(self) -> list[ParticipantState]:
        return [p for p in self.participants.values() if p.is_vendor]

    def aware_before_public(self, p: ParticipantState) -> bool | None:
        """Whether vendor ``p`` knew before the public did (None until both V and P).

        Times decide; when V and P carry the same time, their places in the log (seq)
        do, so a V implied by P comes after it and a V recorded first stays first.  A
        reply dated before P also shows the vendor knew, even when it was entered later.
        """
        public, aware = self.pxa_at.get(cs.CSEvent.P), p.vfd_at.get(cs.CSEvent.V)
        if public is None or aware is None:
            return None
        if p.first_reply_at is not None and p.first_reply_at < public:
            return True
        return (aware, p.vfd_seq.get(cs.CSEvent.V, 0)) < (
            public, self.pxa_seq.get(cs.CSEvent.P, 0))

    def vulnerability_key(self, place: int) -> str:
        """The advisory key of the vulnerability at ``place`` (1 for the first added):
        its CVE id when it has one, else "V" and its place."""
        return self.vulnerabilities[place - 1].cve or f"V{place}"

    def find_vulnerability(self, ref: str) -> int:
        """The place of the vulnerability named by its key: its CVE id, or "V2" (or "2")
        for the second added, which keeps working after a CVE is assigned."""
        text = ref.strip().upper()
        digits = text[1:] if text[:1] == "V" else text
        if digits.isdigit() and 0 < int(digits) <= len(self.vulnerabilities):
            return int(digits)
        for place, v in enumerate(self.vulnerabilities, 1):
            if v.cve and v.cve == text:
                return place
        known = ", ".join(self.vulnerability_key(i)
                          for i in range(1, len(self.vulnerabilities) + 1)) or "none yet"
        raise NotFound(f"{self.case_id} has no vulnerability '{ref}' (known: {known})")

    def cs_label(self, pid: int | None = None) -> str:
        """CS state of one vendor (vfd + case pxa), or the case pxa alone."""
        vfd = self.participant(pid).vfd if pid is not None else frozenset()
        text = cs.label(vfd | self.pxa)
        return text if pid is not None else text[3:]

    # ----------------------------------------------------------------- folding
    def _apply(self, e: Event) -> None:
        _APPLY[e.type](self, e)
        self.seq = e.seq
        self.last_event_at = _latest(self.last_event_at, e.at)

    def _on_opened(self, e: Event) -> None:
        self.title = e.data["title"]
        self.tlp = TLP(e.data["tlp"])
        self.opened_at = e.at

    def _on_closed(self, e: Event) -> None:
        self.status = CaseStatus.CLOSED
        self.closed_at = e.at

    def _on_reopened(self, e: Event) -> None:
        self.status = CaseStatus.OPEN
        self.closed_at = None

    def _on_report(self, e: Event) -> None:
        self.reports.append({"tracking_id": e.data["tracking_id"], "received_at": e.at,
                             "title": e.data["report"]["title"]})

    def _on_participant(self, e: Event) -> None:
        assert e.participant is not None
        d = e.data
        self.participants[e.participant] = ParticipantState(
            pid=e.participant, name=d["name"], roles=frozenset(Role(r) for r in d["roles"]),
            added_at=e.at, organization=d.get("organization", ""), email=d.get("email", ""),
            phone=d.get("phone", ""))

    def _on_rm(self, e: Event) -> None:
        p = self.participants[e.participant]  # type: ignore[index]
        p.rm = RM(e.data["to"])
        p.rm_at = e.at

    def _on_em(self, e: Event) -> None:
        trigger = EMTrigger(e.data["trigger"])
        if trigger is EMTrigger.PROPOSE:
            self.proposed_end = dt(e.data["end"])
        elif trigger is EMTrigger.ACCEPT:
            self.embargo_end, self.proposed_end = self.proposed_end, None
        elif trigger in (EMTrigger.REJECT, EMTrigger.TERMINATE):
            self.proposed_end = None
        self.em = EM(e.data["to"])
        self.em_at = e.at

    def _on_consent(self, e: Event) -> None:
        self.participants[e.participant].consent = Consent(e.data["to"])  # type: ignore[index]

    def _on_cs(self, e: Event) -> None:
        event = cs.CSEvent(e.data["event"])
        if event in cs.VENDOR_EVENTS:
            p = self.participants[e.participant]  # type: ignore[index]
            p.vfd = p.vfd | {event}
            p.vfd_at[event] = e.at
            p.vfd_seq[event] = e.seq
        else:
            self.pxa = self.pxa | {event}
            self.pxa_at[event] = e.at
            self.pxa_seq[event] = e.seq
        self.cs_at = _latest(self.cs_at, e.at)

    def _on_attempt(self, e: Event) -> None:
        p = self.participants[e.participant]  # type: ignore[index]
        p.attempts += 1
        p.first_attempt_at = _earliest(p.first_attempt_at, e.at)
        if p.last_attempt_at is None or e.at >= p.last_attempt_at:
            p.last_attempt_outcome = AttemptOutcome(e.data["outcome"])
        p.last_attempt_at = _latest(p.last_attempt_at, e.at)
        p.channels = p.channels | {Channel(e.data["channel"])}
        p.attempt_times.append(e.at)
        if e.data["outcome"] == AttemptOutcome.ACKNOWLEDGED:
            self._count_reply(p, e.at)
        elif p.last_reply_at is None or e.at > p.last_reply_at:
            p.attempts_since_reply += 1

    def _on_reply(self, e: Event) -> None:
        self._count_reply(self.participants[e.participant], e.at)  # type: ignore[index]

    @staticmethod
    def _count_reply(p: ParticipantState, at: datetime) -> None:
        p.replies += 1
        p.first_reply_at = _earliest(p.first_reply_at, at)
        if p.last_reply_at is None or at > p.last_reply_at:
            p.last_reply_at = at
            # "Repeated attempts" in 6.2 means attempts after the last reply.
            p.attempts_since_reply = sum(1 for t in p.attempt_times if t > at)

    def _on_vulnerability(self, e: Event) -> None:
        self.vulnerabilities.append(vulnerability_from_dict(e.data))

    def _on_vulnerability_updated(self, e: Event) -> None:
        """The event carries only the fields that changed, each whole (a new CWE list,
        the new set of scores), so the current version is the old one with them laid over."""
        place = e.data["vulnerability"]
        old = to_jsonable(self.vulnerabilities[place - 1])
        self.vulnerabilities[place - 1] = vulnerability_from_dict(old | e.data["changes"])

    def _on_statement(self, e: Event) -> None:
        s = statement_from_event(e.data, e.participant, e.at)  # type: ignore[arg-type]
        self.statements.pop(s.key, None)  # a replaced statement moves to the end
        self.statements[s.key] = s

    def _on_statement_confirmed(self, e: Event) -> None:
        key = statement_key(e.participant, e.data["product"],  # type: ignore[arg-type]
                            e.data["vulnerability"])
        self.statements[key] = replace(self.statements[key], on_behalf=False,
                                       confirmed_at=e.at)

    def _on_message(self, e: Event) -> None:
        for kind, phrases in e.data.get("flags", {}).items():
            self.signals.append(Signal(SignalKind(kind), e.at, e.seq, e.participant,
                                       "; ".join(phrases), source="message"))

    def _on_observation(self, e: Event) -> None:
        self.signals.append(Signal(SignalKind(e.data["kind"]), e.at, e.seq, e.participant,
                                   e.data.get("text", ""), e.data.get("url", "")))

    def _on_credit(self, e: Event) -> None:
        d = e.data
        self.credits.append(Credit(d["name"], Role(d["role"]), d["contribution"], d["public"],
                                   d.get("participant")))

    def _on_retrospective(self, e: Event) -> None:
        self.retrospectives += 1

    def _on_policy(self, e: Event) -> None:
        self.participants[e.participant].policy_days = e.data["days"]  # type: ignore[index]

    def _on_previewed(self, e: Event) -> None:
        self.previewed_at = e.at
        self.preview_until = dt(e.data["until"])

    def _on_published(self, e: Event) -> None:
        d = e.data
        self.publications.append(Publication(d["version"], e.at, d.get("summary", ""),
                                              tuple(d.get("formats", ())),
                                              bool(d.get("early")), e.reason))

    def _on_nothing(self, e: Event) -> None:
        """Messages and notes are in the log but change no state."""


_APPLY: dict[EventType, Callable[[CaseState, Event], None]] = {
    EventType.CASE_OPENED: CaseState._on_opened,
    EventType.CASE_CLOSED: CaseState._on_closed,
    EventType.CASE_REOPENED: CaseState._on_reopened,
    EventType.REPORT_RECEIVED: CaseState._on_report,
    EventType.PARTICIPANT_ADDED: CaseState._on_participant,
    EventType.RM: CaseState._on_rm,
    EventType.EM: CaseState._on_em,
    EventType.CONSENT: CaseState._on_consent,
    EventType.CS: CaseState._on_cs,
    EventType.CONTACT_ATTEMPT: CaseState._on_attempt,
    EventType.CONTACT_REPLY: CaseState._on_reply,
    EventType.MESSAGE: CaseState._on_message,
    EventType.OBSERVATION: CaseState._on_observation,
    EventType.PARTICIPANT_POLICY: CaseState._on_policy,
    EventType.CREDIT: CaseState._on_credit,
    EventType.HANDOFF: CaseState._on_nothing,
    EventType.RETROSPECTIVE: CaseState._on_retrospective,
    EventType.VULNERABILITY: CaseState._on_vulnerability,
    EventType.NOTE: CaseState._on_nothing,
    EventType.SSVC_ASSESSED: CaseState._on_nothing,  # read by cvdesk.domain.ssvc_case
    EventType.VULNERABILITY_UPDATED: CaseState._on_vulnerability_updated,
    EventType.STATEMENT_RECORDED: CaseState._on_statement,
    EventType.STATEMENT_CONFIRMED: CaseState._on_statement_confirmed,
    EventType.ADVISORY_PREVIEWED: CaseState._on_previewed,
    EventType.ADVISORY_PUBLISHED: CaseState._on_published,
    # What CVE Services was sent and answered: in the log for the timeline and the
    # rules, no state of the case's models.
    EventType.CVE_SUBMITTED: CaseState._on_nothing,
    EventType.CVE_SUBMISSION_FAILED: CaseState._on_nothing,
}
