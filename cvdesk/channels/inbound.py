"""Reading inbound e-mail: headers for threading, the text, attachments, PGP/MIME.

Whatever goes wrong while reading a message becomes ``MalformedMail`` with the reason,
whatever library raised it: the caller quarantines such mail.  Nothing from the e-mail
package or the OpenPGP library escapes, because an escaping error would make the
listener ask the sender to retry a message that can never succeed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parseaddr, parsedate_to_datetime

from cvdesk.channels.openpgp import OpenPGPError, decrypt

CASE_TAG = re.compile(r"\[(CVD-\d{4}-\d{4,})\]", re.IGNORECASE)
MAX_MESSAGE_BYTES = 25 * 1024 * 1024
#: The domain of the Message-ID given to mail that came without one (RFC 5322 makes the
#: header optional); ``.invalid`` (RFC 2606) can never clash with a real sender's ids.
DERIVED_ID_DOMAIN = "cvdesk.invalid"

Keys = Sequence[tuple[str, str]] | Callable[[], Sequence[tuple[str, str]]]


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
    date: datetime | None  # None when the Date header is missing, unreadable or absurd
    references: list[str]  # In-Reply-To first, then References
    text: str
    attachments: list[Attachment] = field(default_factory=list)
    encrypted: bool = False
    date_header: str = ""  # the Date header as received
    derived_id: bool = False  # the message had no Message-ID; ours is from its bytes
    automatic: str = ""  # why it was sent by a machine (auto-reply, bounce), or ""

    @property
    def case_tag(self) -> str:
        found = CASE_TAG.search(self.subject)
        return found.group(1).upper() if found else ""

    def fingerprint(self) -> str:
        """What makes two deliveries under one Message-ID the same message: the sender,
        the text and the attachments (relays may add headers or change the subject)."""
        h = hashlib.sha256()
        for piece in (self.sender, self.text,
                      *(f"{a.filename}\0{a.content_type}\0{hashlib.sha256(a.data).hexdigest()}"
                        for a in self.attachments)):
            h.update(piece.encode("utf-8", "surrogatepass") + b"\0\1")
        return h.hexdigest()


def derived_id(raw: bytes) -> str:
    return f"<sha256-{hashlib.sha256(raw).hexdigest()}@{DERIVED_ID_DOMAIN}>"


def parse(raw: bytes, private_keys: Keys | None = None, *,
          max_bytes: int = MAX_MESSAGE_BYTES) -> InboundMail:
    """Read a message; ``private_keys`` are (armoured key, passphrase) to decrypt PGP/MIME,
    or a function giving them (called only for encrypted mail)."""
    if len(raw) > max_bytes:
        raise MalformedMail(f"larger than {max_bytes} bytes")
    try:
        return _parse(raw, private_keys, max_bytes)
    except MalformedMail:
        raise
    except RecursionError:
        raise MalformedMail("MIME parts nested too deeply") from None
    except Exception as exc:  # the e-mail package's own failures, whatever they are
        raise MalformedMail(f"not a readable e-mail message ({_why(exc)})") from None


def _parse(raw: bytes, private_keys: Keys | None, max_bytes: int) -> InboundMail:
    msg = message_from_bytes(raw, policy=policy.default)
    if not isinstance(msg, EmailMessage) or not msg.keys():
        raise MalformedMail("no headers")
    message_id = _raw_header(msg, "Message-ID").strip()
    derived = not message_id
    if derived:
        message_id = derived_id(raw)
    sender = parseaddr(_header(msg, "From"))[1].lower()
    if not sender or "@" not in sender:
        raise MalformedMail("no sender address in From")
    subject = _header(msg, "Subject")
    date_header = _raw_header(msg, "Date").strip()
    refs = _ids(_raw_header(msg, "In-Reply-To")) + _ids(_raw_header(msg, "References"))
    automatic = _automatic(msg)
    encrypted = msg.get_content_type() == "multipart/encrypted"
    if encrypted:
        keys = private_keys() if callable(private_keys) else private_keys
        msg = _decrypt(msg, list(keys or []), max_bytes)
        if "Subject" in msg:  # protected headers (RFC 9788)
            subject = _header(msg, "Subject")
    text, attachments = _content(msg)
    return InboundMail(message_id, sender, subject, _date(date_header), refs, text,
                       attachments, encrypted, date_header, derived, automatic)


def _automatic(msg: EmailMessage) -> str:
    """Why a machine sent this (RFC 3834 Auto-Submitted, the common auto-responder headers,
    a delivery report), or "".  An out-of-office answer or a bounce shows that a mailbox
    exists, not that anyone read the report, so it must not count as the vendor's reply."""
    auto = _raw_header(msg, "Auto-Submitted").strip().lower()
    if auto and not auto.startswith("no"):
        return f"Auto-Submitted: {auto[:40]}"
    for name in ("X-Autoreply", "X-Autorespond"):
        if _raw_header(msg, name).strip():
            return f"{name} header"
    precedence = _raw_header(msg, "Precedence").strip().lower()
    if precedence in ("auto_reply", "bulk", "junk"):
        return f"Precedence: {precedence}"
    if msg.get_content_type() == "multipart/report":
        return "a delivery or read report (multipart/report)"
    return ""


