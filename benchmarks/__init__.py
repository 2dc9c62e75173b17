"""Benchmarks: each prints its figures (docs/benchmarks.md)."""

from __future__ import annotations

import sys


def interpreter() -> str:
    """The Python a benchmark runs on, as one line: its version, its executable, and how
    the interpreter is linked.  The build changes the figures by about a tenth
    (docs/benchmarks.md, "Which Python"), so every benchmark prints it first."""
    try:
        with open("/proc/self/maps", encoding="ascii", errors="replace") as maps:
            shared = "libpython" in maps.read()
    except OSError:  # not Linux: the linking is not known
        how = ""
    else:
        how = ", through a shared libpython" if shared else ", the interpreter in the executable"
    base = getattr(sys, "_base_executable", sys.executable)
    return f"python {sys.version.split()[0]} ({base}{how})"
