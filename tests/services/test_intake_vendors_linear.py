"""Issue 9 (intake speed): a report naming thousands of vendors costs the same per vendor
at 500 as at 5,000.  Two costs grew with the count: the party index copied every
participant to reach the newest one on each add, and flagging a duplicate replayed the
new case's whole log although the service still held it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from cvdesk.domain.checks import PartyIndex
from cvdesk.domain.model import Report, ReporterInfo, Role
from cvdesk.domain.state import ParticipantState
from cvdesk.services import CaseService
from cvdesk.store.cases import CaseRepository

NOW = datetime(2026, 12, 1, tzinfo=UTC)


class CountingValues:
    """A participants dict whose value views count the participants they hand out."""

    def __init__(self) -> None:
        self.data: dict[int, ParticipantState] = {}
        self.handed = 0

    def __len__(self) -> int:
        return len(self.data)

    def values(self) -> CountingValues:
        return self

    def _count(self, it: Iterator[ParticipantState]) -> Iterator[ParticipantState]:
        for p in it:
            self.handed += 1
            yield p

    def __iter__(self) -> Iterator[ParticipantState]:
        return self._count(iter(self.data.values()))

    def __reversed__(self) -> Iterator[ParticipantState]:
        return self._count(reversed(self.data.values()))


def test_the_party_index_reads_each_new_participant_once() -> None:
    participants = CountingValues()
    index = PartyIndex()
    n = 3000
    for pid in range(1, n + 1):
        assert index.find(participants, f"Vendor {pid}") is None  # type: ignore[arg-type]
        assert index.next_pid(participants) == pid  # type: ignore[arg-type]
        participants.data[pid] = ParticipantState(pid=pid, name=f"Vendor {pid}",
                                                  roles=frozenset({Role.VENDOR}), added_at=NOW)
    assert index.find(participants, " vendor 7 ") == (participants.data[7], "name")  # type: ignore[arg-type]
    assert participants.handed <= 2 * n  # copying all of them per add hands out n * n / 2


def test_flagging_a_duplicate_replays_only_the_other_case(
        service: CaseService, monkeypatch: pytest.MonkeyPatch) -> None:
    report = Report(title="Heap overflow in the Contoso router web server",
                    description="A long Host header overflows a heap buffer in httpd",
                    reporter=ReporterInfo(name="Finder"),
                    vendors=tuple(f"Vendor {i}" for i in range(50)))
    first = service.submit_report(report).case_id
    loaded: list[str] = []
    real = CaseRepository.load

    def spy(self: CaseRepository, case_id: str):  # type: ignore[no-untyped-def]
        loaded.append(case_id)
        return real(self, case_id)

    monkeypatch.setattr(CaseRepository, "load", spy)
    second = service.submit_report(report).case_id
    assert loaded == [first]
    notes = [e.data for e in service.timeline(second) if e.data.get("case_id") == first]
    assert len(notes) == 1 and "word similarity 1.00" in notes[0]["text"]
    assert [e.data for e in service.timeline(first) if e.data.get("case_id") == second]
