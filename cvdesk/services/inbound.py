"""Inbound e-mail: file each message on its case and participant, or quarantine it.

A reply is matched by the Message-IDs it refers to (one of ours in the outbox, or the
case's thread id), else by the case tag in its subject; the participant by the outbox
recipient or the sender's address.  Filing is one transaction: the message event, the
reply on the contact log (what the troubleshooting rules read), the attachments.
Mail that cannot be filed is kept whole in the quarantine with the reason.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from cvdesk.channels.inbound import CASE_TAG, InboundMail, MalformedMail, parse
from cvdesk.domain.case import Case
from cvdesk.domain.errors import DomainError
from cvdesk.domain.model import CaseStatus, Channel, Direction, Message
from cvdesk.services.cases import CaseService
from cvdesk.store.cases import CaseRepository
from cvdesk.store.tables import (
    AttachmentRow,
    CaseRow,
    ContactRow,
    MessageRow,
    OrganizationRow,
    OutboxRow,
    QuarantineRow,
)
from cvdesk.troubleshoot.text import analyze


@dataclass(frozen=True)
class Outcome:
    filed: bool
    case_id: str = ""
    participant: int | None = None
    message_id: str = ""
    reason: str = ""  # why it was quarantined
    duplicate: bool = False


class InboundService:
    def __init__(self, cases: CaseService) -> None:
        self.cases = cases
        self.db = cases.db

    def _keys(self) -> list[tuple[str, str]]:
        mail = self.cases.settings.mail
        if not mail.private_key_file:
            return []
        return [(Path(mail.private_key_file).read_text(encoding="ascii"), mail.passphrase)]

    def receive(self, raw: bytes, source: str) -> Outcome:
        try:
            mail = parse(raw, self._keys())
        except MalformedMail as exc:
            return self._quarantine(raw, source, f"malformed: {exc}")
        with self.db.sessions() as s:
            if s.scalar(select(MessageRow.id).where(MessageRow.message_id == mail.message_id)):
                return Outcome(True, message_id=mail.message_id, duplicate=True)
            case_id, pid, why = self._match(s, mail)
        if not case_id:
            return self._quarantine(raw, source, why, mail)
        try:
            return self._file(mail, case_id, pid, why)
        except _Unmatched as exc:
            return self._quarantine(raw, source, str(exc), mail)

    # ------------------------------------------------------------ matching
    def _match(self, s: Any, mail: InboundMail) -> tuple[str, int | None, str]:
        for ref in mail.references:
            hit = s.execute(select(CaseRow.case_id, OutboxRow.participant, OutboxRow.recipient)
                            .join(CaseRow, CaseRow.id == OutboxRow.case_pk)
                            .where(OutboxRow.message_id == ref)).first()
            if hit:
                same = hit.recipient.lower() == mail.sender
                return hit.case_id, hit.participant if same else None, f"reply to {ref}"
        for ref in mail.references:
            tag = CASE_TAG.search(f"[{ref.strip('<>').split('@')[0]}]")
            if tag and s.scalar(select(CaseRow.id).where(CaseRow.case_id == tag.group(1)
                                                         .upper())):
                return tag.group(1).upper(), None, f"in the thread {ref}"
        if mail.case_tag and s.scalar(select(CaseRow.id).where(
                CaseRow.case_id == mail.case_tag)):
            return mail.case_tag, None, f"case tag [{mail.case_tag}] in the subject"
        return "", None, "no known case: no reply to a message of ours and no case tag"

    def _sender_pid(self, s: Any, case: Case, sender: str) -> int | None:
        for p in case.participants.values():
            if p.email.lower() == sender:
                return p.pid
        org_keys = {(p.organization or p.name).strip().lower(): p.pid
                    for p in case.participants.values()}
        rows = s.execute(select(OrganizationRow.name_key).join(
            ContactRow, ContactRow.organization_id == OrganizationRow.id)
            .where(ContactRow.kind == "email", ContactRow.value == sender))
        for (key,) in rows:
            if key in org_keys:
                return org_keys[key]
        return None

    # ------------------------------------------------------------ filing
    def _file(self, mail: InboundMail, case_id: str, pid: int | None, why: str) -> Outcome:
        now = self.cases.clock()
        at = mail.date if mail.date and mail.date <= now + timedelta(minutes=5) else now
        with self.db.transaction() as session:
            repo = CaseRepository(session)
            row, case = repo.load(case_id)
            if case.status is CaseStatus.CLOSED:
                raise _Unmatched(f"{case_id} is closed ({why})")
            pid = pid if pid is not None else self._sender_pid(session, case, mail.sender)
            if pid is None:
                raise _Unmatched(f"{mail.sender} is not a participant of {case_id} ({why})")
            actor = f"mail:{mail.sender}"
            flags = analyze(f"{mail.subject}\n{mail.text}")
            try:
                case.log_message(Message(mail.message_id, Direction.INBOUND, at, Channel.EMAIL,
                                         mail.subject, mail.text, pid, case.tlp),
                                 actor=actor, flags=flags)
                case.contact_reply(pid, Channel.EMAIL, at=at, actor=actor,
                                   reason=f"e-mail {mail.message_id}")
            except DomainError as exc:
                raise _Unmatched(f"cannot file on {case_id}: {exc}") from None
            repo.save(row, case)
            for a in mail.attachments:
                session.add(AttachmentRow(case_pk=row.id, message_id=mail.message_id,
                                          filename=a.filename, content_type=a.content_type,
                                          size=len(a.data),
                                          sha256=hashlib.sha256(a.data).hexdigest(),
                                          data=a.data))
        return Outcome(True, case_id, pid, mail.message_id)

    def _quarantine(self, raw: bytes, source: str, reason: str,
                    mail: InboundMail | None = None) -> Outcome:
        with self.db.transaction() as session:
            session.add(QuarantineRow(
                received_at=self.cases.clock(), source=source[:80], reason=reason, raw=raw,
                message_id=mail.message_id if mail else "",
                sender=mail.sender if mail else "", subject=mail.subject if mail else "",
                released=False))
        return Outcome(False, message_id=mail.message_id if mail else "", reason=reason)

    def quarantined(self) -> list[QuarantineRow]:
        with self.db.sessions() as s:
            return list(s.scalars(select(QuarantineRow).order_by(QuarantineRow.id)))


class _Unmatched(Exception):
    pass


