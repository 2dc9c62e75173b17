"""Benchmark: publish a case with 200 and with 2,000 vendors in every format.

    .venv/bin/python -m benchmarks.publish [--sizes 200 2000]

Each size gets its own SQLite database in a temporary directory: one report naming n
vendors, one vulnerability with a CVE id, CVSS scores and a reference, and a statement
from every vendor (a mix of fixed, affected with a workaround, not affected and under
investigation; every tenth vendor gives none, so it is published as status unknown with
its contact dates).  Then ``PublicationService.publish`` writes CSAF, CSAF VEX, the CVE
record, OSV, Markdown and HTML, each validated, stores them, records P and queues a
notice to every participant with an address (not delivered).

Printed: CPU and wall seconds per size, the time per vendor and its growth from the
small size to the large one (1.0 is linear), and the share of the publication spent in
the validators (the csaf package's schema and mandatory tests, the CVE schema cvelib
bundles, the OSV schema), timed by wrapping those three calls.  ``--per-format`` also
prints the CPU of each format's writer (validation included) and its growth;
``--repeat N`` runs it all N times and ends with the median growth (the machine is
shared, so one run says little); ``--csaf-version 2.1`` writes CSAF 2.1.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks import interpreter
from cvdesk.domain.advisory import ProductStatus, Remediation, RemediationKind
from cvdesk.domain.model import (
    TLP,
    AffectedProduct,
    AttemptOutcome,
    Channel,
    Report,
    ReporterInfo,
    VersionRange,
    Vulnerability,
)
from cvdesk.services import CaseService, init_database
from cvdesk.services.publication import AdvisoryFormat, PublicationService
from cvdesk.settings import load_settings
from cvdesk.store.db import Database

START = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@contextmanager
def timed_validators(spent: list[float]) -> Iterator[None]:
    """Add the CPU time of each validator call to ``spent[0]``."""
    from cvdesk.publish import csaf_check, cve, osv

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        def inner(*args: Any, **kwargs: Any) -> Any:
            t = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[0] += time.process_time() - t
        return inner

    saved = (csaf_check.problems, cve.schema_errors, osv._validator)
    validator = osv._validator()
    timed_osv = type("TimedOsv", (), {
        "iter_errors": staticmethod(wrap(lambda doc: list(validator.iter_errors(doc))))})
    csaf_check.problems = wrap(csaf_check.problems)
    cve.schema_errors = wrap(cve.schema_errors)
    osv._validator = lambda: timed_osv  # type: ignore[assignment]
    try:
        yield
    finally:
        csaf_check.problems, cve.schema_errors, osv._validator = saved


@contextmanager
def timed_formats(spent: dict[str, float]) -> Iterator[None]:
    """Add the CPU time of each format's writer to ``spent[format]`` (the markdown writer
    also renders the publication notice)."""
    from cvdesk.publish import csaf, cve, osv, readable

    def wrap(fn: Callable[..., Any], name: Callable[..., str]) -> Callable[..., Any]:
        def inner(*args: Any, **kwargs: Any) -> Any:
            t = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                key = name(*args, **kwargs)
                spent[key] = spent.get(key, 0.0) + time.process_time() - t
        return inner

    saved = [(m, f, getattr(m, f)) for m, f in (
        (csaf, "write_csaf"), (cve, "write_cve"), (osv, "write_osv"),
        (readable, "write_markdown"), (readable, "write_html"))]
    names: dict[str, Callable[..., str]] = {
        "write_csaf": lambda *a, **k: "csaf-vex" if k.get("vex") else "csaf",
        "write_cve": lambda *a, **k: "cve", "write_osv": lambda *a, **k: "osv",
        "write_markdown": lambda *a, **k: "markdown", "write_html": lambda *a, **k: "html"}
    for module, name, fn in saved:
        setattr(module, name, wrap(fn, names[name]))
    try:
        yield
    finally:
        for module, name, fn in saved:
            setattr(module, name, fn)


def build_case(svc: CaseService, clock: Clock, n: int) -> str:
    products = tuple(AffectedProduct(product=f"Product {i}", vendor=f"Vendor {i}",
                                     versions=(VersionRange(introduced="1.0", fixed="1.5"),))
                     for i in range(n))
    report = Report(title=f"Shared library flaw reaching {n} vendors",
                    description="A parser flaw in a library many vendors ship.",
                    tlp=TLP.CLEAR, reporter=ReporterInfo(name="Rae Finder",
                                                         email="rae@example.org"),
                    products=products, wants_credit=True,
                    vulnerabilities=(Vulnerability(title="Parser overflow",
                                                   cve="CVE-2026-40000",
                                                   cwes=("CWE-787",), affected=products),))
    case_id = svc.submit_report(report).case_id
    clock.now += timedelta(days=1)
    svc.update_vulnerability(case_id, "CVE-2026-40000",
                             cvss=["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"],
                             references=["https://lib.example/advisory"])
    at = clock.now
    with svc.case(case_id) as case:
        for i, p in enumerate(v for v in case.vendors):
            case.contact_attempt(p.pid, Channel.EMAIL, AttemptOutcome.SENT, at=at,
                                 actor="bench")
            kind = i % 10
            if kind == 9:
                continue  # no statement: published as status unknown
            product = f"Product {p.name.split()[-1]}"
            if kind < 4:
                case.record_statement(p.pid, "CVE-2026-40000", product, ProductStatus.FIXED,
                                      fixed_version="1.5", at=at, actor="bench",
                                      remediations=(Remediation(RemediationKind.VENDOR_FIX,
                                                                "Update to 1.5."),))
            elif kind < 6:
                case.record_statement(p.pid, "CVE-2026-40000", product,
                                      ProductStatus.AFFECTED, at=at, actor="bench",
                                      remediations=(Remediation(RemediationKind.WORKAROUND,
                                                                "Turn the parser off."),))
            elif kind < 8:
                case.record_statement(p.pid, "CVE-2026-40000", product,
                                      ProductStatus.NOT_AFFECTED, at=at, actor="bench",
                                      justification="vulnerable_code_not_present")
            else:
                case.record_statement(p.pid, "CVE-2026-40000", product,
                                      ProductStatus.UNDER_INVESTIGATION, at=at,
                                      actor="bench")
    clock.now += timedelta(days=30)
    return case_id


def run(n: int, where: Path, *, formats: dict[str, float] | None = None,
        csaf_version: str | None = None) -> tuple[float, float, float]:
    """(CPU seconds, wall seconds, CPU seconds in the validators) of one publication;
    ``formats`` gets the CPU seconds of each format's writer."""
    db = Database(f"sqlite:///{where / f'publish-{n}.db'}")
    init_database(db)
    clock = Clock()
    settings = load_settings(actor="bench", database_url=db.url,
                             desk={"email": "cvd@desk.example"})
    svc = CaseService(db, settings, clock=clock)
    case_id = build_case(svc, clock, n)
    pub = PublicationService(svc)
    spent = [0.0]
    with timed_validators(spent), timed_formats({} if formats is None else formats):
        cpu, wall = time.process_time(), time.perf_counter()
        view = pub.publish(case_id, list(AdvisoryFormat), summary="Initial release.",
                           csaf_version=csaf_version)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    assert int(view.version) == 1, view.version
    db.dispose()
    return cpu, wall, spent[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 2000])
    parser.add_argument("--per-format", action="store_true",
                        help="also print each format's CPU time and growth")
    parser.add_argument("--repeat", type=int, default=1, help="run it all N times")
    parser.add_argument("--csaf-version", choices=["2.0", "2.1"], default=None)
    args = parser.parse_args()
    print(interpreter(), flush=True)
    growths = []
    for _ in range(args.repeat):
        growths.append(measure(args.sizes, args.per_format, args.csaf_version))
    if args.repeat > 1:
        print(f"median per-vendor growth over {args.repeat} runs: "
              f"{statistics.median(growths):.2f} (each: "
              + ", ".join(f"{g:.2f}" for g in growths) + ")")


