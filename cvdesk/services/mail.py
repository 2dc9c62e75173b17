"""Outbound e-mail: every message goes into the outbox in the same transaction as the case
event that records it; the worker (services/worker.py) delivers it.  The SQL lives in
store/outbox.py (the queue) and store/directory.py (the recipients' contacts)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cvdesk.channels.mail import TEMPLATES, BadAddress, Composer, render
from cvdesk.channels.openpgp import OpenPGPError
from cvdesk.domain.case import Case, ParticipantState
from cvdesk.domain.errors import InvalidInput
from cvdesk.domain.model import Channel, Direction, Message, Role
from cvdesk.services.cases import CaseService
from cvdesk.services.collector import collector_paused
from cvdesk.services.progress import Progress, quiet
from cvdesk.store.cases import CaseRepository
from cvdesk.store.directory import DirectoryEntry, DirectoryRepository, organization_key
from cvdesk.store.outbox import PENDING, STATES, OutboxRepository

#: queue() reports progress every this many participants (a bar needs no more).
PROGRESS_EVERY = 50


@dataclass(frozen=True)
class Queued:
    participant: int
    recipient: str
    message_id: str
    new: bool  # False when the idempotency key was already queued


@dataclass(frozen=True)
class OutboxEntry:
    """One message in the outbox and where its delivery stands."""

    id: int
    case_id: str | None
    participant: int
    recipient: str
    template: str
    status: str
    attempts: int
    in_doubt: bool
    message_id: str
    last_error: str
    sent_at: datetime | None


def check_outbox_status(status: str | None) -> None:
    """A delivery state asked for must be one (a typo would list nothing, silently)."""
    if status and status not in STATES:
        raise InvalidInput("status", f"'{status}' is not one of {', '.join(STATES)}")


def outbox_entries(cases: CaseService, *, status: str | None = None,
                   case_id: str | None = None) -> list[OutboxEntry]:
    """The outbox in queue order, optionally of one delivery state or one case.  Needs no
    sender address, unlike queueing."""
    check_outbox_status(status)
    with cases.db.sessions() as s:
        return [OutboxEntry(*r) for r in
                OutboxRepository(s).entries(status=status, case_id=case_id)]


class MailService:
    def __init__(self, cases: CaseService) -> None:
        self.cases = cases
        self.db = cases.db
        smtp, desk = cases.settings.smtp, cases.settings.desk
        self.sender = smtp.sender or desk.email
        self.domain = smtp.domain or (self.sender.split("@")[-1] if "@" in self.sender
                                      else "cvdesk.invalid")

    def queue(self, case_id: str, participants: Iterable[str] | None, template: str, *,
              key: str = "", values: dict[str, str] | None = None,
              progress: Progress = quiet) -> list[Queued]:
        """Queue ``template`` to each participant (default: every vendor with an address).

        One transaction for the whole batch; ``key`` makes a repeat a no-op (default: one
        message per case, template and participant).  ``progress`` hears (participants
        done, participants in all) every ``PROGRESS_EVERY`` participants and at the end."""
        if template not in TEMPLATES:
            raise InvalidInput("template", f"'{template}' is not one of "
                               f"{', '.join(TEMPLATES)}")
        if not self.sender:
            raise InvalidInput("smtp.sender", "no sender address: set smtp.sender or "
                               "desk.email in the settings")
        at = self.cases.when(None)
        who = self.cases.actor(None)
        done: list[Queued] = []
        with collector_paused(), self.db.transaction() as session:
            repo = CaseRepository(session)
            row, case = repo.load(case_id)
            people = ([case.find_participant(p) for p in participants] if participants
                      is not None else [p for p in case.vendors if Role.VENDOR in p.roles])
            keys = _keys(case, people, template, key)
            outbox_repo = OutboxRepository(session)
            taken = outbox_repo.taken(keys.values()) if keys else set()
            todo = [p for p in people if keys[p.pid] not in taken]
            # The directory's contacts of every recipient, read at once rather than per
            # recipient.
            directory = (DirectoryRepository(session).contacts_by_key(
                _org_key(p) for p in todo) if todo else {})
            common = {
                "desk": self.cases.settings.desk.name, "title": case.title,
                "embargo_end": case.embargo_end.isoformat() if case.embargo_end
                else "(no date agreed yet)",
                "days": str(self.cases.settings.policy.embargo_default_days)}
            composer = Composer(sender=self.sender, case_id=case.case_id,
                                tlp=case.tlp.value, at=at, domain=self.domain)
            outbox: list[dict[str, Any]] = []
            total = len(people)
            progress(0, total)
            for p in people:
                if len(done) % PROGRESS_EVERY == 0 and done:
                    progress(len(done), total)
                if keys[p.pid] in taken:
                    done.append(Queued(p.pid, "", "", False))
                    continue
                address, public_key = _address(p, directory.get(_org_key(p), []))
                subject, body = render(template, {"name": p.name, **common, **(values or {})})
                try:
                    message_id, raw = composer.message(recipient=address, subject=subject,
                                                       body=body, public_key=public_key)
                except OpenPGPError as exc:
                    raise key_refused(p, exc) from None
                except BadAddress as exc:
                    raise address_refused(p, exc) from None
                case.log_message(Message(message_id, Direction.OUTBOUND, at, Channel.EMAIL,
                                         subject, body, p.pid, case.tlp),
                                 actor=who)
                outbox.append(dict(
                    idempotency_key=keys[p.pid], case_pk=row.id, participant=p.pid,
                    template=template, sender=self.sender, recipient=address,
                    message_id=message_id, raw=raw, status=PENDING, attempts=0,
                    next_attempt_at=at, created_at=at, worker="", last_error="",
                    in_doubt=False, logged=False))
                done.append(Queued(p.pid, address, message_id, True))
            outbox_repo.add(outbox)
            repo.save(row, case)
        if total:
            progress(total, total)
        return done

    def outbox(self, *, status: str | None = None, case_id: str | None = None,
               ) -> list[OutboxEntry]:
        return outbox_entries(self.cases, status=status, case_id=case_id)


def _org_key(p: ParticipantState) -> str:
    return organization_key(p.organization or p.name)


def _address(p: ParticipantState, contacts: list[DirectoryEntry]) -> tuple[str, str]:
    """The participant's e-mail address and, when the directory has it, an OpenPGP key.

    ``contacts`` come oldest first: among equally good addresses (checked beats unchecked,
    anything beats a guessed fallback) the oldest wins, as does the oldest key."""
    emails = sorted((c for c in contacts if c.kind == "email"),
                    key=lambda c: (c.verified_at is None, c.source == "fallback"))
    address = p.email or (emails[0].value if emails else "")
    if not address:
        raise InvalidInput("participant", f"{p.label} has no e-mail address; add one "
                           "(participant add --email, or contact add)")
    key = next((c.details["armored"] for c in contacts
                if c.kind == "pgp-key" and c.details and c.details.get("armored")), "")
    return address, key


def address_refused(p: ParticipantState, exc: Exception) -> InvalidInput:
    """The error for a recipient whose address on file cannot go into a header (stored
    before addresses were checked whole): nothing is queued."""
    return InvalidInput("email", f"{exc}: correct the address of {p.name} (participant "
                        "or directory contact); nothing was queued")


def key_refused(p: ParticipantState, exc: Exception) -> InvalidInput:
    """The error for a recipient whose OpenPGP key on file cannot be used: nothing is
    queued (sending in clear instead would ignore the key the vendor gave)."""
    return InvalidInput("pgp-key", f"the OpenPGP key on file for {p.organization or p.name} "
                        f"cannot be used ({exc}); correct or remove that contact in the "
                        "directory (nothing was queued)")


def _keys(case: Case, people: list[ParticipantState], template: str, key: str,
          ) -> dict[int, str]:
    return {p.pid: f"{case.case_id}/{template}/p{p.pid}" + (f"/{key}" if key else "")
            for p in people}
