"""Synthetic open cases for benchmarks: ~20 participants and ~50 log events each.

Every case is built through the domain aggregate (so it obeys the models) and
written with cvdesk.store.bulk (so its projections are the product's own).
Vendors behave in a mix of ways: silent, replying, replying then silent, so
every sweep rule has work to do.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta

from cvdesk.domain.case import Case
from cvdesk.domain.cs import CSEvent
from cvdesk.domain.model import (
    TLP,
    AttemptOutcome,
    Channel,
    Report,
    ReporterInfo,
    Role,
)
from cvdesk.domain.rm import RMTrigger

ACTOR = "bench"
CHANNELS = (Channel.EMAIL, Channel.EMAIL, Channel.EMAIL, Channel.WEB_FORM, Channel.PHONE)


def synthetic_case(rng: random.Random, number: int, now: datetime) -> Case:
    opened = now - timedelta(days=rng.uniform(2, 150))
    span = now - opened
    t = opened

    def tick(frac: float) -> datetime:
        nonlocal t
        t = min(now, t + span * frac * rng.random())
        return t

    case = Case.open(f"CVD-2026-{number:06d}", f"Synthetic case {number}", TLP.AMBER, at=t,
                     actor=ACTOR)
    report = Report(title=f"Synthetic case {number}", description="generated",
                    reporter=ReporterInfo(name=f"Finder {number}"))
    case.receive_report(f"VR-BENCH-{number:07d}", report, at=t, actor=ACTOR)
    desk = case.add_participant("desk", [Role.COORDINATOR], at=t, actor=ACTOR)
    case.rm(desk.pid, RMTrigger.RECEIVE, at=t, actor=ACTOR)
    finder = case.add_participant(f"Finder {number}", [Role.FINDER, Role.REPORTER], at=t,
                                  actor=ACTOR)
    vendors = [case.add_participant(f"Vendor {number}-{i}", [Role.VENDOR], at=t, actor=ACTOR).pid
               for i in range(rng.randint(15, 19))]
    if rng.random() < 0.2:
        case.add_participant(f"Deployer {number}", [Role.DEPLOYER], at=t, actor=ACTOR)
    replied: list[int] = []
    for pid in vendors[: rng.randint(8, 13)]:
        case.contact_attempt(pid, rng.choice(CHANNELS), AttemptOutcome.SENT, at=tick(0.02),
                             actor=ACTOR)
        if rng.random() < 0.55:
            case.contact_reply(pid, Channel.EMAIL, at=tick(0.02), actor=ACTOR)
            replied.append(pid)
    for pid in replied[:3]:  # a reply made them aware (V); some have a fix ready
        if rng.random() < 0.5:
            case.record_cs(CSEvent.F, pid, at=tick(0.01), actor=ACTOR)
    if rng.random() < 0.5:
        end = opened + timedelta(days=rng.choice((45, 45, 60, 90)))
        proposed = tick(0.01)
        if end > proposed + timedelta(days=1):
            case.propose_embargo(end, at=proposed, actor=ACTOR, invite=[finder.pid])
            case.accept_embargo(at=proposed + timedelta(hours=12), actor=ACTOR)
            if end <= now and rng.random() < 0.6:  # most embargoes exit on their date
                case.terminate_embargo(at=end, actor=ACTOR, reason="agreed end reached")
    for pid in replied:  # some go quiet: two more attempts after their reply
        if rng.random() < 0.3:
            for _ in range(2):
                case.contact_attempt(pid, rng.choice(CHANNELS), AttemptOutcome.NO_REPLY,
                                     at=tick(0.1), actor=ACTOR)
    return case


def synthetic_cases(count: int, now: datetime, seed: int = 7) -> Iterator[Case]:
    rng = random.Random(seed)
    for number in range(1, count + 1):
        yield synthetic_case(rng, number, now)
