"""Benchmark: notify 1,000 vendors end to end through a local SMTP server (aiosmtpd on
127.0.0.1): queue in one transaction, deliver with the outbox worker.

    .venv/bin/python -m benchmarks.notify [--vendors 1000] [--batch 200]
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import time
from pathlib import Path

from aiosmtpd.controller import Controller

from cvdesk.domain.model import Report, ReporterInfo, Role
from cvdesk.services import CaseService, init_database
from cvdesk.services.mail import MailService
from cvdesk.services.worker import Worker
from cvdesk.settings import load_settings
from cvdesk.store.db import Database


class Counter:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.count += 1
        return "250 OK"


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
            db.dispose()
    finally:
        server.stop()
    total = done - started
    print(f"{args.vendors} vendors, SQLite, aiosmtpd on 127.0.0.1")
    print(f"queue (one transaction)   {queued - started:7.2f} s")
    print(f"deliver (worker)          {done - queued:7.2f} s  sent {stats.sent}, "
          f"failed {stats.failed}, server received {counter.count}")
    print(f"end to end                {total:7.2f} s  ({args.vendors / total:.0f} messages/s; "
          "target < 10 s)")


if __name__ == "__main__":
    main()
