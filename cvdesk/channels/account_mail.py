"""E-mail about accounts on the web desk (issue 11): invitations to a case, a password
reset, a welcome for an account an admin made.  They are not case correspondence: no
case tag in the subject and no TLP footer, and the worker logs no contact attempt for
them.  Each carries a one-time link, so it says how long the link works and what to do
when the message was not expected."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime

_WIRE = policy.default.clone(max_line_length=998)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")

#: template -> (subject, body); values: desk, name, link, hours, and for case mail
#: case_id and title.
ACCOUNT_TEMPLATES: dict[str, tuple[str, str]] = {
    "account-invite": (
        "{desk}: invitation to case {case_id}",
        "Hello {name},\n\n{desk} coordinates the disclosure of a vulnerability that\n"
        "concerns you (case {case_id}):\n\n  {title}\n\nThe case has a page on our web "
        "desk where you can follow it, give\nyour statement and write to us. Set a "
        "password for your account\n({email}) with this link:\n\n  {link}\n\n"
        "The link works once and for {hours} hours. If you did not expect\nthis message, "
        "you can ignore it.\n"),
    "account-added": (
        "{desk}: you now take part in case {case_id}",
        "Hello {name},\n\n{desk} added your account ({email}) to case {case_id}:\n\n"
        "  {title}\n\nSign in to follow it:\n\n  {link}\n"),
    "account-reset": (
        "{desk}: reset your password",
        "Hello {name},\n\nSomeone, probably you, asked to reset the password of your "
        "account\n({email}) on {desk}. Choose a new one with this link:\n\n  {link}\n\n"
        "The link works once and for {hours} hours. If you did not ask for\nit, ignore "
        "this message: your password stays as it is.\n"),
    "account-welcome": (
        "{desk}: your account",
        "Hello {name},\n\nAn account ({email}) was made for you on {desk}, the web desk\n"
        "for coordinated vulnerability disclosure. Set your password with this\nlink:\n\n"
        "  {link}\n\nThe link works once and for {hours} hours.\n"),
}


def render_account_mail(template: str, values: dict[str, str]) -> tuple[str, str]:
    """(subject, body).  Names and titles come from outside: line breaks and other
    control characters are flattened to spaces (a subject cannot be split into headers)."""
    subject, body = ACCOUNT_TEMPLATES[template]
    clean = {k: _CONTROL.sub(" ", v).strip() for k, v in values.items()}
    return subject.format(**clean), body.format(**clean)


def compose_account_mail(*, sender: str, recipient: str, subject: str, body: str,
                         at: datetime, domain: str) -> tuple[str, str]:
    """(Message-ID, the whole message as text), a plain UTF-8 text message."""
    message_id = f"<{uuid.uuid4().hex}.account@{domain}>"
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = _CONTROL.sub(" ", subject)
    msg["Date"] = format_datetime(at)
    msg["Message-ID"] = message_id
    # RFC 3834: an automatic message; well-behaved responders do not answer it.
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(body)
    return message_id, msg.as_string(policy=_WIRE)
