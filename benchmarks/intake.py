"""Benchmark: submitting a report with 1,000 and with 100,000 reports stored, on SQLite.

    .venv/bin/python -m benchmarks.intake [--small 1000] [--large 100000] [--submits 30]

Stored reports are bulk-loaded (cvdesk.store.bulk plus their fingerprints and keys) from
synthetic text whose words follow Zipf's law over a 20,000-word vocabulary, so common
words are common and the duplicate check (guide 6.5) has realistic look-ups to do; one
stored report in four shares its product with three others.  The same submits are then
timed against both stores, taking turns so that both see the same load on a shared
machine, and the medians compared; every third repeats a stored
report's text (half of those on another product), so each store has duplicates to find.

Then one report naming 500 to 5,000 vendors is submitted (each into an empty store)
through CaseService with a domain Report built in code: the report *form* stops at 500
vendors (README "Limits per form"), but the service path is what has to stay linear, so
it is measured past that.
"""

from __future__ import annotations

import argparse
import gc
import random
import shutil
import statistics
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from benchmarks import interpreter
from cvdesk.domain.case import Case
from cvdesk.domain.codec import report_from_dict
from cvdesk.domain.events import EventType
from cvdesk.domain.model import TLP, AffectedProduct, Report, ReporterInfo, Role
from cvdesk.services import CaseService, init_database
from cvdesk.settings import load_settings
from cvdesk.store.bulk import insert_cases
from cvdesk.store.db import Database
from cvdesk.store.migrate import HEAD, current_revision
from cvdesk.store.tables import (
    CaseRow,
    CounterRow,
    EventRow,
    ReportFingerprintRow,
    ReportKeyRow,
    ReportRow,
)
from cvdesk.troubleshoot.similarity import fingerprint, stored_keys, to_stored

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
VOCABULARY = 20_000
SYLLABLES = ["ka", "lo", "mi", "re", "su", "ta", "ve", "no", "xi", "po", "da", "fu", "ge", "hy"]


def _word(i: int) -> str:
    out = []
    while True:
        i, r = divmod(i, len(SYLLABLES))
        out.append(SYLLABLES[r])
        if not i:
            return "".join(out) + "z"


class Text:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.words = [_word(i) for i in range(VOCABULARY)]
        # Zipf's law from rank 100 on: the hundred commonest words would be stop words.
        self.weights = [1 / (rank + 100) for rank in range(VOCABULARY)]

    def __call__(self, n: int) -> str:
        return " ".join(self.rng.choices(self.words, self.weights, k=n))


def synthetic_report(text: Text, number: int, products: int) -> Report:
    k = text.rng.randrange(products)
    return Report(title=text(7), description=text(40), reporter=ReporterInfo(name=f"F{number}"),
                  products=(AffectedProduct(product=f"Model {k % 97}-{k}",
                                            vendor=f"Maker {k // 7}"),))


