"""Benchmark: the troubleshooting sweep over many open cases, on SQLite.

    .venv/bin/python -m benchmarks.sweep [--cases 100000] [--db PATH] [--fresh]

Prints the time of a cold sweep (every case checked), of warm sweeps (only
cases whose log changed or whose next check time has come), and of a
hand-written SQL query that finds the same "unresponsive vendor" set, with
the ratios between them.  Everything is measured in one run on one machine.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.exc import OperationalError

from benchmarks import interpreter
from benchmarks.generate import synthetic_cases
from cvdesk.services import init_database
from cvdesk.services.doctor import DoctorService
from cvdesk.settings import load_settings
from cvdesk.store.bulk import insert_cases
from cvdesk.store.db import Database
from cvdesk.store.tables import CaseRow, CounterRow, EventRow, FindingRow, ParticipantRow
from cvdesk.store.types import UTCDateTime

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

#: The 6.2 test written by hand: the agreed date has passed when the embargo in force has
#: reached its end or the embargo has ended (exited); with no embargo, six weeks of quiet.
UNRESPONSIVE_SQL = text("""
SELECT c.case_id, p.pid
FROM participants p JOIN cases c ON c.id = p.case_pk
WHERE c.status = 'open' AND p.is_vendor AND p.replies > 0
  AND p.attempts_since_reply >= :min_attempts
  AND p.last_reply_at <= :silent_before
  AND ((c.em_state IN ('active', 'revise') AND c.embargo_end <= :now)
       OR c.em_state = 'exited'
       OR (c.em_state NOT IN ('active', 'revise', 'exited')
           AND p.last_reply_at <= :quiet_before))
