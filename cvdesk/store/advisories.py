"""The published advisory documents of a case (issue 10), kept as they went out.

The revision history (version, date, summary) is the case log's; this table keeps the
bytes of every document of every version, so a published file can be served, checked
against its SHA-256 or sent again exactly as it was.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, insert, select
from sqlalchemy.orm import Session

from cvdesk.store.tables import AdvisoryDocumentRow


@dataclass(frozen=True, slots=True)
class StoredDocument:
    version: int
    format: str
    filename: str
    sha256: str
    size: int
    published_at: datetime


class AdvisoryRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, case_pk: int, version: int, published_at: datetime,
            documents: Iterable[tuple[str, str, bytes, str]]) -> None:
        """Store (format, filename, content, sha256) of each document of one version."""
        rows = [{"case_pk": case_pk, "version": version, "format": fmt, "filename": name,
                 "content": content, "sha256": digest, "published_at": published_at}
                for fmt, name, content, digest in documents]
        if rows:
            self.session.execute(insert(AdvisoryDocumentRow.__table__), rows)

    def documents(self, case_pk: int, version: int | None = None) -> list[StoredDocument]:
        """Every stored document of the case (of one version), by version then file."""
        q = (select(AdvisoryDocumentRow.version, AdvisoryDocumentRow.format,
                    AdvisoryDocumentRow.filename, AdvisoryDocumentRow.sha256,
                    func.length(AdvisoryDocumentRow.content),
                    AdvisoryDocumentRow.published_at)
             .where(AdvisoryDocumentRow.case_pk == case_pk)
             .order_by(AdvisoryDocumentRow.version, AdvisoryDocumentRow.id))
        if version is not None:
            q = q.where(AdvisoryDocumentRow.version == version)
        return [StoredDocument(*r) for r in self.session.execute(q)]

    def content(self, case_pk: int, version: int, filename: str) -> bytes | None:
        return self.session.scalar(select(AdvisoryDocumentRow.content).where(
            AdvisoryDocumentRow.case_pk == case_pk, AdvisoryDocumentRow.version == version,
            AdvisoryDocumentRow.filename == filename))

    def current(self, formats: Iterable[str]) -> list[tuple[str, str, bytes]]:
        """(format, filename, content) of the newest version of every document of these
        formats, over every case, by case then file name: what a provider directory
        serves (a later revision replaces its file, an earlier one stays published)."""
        doc = AdvisoryDocumentRow
        wanted = list(formats)
        newest = (select(doc.case_pk, doc.filename, func.max(doc.version).label("version"))
                  .where(doc.format.in_(wanted))
                  .group_by(doc.case_pk, doc.filename).subquery())
        q = (select(doc.format, doc.filename, doc.content)
             .join(newest, and_(doc.case_pk == newest.c.case_pk,
                                doc.filename == newest.c.filename,
                                doc.version == newest.c.version))
             .where(doc.format.in_(wanted))
             .order_by(doc.case_pk, doc.filename))
        return [(fmt, name, bytes(content)) for fmt, name, content in self.session.execute(q)]

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(AdvisoryDocumentRow)) or 0
