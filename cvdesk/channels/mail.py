"""Composing outbound e-mail: case tag and TLP label in every message, threading headers,
attached files, OpenPGP (PGP/MIME, RFC 3156) when the recipient's key is known.

A message is composed whole when it is queued, attachments included, and the outbox keeps
it as composed: so a crash between queueing and sending loses no part of it, and what
goes out is byte for byte what the case log says was sent."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.utils import format_datetime

_WIRE = policy.default.clone(max_line_length=998)

try:  # the email package's own choice of body encoding, reused by the fast path below
    from email.contentmanager import _encode_text  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - another Python: always take the slow path
    _encode_text = None

# The bodies are wrapped below 78 characters a line, so that a message with ASCII names
# and titles goes out as 7-bit text: readable as it is stored, and no quoted-printable
# pass over each of a thousand bodies.
TEMPLATES: dict[str, tuple[str, str]] = {
    "new-case": (
        "Vulnerability report: {title}",
        "Hello {name},\n\n{desk} coordinates the disclosure of a vulnerability that\n"
        "affects your product:\n\n  {title}\n\nPlease confirm that this reaches your "
        "security team and tell us who\nwe should work with. We will send the technical "
        "details on a channel\nyou choose (encrypted, if you publish a key).\n\nOur "
        "default is to publish {days} days after this first contact; we\nprefer to agree "
        "a date with you.\n"),
    "reminder": (
        "Reminder: {title}",
        "Hello {name},\n\nWe wrote to you about the vulnerability below and have not "
        "heard\nback yet:\n\n  {title}\n\nPlease acknowledge receipt, even before you "
        "have triaged it.\n"),
    "embargo-proposal": (
        "Proposed publication date: {title}",
        "Hello {name},\n\nWe propose to keep the details of\n\n  {title}\n\nconfidential "
        "until {embargo_end}.\nPlease reply whether you agree, or propose another date "
        "with your\nreasons.\n"),
    "draft-advisory": (
        "Draft advisory for review: {title}",
        "Hello {name},\n\nAttached below is the draft advisory for\n\n  {title}\n\n"
        "Please send corrections before {embargo_end}.\n\n{advisory}\n"),
    "publication": (
        "Published: {title}",
        "Hello {name},\n\nThe advisory for\n\n  {title}\n\nis now public. Thank you "
        "for working with us.\n\n{advisory}\n"),
    # Issue 10: `advisory preview` and `publish` (values: version, until, url).
    "advisory-preview": (
        "Draft advisory {version} for review: {title}",
        "Hello {name},\n\nBelow is the draft advisory for\n\n  {title}\n\nas we plan to "
        "publish it on {embargo_end}. Please check what it\nsays about you and your "
        "products, and send corrections by\n{until}. The draft is confidential until "
        "publication.\n\n{attachment}{advisory}\n"),
    "advisory-published": (
        "Advisory published (version {version}): {title}",
        "Hello {name},\n\nVersion {version} of the advisory for\n\n  {title}\n\nhas been "
        "published. Thank you for working with us.\n\n{advisory}\n"),
}


#: What a header line may not hold: line breaks (those ``str.splitlines`` knows too) and
#: other control characters.
_NOT_IN_HEADERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


class BadAddress(ValueError):
    """An address that cannot go into a header as it is (see ``Composer.message``)."""


def one_line(text: str) -> str:
    """``text`` fit for a header: each run of line breaks and control characters becomes
    one space.  A case title comes from a stranger's report as it was written, and the
    email package refuses a header with a line break in it (which would otherwise start
    a header of the stranger's choosing, a Bcc for one)."""
    return _NOT_IN_HEADERS.sub(" ", text)


def render(template: str, values: dict[str, str]) -> tuple[str, str]:
    """(subject, body) of ``template`` with ``values``; the subject on one line."""
    if template not in TEMPLATES:
        raise KeyError(template)
    subject, body = TEMPLATES[template]
    defaults = {"advisory": "", "embargo_end": "(no date agreed yet)", "days": "45",
                "version": "", "until": "(no date set)", "attachment": ""}
    merged = {**defaults, **values}
    return one_line(subject.format(**merged)), body.format(**merged)


def thread_id(case_id: str, domain: str) -> str:
    """The Message-ID every message of a case refers to, so clients thread the case."""
    return f"<{case_id.lower()}@{domain}>"


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with a message, as the recipient will save it."""

    filename: str
    content: bytes
    media_type: str = "application/octet-stream"


def compose(*, sender: str, recipient: str, case_id: str, tlp: str, subject: str, body: str,
            at: datetime, domain: str, public_key: str = "",
            attachments: Sequence[Attachment] = ()) -> tuple[str, str]:
    """(Message-ID, the whole message as text).  With ``attachments`` the message is
    multipart/mixed, the text first; encrypted, the attachments are inside the
    encrypted part with the text."""
    return Composer(sender=sender, case_id=case_id, tlp=tlp, at=at, domain=domain).message(
        recipient=recipient, subject=subject, body=body, public_key=public_key,
        attachments=attachments)


class Composer:
    """``compose`` for the messages of one case sent at one instant by one sender (a notice
    to every vendor): what they share (the date, the thread, the case tag) is written and
    checked once, and only what differs (recipient, Message-ID, body) per message."""

    def __init__(self, *, sender: str, case_id: str, tlp: str, at: datetime,
                 domain: str) -> None:
        self.sender, self.case_id, self.tlp, self.domain = sender, case_id, tlp, domain
        self.date = format_datetime(at)
        self.thread = thread_id(case_id, domain)
        self.tag = f"[{case_id}] [TLP:{tlp}] "
        self.top, self.bottom = f"TLP:{tlp}\n\n", f"\n-- \n{case_id} | TLP:{tlp}\n"
        self.id_tail = f".{case_id.lower()}@{domain}>"
        # Whether the fast path takes a header, by (name, value), for the headers that
        # repeat from message to message.
        self.plain: dict[tuple[str, str], bool] = {}

    def message(self, *, recipient: str, subject: str, body: str, public_key: str = "",
                attachments: Sequence[Attachment] = ()) -> tuple[str, str]:
        """(Message-ID, the whole message as text), as ``compose`` writes it.  An address
        holding a line break or a control character raises ``BadAddress``: the email
        package writes a final newline as it is, which ended the headers early (the
        subject and the rest fell into the body)."""
        for what, address in (("recipient", recipient), ("sender", self.sender)):
            if _NOT_IN_HEADERS.search(address):
                raise BadAddress(f"the {what}'s address {address!r} holds a line break or "
                                 "a control character")
        message_id = f"<{uuid.uuid4().hex}{self.id_tail}"
        text = f"{self.top}{body}{self.bottom}"
        headers = {
            "From": self.sender, "To": recipient, "Subject": f"{self.tag}{subject}",
            "Date": self.date, "Message-ID": message_id, "References": self.thread,
            "In-Reply-To": self.thread, "X-CVD-Case": self.case_id, "X-TLP": self.tlp,
        }
        if not public_key and not attachments:
            fast = _plain(text, headers, self.plain)
            if fast is not None:
                return message_id, fast
        return message_id, _compose(text, headers, public_key, attachments)


# What the email package writes unchanged: a bare address, and header text of printable
# ASCII with no encoded-word ("=?") that it would decode and encode again.
_BARE_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                           r"@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*")
_PLAIN_TEXT = re.compile(r"[\x21-\x7e]+( [\x21-\x7e]+)*")
_MESSAGE_ID = re.compile(r"<[A-Za-z0-9.-]+@[A-Za-z0-9.-]+>")


def envelope_address(address: str) -> str:
    """The address as MAIL FROM and RCPT TO carry it, as smtplib's ``quoteaddr`` gives it.

    A plain address is only wrapped in angle brackets; ``quoteaddr`` would run the email
    package's address parser on it first, for every message of a bulk notice.  Anything
    else (a display name, a comment, non-ASCII) still goes through ``quoteaddr``."""
    if _BARE_ADDRESS.fullmatch(address):
        return f"<{address}>"
    from smtplib import quoteaddr

    return quoteaddr(address)


def _plain(text: str, headers: dict[str, str],
           known: dict[tuple[str, str], bool] | None = None) -> str | None:
    """The message as ``_compose`` would write it, built directly from strings.

    Building and flattening an EmailMessage parses every header into objects and folds it
    back; for a bulk notice that is most of the time spent queueing.  This path covers the
    usual case (plain addresses, ASCII header text) and returns None for anything else;
    tests/mail/test_compose.py checks it against ``_compose`` byte for byte.  ``known``
    keeps the verdict on headers that recur (a Composer's), so each is checked once."""
    if _encode_text is None:
        return None
    for name, value in headers.items():
        if known is None or name in _UNIQUE:
            ok = _plain_header(name, value)
        else:
            ok = known.get((name, value))
            if ok is None:
                ok = known[name, value] = _plain_header(name, value)
        if not ok:
            return None
    payload = _seven_bit(text)
    if payload is not None:
        cte = "7bit"
    else:
        cte, payload = _encode_text(text, "utf-8", None, policy.default)
        if cte == "8bit":  # the generator re-encodes such text; leave that to it
            return None
    lines = [f'Content-Type: text/plain; charset="utf-8"\n'
             f"Content-Transfer-Encoding: {cte}\nMIME-Version: 1.0\n"]
    lines.extend(f"{name}: {value}\n" for name, value in headers.items())
    lines.append("\n")
    lines.append(payload)
    return "".join(lines)


#: Headers that differ in every message of a batch (not worth remembering).
_UNIQUE = frozenset({"To", "Message-ID"})


def _plain_header(name: str, value: str) -> bool:
    """Whether the email package writes this header as it is (see ``_plain``)."""
    if len(name) + len(value) > 900:
        return False
    if name in ("From", "To"):
        return _BARE_ADDRESS.fullmatch(value) is not None
    if name in ("Message-ID", "References", "In-Reply-To"):
        return _MESSAGE_ID.fullmatch(value) is not None
    return _PLAIN_TEXT.fullmatch(value) is not None and "=?" not in value


def _seven_bit(text: str) -> str | None:
    """The body as the email package's ``_encode_text`` gives it as 7-bit text, when that
    is the text itself: ASCII without a CR, no line over 78 characters, a line break at
    the end (it splits the encoded text into lines and joins them with LF, adding one at
    the end).  None when it must be asked."""
    if text.isascii() and text.endswith("\n") and "\r" not in text \
            and max(map(len, text.split("\n"))) <= policy.default.max_line_length:
        return text
    return None


def _compose(text: str, headers: dict[str, str], public_key: str,
             attachments: Sequence[Attachment] = ()) -> str:
    inner = EmailMessage()
    inner.set_content(text)
    for a in attachments:
        maintype, _, subtype = a.media_type.partition("/")
        # bytes go base64-encoded, so the file arrives exactly as it was made
        inner.add_attachment(a.content, maintype=maintype, subtype=subtype or "octet-stream",
                             filename=a.filename)
    if public_key:
        # The title of a vulnerability is itself sensitive: the real subject goes inside the
        # encrypted part ("protected headers"); outside stays the case tag only.
        inner["Subject"] = headers["Subject"]
        headers = {**headers, "Subject": f"[{headers['X-CVD-Case']}] "
                   f"[TLP:{headers['X-TLP']}] Encrypted message"}
        outer = _encrypt(inner.as_string(policy=_WIRE), public_key)
    else:
        outer = inner
    for name, value in headers.items():
        outer[name] = value
    # RFC 5322 allows 998 characters a line; no folding keeps subjects and ids on one line.
    return outer.as_string(policy=_WIRE)


def _encrypt(inner: str, public_key: str) -> MIMEMultipart:
    """PGP/MIME (RFC 3156) around ``inner``; OpenPGPError when the key cannot be used."""
    from cvdesk.channels.openpgp_keys import encrypt

    encrypted = encrypt(public_key, inner)
    outer = MIMEMultipart("encrypted", protocol="application/pgp-encrypted")
    control = MIMEApplication("Version: 1\n", "pgp-encrypted", _encoder=_noop)
    payload = MIMEApplication(str(encrypted), "octet-stream", _encoder=_noop)
    payload.add_header("Content-Disposition", "inline", filename="encrypted.asc")
    outer.attach(control)
    outer.attach(payload)
    return outer


def _noop(part: MIMEApplication) -> None:
    """Armoured OpenPGP data is already 7-bit text."""
