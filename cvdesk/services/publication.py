"""Drafting an advisory from a case (issue 10; guide 6.9 and appendix D).

The case log is the source: the advisory value is built from the replayed case
(``cvdesk.publish.build``), then written in each format asked for, each validated
offline by its writer before any byte reaches a file.  A draft records nothing on the
case: it can be made as often as wanted while the statements come in.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cvdesk.domain.advisory import Advisory, AdvisoryStatus, Publisher
from cvdesk.domain.case import Case, ParticipantState
from cvdesk.domain.cs import CSEvent
from cvdesk.domain.errors import InvalidInput
from cvdesk.domain.model import Role, check_aware
from cvdesk.publish.common import InvalidAdvisory
from cvdesk.services.cases import CaseService
from cvdesk.store.files import private_dir, write_private

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from cvdesk.services.mail import MailService
    from cvdesk.store.advisories import StoredDocument


class AdvisoryFormat(StrEnum):
    CSAF = "csaf"
    CSAF_VEX = "csaf-vex"
    CVE = "cve"
    OSV = "osv"
    MARKDOWN = "markdown"
    HTML = "html"


#: what ``draft`` writes when no format is named
DEFAULT_FORMATS = (AdvisoryFormat.CSAF, AdvisoryFormat.MARKDOWN)


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

    def to_json(self) -> dict[str, object]:
        return {"case_id": self.case_id, "version": self.version, "status": self.status,
                "documents": [d.to_json() for d in self.documents],
                "skipped": list(self.skipped), "refused": list(self.refused)}


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

    def to_json(self) -> dict[str, object]:
        return {"case_id": self.case_id, "version": self.version,
                "until": self.until.isoformat(), "digest": self.digest,
                "recipients": list(self.recipients), "skipped": list(self.skipped),
                "warnings": list(self.warnings), "new": self.new}


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

    def to_json(self) -> dict[str, object]:
        return {"case_id": self.case_id, "version": self.version,
                "at": self.at.isoformat(), "summary": self.summary, "early": self.early,
                "documents": [d.to_json() for d in self.documents],
                "skipped": list(self.skipped), "notified": list(self.notified),
                "unreachable": list(self.unreachable), "recorded_p": self.recorded_p,
                "ended_embargo": self.ended_embargo}


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


class PublicationService:
    def __init__(self, cases: CaseService) -> None:
        self.cases = cases
        self.settings = cases.settings

    def publisher(self) -> Publisher:
        p, desk = self.settings.publish, self.settings.desk
        return Publisher(name=p.publisher or desk.name, namespace=p.namespace,
                         contact_details=p.contact or desk.email,
                         issuing_authority=p.issuing_authority)

    def advisory(self, case_id: str, *, at: datetime | None = None) -> Advisory:
        """The advisory the case would publish now, as a draft (version 0 before the
        first publication)."""
        now = self.cases.when(at)
        return self._draft_of(self.cases.replay(case_id), now)

    def _draft_of(self, case: Case, now: datetime) -> Advisory:
        """The draft is the next version: after version N is published it is N+1, with
        the published revisions before it."""
        from cvdesk.publish.build import advisory_from_case, draft_revisions

        return advisory_from_case(case, publisher=self.publisher(),
                                  revisions=draft_revisions(case, now),
                                  status=AdvisoryStatus.DRAFT, now=now)

    def draft(self, case_id: str, formats: Iterable[AdvisoryFormat | str] = (), *,
              out_dir: Path | None = None, at: datetime | None = None) -> DraftView:
        """Write the draft in each format.  Every document is validated by its writer
        before anything is written; a format whose writer refuses the advisory as it
        stands (a CVE record with no reference yet) is listed in ``refused`` with the
        writer's reasons, so the draft shows what the case still lacks.  Files are
        created readable by their owner only: a draft holds embargoed details."""
        wanted = _formats(formats)
        adv = self.advisory(case_id, at=at)
        rendered, skipped, refused = [], [], []
        for fmt in wanted:
            try:
                docs, why = _render(adv, fmt, self.settings)
            except InvalidAdvisory as exc:
                refused.append(f"{fmt.value}: " + "; ".join(exc.problems))
                continue
            rendered.extend(docs)
            skipped.extend(why)
        views = []
        if out_dir is not None:
            try:
                private_dir(out_dir)
            except OSError as exc:
                raise InvalidInput("output directory", f"{out_dir}: {exc.strerror}") from None
        for doc in rendered:
            path = None
            if out_dir is not None:
                target = out_dir / doc.filename
                try:
                    write_private(target, doc.content)
                except OSError as exc:
                    raise InvalidInput("output directory",
                                       f"{target}: {exc.strerror}") from None
                path = str(target)
            views.append(DocumentView(doc.format, doc.filename, len(doc.content),
                                      hashlib.sha256(doc.content).hexdigest(), path,
                                      doc.content))
        return DraftView(adv.case_id, adv.version, adv.status.value, tuple(views),
                         tuple(skipped), tuple(refused))


    # ------------------------------------------------------------ preview (6.10)
    def preview(self, case_id: str, *, until: datetime, reason: str = "") -> PreviewView:
        """Send the draft to the vendors and reporters for review, corrections asked for
        by ``until``, and log it (``advisory.previewed``), in one transaction: the event,
        the messages in the outbox and their log entries commit together or not at all.
        A participant without an e-mail address is listed in ``skipped``.  Sending the
        same draft with the same deadline again queues nothing and logs nothing."""
        from cvdesk.domain.case_publication import review_warnings
        from cvdesk.publish.readable import write_markdown
        from cvdesk.store.cases import CaseRepository

        check_aware(until, "until")
        mail = self._mail()
        now = self.cases.when(None)
        who = self.cases.actor(None)
        with self.cases.db.transaction() as session:
            row, case = CaseRepository(session).load(case_id)
            if until <= now:  # before the domain check: says so even on a closed case
                raise InvalidInput("until", f"the review deadline {until.isoformat()} is "
                                   f"not in the future (now is {now.isoformat()})")
            text = write_markdown(self._draft_of(case, now)).content
            digest = hashlib.sha256(text).hexdigest()
            people = [p for p in case.participants.values()
                      if p.roles & {Role.VENDOR, Role.REPORTER}]
            addressed, skipped = _addressed(session, people)
            warnings = review_warnings(case, now, self.settings.policy.draft_share_min_days)
            version = case.advisory_version + 1
            key = f"v{version}/{digest[:16]}/{until.isoformat()}"
            fresh = _not_queued(session, case, addressed, "advisory-preview", key)
            if fresh:
                case.preview_advisory([p.pid for p, _, _ in addressed], until=until,
                                      digest=digest, at=now, actor=who, reason=reason)
            elif not addressed:
                raise InvalidInput("recipients", "nobody to send the draft to: no vendor "
                                   "or reporter has an e-mail address")
            sent = _queue(session, row, case, fresh, "advisory-preview", key, mail, now, who,
                          {"until": until.isoformat(), "version": str(version),
                           "advisory": text.decode("utf-8")})
            CaseRepository(session).save(row, case)
        return PreviewView(case.case_id, version, until, digest, tuple(sent),
                           tuple(skipped), tuple(warnings), bool(fresh))

    # ------------------------------------------------------------ publish (6.9)
    def publish(self, case_id: str, formats: Iterable[AdvisoryFormat | str] = (), *,
                summary: str = "", early: bool = False, reason: str = "",
                out_dir: Path | None = None) -> PublishedView:
        """Publish the next version of the advisory, in one transaction: the
        ``advisory.published`` event (the revision), P when not yet recorded, the end of
        the embargo, the documents (``advisory_documents``) and a publication notice to
        every participant with an e-mail address.  Refused before the embargo end unless
        ``early`` with a ``reason``; refused too when a format's writer refuses the
        advisory (a partial publication would leave the formats disagreeing).  Nothing
        is written when refused.  ``out_dir`` also gets the files, after the commit."""
        import copy

        from cvdesk.publish.build import advisory_from_case, revisions_of
        from cvdesk.publish.readable import write_markdown
        from cvdesk.store.advisories import AdvisoryRepository
        from cvdesk.store.cases import CaseRepository

        wanted = _formats(formats)
        mail = self._mail()
        now = self.cases.when(None)
        who = self.cases.actor(None)
        if out_dir is not None:
            _make_dir(out_dir)
        with self.cases.db.transaction() as session:
            repo = CaseRepository(session)
            row, case = repo.load(case_id)
            # The documents describe the case as published (P in the timeline, this
            # version in the history) and the event carries their digests: so the command
            # runs once on a copy, which also refuses before anything is rendered.
            probe = copy.deepcopy(case)
            probe.publish_advisory(at=now, actor=who, summary=summary, formats=[],
                                   digests={}, early=early, reason=reason)
            adv = advisory_from_case(probe, publisher=self.publisher(),
                                     revisions=revisions_of(probe),
                                     status=AdvisoryStatus.FINAL, now=now)
            docs, skipped, refused = [], [], []
            for fmt in wanted:
                try:
                    rendered, why = _render(adv, fmt, self.settings)
                except InvalidAdvisory as exc:
                    refused.append(f"{fmt.value}: " + "; ".join(exc.problems))
                    continue
                docs.extend(rendered)
                skipped.extend(why)
            if refused:
                raise InvalidInput("format", "the advisory cannot be published as it "
                                   "stands, nothing was published: " + " | ".join(refused))
            digests = {d.filename: hashlib.sha256(d.content).hexdigest() for d in docs}
            had_p, had_embargo = CSEvent.P in case.pxa, case.em
            published = case.publish_advisory(
                at=now, actor=who, summary=summary, formats=[f.value for f in wanted],
                digests=digests, early=early, reason=reason)
            AdvisoryRepository(session).add(row.id, published.version, now, (
                (d.format, d.filename, d.content, digests[d.filename]) for d in docs))
            addressed, unreachable = _addressed(session, list(case.participants.values()))
            key = f"v{published.version}"
            notice = write_markdown(adv).content.decode("utf-8")
            sent = _queue(session, row, case, _not_queued(
                session, case, addressed, "advisory-published", key),
                "advisory-published", key, mail, now, who,
                {"version": str(published.version), "advisory": notice})
            repo.save(row, case)
        public = case.tlp.value not in _PRIVATE_TLP
        views = [_document(d, digests[d.filename], None) for d in docs]
        if out_dir is not None:
            views = [_document(d, digests[d.filename], _write(out_dir / d.filename, d.content,
                                                              public)) for d in docs]
        return PublishedView(
            case.case_id, published.version, now, published.summary, published.early,
            tuple(views), tuple(skipped), tuple(sent), tuple(unreachable),
            recorded_p=not had_p, ended_embargo=had_embargo is not case.em)

    def revisions(self, case_id: str) -> list[RevisionView]:
        """The published versions of the advisory, oldest first, with their documents."""
        from cvdesk.store.advisories import AdvisoryRepository
        from cvdesk.store.cases import CaseRepository

        with self.cases.db.sessions() as session:
            repo = CaseRepository(session)
            row = repo.case_row(case_id)
            case = Case.replay(row.case_id, repo.events(row.id))
            stored = AdvisoryRepository(session).documents(row.id)
        return [RevisionView(p.version, p.at, p.summary, p.early, p.reason, p.formats,
                             tuple(d for d in stored if d.version == p.version))
                for p in case.publications]

    def _mail(self) -> MailService:
        from cvdesk.services.mail import MailService

        mail = MailService(self.cases)
        if not mail.sender:
            raise InvalidInput("smtp.sender", "no sender address: set smtp.sender or "
                               "desk.email in the settings")
        return mail


#: TLP labels under which a published advisory still may not be shared freely: its
#: files are written readable by their owner only (0600), like a draft.
_PRIVATE_TLP = frozenset({"RED", "AMBER", "AMBER+STRICT"})


def _make_dir(out_dir: Path) -> None:
    try:
        private_dir(out_dir)
    except OSError as exc:
        raise InvalidInput("output directory", f"{out_dir}: {exc.strerror}") from None


def _write(target: Path, content: bytes, public: bool) -> str:
    """Write a published document: 0644 when its TLP lets anyone read it (CLEAR,
    GREEN: the advisory is public now), 0600 under AMBER or RED."""
    try:
        write_private(target, content)
        if public:
            os.chmod(target, 0o644)
    except OSError as exc:
        raise InvalidInput("output directory", f"{target}: {exc.strerror} (the advisory "
                           "is published and stored; only this file was not written)"
                           ) from None
    return str(target)


def _document(doc: Any, digest: str, path: str | None) -> DocumentView:
    return DocumentView(doc.format, doc.filename, len(doc.content), digest, path,
                        doc.content)


def _addressed(session: Session, people: list[ParticipantState],
               ) -> tuple[list[tuple[ParticipantState, str, str]], list[str]]:
    """(participant, address, OpenPGP key) of those with an e-mail address, by the
    participant's own or its directory entry; the labels of the others."""
    from cvdesk.services.mail import _address, _org_key
    from cvdesk.store.directory import DirectoryRepository

    directory = DirectoryRepository(session).contacts_by_key(
        {_org_key(p) for p in people}) if people else {}
    found, missing = [], []
    for p in people:
        try:
            address, key = _address(p, directory.get(_org_key(p), []))
        except InvalidInput:
            missing.append(p.label)
            continue
        found.append((p, address, key))
    return found, missing


