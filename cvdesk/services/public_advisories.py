"""Published advisories for anyone to read (issue 11; guide 6.9 "publish", appendix D).

Only an advisory the world may read is shown: its case is labelled TLP:CLEAR, public
(P) and under no embargo, and a version was published with ``cvdesk publish`` (the rule
is in store/public_advisories.py).  Anything else answers "not found", so the pages do
not tell which cases exist.  Nobody signs in for these pages and nothing is audited:
what they show was published.

The page shows a version as it was published, not as the case reads today: the case
log is replayed up to that version's ``advisory.published`` event and the publication
applied again, which is how ``publish`` built the documents (so a vulnerability added
to the case since, perhaps under a new embargo, is not shown).  The sections are the
readable advisory's outline (publish/readable.py), handed to the page as plain values
for its template to escape.  The files are served byte for byte as they were stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cvdesk.domain.accounts import CaseHidden
from cvdesk.domain.errors import NotFound
from cvdesk.services.accounts import Page
from cvdesk.services.portal import page_bounds

if TYPE_CHECKING:
    from cvdesk.domain.advisory import Advisory
    from cvdesk.services.publication import PublicationService

#: Stored format -> (what a reader calls it, media type); a checksum file takes its
#: document's name and is plain text.
FORMATS: dict[str, tuple[str, str]] = {
    "csaf": ("CSAF", "application/json"),
    "csaf-vex": ("CSAF VEX", "application/json"),
    "cve": ("CVE record", "application/json"),
    "osv": ("OSV", "application/json"),
    "markdown": ("Markdown", "text/markdown; charset=utf-8"),
    "html": ("HTML", "text/html; charset=utf-8"),
}
CHECKSUMS = {"sha256": "SHA-256", "sha512": "SHA-512"}


def _served(fmt: str) -> tuple[str, str] | None:
    """(label, media type) of a stored format the pages serve; None for any other."""
    if fmt in FORMATS:
        return FORMATS[fmt]
    base, _, algo = fmt.rpartition("-")
    if base in FORMATS and algo in CHECKSUMS:
        return f"{CHECKSUMS[algo]} of the {FORMATS[base][0]} file", "text/plain; charset=utf-8"
    return None


def served_formats() -> tuple[str, ...]:
    return (*FORMATS, *(f"{f}-{a}" for f in FORMATS for a in CHECKSUMS))


@dataclass(frozen=True, slots=True)
class PublicAdvisory:
    """One line of the list."""

    case_id: str
    title: str
    version: int
    first_published_at: datetime
    published_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "title": self.title, "version": self.version,
                "first_published_at": self.first_published_at.isoformat(),
                "published_at": self.published_at.isoformat(), "tlp": "CLEAR"}


@dataclass(frozen=True, slots=True)
class PublicFileView:
    label: str
    filename: str
    size: int
    sha256: str
    url: str  # on the desk: /advisories/<case>/<version>/<file>


@dataclass(frozen=True, slots=True)
class PublicRevision:
    version: int
    at: datetime
    summary: str


@dataclass(frozen=True, slots=True)
class PublicAdvisoryPage:
    """One published version, in the readable advisory's sections.  ``header`` and each
    section's ``blocks`` are plain values (see ``_block``); every text in them came from
    outside and is escaped by the page."""

    case_id: str
    title: str
    version: int
    newest: int
    published_at: datetime
    header: tuple[tuple[tuple[str, str], ...], ...]
    sections: tuple[dict[str, Any], ...]
    files: tuple[PublicFileView, ...]
    revisions: tuple[PublicRevision, ...]


@dataclass(frozen=True, slots=True)
class PublicDocument:
    filename: str
    media_type: str
    content: bytes


class PublicAdvisoryService:
    def __init__(self, publication: PublicationService) -> None:
        self.publication = publication
        self.cases = publication.cases
        self.db = publication.cases.db

    def advisories(self, *, offset: int = 0, limit: int = 50) -> Page:
        """The public advisories, the most recently published first."""
        from cvdesk.store.public_advisories import public_advisories

        offset, limit = page_bounds(offset, limit)
        with self.db.engine.connect() as conn:
            rows, total = public_advisories(conn, offset=offset, limit=limit)
        return Page(tuple(PublicAdvisory(r.case_id, r.title, r.version,
                                         r.first_published_at, r.published_at)
                          for r in rows), total, offset, limit)

    def advisory(self, case_id: str, version: int | None = None) -> PublicAdvisoryPage:
        """One public advisory as published in ``version`` (the newest by default);
        CaseHidden (404) for a case that is not public, NotFound for a version that
        was not published."""
        from cvdesk.store.cases import CaseRepository
        from cvdesk.store.public_advisories import public_advisories, public_files

        wanted = case_id.strip().upper()
        with self.db.sessions() as session:
            conn = session.connection()
            found, _ = public_advisories(conn, offset=0, limit=1, case_id=wanted)
            if not found:
                raise CaseHidden(wanted)
            head = found[0]
            number = head.version if version is None else version
            files = public_files(conn, head.case_pk, number)
            if not files:
                raise NotFound(f"advisory {head.case_id}: no version {number} was published")
            # The stored files' digests name this publication, even in a database made
            # again at the same address.
            key = (str(self.db.engine.url), head.case_id, number,
                   tuple(sorted(f.sha256 for f in files)))
            built = _BUILT.get(key)
            events = CaseRepository(session).events(head.case_pk) if built is None else []
        if built is None:
            built = self._built(head.case_id, events, number, head.published_at)
            _remember(key, built)
        title, published_at, header, sections, revisions = built
        return PublicAdvisoryPage(
            head.case_id, title, number, head.version, published_at, header, sections,
            tuple(PublicFileView(label, f.filename, f.size, f.sha256,
                                 f"/advisories/{head.case_id}/{number}/{f.filename}")
                  for f in files if (label := (_served(f.format) or ("", ""))[0])),
            revisions)

    def _built(self, case_id: str, events: list[Any], number: int,
               fallback: datetime) -> _Built:
        from cvdesk.publish.readable import outline

        adv, case = self._as_published(case_id, events, number)
        header, sections = outline(adv)
        return (adv.title, adv.current_release or fallback,
                tuple(_run(r) for r in header),
                tuple({"id": s.id, "title": s.title, "blocks": [_block(b) for b in s.blocks]}
                      for s in sections),
                tuple(PublicRevision(p.version, p.at, p.summary) for p in case.publications))

    def _as_published(self, case_id: str, events: list[Any],
                      version: int) -> tuple[Advisory, Any]:
        """The advisory of ``version`` as ``publish`` built it: the log up to its event,
        and the publication applied to that case again."""
        from cvdesk.domain.advisory import AdvisoryStatus
        from cvdesk.domain.case import Case
        from cvdesk.domain.events import EventType
        from cvdesk.publish.build import advisory_from_case, revisions_of

        at = next((i for i, e in enumerate(events)
                   if e.type is EventType.ADVISORY_PUBLISHED
                   and e.data.get("version") == version), None)
        if at is None:
            raise NotFound(f"advisory {case_id}: no version {version} was published")
        event = events[at]
        case = Case.replay(case_id, events[:at])
        case.publish_advisory(at=event.at, actor=event.actor, summary=event.data["summary"],
                              formats=event.data.get("formats", []),
                              digests=event.data.get("digests", {}),
                              early=bool(event.data.get("early")), reason=event.reason)
        adv = advisory_from_case(case, publisher=self.publication.publisher(),
                                 revisions=revisions_of(case), status=AdvisoryStatus.FINAL,
                                 now=event.at)
        return adv, case

    def document(self, case_id: str, version: int, filename: str) -> PublicDocument:
        """One published file of a public advisory, as stored; NotFound otherwise (the
        same answer whether the case, the version or the file is missing)."""
        from cvdesk.store.public_advisories import public_file

        wanted = case_id.strip().upper()
        with self.db.engine.connect() as conn:
            found = public_file(conn, wanted, version, filename, served_formats())
        if found is None:
            raise NotFound(f"advisory {wanted}: no published file {filename!r} of "
                           f"version {version}")
        fmt, content = found
        served = _served(fmt)
        assert served is not None
        return PublicDocument(filename, served[1], content)


# -- a published version, built once -------------------------------------------------
#: (title, published at, header, sections, revisions) of one published version.
_Built = tuple[str, datetime, tuple[Any, ...], tuple[dict[str, Any], ...],
               tuple[PublicRevision, ...]]
#: What a published version shows never changes (the log up to its publication is
#: append-only), so the replay is kept per (database, case, version, files' digests);
#: whether the case is still public is asked on every request, before this is read.
#: Bounded, oldest out.
_BUILT: dict[tuple[str, str, int, tuple[str, ...]], _Built] = {}
_BUILT_MAX = 64


def _remember(key: tuple[str, str, int, tuple[str, ...]], built: _Built) -> None:
    if len(_BUILT) >= _BUILT_MAX:
        _BUILT.pop(next(iter(_BUILT)))
    _BUILT[key] = built


# -- the readable outline as plain values ------------------------------------------------
def _run(run: Any) -> tuple[tuple[str, str], ...]:
    """A line of pieces as (kind, text): "text", "strong", "link" (a URL a reader can
    follow) or "url" (one that is shown as text only)."""
    from cvdesk.publish.readable import Link, Strong
    from cvdesk.publish.wire import is_url

    pieces = []
    for piece in run:
        if isinstance(piece, Link):
            pieces.append(("link" if is_url(piece.url) else "text", piece.url))
        elif isinstance(piece, Strong):
            pieces.append(("strong", piece.text))
        else:
            pieces.append(("text", str(piece)))
    return tuple(pieces)


def _paragraphs(text: str) -> list[list[str]]:
    """Blank lines part paragraphs; single newlines are line breaks (as the readable
    HTML has it)."""
    import re

    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    return [p.split("\n") for p in re.split(r"\n\s*\n", text) if p.strip()]


def _block(block: Any) -> dict[str, Any]:
    from cvdesk.publish import readable as r

    if isinstance(block, r.Heading):
        return {"kind": "heading", "text": block.text}
    if isinstance(block, r.Para):
        return {"kind": "para", "paragraphs": _paragraphs(block.text)}
    if isinstance(block, r.Quote):
        return {"kind": "quote", "paragraphs": _paragraphs(block.text)}
    if isinstance(block, r.Line):
        return {"kind": "line", "run": _run(block.run)}
    if isinstance(block, r.Bullets):
        return {"kind": "bullets", "items": [_run(i) for i in block.items]}
    return {"kind": "table", "headers": list(block.headers),
            "rows": [[_run(c) for c in row] for row in block.rows]}
