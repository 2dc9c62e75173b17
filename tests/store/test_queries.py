"""The Core queries (cvdesk.store.queries) read what the ORM reads, on both backends, and
their light table clauses stay equal to the mapped tables."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from cvdesk.services import CaseService
from cvdesk.store.cases import CaseRepository
from cvdesk.store.queries import CASE_SUMMARY, CASES, case_summaries
from cvdesk.store.tables import CaseRow


def _type_of(column: object) -> tuple[str, object]:
    kind = column.type  # type: ignore[attr-defined]
    return type(kind).__name__, getattr(kind, "length", None)


def test_the_light_cases_clause_equals_the_mapped_table() -> None:
    mapped = CaseRow.__table__.c
    for column in CASES.c:
        assert column.name in mapped, column.name
        assert _type_of(column) == _type_of(mapped[column.name]), column.name
    assert set(CASE_SUMMARY) <= {c.name for c in CASES.c}


@pytest.mark.parametrize("status", ["open", "closed", None])
def test_case_summaries_equal_the_orm_listing(demo_service: CaseService,
                                              status: str | None) -> None:
    svc = demo_service
    # One case closed, so that each status filter has something to keep and to drop.
    svc.close(case_summaries(svc.db, "open")[0].case_id, reason="done")
    with Session(svc.db.engine) as session:
        orm = [tuple(getattr(r, name) for name in CASE_SUMMARY)
               for r in CaseRepository(session).list_cases(status)]
    core = [tuple(r) for r in case_summaries(svc.db, status)]
    assert core == orm
    assert core, "the demo has open and closed cases"
    if status is None:
        assert len(core) == 16
    assert all(r.opened_at.tzinfo is not None and r.last_event_at.tzinfo is not None
               for r in case_summaries(svc.db, status))


def test_case_summaries_of_an_empty_store(db: object) -> None:
    assert case_summaries(db, None) == []  # type: ignore[arg-type]
