"""Reading inbound e-mail: headers for threading, the text, attachments, PGP/MIME."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parseaddr, parsedate_to_datetime

CASE_TAG = re.compile(r"\[(CVD-\d{4}-\d{4,})\]", re.IGNORECASE)
MAX_MESSAGE_BYTES = 25 * 1024 * 1024


class MalformedMail(Exception):
    """Mail that cannot be read; the message says why."""


@dataclass
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass
class InboundMail:
    message_id: str
    sender: str
    subject: str
    date: datetime | None
    references: list[str]  # In-Reply-To first, then References
    text: str
    attachments: list[Attachment] = field(default_factory=list)
    encrypted: bool = False

    @property
    def case_tag(self) -> str:
        found = CASE_TAG.search(self.subject)
        return found.group(1).upper() if found else ""


def parse(raw: bytes, private_keys: list[tuple[str, str]] | None = None) -> InboundMail:
    """Read a message; ``private_keys`` are (armoured key, passphrase) to decrypt PGP/MIME."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise MalformedMail(f"larger than {MAX_MESSAGE_BYTES} bytes")
    try:
        msg = message_from_bytes(raw, policy=policy.default)
    except Exception as exc:  # the parser's own errors, whatever they are
        raise MalformedMail(f"not a readable e-mail message: {exc}") from None
    if not isinstance(msg, EmailMessage) or not msg.keys():
        raise MalformedMail("no headers")
    try:
        message_id = str(msg.get("Message-ID", "")).strip()
        sender = parseaddr(str(msg.get("From", "")))[1].lower()
        subject = str(msg.get("Subject", ""))
        date = _date(msg.get("Date"))
        refs = _ids(str(msg.get("In-Reply-To", ""))) + _ids(str(msg.get("References", "")))
    except (ValueError, TypeError, IndexError) as exc:
        raise MalformedMail(f"unreadable header: {exc}") from None
    if not message_id:
        raise MalformedMail("no Message-ID header")
    if not sender or "@" not in sender:
        raise MalformedMail("no sender address in From")
    encrypted = msg.get_content_type() == "multipart/encrypted"
    if encrypted:
        msg = _decrypt(msg, private_keys or [])
        subject = str(msg.get("Subject", subject))  # protected headers, when present
    text, attachments = _content(msg)
    return InboundMail(message_id, sender, subject, date, refs, text, attachments, encrypted)


def _ids(value: str) -> list[str]:
    return re.findall(r"<[^<>\s]+>", value)


def _date(value: object) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else None


def _content(msg: EmailMessage) -> tuple[str, list[Attachment]]:
    body = msg.get_body(preferencelist=("plain", "html"))
    text = ""
    if body is not None:
        try:
            text = body.get_content()
        except (LookupError, ValueError):
            payload = body.get_payload(decode=True)
            text = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) \
                else ""
    attachments = []
    for part in msg.iter_attachments():
        data = part.get_payload(decode=True)
        if isinstance(data, bytes):
            attachments.append(Attachment(part.get_filename() or "attachment",
                                          part.get_content_type(), data))
    return text, attachments


def _decrypt(msg: EmailMessage, private_keys: list[tuple[str, str]]) -> EmailMessage:
    parts = msg.get_payload()
    if not isinstance(parts, list) or len(parts) != 2:
        raise MalformedMail("PGP/MIME message without its two parts")
    armoured = parts[1].get_payload(decode=True)
    if not isinstance(armoured, bytes):
        raise MalformedMail("PGP/MIME message without encrypted data")
    if not private_keys:
        raise MalformedMail("encrypted, and the desk has no private key configured "
                            "(mail.private_key_file)")
    from pgpy_dtc import PGPKey, PGPMessage
    from pgpy_dtc.errors import PGPError

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            encrypted = PGPMessage.from_blob(armoured.decode("ascii", errors="replace"))
        except (PGPError, ValueError) as exc:
            raise MalformedMail(f"encrypted part cannot be read: {exc}") from None
        for armoured_key, passphrase in private_keys:
            key, _ = PGPKey.from_blob(armoured_key)
            try:
                if key.is_protected:
                    with key.unlock(passphrase):
                        clear = key.decrypt(encrypted).message
                else:
                    clear = key.decrypt(encrypted).message
            except PGPError:
                continue
            data = clear if isinstance(clear, bytes) else str(clear).encode()
            inner = message_from_bytes(data, policy=policy.default)
            assert isinstance(inner, EmailMessage)
            return inner
    raise MalformedMail("encrypted to a key the desk does not have")
