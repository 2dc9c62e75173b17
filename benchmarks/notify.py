"""Benchmark: notify 1,000 vendors end to end through a local SMTP server (aiosmtpd on
127.0.0.1): queue in one transaction, deliver with the outbox worker, and compare with the
floor, a plain smtplib loop sending the same composed messages over one connection.

    .venv/bin/python -m benchmarks.notify [--vendors 1000] [--batch 200] [--rounds 9]
                                          [--bounce N]

Each step is timed in wall-clock and in CPU seconds of this process (the SMTP server is a
thread of it, so both sides count, for the outbox and for the floor alike).  On a shared
machine the wall clock also counts the time other processes held the CPU, so the CPU
ratio is the steadier one.  The measure is paired: each round queues the notice, then
runs the worker and the floor one right after the other (the floor first in every other
round), and the printed ratio is the median of the rounds' own ratios, so a busy spell
on the machine falls on both sides of one ratio instead of on one side of the median.
One round before them is run and not counted (it warms caches any running worker has
warm).

Garbage is collected before each timed step, so that what the set-up left behind (a case
with a thousand participants) does not make the collector run, at random, inside
whichever step comes next; a collection the step's own objects cause still counts.
``--bounce N`` has the server refuse every Nth recipient (550): each refusal is logged on
the case in a transaction of its own.
"""

from __future__ import annotations

import argparse
import gc
import os
import smtplib
import socket
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy import select

from benchmarks import interpreter
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
        self.bounce = 0

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.count += 1
        return "250 OK"


class Refusing(Counter):
    """Refuses every ``bounce``th recipient (a handler of its own, so that the plain runs
    keep the server's default RCPT handling)."""

    def __init__(self, bounce: int) -> None:
        super().__init__()
        self.bounce = bounce
        self.seen = 0

    async def handle_RCPT(self, server, session, envelope, address, options):  # type: ignore[no-untyped-def]
        self.seen += 1
        if self.bounce and self.seen % self.bounce == 0:
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@dataclass
class Timing:
    wall: float = 0.0
    cpu: float = 0.0


class timed:
    """Wall-clock and CPU seconds of a block."""

    def __init__(self, into: Timing) -> None:
        self.into = into

    def __enter__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def __exit__(self, *_exc: object) -> None:
        self.into.wall = time.perf_counter() - self.wall
        self.into.cpu = time.process_time() - self.cpu


def plain_smtplib(port: int, messages: list[tuple[str, str, bytes]], into: Timing) -> None:
    """A bare smtplib loop sending ``messages`` (already composed, already in wire form)
    over one connection: what any outbox costs is measured against this."""
    with timed(into), smtplib.SMTP("127.0.0.1", port) as smtp:
        for sender, recipient, data in messages:
            smtp.sendmail(sender, [recipient], data)


@dataclass
class Round:
    queue: Timing
    deliver: Timing
    floor: Timing
    sent: int
    failed: int
    received: int
    messages: int
    floor_first: bool

    def ratio(self, part: str) -> float:
        """End to end (queue and deliver) over the floor, in wall or CPU seconds."""
        return ((getattr(self.queue, part) + getattr(self.deliver, part))
                / getattr(self.floor, part))


#: Kept for callers of the earlier name.
Run = Round


