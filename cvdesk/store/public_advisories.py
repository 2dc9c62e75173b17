"""The reads behind the public advisory pages (issue 11): which published advisories
anyone may read, and their stored files.

Public means all of: the case is labelled TLP:CLEAR (a label the case keeps from its
opening), P is recorded, no embargo is proposed or in force (a later vulnerability of the
same case may be under a new one), and at least one version was published (its
documents are in ``advisory_documents``).  The rule is written once, here, so the list,
the page and the files cannot disagree.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection

from cvdesk.store.tables import AdvisoryDocumentRow, CaseRow

#: Embargo states under which nothing of the case is public (proposed, in force, being
#: revised): services/portal.py audits reads of these same states.
NOT_PUBLIC_EM = ("proposed", "active", "revise")


@dataclass(frozen=True, slots=True)
class PublicAdvisoryRow:
    case_pk: int
    case_id: str
    title: str
    version: int  # the newest published version
    first_published_at: datetime
    published_at: datetime  # of the newest version


def _public(c: type[CaseRow]):  # type: ignore[no-untyped-def]
    return and_(c.tlp == "CLEAR", c.em_state.not_in(NOT_PUBLIC_EM),
                func.substr(c.pxa, 1, 1) == "P")


def public_advisories(conn: Connection, *, offset: int, limit: int,
                      case_id: str | None = None) -> tuple[list[PublicAdvisoryRow], int]:
    """One page of the public advisories, the most recently published first, and how
    many there are (``case_id``: that one only)."""
    d, c = AdvisoryDocumentRow, CaseRow
    stmt = (select(c.id, c.case_id, c.title, func.max(d.version), func.min(d.published_at),
                   func.max(d.published_at))
            .join(d, d.case_pk == c.id).where(_public(c))
            .group_by(c.id, c.case_id, c.title))
    if case_id is not None:
        stmt = stmt.where(c.case_id == case_id)
    total = conn.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = conn.execute(stmt.order_by(func.max(d.published_at).desc(), c.case_id.desc())
                        .offset(offset).limit(limit))
    return [PublicAdvisoryRow(*r) for r in rows], total


@dataclass(frozen=True, slots=True)
class PublicFile:
    version: int
    format: str
    filename: str
    sha256: str
    size: int


def public_files(conn: Connection, case_pk: int, version: int) -> list[PublicFile]:
    """The stored documents of one version, in the order they were published."""
    d = AdvisoryDocumentRow
    rows = conn.execute(select(d.version, d.format, d.filename, d.sha256,
                               func.length(d.content))
                        .where(d.case_pk == case_pk, d.version == version).order_by(d.id))
    return [PublicFile(*r) for r in rows]


def public_file(conn: Connection, case_id: str, version: int, filename: str,
                formats: Collection[str]) -> tuple[str, bytes] | None:
    """(format, bytes) of one stored document of a public advisory; None when the case
    is not public, or has no such file of one of ``formats``."""
    d, c = AdvisoryDocumentRow, CaseRow
    row = conn.execute(select(d.format, d.content).join(c, c.id == d.case_pk)
                       .where(_public(c), c.case_id == case_id, d.version == version,
                              d.filename == filename, d.format.in_(list(formats)))).first()
    return None if row is None else (row[0], bytes(row[1]))
