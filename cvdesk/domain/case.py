"""The case aggregate: the three formal models of one case, folded from its event log.

Commands (``rm``, ``record_cs``, ``propose_embargo`` ...) check the rules, then
emit events; ``_apply`` folds an event into the state and is the only code that
changes it, so replaying a stored log gives exactly the state the commands saw.
Commands never read the wall clock: ``at`` is always passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cvdesk.domain import cs
from cvdesk.domain.codec import dt, to_jsonable, vulnerability_from_dict
from cvdesk.domain.em import (
    CONSENT_MACHINE,
    EM,
    EM_IN_FORCE,
    EM_MACHINE,
    Consent,
    ConsentTrigger,
    EMTrigger,
)
from cvdesk.domain.errors import DomainError, IllegalTransition, InvalidInput, NotFound
from cvdesk.domain.events import Event, EventType
from cvdesk.domain.model import (
    TLP,
    AttemptOutcome,
    CaseStatus,
    Channel,
    Credit,
    Message,
    Report,
    Retrospective,
    Role,
    Signal,
    SignalKind,
    Vulnerability,
    check_aware,
)
from cvdesk.domain.rm import RM, RM_MACHINE, RMTrigger


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


def _earliest(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b < a else a


def _latest(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b > a else a


@dataclass
class Case:
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
    cs_at: datetime | None = None
    reports: list[dict[str, Any]] = field(default_factory=list)
    vulnerabilities: list[Vulnerability] = field(default_factory=list)
    signals: list[Signal] = field(default_factory=list)
    credits: list[Credit] = field(default_factory=list)
    retrospectives: int = 0
    last_event_at: datetime | None = None
    seq: int = 0
    pending: list[Event] = field(default_factory=list)

    # ----------------------------------------------------------------- building
    @classmethod
    def open(cls, case_id: str, title: str, tlp: TLP, *, at: datetime, actor: str,
             reason: str = "") -> Case:
        if not title.strip():
            raise InvalidInput("title", "must not be empty")
        case = cls(case_id)
        case._emit(EventType.CASE_OPENED, at, actor, reason,
                   data={"case_id": case_id, "title": title, "tlp": TLP(tlp).value})
        return case

    @classmethod
    def replay(cls, case_id: str, events: Iterable[Event]) -> Case:
        case = cls(case_id)
        for event in events:
            case._apply(event)
        return case

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

    def cs_label(self, pid: int | None = None) -> str:
        """CS state of one vendor (vfd + case pxa), or the case pxa alone."""
        vfd = self.participant(pid).vfd if pid is not None else frozenset()
        text = cs.label(vfd | self.pxa)
        return text if pid is not None else text[3:]

    # ----------------------------------------------------------------- commands
    def receive_report(self, tracking_id: str, report: Report, *, at: datetime,
                       actor: str) -> None:
        self._check_open("receive report")
        self._emit(EventType.REPORT_RECEIVED, at, actor, "report submitted",
                   data={"tracking_id": tracking_id, "report": to_jsonable(report)})

    def add_participant(self, name: str, roles: Iterable[Role], *, at: datetime, actor: str,
                        organization: str = "", email: str = "", phone: str = "",
                        reason: str = "") -> ParticipantState:
        self._check_open("add participant")
        roles = sorted({Role(r) for r in roles})
        if not name.strip():
            raise InvalidInput("name", "must not be empty")
        if not roles:
            raise InvalidInput("role", "give at least one role")
        pid = max(self.participants, default=0) + 1
        self._emit(EventType.PARTICIPANT_ADDED, at, actor, reason, participant=pid,
                   data={"name": name.strip(), "roles": [r.value for r in roles],
                         "organization": organization, "email": email, "phone": phone})
        added = self.participants[pid]
        if added.is_vendor and cs.CSEvent.P in self.pxa:
            when = max(at, self.cs_at) if self.cs_at else at
            self._emit_cs(cs.CSEvent.V, pid, when, actor,
                          "the case is already public, so the vendor is presumed aware", True)
        return added

    def rm(self, pid: int, trigger: RMTrigger, *, at: datetime, actor: str,
           reason: str = "") -> None:
        self._check_open(f"rm {trigger}")
        p = self.participant(pid)
        new = RM_MACHINE.next(p.rm, RMTrigger(trigger), subject=p.label)
        self._check_order(at, p.rm_at, "RM", p.label)
        self._emit(EventType.RM, at, actor, reason, participant=pid,
                   data={"trigger": RMTrigger(trigger).value, "from": p.rm.value,
                         "to": new.value})

    def propose_embargo(self, end: datetime, *, at: datetime, actor: str, reason: str = "",
                        invite: Iterable[int] | None = None) -> None:
        self._check_open("embargo propose")
        check_aware(at, "at")
        check_aware(end, "end")
        new = EM_MACHINE.next(self.em, EMTrigger.PROPOSE, subject=self.case_id)
        if end <= at:
            raise InvalidInput("end", f"embargo end {end.isoformat()} is not after the "
                               f"proposal time {at.isoformat()}")
        self._check_order(at, self.em_at, "EM", self.case_id)
        if invite is None:
            targets = [p.pid for p in self.participants.values()
                       if CONSENT_MACHINE.can(p.consent, ConsentTrigger.INVITE)]
        else:  # named invitees: all must exist and be invitable before anything is written
            targets = []
            for pid in invite:
                p = self.participant(pid)
                if p.consent is not Consent.INVITED:
                    CONSENT_MACHINE.next(p.consent, ConsentTrigger.INVITE, subject=p.label)
                    targets.append(pid)
        self._emit(EventType.EM, at, actor, reason,
                   data={"trigger": "propose", "from": self.em.value, "to": new.value,
                         "end": end.isoformat()})
        for pid in targets:
            self._consent(pid, ConsentTrigger.INVITE, at, actor, "invited to the embargo")

    def accept_embargo(self, *, at: datetime, actor: str, reason: str = "") -> None:
        check_aware(at, "at")
        if (self.proposed_end is not None and EM_MACHINE.can(self.em, EMTrigger.ACCEPT)
                and self.proposed_end <= at):
            raise InvalidInput("end", f"the proposed end {self.proposed_end.isoformat()} has "
                               "passed; propose a new end first")
        self._em(EMTrigger.ACCEPT, at, actor, reason)

    def reject_embargo(self, *, at: datetime, actor: str, reason: str = "") -> None:
        was = self.em
        self._em(EMTrigger.REJECT, at, actor, reason)
        if was is EM.PROPOSED:
            for p in list(self.participants.values()):
                if p.consent is Consent.INVITED:
                    self._consent(p.pid, ConsentTrigger.WITHDRAW, at, actor,
                                  "embargo proposal rejected")
                elif p.consent is Consent.SIGNATORY:
                    self._consent(p.pid, ConsentTrigger.LAPSE, at, actor,
                                  "the proposal they signed was rejected")

    def terminate_embargo(self, *, at: datetime, actor: str, reason: str = "") -> None:
        self._em(EMTrigger.TERMINATE, at, actor, reason)
        for p in list(self.participants.values()):
            if p.consent is Consent.SIGNATORY:
                self._consent(p.pid, ConsentTrigger.LAPSE, at, actor, "embargo ended")
            elif p.consent is Consent.INVITED:
                self._consent(p.pid, ConsentTrigger.WITHDRAW, at, actor, "embargo ended")

    def consent(self, pid: int, trigger: ConsentTrigger, *, at: datetime, actor: str,
                reason: str = "") -> None:
        self._check_open(f"embargo {trigger}")
        trigger = ConsentTrigger(trigger)
        if trigger in (ConsentTrigger.INVITE, ConsentTrigger.SIGN) and self.em not in (
                EM.PROPOSED, *EM_IN_FORCE):
            raise DomainError(f"embargo consent: nothing to {trigger.value} on {self.case_id}:"
                              f" EM state is '{self.em.value}' (propose an embargo first)")
        self._consent(pid, trigger, at, actor, reason)

    def record_cs(self, event: cs.CSEvent, vendor: int | None, *, at: datetime, actor: str,
                  reason: str = "") -> None:
        self._check_open(f"event {event}")
        event = cs.CSEvent(event)
        if event in cs.VENDOR_EVENTS:
            if vendor is None:
                raise InvalidInput("vendor", f"event {event.value} ({event.title}) is per "
                                   "vendor; name the vendor participant")
            p = self.participant(vendor)
            if not p.is_vendor:
                raise InvalidInput("vendor", f"{p.label} is not a vendor "
                                   f"(roles: {', '.join(sorted(p.roles))})")
            cs.CS_MACHINE.next(p.vfd | self.pxa, event, subject=p.label)
        else:
            if vendor is not None:
                raise InvalidInput("vendor", f"event {event.value} ({event.title}) is case-wide;"
                                   " do not name a vendor")
            for p in self.vendors:
                cs.CS_MACHINE.next(p.vfd | self.pxa, event, subject=p.label)
            if not self.vendors:
                cs.CS_MACHINE.next(frozenset({cs.CSEvent.V}) | self.pxa, event,
                                   subject=self.case_id)
        self._check_order(at, self.cs_at, "CS", self.case_id)
        self._emit_cs(event, vendor, at, actor, reason, False)
        self._settle_cs(at, actor)

    def contact_attempt(self, pid: int, channel: Channel, outcome: AttemptOutcome, *,
                        at: datetime, actor: str, reason: str = "", address: str = "") -> None:
        self._check_open("contact attempt")
        self.participant(pid)
        self._emit(EventType.CONTACT_ATTEMPT, at, actor, reason, participant=pid,
                   data={"channel": Channel(channel).value,
                         "outcome": AttemptOutcome(outcome).value, "address": address})
        if AttemptOutcome(outcome) is AttemptOutcome.ACKNOWLEDGED:
            self._received_by(pid, at, actor)

    def contact_reply(self, pid: int, channel: Channel, *, at: datetime, actor: str,
                      reason: str = "") -> None:
        self._check_open("contact reply")
        self.participant(pid)
        self._emit(EventType.CONTACT_REPLY, at, actor, reason, participant=pid,
                   data={"channel": Channel(channel).value})
        self._received_by(pid, at, actor)

    def log_message(self, message: Message, *, actor: str,
                    flags: dict[str, list[str]] | None = None) -> None:
        """Record a message; ``flags`` are what text analysis found in it (kind -> phrases)."""
        self._check_open("log message")
        if message.participant is not None:
            self.participant(message.participant)
        for kind in flags or {}:
            SignalKind(kind)
        self._emit(EventType.MESSAGE, message.at, actor, "", participant=message.participant,
                   data={**to_jsonable(message), "flags": flags or {}})

    def observe(self, kind: SignalKind, *, at: datetime, actor: str, text: str = "",
                url: str = "", participant: int | None = None, reason: str = "",
                data: dict[str, Any] | None = None) -> None:
        """Record something seen around the case: a leak, press, a legal letter ..."""
        self._check_open(f"observe {kind}")
        if participant is not None:
            self.participant(participant)
        self._emit(EventType.OBSERVATION, at, actor, reason, participant=participant,
                   data={"kind": SignalKind(kind).value, "text": text, "url": url,
                         **(data or {})})

    def set_policy(self, pid: int, days: int, *, at: datetime, actor: str,
                   reason: str = "") -> None:
        """A participant's own disclosure policy, in days to publication (6.10 row 18)."""
        self._check_open("set policy")
        self.participant(pid)
        if not 0 < days <= 3650:
            raise InvalidInput("days", f"{days} is not a number of days between 1 and 3650")
        self._emit(EventType.PARTICIPANT_POLICY, at, actor, reason, participant=pid,
                   data={"days": days})

    def add_vulnerability(self, vuln: Vulnerability, *, at: datetime, actor: str,
                          reason: str = "") -> None:
        self._check_open("add vulnerability")
        if vuln.cve and any(v.cve == vuln.cve for v in self.vulnerabilities):
            raise InvalidInput("cve", f"{vuln.cve} is already on {self.case_id}")
        self._emit(EventType.VULNERABILITY, at, actor, reason, data=to_jsonable(vuln))

    def close(self, *, at: datetime, actor: str, reason: str = "") -> None:
        self._check_open("close")
        self._emit(EventType.CASE_CLOSED, at, actor, reason, data={"text": "case closed"})

    def reopen(self, *, at: datetime, actor: str, reason: str = "") -> None:
        if self.status is not CaseStatus.CLOSED:
            raise IllegalTransition("case", self.status.value, "reopen", ["close"], self.case_id)
        self._emit(EventType.CASE_REOPENED, at, actor, reason, data={"text": "case reopened"})

    def credit(self, credit: Credit, *, at: datetime, actor: str, reason: str = "") -> None:
        """Record who helped; allowed on closed cases too (credit often comes late)."""
        if credit.participant is not None:
            self.participant(credit.participant)
        self._emit(EventType.CREDIT, at, actor, reason, participant=credit.participant,
                   data=to_jsonable(credit))

    def hand_off(self, coordinator: str, file: str, digest: str, *, at: datetime, actor: str,
                 reason: str = "") -> None:
        """Record that the case was handed to a third-party coordinator (6.9)."""
        self._check_open("hand off")
        self._emit(EventType.HANDOFF, at, actor, reason,
                   data={"coordinator": coordinator, "file": file, "sha256": digest})

    def retrospective(self, retro: Retrospective, *, at: datetime, actor: str) -> None:
        """The three questions, answered; usually when the case closes."""
        self._emit(EventType.RETROSPECTIVE, at, actor, "", data=to_jsonable(retro))

    def note(self, text: str, *, at: datetime, actor: str) -> None:
        if not text.strip():
            raise InvalidInput("text", "must not be empty")
        self._emit(EventType.NOTE, at, actor, "", data={"text": text})

    # ----------------------------------------------------------------- helpers
    def _check_open(self, what: str) -> None:
        if self.status is CaseStatus.CLOSED:
            raise IllegalTransition("case", "closed", what, ["reopen"], self.case_id)

    @staticmethod
    def _check_order(at: datetime, last: datetime | None, model: str, subject: str) -> None:
        check_aware(at, "at")
        if last is not None and at < last:
            raise InvalidInput("at", f"{at.isoformat()} is before the last {model} transition "
                               f"of {subject} ({last.isoformat()}); {model} history runs "
                               "forward in time")

    def _em(self, trigger: EMTrigger, at: datetime, actor: str, reason: str) -> None:
        self._check_open(f"embargo {trigger}")
        new = EM_MACHINE.next(self.em, trigger, subject=self.case_id)
        self._check_order(at, self.em_at, "EM", self.case_id)
        self._emit(EventType.EM, at, actor, reason,
                   data={"trigger": trigger.value, "from": self.em.value, "to": new.value})

    def _consent(self, pid: int, trigger: ConsentTrigger, at: datetime, actor: str,
                 reason: str) -> None:
        p = self.participant(pid)
        new = CONSENT_MACHINE.next(p.consent, trigger, subject=p.label)
        check_aware(at, "at")
        self._emit(EventType.CONSENT, at, actor, reason, participant=pid,
                   data={"trigger": trigger.value, "from": p.consent.value, "to": new.value})

    def _received_by(self, pid: int, at: datetime, actor: str) -> None:
        if self.participants[pid].rm is RM.START:
            self._emit(EventType.RM, at, actor,
                       "a reply shows the participant has the report", participant=pid,
                       data={"trigger": "receive", "from": "start", "to": "received"})

    def _emit_cs(self, event: cs.CSEvent, vendor: int | None, at: datetime, actor: str,
                 reason: str, auto: bool) -> None:
        self._emit(EventType.CS, at, actor, reason, participant=vendor,
                   data={"event": event.value, "title": event.title, "auto": auto})

    def _settle_cs(self, at: datetime, actor: str) -> None:
        """Apply the events the rules force at once (X implies P, P implies V)."""
        if cs.CSEvent.X in self.pxa and cs.CSEvent.P not in self.pxa:
            self._emit_cs(cs.CSEvent.P, None, at, actor,
                          "a public exploit makes the vulnerability public", True)
        if cs.CSEvent.P in self.pxa:
            for p in self.vendors:
                if cs.CSEvent.V not in p.vfd:
                    self._emit_cs(cs.CSEvent.V, p.pid, at, actor,
                                  "public awareness makes the vendor aware", True)

    def _emit(self, type_: EventType, at: datetime, actor: str, reason: str, *,
              participant: int | None = None, data: dict[str, Any]) -> None:
        check_aware(at, "at")
        if not actor.strip():
            raise InvalidInput("actor", "must not be empty")
        event = Event(type_, at, actor, reason, participant, data, seq=self.seq + 1)
        self._apply(event)
        self.pending.append(event)

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
        else:
            self.pxa = self.pxa | {event}
            self.pxa_at[event] = e.at
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

    def _on_nothing(self, e: Event) -> None:
        """Messages and notes are in the log but change no state."""


