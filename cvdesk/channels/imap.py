"""Fetching unread mail over IMAP; a message is marked seen only once it is stored.

Messages are fetched with BODY.PEEK[]: fetching RFC822 or BODY[] sets \\Seen on the
server at once (RFC 3501 6.4.5), so a message whose storing failed would not come back
in the next search for unseen mail, and would be lost."""

from __future__ import annotations

import contextlib
import imaplib
from collections.abc import Callable


class ImapError(Exception):
    pass


def fetch_unseen(*, host: str, port: int, user: str, password: str, mailbox: str = "INBOX",
                 use_ssl: bool = True, handle: Callable[[bytes], None]) -> int:
    """Pass each unseen message to ``handle``; returns how many were handled."""
    try:
        client: imaplib.IMAP4 = (imaplib.IMAP4_SSL(host, port) if use_ssl
                                 else imaplib.IMAP4(host, port))
    except OSError as exc:
        raise ImapError(f"{host}:{port}: {exc}") from None
    try:
        client.login(user, password)
        status, _ = client.select(mailbox)
        if status != "OK":
            raise ImapError(f"mailbox {mailbox} cannot be opened")
        status, data = client.search(None, "UNSEEN")
        if status != "OK":
            raise ImapError("search failed")
        handled = 0
        for number in data[0].split():
            status, parts = client.fetch(number, "(BODY.PEEK[])")
            raw = next((p[1] for p in parts if isinstance(p, tuple)), None)
            if status != "OK" or not isinstance(raw, bytes):
                raise ImapError(f"message {number.decode()} cannot be fetched")
            handle(raw)  # raises to leave the message unseen for the next run
            client.store(number, "+FLAGS", "(\\Seen)")
            handled += 1
        return handled
    except imaplib.IMAP4.error as exc:
        raise ImapError(str(exc)) from None
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            client.logout()
