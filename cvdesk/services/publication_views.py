"""The views the publication service returns (issue 10): frozen values with one JSON
form each, which the CLI's ``--json`` prints as they are and a web face will return."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cvdesk.store.advisories import StoredDocument


@dataclass(frozen=True, slots=True)
class DocumentView:
    """One written document: where it went (None when it was not written to a file)."""

    format: str
    filename: str
    size: int
    sha256: str
    path: str | None
    content: bytes

    def to_json(self) -> dict[str, object]:
        return {"format": self.format, "filename": self.filename, "size": self.size,
                "sha256": self.sha256, "path": self.path}


@dataclass(frozen=True, slots=True)
class DraftView:
    case_id: str
    version: str
    status: str
    documents: tuple[DocumentView, ...]
    skipped: tuple[str, ...]  # what the format has no place for (a CVE record without CVE)
    refused: tuple[str, ...] = ()  # formats whose writer refused the advisory, and why
    left_out: tuple[str, ...] = ()  # what the case holds that the advisory does not show

    def to_json(self) -> dict[str, object]:
        return {"case_id": self.case_id, "version": self.version, "status": self.status,
                "documents": [d.to_json() for d in self.documents],
                "skipped": list(self.skipped), "refused": list(self.refused),
                "left_out": list(self.left_out)}


@dataclass(frozen=True, slots=True)
class PreviewView:
    """The draft sent for review: to whom (addresses), who had no address, and what the
    review window lacks by the policy (6.10: 1-2 weeks before publication)."""

    case_id: str
    version: int  # the version the draft will become
    until: datetime
    digest: str  # SHA-256 of the draft as sent
    recipients: tuple[str, ...]
    skipped: tuple[str, ...]
    warnings: tuple[str, ...]
    new: bool  # False: this draft with this deadline had been sent already
    attached: tuple[str, ...] = ()  # the files each message carries (the CSAF draft)
    not_attached: str = ""  # why the CSAF draft is not attached, when it is not

    def to_json(self) -> dict[str, object]:
        return {"case_id": self.case_id, "version": self.version,
                "until": self.until.isoformat(), "digest": self.digest,
                "recipients": list(self.recipients), "skipped": list(self.skipped),
                "warnings": list(self.warnings), "new": self.new,
                "attached": list(self.attached), "not_attached": self.not_attached}


@dataclass(frozen=True, slots=True)
class PublishedView:
    case_id: str
    version: int
    at: datetime
    summary: str
    early: bool
    documents: tuple[DocumentView, ...]
    skipped: tuple[str, ...]
    notified: tuple[str, ...]  # the addresses a publication notice was queued to
    unreachable: tuple[str, ...]  # participants without an e-mail address
    recorded_p: bool
    ended_embargo: bool
    provider_dir: ProviderDirView | None = None  # when asked to lay it out too

    def to_json(self) -> dict[str, object]:
        return {"case_id": self.case_id, "version": self.version,
                "at": self.at.isoformat(), "summary": self.summary, "early": self.early,
                "documents": [d.to_json() for d in self.documents],
                "skipped": list(self.skipped), "notified": list(self.notified),
                "unreachable": list(self.unreachable), "recorded_p": self.recorded_p,
                "ended_embargo": self.ended_embargo,
                "provider_dir": self.provider_dir.to_json() if self.provider_dir else None}


@dataclass(frozen=True, slots=True)
class ProviderDirView:
    """A CSAF provider directory as laid out: where, served from where, how many
    documents (by TLP folder), how many files, and whether they were signed."""

    path: str
    base_url: str
    documents: int
    by_tlp: dict[str, int]
    files: int
    signed: bool

    def to_json(self) -> dict[str, object]:
        return {"path": self.path, "base_url": self.base_url, "documents": self.documents,
                "by_tlp": dict(self.by_tlp), "files": self.files, "signed": self.signed}


@dataclass(frozen=True, slots=True)
class RevisionView:
    """One published version: the revision history entry and its stored documents."""

    version: int
    at: datetime
    summary: str
    early: bool
    reason: str
    formats: tuple[str, ...]
    documents: tuple[StoredDocument, ...]

    def to_json(self) -> dict[str, object]:
        return {"version": self.version, "at": self.at.isoformat(), "summary": self.summary,
                "early": self.early, "reason": self.reason, "formats": list(self.formats),
                "documents": [{"format": d.format, "filename": d.filename,
                               "size": d.size, "sha256": d.sha256} for d in self.documents]}


@dataclass(frozen=True, slots=True)
class CveSubmissionView:
    case_id: str
    key: str
    cve_id: str
    created: bool  # False: an already published record was updated
    message: str  # CVE Services' answer
    container: dict[str, Any]  # the CNA container as sent
    digest: str = ""  # its SHA-256 (canonical JSON), as the case log records it

    def to_json(self) -> dict[str, object]:
        return {"case_id": self.case_id, "key": self.key, "cve_id": self.cve_id,
                "created": self.created, "message": self.message,
                "container": self.container, "digest": self.digest}
