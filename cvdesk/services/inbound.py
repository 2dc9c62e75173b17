"""Inbound e-mail: file each message on its case and participant, or quarantine it.

A reply is matched by the Message-IDs it refers to (one of ours in the outbox, or the
case's thread id), else by the case tag in its subject; the participant by the outbox
recipient or the sender's address.  Filing is one transaction: the message event, the
reply on the contact log (what the troubleshooting rules read), the attachments.
Mail that cannot be filed is kept whole in the quarantine with the reason.

``receive`` raises only when the database cannot store anything right now (the
connection, a lock, a serialization conflict), so that the listener answers 451 and the
sending server retries.  Whatever fails the same way every time (a message the desk
cannot read, a value the database refuses) is quarantined, never retried forever.
The queries, and the judgement of which database failures pass, are in store/inbound.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cvdesk.channels.inbound import CASE_TAG, InboundMail, MalformedMail, parse
from cvdesk.domain.case import Case
from cvdesk.domain.errors import DomainError, InvalidInput, NotFound
from cvdesk.domain.model import CaseStatus, Channel, Direction, Message
from cvdesk.services.cases import CaseService
from cvdesk.store.cases import CaseRepository, ConcurrentUpdate
from cvdesk.store.directory import organization_key
from cvdesk.store.inbound import InboundRepository, failure, transient, write_race
from cvdesk.troubleshoot.text import analyze

#: How far a Date header may run ahead of the desk's clock (senders' clocks drift).
DATE_SKEW = timedelta(minutes=15)
#: Tries when another writer got there first (the same case, or the same message).
ATTEMPTS = 3


@dataclass(frozen=True)
class Outcome:
    filed: bool
    case_id: str = ""
    participant: int | None = None
    message_id: str = ""
    reason: str = ""  # why it was quarantined
    duplicate: bool = False


@dataclass(frozen=True)
class Quarantined:
    """One message in the quarantine, without its raw bytes (only their size)."""

    id: int
    received_at: datetime
    source: str
    reason: str
    message_id: str
    sender: str
    subject: str
    size: int


@dataclass(frozen=True)
class QuarantinedMail(Quarantined):
    """A quarantined message with its bytes, exactly as they arrived."""

    raw: bytes


class InboundService:
    def __init__(self, cases: CaseService) -> None:
        self.cases = cases
        self.db = cases.db

    def _keys(self) -> list[tuple[str, str]]:
        mail = self.cases.settings.mail
        if not mail.private_key_file:
            return []
        try:
            armoured = Path(mail.private_key_file).read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise MalformedMail(f"the desk's private key file cannot be read "
                                f"({mail.private_key_file}: {exc})") from None
        return [(armoured, mail.passphrase)]

    def receive(self, raw: bytes, source: str) -> Outcome:
        raw = bytes(raw)
        received = self.cases.clock()
        try:
            mail = parse(raw, self._keys)
        except MalformedMail as exc:
            return self._quarantine(raw, source, f"malformed: {exc}", None, received)
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return self._receive(mail, received)
            except _Unmatched as exc:
                return self._quarantine(raw, source, str(exc), mail, received)
            except Exception as exc:
                if write_race(exc):
                    # Another writer filed on the case, or this very message, meanwhile:
                    # look again (a second copy then shows up as a duplicate).
                    if attempt < ATTEMPTS:
                        continue
                    if isinstance(exc, ConcurrentUpdate):
                        raise
                elif transient(exc):
                    raise
                return self._quarantine(raw, source, f"cannot be stored: {failure(exc)}",
                                        mail, received)
        raise AssertionError("unreachable")

    def _receive(self, mail: InboundMail, received: datetime) -> Outcome:
        with self.db.sessions() as s:
            repo = InboundRepository(s)
            if self._same_as_filed(repo, mail):
                return Outcome(True, message_id=mail.message_id, duplicate=True)
            case_id, pid, why = self._match(repo, mail)
        if not case_id:
            raise _Unmatched(why)
        return self._file(mail, case_id, pid, why, received)

    def _same_as_filed(self, repo: InboundRepository, mail: InboundMail) -> bool:
        """True for a copy of a message already filed; _Unmatched for another message
        under a Message-ID already taken (it is kept for a person, never dropped)."""
        known = repo.filed(mail.message_id)
        if known is None:
            return False
        taken = f"Message-ID {mail.message_id} is already on {known.case_id}"
        if known.direction != Direction.INBOUND.value:
            raise _Unmatched(f"{taken} as a message the desk sent; a copy of our own mail "
                             "is not a reply")
        events = repo.message_entries(known.case_pk, known.participant)
        filed = next(((actor, data) for actor, data in events
                      if _stored(data.get("message_id")) == _stored(mail.message_id)), None)
        if filed is None:
            raise _Unmatched(f"{taken}; its log entry cannot be compared")
        actor, data = filed
        if _stored(actor) != _stored(_actor(mail)):
            raise _Unmatched(f"{taken} from {actor.removeprefix('mail:')}; this copy comes "
                             f"from {mail.sender}")
        same = (data["fingerprint"] == mail.fingerprint() if data.get("fingerprint")
                else _stored(data.get("body")) == _stored(mail.text))
        if not same:
            raise _Unmatched(f"{taken} with a different text or attachments")
        return True

    # ------------------------------------------------------------ matching
    def _match(self, repo: InboundRepository, mail: InboundMail,
               ) -> tuple[str, int | None, str]:
        for ref in mail.references:
            hit = repo.sent_message(ref)
            if hit:
                same = hit.recipient.lower() == mail.sender
                return hit.case_id, hit.participant if same else None, f"reply to {ref}"
        for ref in mail.references:
            tag = CASE_TAG.search(f"[{ref.strip('<>').split('@')[0]}]")
            if tag and repo.case_exists(tag.group(1).upper()):
                return tag.group(1).upper(), None, f"in the thread {ref}"
        if mail.case_tag and repo.case_exists(mail.case_tag):
            return mail.case_tag, None, f"case tag [{mail.case_tag}] in the subject"
        return "", None, "no known case: no reply to a message of ours and no case tag"

    def _sender_pid(self, repo: InboundRepository, case: Case, sender: str) -> int | None:
        for p in case.participants.values():
            if p.email.lower() == sender:
                return p.pid
        org_keys = {organization_key(p.organization or p.name): p.pid
                    for p in case.participants.values()}
        for key in repo.address_owners(sender):
            if key in org_keys:
                return org_keys[key]
        return None

    # ------------------------------------------------------------ filing
    def _file(self, mail: InboundMail, case_id: str, pid: int | None, why: str,
              received: datetime) -> Outcome:
        with self.db.transaction() as session:
            repo = CaseRepository(session)
            try:
                row, case = repo.load(case_id)
            except NotFound as exc:
                raise _Unmatched(f"{exc} ({why})") from None
            if case.status is CaseStatus.CLOSED:
                raise _Unmatched(f"{case_id} is closed ({why})")
            pid = (pid if pid is not None
                   else self._sender_pid(InboundRepository(session), case, mail.sender))
            if pid is None:
                raise _Unmatched(f"{mail.sender} is not a participant of {case_id} ({why})")
            at, date_note = when(mail, case.opened_at, received)
            try:
                self._log(case, mail, pid, at, date_note)
            except InvalidInput as exc:
                if exc.field != "at" or at == received:
                    raise _Unmatched(f"cannot file on {case_id}: {exc}") from None
                # Another rule of the log refuses the sender's date: use the receipt time.
                row, case = repo.load(case_id)
                try:
                    self._log(case, mail, pid, received,
                              f"the Date header cannot be used: {exc.problem}")
                except DomainError as again:
                    raise _Unmatched(f"cannot file on {case_id}: {again}") from None
            except DomainError as exc:
                raise _Unmatched(f"cannot file on {case_id}: {exc}") from None
            repo.save(row, case)
            InboundRepository(session).add_attachments(
                row.id, mail.message_id,
                ((a.filename, a.content_type, a.data) for a in mail.attachments))
        return Outcome(True, case_id, pid, mail.message_id)

    @staticmethod
    def _log(case: Case, mail: InboundMail, pid: int, at: datetime, date_note: str) -> None:
        actor = _actor(mail)
        case.log_message(Message(mail.message_id, Direction.INBOUND, at, Channel.EMAIL,
                                 mail.subject, mail.text, pid, case.tlp),
                         actor=actor, flags=analyze(f"{mail.subject}\n{mail.text}"),
                         evidence=_evidence(mail, date_note))
        if not mail.automatic:  # an auto-reply is kept on the case but is nobody's reply
            case.contact_reply(pid, Channel.EMAIL, at=at, actor=actor,
                               reason=f"e-mail {mail.message_id}")

    def _quarantine(self, raw: bytes, source: str, reason: str, mail: InboundMail | None,
                    received: datetime) -> Outcome:
        values: dict[str, Any] = {
            "received_at": received, "source": source, "reason": reason, "raw": raw,
            "message_id": mail.message_id if mail else "",
            "sender": mail.sender if mail else "", "subject": mail.subject if mail else ""}
        try:
            with self.db.transaction() as session:
                InboundRepository(session).quarantine(**values)
        except Exception as exc:
            if transient(exc):
                raise
            # The database refused a header copied out of the message; the message itself
            # (bytes) and the reason are what must not be lost.
            values.update(message_id="", sender="", subject="",
                          reason=f"{reason} (headers not stored: {failure(exc)})")
            with self.db.transaction() as session:
                InboundRepository(session).quarantine(**values)
        return Outcome(False, message_id=mail.message_id if mail else "", reason=reason)

    def quarantined(self) -> list[QuarantinedMail]:
        """Mail that could not be filed, oldest first, with the bytes as they came."""
        with self.db.sessions() as s:
            return [QuarantinedMail(*r)
                    for r in InboundRepository(s).quarantined(with_raw=True)]

    def quarantine(self) -> list[Quarantined]:
        """Mail that could not be filed, oldest first, as views any face can show (the
        bytes are left in the store: only their size is read)."""
        with self.db.sessions() as s:
            return [Quarantined(*r) for r in InboundRepository(s).quarantined(with_raw=False)]

    def fetch_imap(self, *, host: str, port: int, user: str, password: str, mailbox: str,
                   use_ssl: bool, on_outcome: Callable[[Outcome], None] | None = None,
                   ) -> list[Outcome]:
        """File each unread message of an IMAP mailbox; the server marks one seen only
        once it is stored, so an interrupted fetch loses nothing."""
        from cvdesk.channels.imap import ImapError, fetch_unseen

        outcomes: list[Outcome] = []

        def handle(raw: bytes) -> None:
            outcome = self.receive(raw, f"imap:{host}")
            outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)

        try:
            fetch_unseen(host=host, port=port, user=user, password=password, mailbox=mailbox,
                         use_ssl=use_ssl, handle=handle)
        except ImapError as exc:
            raise DomainError(f"IMAP: {exc}") from None
        return outcomes

    @contextmanager
    def listening(self, *, host: str, port: int, lmtp: bool = False,
                  on_outcome: Callable[[Outcome], None] | None = None) -> Iterator[None]:
        """Accept mail over SMTP (or LMTP, from a local MTA) and file each message while
        the block runs."""
        from cvdesk.channels.listener import Listener  # aiosmtpd: only when listening

        source = "lmtp" if lmtp else "smtp"

        def deliver(raw: bytes) -> None:
            outcome = self.receive(raw, source)
            if on_outcome is not None:
                on_outcome(outcome)

        listener = Listener(deliver, host=host, port=port, lmtp=lmtp)
        listener.start()
        try:
            yield
        finally:
            listener.stop()


class _Unmatched(Exception):
    pass


def when(mail: InboundMail, opened: datetime | None, received: datetime,
         ) -> tuple[datetime, str]:
    """The time to log the message at, and why it is not the Date header's time.

    The Date header is the sender's word: it is used unless it cannot be right (before
    the case existed, ahead of the desk's clock, unreadable); then the time of receipt
    is used and the header stays beside it in the log."""
    if mail.date is None:
        return received, ("the Date header cannot be read as a date with a time zone"
                          if mail.date_header else "")
    if opened is not None and mail.date < opened:
        return received, "the Date header is before the case was opened"
    if mail.date > received + DATE_SKEW:
        return received, "the Date header is in the future"
    return mail.date, ""


def _evidence(mail: InboundMail, date_note: str) -> dict[str, Any]:
    """The mail's own evidence for the message's log entry: the Date header as received,
    why it was not used, and what tells redeliveries apart."""
    evidence: dict[str, Any] = {"fingerprint": mail.fingerprint()}
    if mail.date_header:
        evidence["date_header"] = mail.date_header
    if date_note:
        evidence["date_note"] = date_note
    if mail.derived_id:
        evidence["message_id_derived"] = True
    if mail.automatic:
        evidence["automatic"] = mail.automatic
    return evidence


def _stored(text: object) -> object:
    """Text as the store gives it back: NUL becomes U+FFFD (cvdesk.store.types)."""
    return text.replace("\x00", "\ufffd") if isinstance(text, str) else text


def _actor(mail: InboundMail) -> str:
    return f"mail:{mail.sender}"