def measure(sizes: list[int], per_format: bool, csaf_version: str | None) -> float:
    rows = []
    by_size: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        run(20, Path(tmp), csaf_version=csaf_version)  # warm-up: imports, schema caches
        for n in sizes:
            by_size[n] = {}
            cpu, wall, valid = run(n, Path(tmp), formats=by_size[n],
                                   csaf_version=csaf_version)
            rows.append((n, cpu, wall, valid))
            print(f"{n:>6} vendors: {cpu:7.2f} s CPU ({wall:6.2f} s wall), "
                  f"{cpu / n * 1e3:6.2f} ms CPU per vendor, validation {valid:6.2f} s "
                  f"({valid / cpu:.0%} of the CPU)")
    (n0, c0, _, _), (n1, c1, _, _) = rows[0], rows[-1]
    if per_format:
        for fmt in by_size[n1]:
            small, large = by_size[n0].get(fmt, 0.0), by_size[n1][fmt]
            growth = f"{(large / n1) / (small / n0):.2f}" if small else "-"
            print(f"    {fmt:>9}: {small / n0 * 1e3:6.3f} -> {large / n1 * 1e3:6.3f} ms CPU "
                  f"per vendor, growth {growth}")
    growth = (c1 / n1) / (c0 / n0)
    print(f"per-vendor growth {n0} -> {n1} vendors: {growth:.2f} (1.0 is linear)")
    return growth


if __name__ == "__main__":
    main()
