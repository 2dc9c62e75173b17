"""Queuing the notices of a publication (issue 10): the draft sent for review and the
publication notice go into the outbox in the caller's transaction, each logged on the
case, so they commit (or roll back) with the event that causes them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cvdesk.domain.case import Case, ParticipantState
from cvdesk.domain.errors import InvalidInput

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from cvdesk.channels.mail import Attachment
    from cvdesk.services.mail import MailService


def _addressed(session: Session, people: list[ParticipantState],
               ) -> tuple[list[tuple[ParticipantState, str, str]], list[str]]:
    """(participant, address, OpenPGP key) of those with an e-mail address, by the
    participant's own or its directory entry; the labels of the others."""
    from cvdesk.services.mail import _address, _org_key
    from cvdesk.store.directory import DirectoryRepository

    directory = DirectoryRepository(session).contacts_by_key(
        {_org_key(p) for p in people}) if people else {}
    found, missing = [], []
    for p in people:
        try:
            address, key = _address(p, directory.get(_org_key(p), []))
        except InvalidInput:
            missing.append(p.label)
            continue
        found.append((p, address, key))
    return found, missing


def _idempotency_key(case: Case, pid: int, template: str, key: str) -> str:
    return f"{case.case_id}/{template}/p{pid}/{key}"


def _not_queued(session: Session, case: Case,
                people: list[tuple[ParticipantState, str, str]], template: str, key: str,
                ) -> list[tuple[ParticipantState, str, str]]:
    from cvdesk.store.outbox import OutboxRepository

    keys = {p.pid: _idempotency_key(case, p.pid, template, key) for p, _, _ in people}
    taken = OutboxRepository(session).taken(keys.values()) if keys else set()
    return [x for x in people if keys[x[0].pid] not in taken]


def _queue(session: Session, row: Any, case: Case,
           people: list[tuple[ParticipantState, str, str]], template: str, key: str,
           mail: MailService, at: datetime, who: str, values: dict[str, str],
           attachments: Sequence[Attachment] = ()) -> list[str]:
    """Queue ``template`` to each of ``people`` in the caller's transaction, each message
    logged on the case, as ``MailService.queue`` does in its own transaction (which a
    publication cannot share).  ``attachments`` go with every message (composed into it,
    so the outbox holds them) and are named in its log entry with their digests.
    Returns the recipients' addresses."""
    import hashlib

    from cvdesk.channels.mail import BadAddress, compose, render
    from cvdesk.channels.openpgp import OpenPGPError
    from cvdesk.domain.model import Channel, Direction, Message
    from cvdesk.services.mail import address_refused, key_refused
    from cvdesk.store.outbox import PENDING, OutboxRepository

    planned = case.publication_date()
    common = {"desk": mail.cases.settings.desk.name, "title": case.title,
              "embargo_end": planned.isoformat() if planned else "(no date set yet)"}
    evidence = {"attachments": [
        {"filename": a.filename, "media_type": a.media_type, "size": len(a.content),
         "sha256": hashlib.sha256(a.content).hexdigest()} for a in attachments]
    } if attachments else None
    outbox: list[dict[str, Any]] = []
    for p, address, public_key in people:
        subject, body = render(template, {"name": p.name, **common, **values})
        try:
            message_id, raw = compose(
                sender=mail.sender, recipient=address, case_id=case.case_id,
                tlp=case.tlp.value, subject=subject, body=body, at=at, domain=mail.domain,
                public_key=public_key, attachments=attachments)
        except OpenPGPError as exc:
            raise key_refused(p, exc) from None
        except BadAddress as exc:
            raise address_refused(p, exc) from None
        case.log_message(Message(message_id, Direction.OUTBOUND, at, Channel.EMAIL, subject,
                                 body, p.pid, case.tlp), actor=who, evidence=evidence)
        outbox.append(dict(
            idempotency_key=_idempotency_key(case, p.pid, template, key), case_pk=row.id,
            participant=p.pid, template=template, sender=mail.sender, recipient=address,
            message_id=message_id, raw=raw, status=PENDING, attempts=0, next_attempt_at=at,
            created_at=at, worker="", last_error="", in_doubt=False, logged=False))
    OutboxRepository(session).add(outbox)
    return [address for _, address, _ in people]
