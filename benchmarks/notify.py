"""Benchmark: notify 1,000 vendors end to end through a local SMTP server (aiosmtpd on
127.0.0.1): queue in one transaction, deliver with the outbox worker, and compare with the
floor, a plain smtplib loop sending the same composed messages over one connection.

    .venv/bin/python -m benchmarks.notify [--vendors 1000] [--batch 200]
"""

from __future__ import annotations

import argparse
import smtplib
import socket
import tempfile
import time
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy import select

from cvdesk.domain.model import Report, ReporterInfo, Role
from cvdesk.services import CaseService, init_database
from cvdesk.services.mail import MailService
from cvdesk.services.worker import Worker, _wire
from cvdesk.settings import load_settings
from cvdesk.store.db import Database
from cvdesk.store.tables import OutboxRow


class Counter:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.count += 1
        return "250 OK"


def plain_smtplib(port: int, messages: list[tuple[str, str, bytes]]) -> float:
    """Seconds a bare smtplib loop takes to send ``messages`` (already composed, already
    in wire form) over one connection: what any outbox costs is measured against this."""
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for sender, recipient, data in messages:
            smtp.sendmail(sender, [recipient], data)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vendors", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    counter = Counter()
    server = Controller(counter, hostname="127.0.0.1", port=port)
    server.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            db = Database(f"sqlite:///{Path(tmp) / 'notify.db'}")
            init_database(db)
            settings = load_settings(database_url=db.url, desk={"email": "cert@example.org"},
                                     smtp={"port": port})
            svc = CaseService(db, settings)
            cid = svc.submit_report(Report("Bulk notification benchmark", "d",
                                           ReporterInfo("Rita"))).case_id
            with svc.case(cid) as case:
                for i in range(args.vendors):
                    case.add_participant(f"Vendor {i}", [Role.VENDOR], at=svc.clock(),
                                         actor="bench", email=f"psirt@vendor{i}.example")
            started = time.perf_counter()
            MailService(svc).queue(cid, None, "new-case")
            queued = time.perf_counter()
            stats = Worker(db, settings).run(batch=args.batch)
            done = time.perf_counter()
            with db.sessions() as s:
                composed = [(sender, recipient, _wire(raw)) for sender, recipient, raw in
                            s.execute(select(OutboxRow.sender, OutboxRow.recipient,
                                             OutboxRow.raw).order_by(OutboxRow.id))]
            db.dispose()
        received = counter.count
        floor = plain_smtplib(port, composed)
    finally:
        server.stop()
    total = done - started
    print(f"{args.vendors} vendors, SQLite, aiosmtpd on 127.0.0.1")
    print(f"queue (one transaction)   {queued - started:7.2f} s")
    print(f"deliver (worker)          {done - queued:7.2f} s  sent {stats.sent}, "
          f"failed {stats.failed}, server received {received}")
    print(f"end to end                {total:7.2f} s  ({args.vendors / total:.0f} messages/s)")
    print(f"plain smtplib, one conn.  {floor:7.2f} s  (same {len(composed)} messages)")
    print(f"ratio to plain smtplib: {total / floor:.2f}")


if __name__ == "__main__":
    main()