def _idempotency_key(case: Case, pid: int, template: str, key: str) -> str:
    return f"{case.case_id}/{template}/p{pid}/{key}"


def _not_queued(session: Session, case: Case,
                people: list[tuple[ParticipantState, str, str]], template: str, key: str,
                ) -> list[tuple[ParticipantState, str, str]]:
    from cvdesk.store.outbox import OutboxRepository

    keys = {p.pid: _idempotency_key(case, p.pid, template, key) for p, _, _ in people}
    taken = OutboxRepository(session).taken(keys.values()) if keys else set()
    return [x for x in people if keys[x[0].pid] not in taken]


def _queue(session: Session, row: Any, case: Case,
           people: list[tuple[ParticipantState, str, str]], template: str, key: str,
           mail: MailService, at: datetime, who: str, values: dict[str, str]) -> list[str]:
    """Queue ``template`` to each of ``people`` in the caller's transaction, each message
    logged on the case, as ``MailService.queue`` does in its own transaction (which a
    publication cannot share).  Returns the recipients' addresses."""
    from cvdesk.channels.mail import compose, render
    from cvdesk.domain.model import Channel, Direction, Message
    from cvdesk.store.outbox import PENDING, OutboxRepository

    planned = case.publication_date()
    common = {"desk": mail.cases.settings.desk.name, "title": case.title,
              "embargo_end": planned.isoformat() if planned else "(no date set yet)"}
    outbox: list[dict[str, Any]] = []
    for p, address, public_key in people:
        subject, body = render(template, {"name": p.name, **common, **values})
        message_id, raw = compose(
            sender=mail.sender, recipient=address, case_id=case.case_id, tlp=case.tlp.value,
            subject=subject, body=body, at=at, domain=mail.domain, public_key=public_key)
        case.log_message(Message(message_id, Direction.OUTBOUND, at, Channel.EMAIL, subject,
                                 body, p.pid, case.tlp), actor=who)
        outbox.append(dict(
            idempotency_key=_idempotency_key(case, p.pid, template, key), case_pk=row.id,
            participant=p.pid, template=template, sender=mail.sender, recipient=address,
            message_id=message_id, raw=raw, status=PENDING, attempts=0, next_attempt_at=at,
            created_at=at, worker="", last_error="", in_doubt=False, logged=False))
    OutboxRepository(session).add(outbox)
    return [address for _, address, _ in people]


