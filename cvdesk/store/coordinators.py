"""Third-party coordinators a case can be handed to, and case retrospectives (guide 6.9).

Coordinator names are unique without regard to case: "CERT-EU" and "cert-eu" are one
entry, and either spelling finds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cvdesk.domain.errors import InvalidInput, NotFound
from cvdesk.store.cases import CaseRepository
from cvdesk.store.tables import CaseRow, CoordinatorRow, FindingRow, RetrospectiveRow


@dataclass(frozen=True)
class CoordinatorView:
    name: str
    kind: str
    country: str
    email: str
    url: str
    notes: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "country": self.country,
                "email": self.email, "url": self.url, "notes": self.notes}


@dataclass(frozen=True)
class RetrospectiveView:
    case_id: str
    went_well: str
    went_wrong: str
    do_differently: str
    author: str
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "went_well": self.went_well,
                "went_wrong": self.went_wrong, "do_differently": self.do_differently,
                "author": self.author, "created_at": self.created_at.isoformat()}


@dataclass(frozen=True)
class RetrospectiveFound:
    """A retrospective with the problems its case's findings raised (``retro search``)."""

    retrospective: RetrospectiveView
    problems: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return self.retrospective.to_json() | {"problems": list(self.problems)}


@dataclass(frozen=True)
class CaseToReview:
    """A closed case nobody has written a retrospective for yet."""

    case_id: str
    title: str

    def to_json(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "title": self.title}


def _coordinator_view(row: CoordinatorRow) -> CoordinatorView:
    return CoordinatorView(row.name, row.kind, row.country, row.email, row.url, row.notes)


class CoordinatorRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def all(self) -> list[CoordinatorView]:
        """The directory in the order entries were made (the seeded ones first)."""
        rows = self.session.scalars(select(CoordinatorRow).order_by(CoordinatorRow.id))
        return [_coordinator_view(r) for r in rows]

    def find(self, name: str) -> CoordinatorView:
        return _coordinator_view(self._row(name))

    def add(self, name: str, kind: str, *, country: str, email: str, url: str, notes: str,
            now: datetime) -> CoordinatorView:
        if self._lookup(name) is not None:
            raise InvalidInput("name", f"'{name}' is already in the directory")
        row = CoordinatorRow(name=name.strip(), kind=kind, country=country, email=email,
                             url=url, notes=notes, created_at=now)
        self.session.add(row)
        try:
            with self.session.begin_nested():
                self.session.flush()
        except IntegrityError:  # added at the same moment by someone else
            raise InvalidInput("name", f"'{name}' is already in the directory") from None
        return _coordinator_view(row)

    def remove(self, name: str) -> None:
        self.session.delete(self._row(name))

    def _lookup(self, name: str) -> CoordinatorRow | None:
        return self.session.scalar(select(CoordinatorRow).where(
            func.lower(CoordinatorRow.name) == name.strip().lower()))

    def _row(self, name: str) -> CoordinatorRow:
        row = self._lookup(name)
        if row is None:
            raise NotFound(f"no coordinator '{name}' in the directory (cvdesk coordinator list)")
        return row


class RetrospectiveRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def search(self, *, case_id: str | None = None, query: str = "",
               problem: str | None = None) -> list[RetrospectiveView]:
        """Newest first; only one case's when ``case_id`` is given (an unknown case is
        NotFound, not an empty list), only those where every word of ``query`` appears
        in an answer or the case title (case-insensitive), only those of cases whose
        findings raised ``problem`` when given."""
        return [v for v, _ in self._search(case_id=case_id, query=query, problem=problem)]

    def search_with_problems(self, *, case_id: str | None = None, query: str = "",
                             problem: str | None = None) -> list[RetrospectiveFound]:
        """``search``, each with the problems its case's findings raised."""
        found = self._search(case_id=case_id, query=query, problem=problem)
        problems = self.problems_of({pk for _, pk in found})
        return [RetrospectiveFound(v, problems.get(pk, ())) for v, pk in found]

    def problems_of(self, case_pks: set[int]) -> dict[int, tuple[str, ...]]:
        """The problems each case's findings raised (any status), sorted."""
        out: dict[int, set[str]] = {}
        pks = sorted(case_pks)
        for i in range(0, len(pks), 900):
            for pk, problem in self.session.execute(
                    select(FindingRow.case_pk, FindingRow.problem).distinct()
                    .where(FindingRow.case_pk.in_(pks[i:i + 900]))):
                out.setdefault(pk, set()).add(problem)
        return {pk: tuple(sorted(ps)) for pk, ps in out.items()}

    def _search(self, *, case_id: str | None, query: str, problem: str | None,
                ) -> list[tuple[RetrospectiveView, int]]:
        stmt = (select(RetrospectiveRow, CaseRow.case_id)
                .join(CaseRow, CaseRow.id == RetrospectiveRow.case_pk)
                .order_by(RetrospectiveRow.created_at.desc(), RetrospectiveRow.id.desc()))
        if case_id:
            stmt = stmt.where(CaseRow.id == CaseRepository(self.session).case_row(case_id).id)
        # Each different word once (in any case); autoescape: a '%' or '_' typed is that
        # character.
        for word in dict.fromkeys(word.lower() for word in query.split()):
            stmt = stmt.where(or_(*(
                func.lower(col).contains(word, autoescape=True) for col in (
                    RetrospectiveRow.went_well, RetrospectiveRow.went_wrong,
                    RetrospectiveRow.do_differently, CaseRow.title))))
        if problem is not None:
            stmt = stmt.where(CaseRow.id.in_(select(FindingRow.case_pk).where(
                FindingRow.problem == problem)))
        return [(RetrospectiveView(cid, r.went_well, r.went_wrong, r.do_differently,
                                   r.author, r.created_at), r.case_pk)
                for r, cid in self.session.execute(stmt)]

    def closed_cases_without(self) -> list[CaseToReview]:
        """Closed cases that have no retrospective, in the order they were opened."""
        done = select(RetrospectiveRow.case_pk)
        rows = self.session.execute(select(CaseRow.case_id, CaseRow.title).where(
            CaseRow.status == "closed", CaseRow.id.not_in(done)).order_by(CaseRow.id))
        return [CaseToReview(cid, title) for cid, title in rows]
