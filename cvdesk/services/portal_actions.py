"""What participants do on the web desk (issue 11): the writes behind the case page's
forms and the API, each checked against the one acting.

The coordinator runs the case (guide 4.x: events, embargo, participants, notices, the
contact log, notes, publication); a vendor gives its own statement per vulnerability
and answers the coordinator; a reporter answers in its own thread.  Every write here:

- refuses a read-only API token (``require_write``), then asks the accounts service
  what the principal may do in the case (a case it takes no part in is "not found");
- logs the principal (``Principal.actor``) as the actor of every event it writes;
- refuses a stale write: the form or API body carries the case ``version`` it was read
  at, and a case that has changed since is a Conflict (409), nothing written;
- writes an audit entry (who, what, which case, from which address).

The work itself is the existing services', run with a case service that acts for the
principal (``ActingCases``): the same domain rules as the command line.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cvdesk.domain.accounts import CaseAccess, Principal, require_staff, require_write
from cvdesk.domain.checks import choose, member
from cvdesk.domain.cs import CSEvent
from cvdesk.domain.em import EM_IN_FORCE, EM_MACHINE
from cvdesk.domain.errors import Conflict, IllegalTransition, InvalidInput, NotAllowed
from cvdesk.domain.model import AttemptOutcome, Channel, Direction, Message, Role
from cvdesk.services.cases import CaseService

if TYPE_CHECKING:
    from cvdesk.domain.case import Case
    from cvdesk.services.accounts import AccountService, Page
    from cvdesk.services.publication_views import DraftView
    from cvdesk.services.views import ShownFinding

#: What the embargo form can do: propose one, accept the proposal, propose a later end
#: for the one in force (EM "revise", accepted like a proposal), reject a proposal or
#: revision, end the embargo now.
EMBARGO_ACTIONS = ("propose", "accept", "extend", "reject", "end")
#: The notices a coordinator may send from the case page (the publication notices are
#: sent by publishing, with the advisory in them).
NOTICES = ("new-case", "reminder", "embargo-proposal")
#: Messages written on the desk travel on the desk's own platform.
DESK_CHANNEL = Channel.PLATFORM
MAX_SUBJECT = 300
MAX_TEXT = 100_000


class StaleVersion(Conflict):
    """The case changed after the person read it: their form was filled in against a
    state that is gone.  Reading the case again shows what changed."""

    def __init__(self, case_id: str, expected: int, stored: int) -> None:
        self.field = "version"
        self.problem = (f"the case changed since it was read (read at version {expected}, "
                        f"now {stored}); read it again and retry")
        self.expected, self.stored = expected, stored
        super().__init__(f"{case_id}: {self.problem}")


class ActingCases(CaseService):
    """The case service for one principal's request: what it writes is logged under
    ``actor``, and its first write to a case is refused (StaleVersion) unless the case
    is still at ``expected`` (the version the person read).  The check runs inside the
    write's own transaction, on the case as loaded for update, so no other write can
    slip between the check and the save."""

    def __init__(self, base: CaseService, actor: str, expected: int | None) -> None:
        super().__init__(base.db, base.settings, base.clock)
        self._who = actor
        self._expected = expected
        self.version: int | None = None  # the case's version after the last write

    def actor(self, actor: str | None) -> str:
        return actor or self._who

    def check(self, case_id: str, stored: int) -> None:
        expected, self._expected = self._expected, None
        if expected is not None and expected != stored:
            raise StaleVersion(case_id, expected, stored)

    @contextmanager
    def case(self, case_id: str) -> Iterator[Case]:
        with super().case(case_id) as case:
            self.check(case.case_id, case.seq)
            yield case
        self.version = case.seq


@dataclass(frozen=True, slots=True)
class Done:
    """What a write did: the case's version after it (the next write's ``version``) and
    a sentence for the person."""

    case_id: str
    action: str
    version: int
    message: str
    data: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "action": self.action, "version": self.version,
                "message": self.message, **({"result": self.data} if self.data else {})}


class PortalActions:
    def __init__(self, cases: CaseService, accounts: AccountService) -> None:
        self.cases = cases
        self.accounts = accounts
        self.db = cases.db

    # ------------------------------------------------------------ plumbing
    def _allow(self, principal: Principal, case_id: str, what: str, *,
               staff: bool = False) -> tuple[str, CaseAccess]:
        require_write(principal, what)
        case_id = case_id.strip().upper()
        access = self.accounts.access(principal, case_id)  # CaseHidden: answered 404
        if staff:
            require_staff(principal, what)
        return case_id, access

    def _acting(self, principal: Principal, version: int | None) -> ActingCases:
        if version is None:
            raise InvalidInput("version", "give the case version the form was read at")
        return ActingCases(self.cases, principal.actor, version)

    def _done(self, principal: Principal, acting: ActingCases, case_id: str, action: str,
              message: str, *, target: str = "", address: str = "",
              data: dict[str, Any] | None = None) -> Done:
        self.accounts.audit(principal, action, case_id=case_id, target=target,
                            address=address)
        version = acting.version if acting.version is not None else self._version(case_id)
        return Done(case_id, action, version, message, data)

    def _version(self, case_id: str) -> int:
        from cvdesk.store.cases import CaseRepository

        with self.db.sessions() as session:
            return CaseRepository(session).case_row(case_id).version

    def _precheck(self, acting: ActingCases, case_id: str) -> None:
        """For the services that load the case themselves (mail, publication): compare
        first, in a read of its own.  A write landing in the moment between is still
        refused by the store's own version check."""
        acting.check(case_id, self._version(case_id))

    # ------------------------------------------------------------ coordinator
    def record_event(self, principal: Principal, case_id: str, version: int | None,
                     event: str, *, vendor: str | None = None, reason: str = "",
                     address: str = "") -> Done:
        """A case-state event (V F D per vendor, P X A case-wide), implied ones too."""
        case_id, _ = self._allow(principal, case_id, "case-state event", staff=True)
        ev = member(CSEvent, (event or "").strip().upper(), "event", "case-state event")
        acting = self._acting(principal, version)
        written = acting.record_cs(case_id, ev, vendor or None, reason=reason)
        return self._done(principal, acting, case_id, "case-state event", (
            f"recorded {', '.join(e.summary() for e in written)}"),
            target=f"{ev.value}" + (f" {vendor}" if vendor else ""), address=address)

    def embargo(self, principal: Principal, case_id: str, version: int | None,
                action: str, *, end: datetime | None = None, reason: str = "",
                address: str = "") -> Done:
        """Propose, accept, extend (a later end for the one in force), reject or end the
        case's embargo (guide 4.x, 6.10: the end is agreed, extensions too)."""
        case_id, _ = self._allow(principal, case_id, "embargo", staff=True)
        action = choose(EMBARGO_ACTIONS, (action or "").strip(), "action", "embargo action")
        acting = self._acting(principal, version)
        if action in ("propose", "extend"):
            if action == "extend":  # a proposal without an end takes the policy's default
                self._check_extension(case_id, end)
            chosen = acting.propose_embargo(case_id, end, reason=reason)
            message = (f"proposed {'a later end' if action == 'extend' else 'an embargo'} "
                       f"until {chosen.isoformat()}")
        else:
            command = {"accept": "accept", "reject": "reject", "end": "terminate"}[action]
            state = acting.embargo(case_id, command, reason=reason)
            message = f"embargo {action}: now {state}"
        return self._done(principal, acting, case_id, f"embargo {action}", message,
                          address=address)

    def _check_extension(self, case_id: str, end: datetime | None) -> None:
        case = self.cases.replay(case_id)
        if case.em not in EM_IN_FORCE:  # the case's state refuses it (409), as EM would
            raise IllegalTransition(EM_MACHINE.name, case.em.value, "extend",
                                    [t.value for t in EM_MACHINE.allowed(case.em)], case_id)
        if end is None:
            raise InvalidInput("end", "give the new end of the embargo")
        if case.embargo_end is not None and end <= case.embargo_end:
            raise InvalidInput("end", f"{end.isoformat()} is not after the current end "
                               f"{case.embargo_end.isoformat()}")

    def add_participant(self, principal: Principal, case_id: str, version: int | None,
                        name: str, *, role: str = "vendor", email: str = "",
                        organization: str = "", reason: str = "", address: str = "") -> Done:
        case_id, _ = self._allow(principal, case_id, "add participant", staff=True)
        roles = [member(Role, role or "vendor", "role", "role")]
        if email.strip():
            from cvdesk.domain.model import check_email

            check_email(email.strip(), "e-mail")
        acting = self._acting(principal, version)
        pid = acting.add_participant(case_id, name.strip(), roles, email=email.strip(),
                                     organization=organization.strip(), reason=reason)
        return self._done(principal, acting, case_id, "add participant",
                          f"added p{pid} {name.strip()}", target=f"p{pid}", address=address,
                          data={"participant": pid})

    def notify(self, principal: Principal, case_id: str, version: int | None,
               participants: Iterable[str] | None = None, *, template: str = "new-case",
               key: str = "", address: str = "") -> Done:
        """Queue a notice to the named participants, or to every vendor (the outbox
        sends it; one notice per participant and template unless ``key`` differs)."""
        from cvdesk.services.mail import MailService

        case_id, _ = self._allow(principal, case_id, "notify", staff=True)
        template = choose(NOTICES, (template or "").strip(), "template", "notice")
        people = [p.strip() for p in participants or () if p.strip()] or None
        acting = self._acting(principal, version)
        self._precheck(acting, case_id)
        queued = MailService(acting).queue(case_id, people, template, key=key.strip())
        new = [q for q in queued if q.new]
        return self._done(principal, acting, case_id, "notify", (
            f"queued {len(new)} message(s)" + (f"; {len(queued) - len(new)} already "
                                               "queued before" if len(queued) > len(new)
                                               else "")),
            target=template, address=address,
            data={"queued": [{"participant": q.participant, "recipient": q.recipient,
                              "new": q.new} for q in queued]})

    def contact_attempt(self, principal: Principal, case_id: str, version: int | None,
                        participant: str, channel: str, outcome: str, *,
                        address_used: str = "", at: datetime | None = None,
                        reason: str = "", address: str = "") -> Done:
        """A contact attempt the coordinator made outside the desk (a call, a web form),
        for the contact log the troubleshooting rules read (6.2)."""
        case_id, _ = self._allow(principal, case_id, "contact attempt", staff=True)
        ch = member(Channel, channel, "channel", "channel")
        out = member(AttemptOutcome, outcome, "outcome", "outcome")
        acting = self._acting(principal, version)
        count = acting.contact_attempt(case_id, _required(participant, "participant"), ch,
                                       out, address=address_used.strip(), at=at,
                                       reason=reason)
        return self._done(principal, acting, case_id, "contact attempt",
                          f"logged attempt {count} to {participant.strip()}",
                          target=participant.strip(), address=address)

    def note(self, principal: Principal, case_id: str, version: int | None, text: str, *,
             address: str = "") -> Done:
        case_id, _ = self._allow(principal, case_id, "note", staff=True)
        acting = self._acting(principal, version)
        acting.note(case_id, _text(text, "note"))
        return self._done(principal, acting, case_id, "note", "note added", address=address)

    def preview_advisory(self, principal: Principal, case_id: str,
                         formats: Iterable[str] = (), *, address: str = "") -> DraftView:
        """The advisory as it would be published now, in each format asked for (nothing
        is written).  It holds embargoed details: staff only, and the read is audited."""
        from cvdesk.services.publication import PublicationService

        case_id, _ = self._allow_read(principal, case_id, "advisory preview")
        draft = PublicationService(self.cases).draft(case_id, list(formats))
        self.accounts.audit(principal, "advisory preview", case_id=case_id,
                            target=",".join(d.format for d in draft.documents),
                            address=address)
        return draft

    def _allow_read(self, principal: Principal, case_id: str, what: str,
                    ) -> tuple[str, CaseAccess]:
        case_id = case_id.strip().upper()
        access = self.accounts.access(principal, case_id)
        require_staff(principal, what)
        return case_id, access

    def publish(self, principal: Principal, case_id: str, version: int | None,
                formats: Iterable[str] = (), *, summary: str = "", early: bool = False,
                reason: str = "", address: str = "") -> Done:
        """Publish the next version of the advisory (before the embargo end only
        ``early`` with a reason, 6.9)."""
        from cvdesk.services.publication import PublicationService

        case_id, _ = self._allow(principal, case_id, "publish", staff=True)
        acting = self._acting(principal, version)
        self._precheck(acting, case_id)
        published = PublicationService(acting).publish(
            case_id, list(formats), summary=summary, early=early, reason=reason)
        return self._done(principal, acting, case_id, "publish",
                          f"published version {published.version}",
                          target=f"v{published.version}", address=address,
                          data=published.to_json())

    # ------------------------------------------------------------ vendor
    def statement(self, principal: Principal, case_id: str, version: int | None,
                  vulnerability: str, product: str, status: str, *,
                  justification: str | None = None, fixed_version: str = "",
                  statement: str = "", vendor: str | None = None, reason: str = "",
                  address: str = "") -> Done:
        """A vendor's status for one product and one vulnerability, in its own words.
        A coordinator may enter one for a named vendor: it is marked as entered on the
        vendor's behalf until the vendor confirms it."""
        case_id, access = self._allow(principal, case_id, "statement")
        who = self._as_participant(access, vendor, "vendor", vendor_only=True)
        acting = self._acting(principal, version)
        view = acting.record_statement(
            case_id, who, vulnerability.strip(), product.strip(), status.strip(),
            justification=(justification or "").strip() or None,
            fixed_version=fixed_version.strip(), statement=statement.strip(),
            on_behalf=access.staff, reason=reason)
        return self._done(principal, acting, case_id, "statement",
                          f"statement on {view.product} for {view.vulnerability}",
                          target=f"p{view.participant} {view.vulnerability}",
                          address=address, data=view.to_json())

    def confirm_statement(self, principal: Principal, case_id: str, version: int | None,
                          vulnerability: str, product: str, *, vendor: str | None = None,
                          address: str = "") -> Done:
        """The vendor takes a statement entered on its behalf as its own words."""
        case_id, access = self._allow(principal, case_id, "confirm statement")
        if access.staff:
            raise NotAllowed("confirm statement: only the vendor itself may confirm it")
        who = self._as_participant(access, vendor, "vendor", vendor_only=True)
        acting = self._acting(principal, version)
        view = acting.confirm_statement(case_id, who, vulnerability.strip(), product.strip())
        return self._done(principal, acting, case_id, "confirm statement",
                          f"confirmed the statement on {view.product} for "
                          f"{view.vulnerability}",
                          target=f"p{view.participant} {view.vulnerability}",
                          address=address, data=view.to_json())

    # ------------------------------------------------------------ messages
    def message(self, principal: Principal, case_id: str, version: int | None, body: str,
                *, subject: str = "", participant: str | None = None,
                address: str = "") -> Done:
        """A message in a participant's private thread.  From a vendor or reporter it is
        their reply to the coordinator and goes on the contact log as a reply, the way a
        reply by e-mail does (services/inbound.py); from the coordinator it is a message
        to that participant (or, naming nobody, to the whole case)."""
        from cvdesk.troubleshoot.text import analyze

        case_id, access = self._allow(principal, case_id, "message")
        body = _text(body, "message")
        subject = subject.strip()
        if len(subject) > MAX_SUBJECT:
            raise InvalidInput("subject", f"at most {MAX_SUBJECT} characters")
        ref = (participant or "").strip() or None
        if not access.staff:
            ref = self._as_participant(access, ref, "participant", vendor_only=False)
        acting = self._acting(principal, version)
        at = acting.when(None)
        with acting.case(case_id) as case:
            pid = case.find_participant(ref).pid if ref is not None else None
            inbound = not access.staff
            message = Message(f"<{uuid.uuid4()}@cvdesk>",
                              Direction.INBOUND if inbound else Direction.OUTBOUND, at,
                              DESK_CHANNEL, subject or f"Re: {case.title}"[:MAX_SUBJECT],
                              body, pid, case.tlp)
            flags = analyze(f"{message.subject}\n{body}") if inbound else {}
            case.log_message(message, actor=principal.actor, flags=flags)
            if inbound and pid is not None:
                case.contact_reply(pid, DESK_CHANNEL, at=at, actor=principal.actor,
                                   reason=f"message {message.message_id} on the desk")
        where = f"p{pid}" if pid is not None else "the case"
        return self._done(principal, acting, case_id, "message",
                          f"message {'from' if not access.staff else 'to'} {where} logged",
                          target=where, address=address,
                          data={"message_id": message.message_id, "participant": pid})

    @staticmethod
    def _as_participant(access: CaseAccess, wanted: str | None, field: str, *,
                        vendor_only: bool) -> str:
        """The participant a principal acts as.  Staff name any one; a vendor or
        reporter acts only as its own, named by number when it has several."""
        wanted = (wanted or "").strip() or None
        if access.staff:
            if wanted is None:
                raise InvalidInput(field, "name the participant (number, e.g. p3, or name)")
            return wanted
        if vendor_only and not access.is_vendor:
            raise NotAllowed(f"{field}: only the vendor itself or a coordinator may do this")
        own = sorted(access.pids)
        if wanted is None:
            if len(own) != 1:
                raise InvalidInput(field, "you take part as several participants ("
                                   + ", ".join(f"p{p}" for p in own) + "); name one")
            return f"p{own[0]}"
        digits = wanted[1:] if wanted[:1] in "pP" else wanted
        if not digits.isdigit() or int(digits) not in own:
            raise NotAllowed(f"{field}: you may act only as your own participant ("
                             + ", ".join(f"p{p}" for p in own) + ")")
        return f"p{int(digits)}"

    # ------------------------------------------------------------ dashboard
    def findings(self, principal: Principal, *, offset: int = 0, limit: int = 50,
                 address: str = "") -> Page:
        """The troubleshooting findings across the principal's cases, most urgent first
        (a view showing findings of embargoed cases is audited)."""
        from cvdesk.services.dashboard import Dashboard

        return Dashboard(self.cases, self.accounts).findings(principal, offset=offset,
                                                             limit=limit, address=address)

    def handle_finding(self, principal: Principal, finding_id: int, action: str, *,
                       reason: str, until: datetime | None = None,
                       address: str = "") -> ShownFinding:
        from cvdesk.services.dashboard import Dashboard

        return Dashboard(self.cases, self.accounts).handle(
            principal, finding_id, action, reason=reason, until=until, address=address)

    def sweep(self, principal: Principal, *, address: str = "") -> int:
        from cvdesk.services.dashboard import Dashboard

        return Dashboard(self.cases, self.accounts).sweep(principal, address=address)


def _required(value: str | None, field: str) -> str:
    if not value or not value.strip():
        raise InvalidInput(field, "must not be empty")
    return value.strip()


def _text(value: str | None, field: str) -> str:
    text = _required(value, field)
    if len(text) > MAX_TEXT:
        raise InvalidInput(field, f"at most {MAX_TEXT} characters (this one has {len(text)})")
    return text
