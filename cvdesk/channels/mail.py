"""Composing outbound e-mail: case tag and TLP label in every message, threading headers,
OpenPGP (PGP/MIME, RFC 3156) when the recipient's key is known."""

from __future__ import annotations

import uuid
import warnings
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.utils import format_datetime

_WIRE = policy.default.clone(max_line_length=998)

TEMPLATES: dict[str, tuple[str, str]] = {
    "new-case": (
        "Vulnerability report: {title}",
        "Hello {name},\n\n{desk} coordinates the disclosure of a vulnerability that affects "
        "your product:\n\n  {title}\n\nPlease confirm that this reaches your security team "
        "and tell us who we should work with. We will send the technical details on a "
        "channel you choose (encrypted, if you publish a key).\n\nOur default is to publish "
        "{days} days after this first contact; we prefer to agree a date with you.\n"),
    "reminder": (
        "Reminder: {title}",
        "Hello {name},\n\nWe wrote to you about the vulnerability below and have not heard "
        "back yet:\n\n  {title}\n\nPlease acknowledge receipt, even before you have "
        "triaged it.\n"),
    "embargo-proposal": (
        "Proposed publication date: {title}",
        "Hello {name},\n\nWe propose to keep the details of\n\n  {title}\n\nconfidential "
        "until {embargo_end}. Please reply whether you agree, or propose another date "
        "with your reasons.\n"),
    "draft-advisory": (
        "Draft advisory for review: {title}",
        "Hello {name},\n\nAttached below is the draft advisory for\n\n  {title}\n\nPlease "
        "send corrections before {embargo_end}.\n\n{advisory}\n"),
    "publication": (
        "Published: {title}",
        "Hello {name},\n\nThe advisory for\n\n  {title}\n\nis now public. Thank you for "
        "working with us.\n\n{advisory}\n"),
}


def render(template: str, values: dict[str, str]) -> tuple[str, str]:
    if template not in TEMPLATES:
        raise KeyError(template)
    subject, body = TEMPLATES[template]
    defaults = {"advisory": "", "embargo_end": "(no date agreed yet)", "days": "45"}
    merged = {**defaults, **values}
    return subject.format(**merged), body.format(**merged)


def thread_id(case_id: str, domain: str) -> str:
    """The Message-ID every message of a case refers to, so clients thread the case."""
    return f"<{case_id.lower()}@{domain}>"


def compose(*, sender: str, recipient: str, case_id: str, tlp: str, subject: str, body: str,
            at: datetime, domain: str, public_key: str = "") -> tuple[str, str]:
    """(Message-ID, the whole message as text)."""
    message_id = f"<{uuid.uuid4().hex}.{case_id.lower()}@{domain}>"
    inner = EmailMessage()
    inner.set_content(f"TLP:{tlp}\n\n{body}\n-- \n{case_id} | TLP:{tlp}\n")
    headers = {
        "From": sender, "To": recipient, "Subject": f"[{case_id}] [TLP:{tlp}] {subject}",
        "Date": format_datetime(at), "Message-ID": message_id,
        "References": thread_id(case_id, domain), "In-Reply-To": thread_id(case_id, domain),
        "X-CVD-Case": case_id, "X-TLP": tlp,
    }
    if public_key:
        # The title of a vulnerability is itself sensitive: the real subject goes inside the
        # encrypted part ("protected headers"); outside stays the case tag only.
        inner["Subject"] = headers["Subject"]
        headers["Subject"] = f"[{case_id}] [TLP:{tlp}] Encrypted message"
        outer = _encrypt(inner.as_string(policy=_WIRE), public_key)
    else:
        outer = inner
    for name, value in headers.items():
        outer[name] = value
    # RFC 5322 allows 998 characters a line; no folding keeps subjects and ids on one line.
    return message_id, outer.as_string(policy=_WIRE)


def _encrypt(inner: str, public_key: str) -> MIMEMultipart:
    from pgpy_dtc import PGPKey, PGPMessage

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        key, _ = PGPKey.from_blob(public_key)
        encrypted = key.encrypt(PGPMessage.new(inner))
    outer = MIMEMultipart("encrypted", protocol="application/pgp-encrypted")
    control = MIMEApplication("Version: 1\n", "pgp-encrypted", _encoder=_noop)
    payload = MIMEApplication(str(encrypted), "octet-stream", _encoder=_noop)
    payload.add_header("Content-Disposition", "inline", filename="encrypted.asc")
    outer.attach(control)
    outer.attach(payload)
    return outer


def _noop(part: MIMEApplication) -> None:
    """Armoured OpenPGP data is already 7-bit text."""
