"""Issue 9 (intake speed): Python's cycle collector is held while a report is submitted,
so a report naming thousands of vendors does not pay for collections (a full one walks
every live object of the process) in the middle of its submit."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest

from cvdesk.domain.model import Report, ReporterInfo
from cvdesk.services import CaseService


@contextmanager
def collections() -> Iterator[list[int]]:
    """The generations of the automatic collections that run meanwhile."""
    seen: list[int] = []

    def hear(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            seen.append(info["generation"])

    gc.callbacks.append(hear)
    try:
        yield seen
    finally:
        gc.callbacks.remove(hear)


def _report(n: int) -> Report:
    return Report(f"Library flaw reaching {n} vendors", "shared code", ReporterInfo("Finder"),
                  vendors=tuple(f"Vendor {i}" for i in range(n)))


def test_no_collection_runs_inside_a_large_submit(service: CaseService) -> None:
    assert gc.isenabled()
    gc.collect()
    with collections() as seen:
        submitted = service.submit_report(_report(1500))
    # Without the pause the young generation alone was collected dozens of times; now at
    # most once, as the submit returns, of what outlived it.
    assert len(seen) <= 1 and 2 not in seen, seen
    assert gc.isenabled()
    assert len(service.show(submitted.case_id).participants) == 1502


def test_the_collector_comes_back_after_a_refused_submit(service: CaseService) -> None:
    with pytest.raises(Exception):  # noqa: B017 (any refusal; the point is what follows)
        service.submit_report(_report(1), at=datetime(2026, 11, 1))  # no time zone
    assert gc.isenabled()
    gc.disable()
    try:  # a caller that holds the collector itself keeps it held
        service.submit_report(_report(2))
        assert not gc.isenabled()
    finally:
        gc.enable()