_APPLY: dict[EventType, Callable[[Case, Event], None]] = {
    EventType.CASE_OPENED: Case._on_opened,
    EventType.CASE_CLOSED: Case._on_closed,
    EventType.CASE_REOPENED: Case._on_reopened,
    EventType.REPORT_RECEIVED: Case._on_report,
    EventType.PARTICIPANT_ADDED: Case._on_participant,
    EventType.RM: Case._on_rm,
    EventType.EM: Case._on_em,
    EventType.CONSENT: Case._on_consent,
    EventType.CS: Case._on_cs,
    EventType.CONTACT_ATTEMPT: Case._on_attempt,
    EventType.CONTACT_REPLY: Case._on_reply,
    EventType.MESSAGE: Case._on_message,
    EventType.OBSERVATION: Case._on_observation,
    EventType.PARTICIPANT_POLICY: Case._on_policy,
    EventType.CREDIT: Case._on_credit,
    EventType.HANDOFF: Case._on_nothing,
    EventType.RETROSPECTIVE: Case._on_retrospective,
    EventType.VULNERABILITY: Case._on_vulnerability,
    EventType.NOTE: Case._on_nothing,
}


def default_embargo_end(case: Case, days: int, at: datetime) -> datetime:
    """The guide's default: ``days`` after the first vendor contact attempt, else after ``at``."""
    check_aware(at, "at")
    firsts = [p.first_attempt_at for p in case.vendors if p.first_attempt_at]
    base = min(firsts) if firsts else at
    end = base + timedelta(days=days)
    if end <= at:
        raise InvalidInput("end", f"the default end ({days} days after the first vendor contact"
                           f" attempt, {base.isoformat()}) has passed; give --end")
    return end
