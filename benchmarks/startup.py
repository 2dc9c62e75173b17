"""Benchmark: what starting the ``cvdesk`` command costs, against the libraries it needs.

    .venv/bin/python -m benchmarks.startup [--runs 15]

Measures the CPU time (user + system, of the child process) of

* ``cvdesk --help`` against ``python -c "import typer"``: help needs Typer, nothing more;
* ``cvdesk case list`` on the demo database against
  ``python -c "import typer, sqlalchemy"``: one query needs Typer and SQLAlchemy.

The runs are paired (A B A B ...), so that a slow spell on a shared machine hits both
sides; the medians are printed, and the median of the pairs' ratios with their range.
The demo database is built first in ``benchmarks/.data/`` with ``cvdesk init`` and
``cvdesk demo``.

The children may write bytecode (``PYTHONDONTWRITEBYTECODE`` is dropped from their
environment), so that the warm-up leaves cvdesk's modules compiled, as Typer's and
SQLAlchemy's are in site-packages and as an installed cvdesk's are: with the variable set,
every cvdesk module that was edited since its .pyc was written is compiled from source
on every run, which measured the compiler rather than the start-up (issue 9).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks import interpreter

DATA = Path(__file__).with_name(".data")
BIN = Path(sys.executable).parent
CVDESK = str(BIN / "cvdesk")
#: The targets of issue 9: cvdesk may cost this many times its bare libraries.
TARGETS = {"--help": 2.0, "case list": 1.5}


def cpu_seconds(argv: list[str], env: dict[str, str]) -> float:
    """CPU time of one run of ``argv`` (its own and its children's)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def paired(a: list[str], b: list[str], runs: int, env: dict[str, str],
           ) -> tuple[list[float], list[float]]:
    """CPU seconds of each run of ``a`` and of ``b``, run alternately after one warm-up
    each: pair i is a's i-th run and the b run right after it."""
    cpu_seconds(a, env), cpu_seconds(b, env)  # warm the page cache and .pyc files
    times_a, times_b = [], []
    for _ in range(runs):
        times_a.append(cpu_seconds(a, env))
        times_b.append(cpu_seconds(b, env))
    return times_a, times_b


def demo_env() -> dict[str, str]:
    """The environment of every run: the demo database, no settings file."""
    DATA.mkdir(exist_ok=True)
    path = DATA / "startup.db"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CVDESK_") and k != "PYTHONDONTWRITEBYTECODE"}
    env["CVDESK_DATABASE_URL"] = f"sqlite:///{path}"
    new = not path.exists()
    # 'init' also migrates a database left by an older cvdesk.
    subprocess.run([CVDESK, "init"], env=env, check=True, stdout=subprocess.DEVNULL)
    if new:
        subprocess.run([CVDESK, "demo"], env=env, check=True, stdout=subprocess.DEVNULL)
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="pairs of runs per comparison")
    args = parser.parse_args(argv)
    print(interpreter(), flush=True)
    env = demo_env()
    # Run from the data directory, so that no cvdesk.toml of the caller is read.
    os.chdir(DATA)
    python = sys.executable
    cases = [
        ("--help", [CVDESK, "--help"], [python, "-c", "import typer"], "import typer"),
        ("case list", [CVDESK, "case", "list"], [python, "-c", "import typer, sqlalchemy"],
         "import typer, sqlalchemy"),
    ]
    print(f"CPU time (user + system), median of {args.runs} paired runs; the ratio is the "
          "median of the pairs' ratios [their range]")
    worst = True
    for name, ours, base, base_name in cases:
        mine, theirs = paired(ours, base, args.runs, env)
        ratios = [m / t for m, t in zip(mine, theirs, strict=True)]
        ratio = statistics.median(ratios)
        ok = ratio <= TARGETS[name]
        worst = worst and ok
        print(f"cvdesk {name:<10} {statistics.median(mine) * 1000:7.1f} ms   {base_name:<26} "
              f"{statistics.median(theirs) * 1000:7.1f} ms   ratio {ratio:5.2f} "
              f"[{min(ratios):.2f}-{max(ratios):.2f}] (target <= {TARGETS[name]}) "
              f"{'ok' if ok else 'OVER'}")
    return 0 if worst else 1


if __name__ == "__main__":
    sys.exit(main())