def one_round(vendors: int, batch: int, bounce: int = 0, *, floor_first: bool = False,
              ) -> Round:
    """One paired round: queue the notice, then deliver it with the worker and send the
    same composed messages with the smtplib loop, one right after the other (the floor
    first when ``floor_first``), to the same server."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    counter = Refusing(bounce) if bounce else Counter()
    server = Controller(counter, hostname="127.0.0.1", port=port)
    server.start()
    queue, deliver, floor = Timing(), Timing(), Timing()
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
                for i in range(vendors):
                    case.add_participant(f"Vendor {i}", [Role.VENDOR], at=svc.clock(),
                                         actor="bench", email=f"psirt@vendor{i}.example")
            gc.collect()
            with timed(queue):
                MailService(svc).queue(cid, None, "new-case")
            # What the floor sends: the queued messages as the worker puts them on the wire
            # (read outside the timed steps).
            with db.sessions() as s:
                composed = [(sender, recipient, _wire(raw)) for sender, recipient, raw in
                            s.execute(select(OutboxRow.sender, OutboxRow.recipient,
                                             OutboxRow.raw).order_by(OutboxRow.id))]

            def run_floor() -> None:
                refusing, counter.bounce = counter.bounce, 0  # the floor is never refused
                gc.collect()
                plain_smtplib(port, composed, floor)
                counter.bounce = refusing

            if floor_first:
                run_floor()
            before = counter.count
            gc.collect()
            with timed(deliver):
                stats = Worker(db, settings).run(batch=batch)
            received = counter.count - before
            if not floor_first:
                run_floor()
            db.dispose()
    finally:
        server.stop()
    return Round(queue, deliver, floor, stats.sent, stats.failed, received, len(composed),
                 floor_first)


def one_run(vendors: int, batch: int, bounce: int = 0) -> Round:
    return one_round(vendors, batch, bounce)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vendors", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--rounds", "--runs", dest="rounds", type=int, default=9,
                        help="paired rounds counted (after one not counted)")
    parser.add_argument("--bounce", type=int, default=0,
                        help="refuse every Nth recipient (550)")
    args = parser.parse_args()
    print(interpreter(), flush=True)
    # A first round warms what any long-running worker has warm (SQLAlchemy's statement
    # caches, the allocator, the page cache): it is run and not counted.
    one_round(args.vendors, args.batch, args.bounce, floor_first=True)
    rounds: list[Round] = []
    for n in range(args.rounds):
        # The floor goes first in every other round, so that neither side is always the
        # one that runs while the machine is busier (the rounds' order is A B, B A, ...).
        rounds.append(one_round(args.vendors, args.batch, args.bounce,
                                floor_first=n % 2 == 1))
        r = rounds[-1]
        print(f"round {n + 1}: ratio {r.ratio('wall'):.2f} (CPU {r.ratio('cpu'):.2f})"
              f"{', floor first' if r.floor_first else ''}", flush=True)

    def median(step: str, part: str) -> float:
        return statistics.median(getattr(getattr(r, step), part) for r in rounds)

    def ratios(part: str) -> list[float]:
        return [r.ratio(part) for r in rounds]

    last = rounds[-1]
    total = median("queue", "wall") + median("deliver", "wall")
    total_cpu = median("queue", "cpu") + median("deliver", "cpu")
    print(f"{args.vendors} vendors, SQLite, aiosmtpd on 127.0.0.1, medians of "
          f"{len(rounds)} paired rounds (load average {os.getloadavg()[0]:.1f})")
    print("                             wall s    CPU s")
    print(f"queue (one transaction)   {median('queue', 'wall'):7.2f}  "
          f"{median('queue', 'cpu'):7.2f}")
    print(f"deliver (worker)          {median('deliver', 'wall'):7.2f}  "
          f"{median('deliver', 'cpu'):7.2f}  sent {last.sent}, failed {last.failed}, "
          f"server received {last.received}")
    print(f"end to end                {total:7.2f}  {total_cpu:7.2f}  "
          f"({args.vendors / total:.0f} messages/s)")
    print(f"plain smtplib, one conn.  {median('floor', 'wall'):7.2f}  "
          f"{median('floor', 'cpu'):7.2f}  (same {last.messages} messages)")
    wall, cpu = ratios("wall"), ratios("cpu")
    above = sum(1 for x in wall if x > 2)
    print(f"rounds' ratios: wall {min(wall):.2f}-{max(wall):.2f}, CPU {min(cpu):.2f}-"
          f"{max(cpu):.2f}; {above} of {len(wall)} rounds above 2")
    print(f"CPU ratio to plain smtplib: {statistics.median(cpu):.2f}")
    print(f"ratio to plain smtplib: {statistics.median(wall):.2f}")


if __name__ == "__main__":
    main()