""").bindparams(bindparam("now", type_=UTCDateTime()),
                bindparam("silent_before", type_=UTCDateTime()),
                bindparam("quiet_before", type_=UTCDateTime()))

#: The same query held to the plan it had before migration 0014 added an index on
#: (status, last_event_at, id): with it SQLite reads the cases through that index and
#: fetches each row apart, about 1.6 times slower.  Printed next to the plain query so
#: that the ratios stay comparable with the figures measured before 0014.
EARLIER_PLAN_SQL = text(str(UNRESPONSIVE_SQL).replace(
    "JOIN cases c ON", "JOIN cases c INDEXED BY ix_cases_status ON")).bindparams(
    bindparam("now", type_=UTCDateTime()), bindparam("silent_before", type_=UTCDateTime()),
    bindparam("quiet_before", type_=UTCDateTime()))


def build(db: Database, count: int) -> float:
    started = time.perf_counter()
    init_database(db)
    with db.transaction() as session:
        insert_cases(session, synthetic_cases(count, NOW))
        session.add(CounterRow(name="case-2026", value=count))
    return time.perf_counter() - started


#: Times the hand-written query is run (each plan), for its median.
SQL_RUNS = 5

#: CPU seconds of each timed step, next to the wall-clock ones: on a shared machine the
#: wall clock also counts the time other processes held the CPU.
CPU: list[float] = []


def timed(fn):  # type: ignore[no-untyped-def]
    started, cpu = time.perf_counter(), time.process_time()
    result = fn()
    CPU.append(time.process_time() - cpu)
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--fresh", action="store_true", help="rebuild the database")
    args = parser.parse_args()
    print(interpreter(), flush=True)
    path = args.db or Path(__file__).with_name(".data") / f"sweep-{args.cases}.db"
    if args.fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)  # Database() no longer makes it
    db = Database(f"sqlite:///{path}")
    settings = load_settings(database_url=db.url)
    policy = settings.policy
    with db.sessions() as s:
        existing = s.scalar(select(func.count()).select_from(CaseRow)) if path.exists() and \
            s.get_bind().dialect.has_table(s.connection(), "cases") else 0
    if existing != args.cases:
        print(f"building {args.cases} cases in {path} ...", flush=True)
        print(f"  built in {build(db, args.cases):.1f} s", flush=True)
    else:
        before, after = init_database(db)  # a database built by an older version
        if before != after:
            print(f"migrated {path} from {before} to {after}", flush=True)
        with db.transaction() as s:  # start from "never swept"
            s.execute(FindingRow.__table__.delete())
            s.execute(CaseRow.__table__.update().values(needs_sweep=True, next_check_at=None))
    with db.sessions() as s:
        cases = s.scalar(select(func.count()).select_from(CaseRow))
        people = s.scalar(select(func.count()).select_from(ParticipantRow))
        events = s.scalar(select(func.count()).select_from(EventRow))
    print(f"{cases} open cases, {people / cases:.1f} participants and {events / cases:.1f} "
          f"events per case (SQLite, {path.stat().st_size / 2**20:.0f} MiB)")

    def sweep_at(when: datetime) -> int:
        return DoctorService(db, settings, clock=lambda: when).run_sweep(when)

    def unresponsive_sql(query=UNRESPONSIVE_SQL) -> set[tuple[str, int]]:  # type: ignore[no-untyped-def]
        with db.sessions() as s:
            rows = s.execute(query, {
                "min_attempts": policy.unresponsive_min_attempts, "now": NOW,
                "silent_before": NOW - timedelta(days=policy.unresponsive_silence_days),
                "quiet_before": NOW - timedelta(days=policy.unresponsive_no_embargo_days)})
            return {(c, p) for c, p in rows}

    cold_n, cold = timed(lambda: sweep_at(NOW))
    warm_n, warm = timed(lambda: sweep_at(NOW))
    hour_n, hour = timed(lambda: sweep_at(NOW + timedelta(hours=1)))
    day_n, day = timed(lambda: sweep_at(NOW + timedelta(days=1, hours=1)))
    unresponsive_sql()  # warm the page cache the same way the sweeps were
    # The query takes a tenth of a second, so one hiccup of a shared machine moves it by
    # a large part: each plan is timed SQL_RUNS times, in turn, and the median is used.
    runs: dict[str, list[tuple[float, float]]] = {"as written": [], "earlier plan": []}
    expected = earlier = None
    for _ in range(SQL_RUNS):
        expected, wall = timed(unresponsive_sql)
        runs["as written"].append((wall, CPU.pop()))
        try:
            earlier, wall = timed(lambda: unresponsive_sql(EARLIER_PLAN_SQL))
            runs["earlier plan"].append((wall, CPU.pop()))
        except OperationalError:  # no such index: a database without it plans as before
            earlier = None
    sql = statistics.median(w for w, _ in runs["as written"])
    CPU.append(statistics.median(c for _, c in runs["as written"]))
    if runs["earlier plan"]:
        sql_earlier = statistics.median(w for w, _ in runs["earlier plan"])
        c_earlier = statistics.median(c for _, c in runs["earlier plan"])
    else:
        sql_earlier, c_earlier = None, None
    with db.sessions() as s:
        found = {(c, int(k.split(":p")[1])) for c, k in s.execute(
            select(CaseRow.case_id, FindingRow.key).join(CaseRow, CaseRow.id == FindingRow.case_pk)
            .where(FindingRow.problem == "vendor-unresponsive",
                   FindingRow.first_seen_at == NOW))}
    c_cold, c_warm, c_hour, c_day, c_sql = CPU[0], CPU[1], CPU[2], CPU[3], CPU[-1]
    print("                                  wall s    CPU s")
    print(f"cold sweep (every case)          {cold:8.3f} {c_cold:8.3f}  {cold_n} cases checked")
    print(f"warm sweep, same time            {warm:8.3f} {c_warm:8.3f}  {warm_n} cases checked")
    print(f"warm sweep, one hour later       {hour:8.3f} {c_hour:8.3f}  {hour_n} cases checked")
    print(f"warm sweep, one day later        {day:8.3f} {c_day:8.3f}  {day_n} cases checked")
    print(f"hand-written SQL, unresponsive   {sql:8.3f} {c_sql:8.3f}  {len(expected)} vendors "
          f"(median of {SQL_RUNS} runs)")
    print(f"same unresponsive set as the sweep's findings at the cold sweep: "
          f"{'yes' if found == expected else 'NO'} ({len(found)} findings)")
    print(f"ratio warm sweep (1 h later) / SQL: {hour / sql:6.2f}   (target <= 3; "
          f"CPU {c_hour / c_sql:.2f})")
    print(f"ratio warm sweep (1 day later) / SQL: {day / sql:6.2f}   (target <= 2; "
          f"CPU {c_day / c_sql:.2f})")
    print(f"ratio cold sweep / SQL: {cold / sql:6.1f}   (target <= 50; CPU {c_cold / c_sql:.1f})")
    if sql_earlier is not None and c_earlier:
        print(f"hand-written SQL, plan before 0014 {sql_earlier:8.3f} {c_earlier:8.3f}  "
              f"{'the same set' if earlier == expected else 'ANOTHER SET'}")
        print(f"  ratios to it, CPU: cold {c_cold / c_earlier:.1f}, one day later "
              f"{c_day / c_earlier:.2f}, one hour later {c_hour / c_earlier:.2f}")


if __name__ == "__main__":
    main()