def _formats(formats: Iterable[AdvisoryFormat | str]) -> tuple[AdvisoryFormat, ...]:
    chosen: list[AdvisoryFormat] = []
    for f in formats:
        try:
            fmt = AdvisoryFormat(str(f).strip().lower())
        except ValueError:
            names = ", ".join(x.value for x in AdvisoryFormat)
            raise InvalidInput("format", f"'{f}' is not one of {names}") from None
        if fmt not in chosen:
            chosen.append(fmt)
    return tuple(chosen) or DEFAULT_FORMATS


def _render(adv: Advisory, fmt: AdvisoryFormat, settings):  # type: ignore[no-untyped-def]
    """(documents, reasons for what was skipped) for one format."""
    p = settings.publish
    if fmt in (AdvisoryFormat.CSAF, AdvisoryFormat.CSAF_VEX):
        from cvdesk.publish.csaf import checksums, write_csaf

        if fmt is AdvisoryFormat.CSAF_VEX:
            # The VEX profile is a document of its own: its own tracking id, so its file
            # name (which the standard derives from the id) differs from the advisory's.
            adv = replace(adv, tracking_id=f"{adv.tracking_id}-VEX")
        doc = write_csaf(adv, vex=fmt is AdvisoryFormat.CSAF_VEX)
        return [doc, *checksums(doc)], []
    if fmt is AdvisoryFormat.MARKDOWN:
        from cvdesk.publish.readable import write_markdown

        return [write_markdown(adv)], []
    if fmt is AdvisoryFormat.HTML:
        from cvdesk.publish.readable import write_html

        return [write_html(adv)], []
    docs, skipped = [], []
    for v in adv.vulnerabilities:
        if fmt is AdvisoryFormat.CVE:
            if not v.cve:
                skipped.append(f"cve: {v.key} has no CVE id yet, so it has no CVE record")
                continue
            from cvdesk.publish.cve import write_cve

            docs.append(write_cve(adv, v.key, assigner_org_id=p.cve_assigner_org_id,
                                  assigner_short_name=p.cve_assigner_short_name))
        else:
            from cvdesk.publish.osv import write_osv

            docs.append(write_osv(adv, v.key, id_prefix=p.osv_prefix))
    return docs, skipped
