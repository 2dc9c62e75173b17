"""Holding Python's automatic cycle collection during bulk work (a sweep, queueing
and delivering many messages).

Such work builds hundreds of thousands of short-lived objects that reference counting
frees on its own; meanwhile the collector would keep walking every live object of the
process, which costs as much as a good part of the work.  The pause is bounded by one
unit of work (a batch); callers collect the young generations between units, so cycles
are still freed and memory stays bounded however long a run goes on.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def collect_young() -> None:
    """Free the cycles made since the last collection (cheap: young generations only)."""
    gc.collect(1)
