"""An SMTP or LMTP listener (aiosmtpd) that hands every message to a callback.

The callback files or quarantines the message and returns normally: the listener then
answers 250.  If it raises (the database is down, say), the listener answers 451 so
the sending server keeps the message and tries again: nothing is dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP

log = logging.getLogger(__name__)


class Handler:
    def __init__(self, deliver: Callable[[bytes], None]) -> None:
        self.deliver = deliver

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        try:
            self.deliver(raw if isinstance(raw, bytes) else str(raw).encode())
        except Exception:
            log.exception("could not store an inbound message; asking the sender to retry")
            return "451 4.3.0 temporary failure, please try again later"
        return "250 2.0.0 accepted"


class Listener(Controller):
    def __init__(self, deliver: Callable[[bytes], None], *, host: str, port: int,
                 lmtp: bool = False) -> None:
        self.lmtp = lmtp
        super().__init__(Handler(deliver), hostname=host, port=port)

    def factory(self) -> SMTP:
        return (LMTP if self.lmtp else SMTP)(self.handler, data_size_limit=25 * 1024 * 1024)
