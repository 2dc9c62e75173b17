"""An SMTP or LMTP listener (aiosmtpd) that hands every message to a callback.

The callback files or quarantines the message and returns normally: the listener then
answers 250.  If it raises (the database is down, say), the listener answers 451 so
the sending server keeps the message and tries again: nothing is dropped.

The callback does blocking database work, so it runs in a worker thread: on the event
loop it would stall every other SMTP session until the store finished (a slow disk or a
held lock would then time out unrelated senders).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP

from cvdesk.channels.inbound import MAX_MESSAGE_BYTES

log = logging.getLogger(__name__)


class Handler:
    def __init__(self, deliver: Callable[[bytes], object], *, lmtp: bool = False) -> None:
        self.deliver = deliver
        self.lmtp = lmtp

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        data = raw if isinstance(raw, bytes) else str(raw).encode("utf-8", "surrogateescape")
        try:
            await asyncio.to_thread(self.deliver, data)
        except Exception:
            log.exception("could not store an inbound message; asking the sender to retry")
            status = "451 4.3.0 temporary failure, please try again later"
        else:
            status = "250 2.0.0 accepted"
        if self.lmtp:
            # LMTP answers DATA once per accepted recipient (RFC 2033 4.2); one line for
            # two recipients leaves the client waiting, then it delivers again, forever.
            # The message is stored once: every recipient here is the desk.
            return "\r\n".join([status] * max(1, len(envelope.rcpt_tos)))
        return status


class Listener(Controller):
    def __init__(self, deliver: Callable[[bytes], object], *, host: str, port: int,
                 lmtp: bool = False) -> None:
        self.lmtp = lmtp
        super().__init__(Handler(deliver, lmtp=lmtp), hostname=host, port=port)

    def factory(self) -> SMTP:
        return (LMTP if self.lmtp else SMTP)(self.handler, data_size_limit=MAX_MESSAGE_BYTES)