def _cases(text: Text, count: int) -> Iterator[Case]:
    for n in range(1, count + 1):
        at = NOW - timedelta(days=text.rng.uniform(1, 300))
        case = Case.open(f"CVD-2026-{n:06d}", f"Stored {n}", TLP.AMBER, at=at, actor="bench")
        case.receive_report(f"VR-BENCH-{n:07d}", synthetic_report(text, n, max(1, count // 4)),
                            at=at, actor="bench")
        case.add_participant("desk", [Role.COORDINATOR], at=at, actor="bench")
        yield case


def file_fingerprints(db: Database, batch: int = 2000) -> None:
    """Fingerprints and product keys for every report that has none (as submit files
    them); the word prefixes are then cut by a refiling (cvdesk.store.word_order), as
    the migration to 0015 does for a store that had reports already."""
    with db.transaction() as s:
        done = select(ReportFingerprintRow.report_pk)
        rows = s.execute(select(ReportRow.id, ReportRow.form)
                         .where(ReportRow.id.not_in(done))).all()
        for i in range(0, len(rows), batch):
            prints, keys = [], []
            for pk, form in rows[i:i + batch]:
                fp = fingerprint(report_from_dict(form))
                prints.append({"report_pk": pk, "data": to_stored(fp)})
                keys += [{"report_pk": pk, "key": k} for k in sorted(stored_keys(fp))]
            s.execute(insert(ReportFingerprintRow), prints)
            if keys:
                s.execute(insert(ReportKeyRow), keys)
    CaseService(db, load_settings(database_url=db.url), clock=lambda: NOW).refile_word_order()


def build(path: Path, count: int, seed: int = 11) -> Database:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    db = Database(f"sqlite:///{path}")
    init_database(db)
    with db.transaction() as s:
        insert_cases(s, _cases(Text(random.Random(seed)), count))
        s.add(CounterRow(name="case-2026", value=count))
    file_fingerprints(db)
    return db


def stored(path: Path, count: int) -> Database:
    """The store for ``count`` reports, built once and kept in benchmarks/.data/; one built
    at an older schema is migrated, as an upgraded desk would be."""
    if path.exists():
        db = Database(f"sqlite:///{path}")
        with db.sessions() as s:
            if s.scalar(select(func.count()).select_from(CaseRow)) == count:
                if current_revision(db) != HEAD:
                    print(f"migrating {path} to {HEAD} ...", flush=True)
                    started = time.perf_counter()
                    init_database(db)
                    print(f"  migrated in {time.perf_counter() - started:.1f} s", flush=True)
                return db
    print(f"building {count} stored reports in {path} ...", flush=True)
    started = time.perf_counter()
    db = build(path, count)
    print(f"  built in {time.perf_counter() - started:.1f} s", flush=True)
    return db


def submits(n: int, seed: int = 5) -> list[Report]:
    """New reports on the products of the first 250 stored ones (``planted`` turns every
    third into a duplicate of a stored report)."""
    text = Text(random.Random(seed))
    return [synthetic_report(text, 10_000_000 + i, 250) for i in range(n)]


def planted(db: Database, count: int, reports: list[Report]) -> list[Report]:
    """Every third report repeats the title and description of a stored report, plus five
    words of its own: with the stored report's product (the 0.25 bar) or with its own
    (only the 0.6 bar, found through the words), in turn."""
    out = []
    with db.sessions() as s:
        for i, r in enumerate(reports):
            if i % 3 == 0:
                form = s.scalar(select(ReportRow.form)
                                .where(ReportRow.id == 1 + (i * 7919) % count))
                old = report_from_dict(form)
                r = Report(title=old.title,
                           description=old.description + " " + " ".join(
                               r.description.split()[:5]),
                           reporter=r.reporter,
                           products=old.products if i % 2 else r.products)
            out.append(r)
    return out


def time_submits(dbs: list[Database], reports: list[list[Report]],
                 ) -> list[tuple[list[float], list[float], int]]:
    """Seconds per submit (wall clock, and CPU time of this process) against each store,
    taking turns (A B A B ...) so that both see the same load on a shared machine, and how
    many possible duplicates each flagged (each is noted on both cases)."""
    services = [CaseService(db, load_settings(database_url=db.url), clock=lambda: NOW)
                for db in dbs]
    out: list[tuple[list[float], list[float], int]] = [([], [], 0) for _ in dbs]
    for turn in zip(*reports, strict=True):
        for (times, cpu, _), service, r in zip(out, services, turn, strict=True):
            started, started_cpu = time.perf_counter(), time.process_time()
            service.submit_report(r)
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
    for i, db in enumerate(dbs):
        with db.sessions() as s:
            flagged = s.scalar(select(func.count()).select_from(EventRow)
                               .where(EventRow.type == EventType.OBSERVATION.value)) or 0
        out[i] = (out[i][0], out[i][1], flagged // 2)
    return out


def vendors_timing(path: Path, sizes: list[int]) -> list[tuple[int, float, float]]:
    """Seconds (wall clock, CPU) to submit one report naming n vendors, for each n, each
    into an empty store of its own: in one shared store the reports' like texts made each
    a possible duplicate of the one before, and the note on that case (a replay of its
    whole log) was counted against the next size."""
    out = []
    for n in sizes:
        db = build(path, 0)
        service = CaseService(db, load_settings(database_url=db.url), clock=lambda: NOW)
        report = Report(title=f"Library flaw reaching {n} vendors", description="shared code",
                        reporter=ReporterInfo(name="Finder"),
                        vendors=tuple(f"Vendor {n}-{i}" for i in range(n)))
        # Building the store leaves engines and migration objects behind; a full collection
        # of them inside the timed submit took up to 60 ms (30 us per vendor at 2,000).
        gc.collect()
        started, started_cpu = time.perf_counter(), time.process_time()
        service.submit_report(report)
        out.append((n, time.perf_counter() - started, time.process_time() - started_cpu))
        db.engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--submits", type=int, default=30)
    parser.add_argument("--data", type=Path, default=Path(__file__).with_name(".data"))
    args = parser.parse_args()
    print(interpreter(), flush=True)
    args.data.mkdir(parents=True, exist_ok=True)
    reports = submits(args.submits)
    counts = (args.small, args.large)
    dbs, mine = [], []
    for count in counts:
        built = stored(args.data / f"intake-{count}.db", count)
        built.engine.dispose()
        scratch = args.data / f"intake-scratch-{count}.db"  # submits change it; not the store
        shutil.copyfile(args.data / f"intake-{count}.db", scratch)
        dbs.append(Database(f"sqlite:///{scratch}"))
        mine.append(planted(dbs[-1], count, reports))
    results = time_submits(dbs, mine)
    for count, db, (wall, cpu, flagged) in zip(counts, dbs, results, strict=True):
        db.engine.dispose()
        Path(db.url.removeprefix("sqlite:///")).unlink()
        print(f"{count:>7} stored reports: {1000 * statistics.median(wall):7.1f} ms per "
              f"submit, {1000 * statistics.median(cpu):6.1f} ms CPU (medians of "
              f"{len(reports)}, {flagged} possible duplicates flagged)")
    (small, small_cpu, _), (large, large_cpu, _) = results
    print(f"ratio {args.large} / {args.small}: "
          f"{statistics.median(large) / statistics.median(small):.2f} wall clock, "
          f"{statistics.median(large_cpu) / statistics.median(small_cpu):.2f} CPU "
          "(target at most 1.5)", flush=True)
    timings = vendors_timing(args.data / "intake-vendors.db", [500, 1000, 2000, 5000])
    for n, seconds, cpu in timings:
        print(f"{n:>5} vendors in one report: {seconds:6.2f} s, "
              f"{1e6 * seconds / n:6.0f} us per vendor ({1e6 * cpu / n:4.0f} us CPU)")
    (first, wall_1, cpu_1), (last, wall_n, cpu_n) = timings[0], timings[-1]
    print(f"per vendor, {last} / {first} vendors: {wall_n / last / (wall_1 / first):.2f} "
          f"wall clock, {cpu_n / last / (cpu_1 / first):.2f} CPU (linear: about 1)",
          flush=True)


if __name__ == "__main__":
    main()
