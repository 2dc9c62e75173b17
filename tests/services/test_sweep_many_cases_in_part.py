"""A sweep that asks more than a thousand cases in part, in one batch (a day later on a
large desk), reads their participants in statements SQLite accepts.  Each case asked in
part was one more term of an OR chain, which SQLite refused past 1,000 terms
("Expression tree is too large"): the benchmark's sweep a day later at 100,000 cases
stopped there."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cvdesk.domain.case import Case
from cvdesk.domain.model import TLP, AttemptOutcome, Channel, Role
from cvdesk.services import CaseService
from cvdesk.services.doctor import BATCH, DoctorService
from cvdesk.store import snapshot
from cvdesk.store.bulk import insert_cases
from cvdesk.store.tables import CaseRow, FindingRow
from tests.conftest import Clock

CASES = 1_200


def vendor_case(n: int, at: Clock) -> Case:
    case = Case.open(f"CVD-2026-{n:05d}", f"Case {n}", TLP.AMBER, at=at.now, actor="t")
    pid = case.add_participant(f"Vendor {n}", [Role.VENDOR], at=at.now, actor="t").pid
    case.contact_attempt(pid, Channel.EMAIL, AttemptOutcome.SENT, at=at.now, actor="t")
    return case


def test_a_sweep_asking_many_cases_in_part_reads_them(
        service: CaseService, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    assert CASES > 1_000 and CASES <= BATCH  # in one batch, past SQLite's depth
    with service.db.transaction() as session:
        insert_cases(session, [vendor_case(n, clock) for n in range(1, CASES + 1)])
    doctor = DoctorService(service.db, service.settings, clock=clock)
    clock.advance(hours=1)
    assert doctor.run_sweep(clock.now) == CASES  # each stores its vendor's own check
    # Two days on, only the no-acknowledgement check of each vendor has come: every case
    # is asked in part (that participant alone).
    asked: list[int] = []
    real = snapshot._participant_groups

    def counted(session, pks, only=None):  # type: ignore[no-untyped-def]
        asked.append(sum(1 for pk in pks if only and only.get(pk)))
        return real(session, pks, only)

    monkeypatch.setattr(snapshot, "_participant_groups", counted)
    clock.advance(days=2)
    assert doctor.run_sweep(clock.now) == CASES
    assert asked == [CASES]
    with service.db.sessions() as session:
        found = session.query(FindingRow).join(CaseRow, CaseRow.id == FindingRow.case_pk).filter(
            FindingRow.problem == "no-acknowledgement", FindingRow.status == "open").count()
    assert found == CASES
    # The same participants whichever way they are read, whole or in part.
    with service.db.sessions() as session:
        pks = [row[0] for row in snapshot.due_cases(session, clock.now + timedelta(days=400))]
        whole = snapshot.participants_by_case(session, pks)
        part = snapshot.participants_by_case(session, pks, {pk: [1] for pk in pks})
    assert len(pks) == CASES
    assert {pk: [p.pid for p in ps] for pk, ps in part.items()} == {
        pk: [p.pid for p in ps if p.pid == 1] for pk, ps in whole.items()}