def _why(exc: BaseException) -> str:
    text = _clean(str(exc)).strip()[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _clean(text: str) -> str:
    """Undo the bytes parser's surrogate escapes (8-bit header bytes) as UTF-8, so the
    text can be stored; anything that is still not text becomes U+FFFD."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text)


def _raw_header(msg: EmailMessage, name: str) -> str:
    """A header as received, unfolded, without the library's interpretation."""
    wanted = name.lower()
    for key, value in msg.raw_items():
        if key.lower() == wanted:
            return _clean(re.sub(r"\r?\n(?=[ \t])", "", str(value)))
    return ""


def _header(msg: EmailMessage, name: str) -> str:
    """A header decoded (RFC 2047 words), or as received when it cannot be decoded."""
    try:
        value = msg.get(name)
        return _clean(str(value)) if value is not None else ""
    except Exception:  # header classes fail in many ways on hostile input
        return _raw_header(msg, name)


def _ids(value: str) -> list[str]:
    return re.findall(r"<[^<>\s]+>", value)


def _date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
        if parsed.tzinfo is None:  # "-0000": the zone is unknown (RFC 5322 3.3)
            return None
        parsed.astimezone(UTC)  # a date that cannot be placed on UTC (year 1, 9999)
    except (TypeError, ValueError, OverflowError, IndexError):
        return None
    return parsed


def _content(msg: EmailMessage) -> tuple[str, list[Attachment]]:
    """The text, and every other part as an attachment (nested ones and forwarded
    messages too: what is not kept here is lost once the message is filed)."""
    body = msg.get_body(preferencelist=("plain", "html"))
    text = ""
    if body is not None:
        try:
            text = body.get_content()
        except Exception:  # an unknown or malformed charset: read it as UTF-8
            payload = body.get_payload(decode=True)
            text = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) \
                else ""
    attachments: list[Attachment] = []

    def visit(part: EmailMessage, alternative: bool) -> None:
        if part is body:
            return
        ctype = part.get_content_type()
        if ctype == "message/rfc822" or not part.is_multipart():
            if alternative and part.get_content_maintype() == "text" \
                    and not part.is_attachment():
                return  # another rendering of the text kept above
            data = _part_bytes(part)
            if data is not None:
                attachments.append(Attachment(_filename(part), _clean(ctype), data))
            return
        for sub in part.iter_parts():
            visit(sub, ctype == "multipart/alternative")  # type: ignore[arg-type]

    visit(msg, False)
    # CRLF is how mail travels (RFC 5322 2.3), not part of what the sender wrote.
    return _clean(text).replace("\r\n", "\n"), attachments


def _part_bytes(part: EmailMessage) -> bytes | None:
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        if isinstance(inner, list) and inner:
            try:
                return inner[0].as_bytes(policy=policy.default.clone(max_line_length=None))
            except Exception:
                try:
                    return _clean(str(inner[0])).encode("utf-8")
                except Exception:
                    return None
        return None
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else None


def _filename(part: EmailMessage) -> str:
    try:
        return _clean(part.get_filename() or "attachment")
    except Exception:
        return "attachment"


def _decrypt(msg: EmailMessage, private_keys: list[tuple[str, str]],
             max_bytes: int) -> EmailMessage:
    parts = msg.get_payload()
    if not isinstance(parts, list) or len(parts) != 2:
        raise MalformedMail("PGP/MIME message without its two parts")
    armoured = parts[1].get_payload(decode=True)
    if not isinstance(armoured, bytes):
        raise MalformedMail("PGP/MIME message without encrypted data")
    try:
        clear = decrypt(armoured, private_keys, max_bytes=max_bytes)
    except OpenPGPError as exc:
        raise MalformedMail(str(exc)) from None
    try:
        inner = message_from_bytes(clear, policy=policy.default)
    except Exception as exc:
        raise MalformedMail(f"the decrypted part is not a readable MIME entity "
                            f"({_why(exc)})") from None
    if not isinstance(inner, EmailMessage):
        raise MalformedMail("the decrypted part is not a readable MIME entity")
    return inner
