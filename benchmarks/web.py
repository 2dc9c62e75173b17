"""Benchmark: the web desk's case list and case page under load (issue 11, Speed).

    .venv/bin/python -m benchmarks.web [--cases 10000] [--big 2000] [--users 50]
                                       [--duration 60] [--warmup 10] [--step-seconds 10]
                                       [--pg-url URL] [--workers 2] [--sqlite-workers 1]
                                       [--no-sqlite] [--fresh]

The database holds ``--cases`` cases: the demo (16 cases) scaled up with synthetic cases
(benchmarks/generate.py, ~20 participants and ~50 log events each) and one case with
``--big`` vendors (a library flaw under embargo, every vendor notified, a third replied).
It is built once and kept in benchmarks/.data (SQLite) or in the database
``cvdesk_bench_web_<cases>`` on the PostgreSQL server of ``--pg-url`` (default
``$CVDESK_TEST_PG_URL``; a role that may create databases).

The desk runs as ``cvdesk serve`` runs it: uvicorn in a subprocess on 127.0.0.1
(``--sqlite-workers`` on SQLite, one by default; ``--workers`` on PostgreSQL, each on a
listening socket of its own, cvdesk/cli/workers.py).  This process is the load:
``--users`` signed-in coordinators, each with a client and a kept-alive connection of
its own (as each has a browser), asking for a page, reading the answer, then waiting
about a second (0.5 to 1.5 s) before the next; pages are drawn
evenly from the case list, a case page (a random synthetic case), the big case's page and
/healthz, the trivial endpoint each page is compared with.  After ``--warmup`` seconds of
the same users, not counted (the steady state is measured), it prints p50 and p99 per
page and the ratio of each page's p50 to /healthz's.  Then, page by page, requests are
sent at a fixed rate (open loop: a request is timed from when it was due, so a slow
answer cannot hold the next ones back), raising the rate by half each
``--step-seconds`` until p99 reaches 100 ms or answers fail; the highest rate held is
printed.

The load generator shares the machine with the server: on a small machine its own CPU
time limits the highest rates measured, which are therefore a floor.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from benchmarks import interpreter
from benchmarks.generate import ACTOR, synthetic_cases
from cvdesk.app import Desk
from cvdesk.domain.accounts import SiteRole
from cvdesk.domain.case import Case
from cvdesk.domain.cs import CSEvent
from cvdesk.domain.model import TLP, AttemptOutcome, Channel, Report, ReporterInfo, Role
from cvdesk.domain.rm import RMTrigger
from cvdesk.settings import load_settings
from cvdesk.store.bulk import insert_cases
from cvdesk.store.db import normalize_url
from cvdesk.store.tables import CaseRow
from cvdesk.web.server import HTTP_PROTOCOL

DATA = Path(__file__).with_name(".data")
EMAIL = "bench-coordinator@bench.cvdesk.test"
PASSWORD = "a benchmark passphrase, not a secret"
BIG_CASE = "CVD-2026-B00001"
SESSIONS = 10  # sign-ins shared by the users (argon2 makes each take a while, by design)
P99_LIMIT = 0.100


# ---------------------------------------------------------------- the database
def big_case(vendors: int, now: datetime, seed: int = 11) -> Case:
    """A library flaw reaching ``vendors`` vendors: all notified, a third replied (and so
    are aware), a few with a fix, under an embargo ending in three weeks."""
    rng = random.Random(seed)
    t = now - timedelta(days=20)
    case = Case.open(BIG_CASE, f"Parser flaw in a library {vendors} vendors ship", TLP.AMBER,
                     at=t, actor=ACTOR)
    report = Report(title=case.title, description="shared code", reporter=ReporterInfo(
        name="Library Finder"))
    case.receive_report("VR-BENCH-BIG", report, at=t, actor=ACTOR)
    desk = case.add_participant("desk", [Role.COORDINATOR], at=t, actor=ACTOR)
    case.rm(desk.pid, RMTrigger.RECEIVE, at=t, actor=ACTOR)
    finder = case.add_participant("Library Finder", [Role.FINDER, Role.REPORTER], at=t,
                                  actor=ACTOR)
    pids = [case.add_participant(f"Downstream Vendor {i:04d}", [Role.VENDOR], at=t,
                                 actor=ACTOR).pid for i in range(vendors)]
    case.propose_embargo(now + timedelta(days=21), at=t + timedelta(hours=1), actor=ACTOR,
                         invite=[finder.pid])
    case.accept_embargo(at=t + timedelta(hours=2), actor=ACTOR)
    sent = t + timedelta(hours=3)
    for pid in pids:
        case.contact_attempt(pid, Channel.EMAIL, AttemptOutcome.SENT, at=sent, actor=ACTOR)
    for i, pid in enumerate(pids[::3]):
        case.contact_reply(pid, Channel.EMAIL, at=sent + timedelta(hours=1 + i % 200),
                           actor=ACTOR)
    for pid in rng.sample(pids[::3], k=max(1, len(pids) // 40)):
        case.record_cs(CSEvent.F, pid, at=now - timedelta(days=1), actor=ACTOR)
    return case


def _quiet_env() -> None:
    for key in list(os.environ):
        if key.startswith("CVDESK_"):
            del os.environ[key]


def build(url: str, cases: int, vendors: int) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    desk = Desk(load_settings(database_url=url, actor=ACTOR))
    try:
        desk.load_demo()  # creates the schema too
        demo = desk.case_count()
        with desk.db.transaction() as session:
            insert_cases(session, synthetic_cases(cases - demo - 1, now))
            insert_cases(session, [big_case(vendors, now)])
        desk.accounts().create_user(EMAIL, "Bench Coordinator", PASSWORD,
                                    site_role=SiteRole.COORDINATOR)
    finally:
        desk.close()


def case_count(url: str) -> int:
    engine = create_engine(normalize_url(url))
    try:
        with engine.connect() as conn:
            if not engine.dialect.has_table(conn, "cases"):
                return 0
            return int(conn.scalar(select(func.count()).select_from(CaseRow)) or 0)
    finally:
        engine.dispose()


def sqlite_url(cases: int, fresh: bool) -> str:
    path = DATA / f"web-{cases}.db"
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    DATA.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def pg_url(server_url: str, cases: int, fresh: bool) -> str:
    admin = create_engine(normalize_url(server_url), isolation_level="AUTOCOMMIT")
    name = f"cvdesk_bench_web_{cases}"
    try:
        with admin.connect() as conn:
            if fresh:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                               {"n": name}):
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return make_url(normalize_url(server_url)).set(database=name).render_as_string(
        hide_password=False)


def prepare(url: str, cases: int, vendors: int) -> tuple[list[str], list[str]]:
    """Build the database unless it holds ``cases`` cases; (session tokens, case ids)."""
    have = case_count(url)
    if have != cases:
        if have:
            raise SystemExit(f"{url} holds {have} cases, not {cases}: use --fresh")
        print(f"building {cases} cases ...", flush=True)
        started = time.perf_counter()
        build(url, cases, vendors)
        print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)
    desk = Desk(load_settings(database_url=url, actor=ACTOR))
    try:
        desk.init_database()  # a database built by an older version
        tokens = [desk.accounts().sign_in(EMAIL, PASSWORD).token for _ in range(SESSIONS)]
        with desk.db.sessions() as s:
            ids = list(s.scalars(select(CaseRow.case_id).where(
                CaseRow.case_id.like("CVD-2026-0_____")).order_by(func.random()).limit(500)))
    finally:
        desk.close()
    return tokens, ids


# ---------------------------------------------------------------- the server
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CVDESK_")}
    # No periodic sweep while measuring pages (a long run would otherwise sweep 10,000
    # cases in the middle of it; web.sweep_minutes).
    env.update(CVDESK_DATABASE_URL=url, CVDESK_WEB__SECRET_KEY=uuid.uuid4().hex,
               CVDESK_WEB__SWEEP_MINUTES="0")
    # uvicorn as ``cvdesk serve`` runs it (the same protocol class, see
    # cvdesk/web/server.py), without its start-up work (schema, demo, logins).
    # Several workers as ``cvdesk serve`` runs them: each on its own socket
    # (cvdesk/cli/workers.py).
    run = ("from cvdesk.cli.workers import run_workers; "
           "run_workers('cvdesk.web.main:app', factory=True, "
           f"host='127.0.0.1', port={port}, workers={workers}, access_log=False, "
           f"log_level='warning', server_header=False, http={HTTP_PROTOCOL!r})")
    proc = subprocess.Popen([sys.executable, "-c", run], cwd=DATA, env=env,
                            stdin=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("the server did not start within 60 s")


def server_cpu(pid: int) -> float:
    """CPU seconds used so far by the server and its worker processes (Linux /proc): on
    a shared machine, steadier than wall-clock times."""
    total, ticks = 0.0, os.sysconf("SC_CLK_TCK")
    pids = [pid]
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            pids += [int(c) for c in (task / "children").read_text().split()]
    except OSError:
        pass
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# ---------------------------------------------------------------- the load
@dataclass
class Pages:
    ids: list[str]

    def path(self, page: str, rng: random.Random) -> str:
        return {"case list": "/cases", "case page": f"/cases/{rng.choice(self.ids)}",
                "big case page": f"/cases/{BIG_CASE}", "healthz": "/healthz"}[page]


NAMES = ("case list", "case page", "big case page", "healthz")


@dataclass
class Samples:
    times: dict[str, list[float]] = field(default_factory=lambda: {n: [] for n in NAMES})
    failures: dict[str, int] = field(default_factory=lambda: {n: 0 for n in NAMES})
    server_cpu: float = 0.0  # seconds, the server's processes together


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _get(client: httpx.AsyncClient, path: str, cookie: str) -> bool:
    r = await client.get(path, headers={"cookie": f"cvdesk_session={cookie}"})
    await r.aread()
    return r.status_code == 200


def user_clients(base: str, users: int) -> list[httpx.AsyncClient]:
    """One client per user, as each user is a browser of its own: one kept-alive
    connection each, kept from the warm-up to the end of the measurement.  (One client
    shared by all would reuse its first idle connections for nearly every request, so a
    handful of connections, and the worker that accepted them, would carry the whole
    load; and new clients for the measurement would time 50 connections being set up
    at once in its first second.)"""
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    return [httpx.AsyncClient(base_url=base, limits=limits, timeout=30)
            for _ in range(users)]


async def users_phase(clients: list[httpx.AsyncClient], tokens: list[str], pages: Pages,
                      duration: float, seed: int = 0) -> Samples:
    samples = Samples()
    end = time.perf_counter() + duration

    async def user(n: int, client: httpx.AsyncClient) -> None:
        rng = random.Random(seed * 1000 + n)
        cookie = tokens[n % len(tokens)]
        await asyncio.sleep(rng.random())  # users arrive over the first second
        while time.perf_counter() < end:
            page = rng.choice(NAMES)
            started = time.perf_counter()
            ok = await _get(client, pages.path(page, rng), cookie)
            samples.times[page].append(time.perf_counter() - started)
            samples.failures[page] += not ok
            await asyncio.sleep(rng.uniform(0.5, 1.5))

    await asyncio.gather(*(user(n, c) for n, c in enumerate(clients)))
    return samples


async def warm_and_measure(base: str, tokens: list[str], pages: Pages,
                           args: argparse.Namespace) -> Samples:
    """The users for ``args.warmup`` seconds, not counted, then for ``args.duration``."""
    clients = user_clients(base, args.users)
    try:
        if args.warmup > 0:
            # What is measured is the steady state, after each worker opened the
            # connections that many users need, filled its caches and made its second
            # garbage-collector freeze (web/settle.py).
            await users_phase(clients, tokens, pages, args.warmup, seed=1)
        # The load's own collector stays out of the times it takes (the clients, the
        # connections and httpx's modules are frozen; only what is made later is walked).
        gc.collect()
        gc.freeze()
        print(f"  (load average before: {os.getloadavg()[0]:.1f})", flush=True)
        cpu = server_cpu(SERVER_PID[0])
        samples = await users_phase(clients, tokens, pages, args.duration)
        samples.server_cpu = server_cpu(SERVER_PID[0]) - cpu
        return samples
    finally:
        gc.unfreeze()
        for client in clients:
            await client.aclose()


async def rate_step(base: str, tokens: list[str], pages: Pages, page: str, rate: float,
                    seconds: float) -> tuple[list[float], int, float]:
    """(latencies from when each request was due, failures, requests answered per s)."""
    global LAST_CPU
    rng = random.Random(int(rate))
    times: list[float] = []
    failures = 0
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        start, cpu = time.perf_counter(), server_cpu(SERVER_PID[0])
        count = int(rate * seconds)

        async def one(i: int) -> None:
            nonlocal failures
            due = start + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            try:
                ok = await _get(client, pages.path(page, rng), tokens[i % len(tokens)])
            except httpx.HTTPError:
                ok = False
            times.append(time.perf_counter() - due)
            failures += not ok

        await asyncio.gather(*(one(i) for i in range(count)))
        elapsed = time.perf_counter() - start
        LAST_CPU = (server_cpu(SERVER_PID[0]) - cpu) / max(1, count)
    return times, failures, count / elapsed


SERVER_PID = [0]
LAST_CPU = 0.0


async def highest_rate(base: str, tokens: list[str], pages: Pages, page: str,
                       seconds: float) -> tuple[float, float, list[str]]:
    """(highest rate held, server CPU seconds per request at the first step, lines)."""
    rate, held, first_cpu, lines = 10.0, 0.0, 0.0, []
    while rate <= 5000:
        times, failures, answered = await rate_step(base, tokens, pages, page, rate, seconds)
        first_cpu = first_cpu or LAST_CPU
        p99 = pct(times, 0.99)
        ok = p99 < P99_LIMIT and not failures and answered >= 0.9 * rate
        lines.append(f"    {rate:7.0f}/s: p50 {pct(times, 0.5) * 1e3:6.1f} ms, p99 "
                     f"{p99 * 1e3:7.1f} ms, server CPU {LAST_CPU * 1e3:5.1f} ms/request, "
                     f"{failures} failed{'' if ok else '  <- not held'}")
        if not ok:
            break
        held, rate = rate, rate * 1.5
    return held, first_cpu, lines


def run(label: str, url: str, workers: int, args: argparse.Namespace) -> None:
    tokens, ids = prepare(url, args.cases, args.big)
    pages = Pages(ids)
    proc, base = start_server(url, workers)
    SERVER_PID[0] = proc.pid
    try:
        for page in NAMES:  # one request each first: imports, caches, connections
            asyncio.run(rate_step(base, tokens, pages, page, 5, 1))
        print(f"\n{label}: {args.cases} cases (one with {args.big} vendors), {workers} "
              f"worker(s); {args.users} users, each waiting ~1 s, for {args.duration:.0f} s "
              f"after {args.warmup:.0f} s of warm-up", flush=True)
        samples = asyncio.run(warm_and_measure(base, tokens, pages, args))
        cpu = samples.server_cpu
        total = sum(len(t) for t in samples.times.values())
        floor = statistics.median(samples.times["healthz"])
        print(f"  {'page':<15} {'requests':>8} {'p50 ms':>8} {'p99 ms':>8} {'p50/healthz':>12}"
              f" {'failed':>7}")
        for page in NAMES:
            t = samples.times[page]
            print(f"  {page:<15} {len(t):8d} {pct(t, 0.5) * 1e3:8.1f} {pct(t, 0.99) * 1e3:8.1f}"
                  f" {pct(t, 0.5) / floor:12.1f} {samples.failures[page]:7d}", flush=True)
        print(f"  {total / args.duration:.0f} requests/s; server CPU {cpu * 1e3 / total:.1f} ms "
              f"per request; load average after: {os.getloadavg()[0]:.1f}", flush=True)
        if args.step_seconds > 0:
            print(f"  highest rate held with p99 < {P99_LIMIT * 1e3:.0f} ms (steps of "
                  f"{args.step_seconds:.0f} s, x1.5):", flush=True)
            for page in NAMES:
                held, first_cpu, lines = asyncio.run(highest_rate(base, tokens, pages, page,
                                                                  args.step_seconds))
                print(f"  {page:<15} {held:6.0f} requests/s   (server CPU "
                      f"{first_cpu * 1e3:.1f} ms per request at 10/s)", flush=True)
                if args.verbose:
                    print("\n".join(lines), flush=True)
    finally:
        stop_server(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--big", type=int, default=2000, help="vendors in the big case")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=10.0,
                        help="seconds of the same users before measuring, not counted")
    parser.add_argument("--step-seconds", type=float, default=10.0,
                        help="length of each rate step (0: skip the rate search)")
    parser.add_argument("--pg-url", default=os.environ.get("CVDESK_TEST_PG_URL"))
    parser.add_argument("--workers", type=int, default=2, help="workers on PostgreSQL")
    parser.add_argument("--sqlite-workers", type=int, default=1,
                        help="workers on SQLite (WAL: readers in several processes)")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--fresh", action="store_true", help="rebuild the databases")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every rate step")
    args = parser.parse_args()
    print(interpreter(), flush=True)
    pg = args.pg_url
    _quiet_env()
    if not args.no_sqlite:
        run("SQLite", sqlite_url(args.cases, args.fresh), args.sqlite_workers, args)
    if pg:
        run("PostgreSQL", pg_url(pg, args.cases, args.fresh), args.workers, args)


if __name__ == "__main__":
    main()
