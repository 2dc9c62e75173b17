"""The case aggregate: the three formal models of one case, folded from its event log.

Commands (``rm``, ``record_cs``, ``propose_embargo`` ...) check the rules, then
emit events; ``_apply`` (cvdesk.domain.state) folds an event into the state and is
the only code that changes it, so replaying a stored log gives exactly the state
the commands saw.  Commands never read the wall clock: ``at`` is always passed in.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from cvdesk.domain import cs
from cvdesk.domain.case_details import DetailCommands
from cvdesk.domain.case_publication import PublicationCommands
from cvdesk.domain.checks import PartyIndex, member
from cvdesk.domain.codec import to_jsonable
from cvdesk.domain.em import (
    CONSENT_MACHINE,
    EM,
    EM_IN_FORCE,
    EM_MACHINE,
    Consent,
    ConsentTrigger,
    EMTrigger,
)
from cvdesk.domain.errors import IllegalTransition, InvalidInput
from cvdesk.domain.events import Event, EventType
from cvdesk.domain.model import (
    TLP,
    AttemptOutcome,
    CaseStatus,
    Channel,
    Credit,
    Direction,
    Message,
    Report,
    Retrospective,
    Role,
    SignalKind,
    Vulnerability,
    check_aware,
)
from cvdesk.domain.rm import RM, RM_MACHINE, RMTrigger
from cvdesk.domain.state import CaseState, ParticipantState

__all__ = ["Case", "CaseState", "ParticipantState", "default_embargo_end"]


class Case(DetailCommands, PublicationCommands):
    """The commands on one case: each checks the models and its input, then emits events;
    a command that is refused emits nothing."""

    # ----------------------------------------------------------------- building
    @classmethod
    def open(cls, case_id: str, title: str, tlp: TLP, *, at: datetime, actor: str,
             reason: str = "") -> Case:
        if not title.strip():
            raise InvalidInput("title", "must not be empty")
        case = cls(case_id)
        case._emit(EventType.CASE_OPENED, at, actor, reason,
                   data={"case_id": case_id, "title": title,
                         "tlp": member(TLP, tlp, "tlp", "TLP").value})
        return case

    @classmethod
    def replay(cls, case_id: str, events: Iterable[Event]) -> Case:
        case = cls(case_id)
        for event in events:
            case._apply(event)
        return case
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
        roles = sorted({member(Role, r, "role", "role") for r in roles})
        if not name.strip():
            raise InvalidInput("name", "must not be empty")
        if not roles:
            raise InvalidInput("role", "give at least one role")
        self._check_new_party(name, email)
        pid = self._party_index().next_pid(self.participants)
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
        trigger = member(RMTrigger, trigger, "trigger", "RM trigger")
        self._check_open(f"rm {trigger}")
        p = self.participant(pid)
        new = RM_MACHINE.next(p.rm, trigger, subject=p.label)
        self._check_order(at, p.rm_at, "RM", p.label)
        self._emit(EventType.RM, at, actor, reason, participant=pid,
                   data={"trigger": trigger.value, "from": p.rm.value, "to": new.value})
        self._aware_by(pid, at, actor, f"the vendor holds the report (RM {new.value})")

    def propose_embargo(self, end: datetime, *, at: datetime, actor: str, reason: str = "",
                        invite: Iterable[int] | None = None,
                        max_days: int | None = None) -> None:
        """Propose an embargo, or a revision of the one in force.  ``max_days`` is the
        longest embargo the desk's policy allows, counted like the default (6.10: 45-90
        days from the first vendor contact attempt); None leaves the end unchecked."""
        self._check_open("embargo propose")
        check_aware(at, "at")
        check_aware(end, "end")
        new = EM_MACHINE.next(self.em, EMTrigger.PROPOSE, subject=self.case_id)
        if end <= at:
            raise InvalidInput("end", f"embargo end {end.isoformat()} is not after the "
                               f"proposal time {at.isoformat()}")
        if max_days is not None:
            self._check_embargo_length(end, at, max_days)
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
        trigger = member(ConsentTrigger, trigger, "trigger", "embargo consent")
        self._check_open(f"embargo {trigger}")
        self.participant(pid)
        if self.em not in (EM.PROPOSED, *EM_IN_FORCE):
            # Consent is to a proposed or agreed embargo; without one there is nothing to
            # sign, decline or leave, so EM names what may happen instead (propose).
            raise IllegalTransition(
                EM_MACHINE.name, self.em.value, f"embargo {trigger.value}",
                [t.value for t in EM_MACHINE.allowed(self.em)], self.case_id)
        self._consent(pid, trigger, at, actor, reason)

    def record_cs(self, event: cs.CSEvent, vendor: int | None, *, at: datetime, actor: str,
                  reason: str = "") -> None:
        event = member(cs.CSEvent, event, "event", "case-state event")
        self._check_open(f"event {event}")
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
        channel = member(Channel, channel, "channel", "channel")
        outcome = member(AttemptOutcome, outcome, "outcome", "outcome")
        self._check_open("contact attempt")
        self.participant(pid)
        self._emit(EventType.CONTACT_ATTEMPT, at, actor, reason, participant=pid,
                   data={"channel": channel.value, "outcome": outcome.value,
                         "address": address})
        if outcome is AttemptOutcome.ACKNOWLEDGED:
            self._received_by(pid, at, actor)

    def contact_reply(self, pid: int, channel: Channel, *, at: datetime, actor: str,
                      reason: str = "") -> None:
        channel = member(Channel, channel, "channel", "channel")
        self._check_open("contact reply")
        self.participant(pid)
        self._emit(EventType.CONTACT_REPLY, at, actor, reason, participant=pid,
                   data={"channel": channel.value})
        self._received_by(pid, at, actor)

    def log_message(self, message: Message, *, actor: str,
                    flags: dict[str, list[str]] | None = None,
                    evidence: dict[str, Any] | None = None) -> None:
        """Record a message; ``flags`` are what text analysis found in it (kind -> phrases),
        ``evidence`` what the channel kept beside it (e.g. a mail's Date header as received)."""
        self._check_open("log message")
        member(Direction, message.direction, "direction", "direction")
        member(Channel, message.channel, "channel", "channel")
        member(TLP, message.tlp, "tlp", "TLP")
        if message.participant is not None:
            self.participant(message.participant)
        for kind in flags or {}:
            member(SignalKind, kind, "flags", "signal kind")
        self._emit(EventType.MESSAGE, message.at, actor, "", participant=message.participant,
                   data={**(evidence or {}), **to_jsonable(message), "flags": flags or {}})

    def observe(self, kind: SignalKind, *, at: datetime, actor: str, text: str = "",
                url: str = "", participant: int | None = None, reason: str = "",
                data: dict[str, Any] | None = None) -> None:
        """Record something seen around the case: a leak, press, a legal letter ..."""
        kind = member(SignalKind, kind, "kind", "observation kind")
        self._check_open(f"observe {kind}")
        if participant is not None:
            self.participant(participant)
        self._emit(EventType.OBSERVATION, at, actor, reason, participant=participant,
                   data={"kind": kind.value, "text": text, "url": url,
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
        member(Role, credit.role, "role", "role")
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

    def assess_ssvc(self, values: dict[str, str | None], *, at: datetime, actor: str,
                    reason: str = "") -> dict[str, str | None]:
        """Record SSVC decision points a person judged (automatable, safety impact ...);
        points the case log answers are refused (cvdesk.domain.ssvc.check_given), and an
        empty value forgets one given before.  Returns the values as stored."""
        from cvdesk.domain.ssvc import check_given  # the SSVC tables load only when used

        self._check_open("ssvc assess")
        checked = check_given(values)
        self._emit(EventType.SSVC_ASSESSED, at, actor, reason, data={"values": checked})
        return checked

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

    def _party_index(self) -> PartyIndex:
        """Built on first use and kept up to date from the participants (never stored)."""
        index: PartyIndex | None = self.__dict__.get("_parties")
        if index is None:
            index = self.__dict__["_parties"] = PartyIndex()
        return index

    def _check_new_party(self, name: str, email: str) -> None:
        """One party is one participant (its RM state, consent and contact log are one)."""
        found = self._party_index().find(self.participants, name, email)
        if found is not None:
            p, by = found
            what = f"'{name.strip()}'" if by == "name" else f"address {email.strip()}"
            raise InvalidInput(by, f"{what} is already on the case as p{p.pid} ({p.name}); "
                               "name that participant instead")

    def _check_embargo_length(self, end: datetime, at: datetime, max_days: int) -> None:
        firsts = [p.first_attempt_at for p in self.vendors if p.first_attempt_at]
        base, since = ((min(firsts), "the first vendor contact attempt") if firsts
                       else (at, "the proposal"))
        latest = base + timedelta(days=max_days)
        if end > latest:
            raise InvalidInput("end", f"embargo end {end.isoformat()} is more than the maximum "
                               f"of {max_days} days (policy embargo_max_days) after {since} "
                               f"({base.isoformat()}); the latest end allowed is "
                               f"{latest.isoformat()}")

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
        self._aware_by(pid, at, actor, "a reply shows the vendor knows of it")

    def _aware_by(self, pid: int, at: datetime, actor: str, why: str) -> None:
        """A vendor that replied, or whose RM left 'start', is aware (Vultron ties RM
        received to CS V): record V then, so that a later P neither dates V at P's time
        nor reads as the vendor learning of it from the public."""
        p = self.participants[pid]
        if p.is_vendor and cs.CSEvent.V not in p.vfd:
            cs.CS_MACHINE.next(p.vfd | self.pxa, cs.CSEvent.V, subject=p.label)
            self._emit_cs(cs.CSEvent.V, pid, at, actor, why, True)

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
        if self.opened_at is not None and at < self.opened_at:
            raise InvalidInput("at", f"{at.isoformat()} is before {self.case_id} was opened "
                               f"({self.opened_at.isoformat()}); a report that arrived "
                               "earlier is entered with its own time (report submit --at)")
        if not actor.strip():
            raise InvalidInput("actor", "must not be empty")
        event = Event(type_, at, actor, reason, participant, data, seq=self.seq + 1)
        self._apply(event)
        self.pending.append(event)


def default_embargo_end(case: Case, days: int, at: datetime) -> datetime:
    """The guide's default: ``days`` after the first vendor contact attempt, else after ``at``."""
    check_aware(at, "at")
    firsts = [p.first_attempt_at for p in case.vendors if p.first_attempt_at]
    base = min(firsts) if firsts else at
    end = base + timedelta(days=days)
    if end <= at:
        raise InvalidInput("end", f"the default end ({days} days after the first vendor contact"
                           f" attempt, {base.isoformat()}) has passed; give an end date")
    return end
