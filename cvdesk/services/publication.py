"""Drafting an advisory from a case (issue 10; guide 6.9 and appendix D).

The case log is the source: the advisory value is built from the replayed case
(``cvdesk.publish.build``), then written in each format asked for, each validated
offline by its writer before any byte reaches a file.  A draft records nothing on the
case: it can be made as often as wanted while the statements come in.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
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

    def to_json(self) -> dict[str, object]:
        return {"case_id": self.case_id, "key": self.key, "cve_id": self.cve_id,
                "created": self.created, "message": self.message,
                "container": self.container}


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
        rendered, skipped, refused = _render_all(adv, wanted, self.settings)
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
        left_out = ()
        if adv.withheld_credits:  # 6.9: credit only with consent; the count, no names
            n = adv.withheld_credits
            left_out = (f"left out: {n} credit{'s' if n > 1 else ''} without consent to "
                        "publish (names not shown)",)
        return DraftView(adv.case_id, adv.version, adv.status.value, tuple(views),
                         tuple(skipped), tuple(refused), left_out)


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
                out_dir: Path | None = None, provider_dir: Path | None = None,
                ) -> PublishedView:
        """Publish the next version of the advisory, in one transaction: the
        ``advisory.published`` event (the revision), P when not yet recorded, the end of
        the embargo, the documents (``advisory_documents``) and a publication notice to
        every participant with an e-mail address.  Refused before the embargo end unless
        ``early`` with a ``reason``; refused too when a format's writer refuses the
        advisory (a partial publication would leave the formats disagreeing).  Nothing
        is written when refused.  ``out_dir`` also gets the files, as part of the
        publication: they are written to a staging folder inside it before the commit
        (a failure there rolls everything back) and renamed into place after it
        (``_Staged``).  ``provider_dir`` is then laid out (or brought up to date) as a
        CSAF provider directory of every published CSAF document.  Its
        settings (``publish.base_url``, the desk key) are checked before publishing."""
        wanted = _formats(formats)
        mail = self._mail()
        now = self.cases.when(None)
        who = self.cases.actor(None)
        layout = self._provider_settings() if provider_dir is not None else None
        if out_dir is not None:
            _make_dir(out_dir)
        staged: _Staged | None = None
        try:
            with self.cases.db.transaction() as session:
                staged = self._publish_in(
                    session, case_id, wanted, summary=summary, early=early, reason=reason,
                    out_dir=out_dir, mail=mail, now=now, who=who)
        except BaseException:
            if staged is not None:
                staged.discard()
            raise
        case, published, docs, digests = (staged.case, staged.published, staged.docs,
                                          staged.digests)
        views = [_document(d, digests[d.filename], None) for d in docs]
        if out_dir is not None:
            placed = staged.place(published.version)
            views = [_document(d, digests[d.filename], placed[d.filename]) for d in docs]
        provider = None
        if provider_dir is not None and layout is not None:
            provider = self._lay_out(provider_dir, *layout, now, after_publication=True)
        return PublishedView(
            case.case_id, published.version, now, published.summary, published.early,
            tuple(views), tuple(staged.skipped), tuple(staged.sent),
            tuple(staged.unreachable), recorded_p=staged.recorded_p,
            ended_embargo=staged.ended_embargo, provider_dir=provider)

    def _publish_in(self, session: Session, case_id: str,
                    wanted: tuple[AdvisoryFormat, ...], *, summary: str, early: bool,
                    reason: str, out_dir: Path | None, mail: MailService, now: datetime,
                    who: str) -> _Staged:
        """The work of ``publish`` inside its transaction; the files for ``out_dir`` are
        staged last, so that a failure writing them rolls the whole publication back."""
        import copy

        from cvdesk.publish.build import advisory_from_case, revisions_of
        from cvdesk.publish.readable import write_markdown
        from cvdesk.store.advisories import AdvisoryRepository
        from cvdesk.store.cases import CaseRepository

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
        _check_publishable(adv)
        docs, skipped, refused = _render_all(adv, wanted, self.settings)
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
        staged = _Staged(case, published, docs, digests, skipped, sent, unreachable,
                         recorded_p=not had_p, ended_embargo=had_embargo is not case.em)
        if out_dir is not None:
            staged.stage(out_dir, public=case.tlp.value not in _PRIVATE_TLP)
        return staged

    # ------------------------------------------------------------ provider directory
    def provider_directory(self, out_dir: Path) -> ProviderDirView:
        """Lay out ``out_dir`` as a CSAF provider directory (CSAF 2.0 7.1) holding the
        current version of every CSAF document the desk has published, from the stored
        bytes (so each file is exactly what went out), signed with the desk's OpenPGP
        key when it has one.  Running it again brings the directory up to date."""
        from cvdesk.store.advisories import AdvisoryRepository

        base_url, sign = self._provider_settings()
        now = self.cases.when(None)
        with self.cases.db.sessions() as session:
            stored = AdvisoryRepository(session).current(_CSAF_FORMATS)
        return self._lay_out(out_dir, base_url, sign, now, stored=stored)

    def _provider_settings(self) -> tuple[str, Callable[[bytes], bytes] | None]:
        """The public URL of the directory and the signing function, checked before
        anything is published or written."""
        base_url = self.settings.publish.base_url.strip()
        if not base_url:
            raise InvalidInput("publish.base_url", "a CSAF provider directory needs the "
                               "public URL it is served from (e.g. https://example.org/"
                               ".well-known/csaf): set publish.base_url in the settings")
        if not base_url.lower().startswith("https://"):
            raise InvalidInput("publish.base_url", f"'{base_url}' is not an https URL; a "
                               "CSAF provider directory is served over TLS (CSAF 2.0 7.1.1)")
        mail = self.settings.mail
        if not mail.private_key_file:
            return base_url, None
        from cvdesk.channels.openpgp import OpenPGPError
        from cvdesk.channels.openpgp_sign import signer

        try:
            return base_url, signer(mail.private_key_file, mail.passphrase)
        except OpenPGPError as exc:
            raise InvalidInput("mail.private_key_file", str(exc)) from None

    def _lay_out(self, out_dir: Path, base_url: str, sign: Callable[[bytes], bytes] | None,
                 now: datetime, *, stored: list[tuple[str, str, bytes]] | None = None,
                 after_publication: bool = False) -> ProviderDirView:
        from cvdesk.publish.common import Rendered
        from cvdesk.publish.csaf_provider import write_provider_dir
        from cvdesk.store.advisories import AdvisoryRepository

        if stored is None:
            with self.cases.db.sessions() as session:
                stored = AdvisoryRepository(session).current(_CSAF_FORMATS)
        docs = [Rendered(fmt, name, content, "application/json")
                for fmt, name, content in stored]
        try:
            written = write_provider_dir(docs, out_dir, publisher=self.publisher(),
                                         base_url=base_url, now=now, sign=sign)
        except OSError as exc:
            note = (" (the advisory is published and stored; only the provider directory "
                    "was not written: rebuild it with the provider-dir command)"
                    if after_publication else "")
            raise InvalidInput("provider directory",
                               f"{exc.filename or out_dir}: {exc.strerror}{note}") from None
        by_tlp: dict[str, int] = {}
        for path in written:
            rel = path.relative_to(out_dir).parts
            if len(rel) == 3 and rel[2].endswith(".json"):
                by_tlp[rel[0]] = by_tlp.get(rel[0], 0) + 1
        return ProviderDirView(str(out_dir), base_url, len(docs), by_tlp, len(written),
                               sign is not None)

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

    # ------------------------------------------------------------ CVE Services
    def submit_cve(self, case_id: str, key: str) -> CveSubmissionView:
        """Submit the CVE record of one vulnerability (its CNA container) to CVE
        Services with the desk's account (``[cve]``): published for a reserved id,
        updated when already published.  The record describes the case as published,
        and is refused while the case is not public yet (no P): a CVE record is
        public the moment it is submitted (6.9)."""
        from cvdesk.channels.cve_services import CveServicesError, submit_cna
        from cvdesk.channels.fetch import FetchPolicy
        from cvdesk.publish.build import advisory_from_case, revisions_of
        from cvdesk.publish.cve import write_cve

        c = self.settings.cve
        missing = [f"cve.{name}" for name in ("api_url", "org", "user", "api_key")
                   if not getattr(c, name).strip()]
        if missing:
            raise InvalidInput(missing[0], "submitting to CVE Services needs the desk's "
                               "account: set " + ", ".join(missing) + " in the settings "
                               "(the key as CVDESK_CVE__API_KEY)")
        now = self.cases.when(None)
        case = self.cases.replay(case_id)
        if CSEvent.P not in case.pxa:
            raise InvalidInput("case", f"{case.case_id} is not public yet (P not "
                               "recorded): publish the advisory before its CVE record")
        adv = advisory_from_case(case, publisher=self.publisher(),
                                 revisions=revisions_of(case), status=AdvisoryStatus.FINAL,
                                 now=now)
        p = self.settings.publish
        record = write_cve(adv, key, assigner_org_id=p.cve_assigner_org_id,
                           assigner_short_name=p.cve_assigner_short_name)
        full = json.loads(record.content)
        cve_id = full["cveMetadata"]["cveId"]
        f = self.settings.fetch
        policy = FetchPolicy(allow_loopback=f.allow_loopback,
                             timeout_seconds=f.timeout_seconds, ca_bundle=f.ca_bundle)
        try:
            done = submit_cna(cve_id, full["containers"]["cna"], api_url=c.api_url.strip(),
                              org=c.org.strip(), user=c.user.strip(), api_key=c.api_key,
                              policy=policy)
        except CveServicesError as exc:
            raise InvalidInput("cve.api_url", str(exc)) from None
        return CveSubmissionView(case.case_id, key, cve_id, done.created, done.message,
                                 done.sent)

    def _mail(self) -> MailService:
        from cvdesk.services.mail import MailService

        mail = MailService(self.cases)
        if not mail.sender:
            raise InvalidInput("smtp.sender", "no sender address: set smtp.sender or "
                               "desk.email in the settings")
        return mail


#: the stored formats a CSAF provider directory serves (their checksums are made again)
_CSAF_FORMATS = (AdvisoryFormat.CSAF.value, AdvisoryFormat.CSAF_VEX.value)

#: TLP labels under which a published advisory still may not be shared freely: its
#: files are written readable by their owner only (0600), like a draft.
_PRIVATE_TLP = frozenset({"RED", "AMBER", "AMBER+STRICT"})


def _make_dir(out_dir: Path) -> None:
    try:
        private_dir(out_dir)
    except OSError as exc:
        raise InvalidInput("output directory", f"{out_dir}: {exc.strerror}") from None


@dataclass(slots=True)
class _Staged:
    """A publication done in the transaction, and its files for the output directory.

    The files are part of the publication (issue 10): ``stage`` writes them into a
    hidden staging folder inside the directory before the commit, so a full disk, a
    refused permission or a directory standing at a file's name rolls the publication
    back; ``place`` renames them into place after the commit (``os.replace``, atomic on
    one file system).  Only a failure of that rename leaves a publication without
    some of its files: the message then names them; their bytes are stored with the
    revision (``advisory list``) and the CSAF ones are laid out again by the provider
    directory command."""

    case: Case
    published: Any
    docs: list[Any]
    digests: dict[str, str]
    skipped: list[str]
    sent: list[str]
    unreachable: list[str]
    recorded_p: bool
    ended_embargo: bool
    out_dir: Path | None = None
    temp: Path | None = None

    def stage(self, out_dir: Path, *, public: bool) -> None:
        """Write every file into the staging folder: 0644 when the TLP lets anyone read
        the advisory (CLEAR, GREEN), 0600 under AMBER or RED."""
        import tempfile

        self.out_dir = out_dir
        target = out_dir
        try:
            self.temp = Path(tempfile.mkdtemp(prefix=".cvdesk-publish-", dir=out_dir))
            for doc in self.docs:
                target = out_dir / doc.filename
                if target.is_dir() or (target.exists() and not target.is_file()):
                    raise IsADirectoryError(21, "there is a directory (or something other "
                                            "than a file) at this name", str(target))
                staged = self.temp / doc.filename
                write_private(staged, doc.content)
                if public:
                    os.chmod(staged, 0o644)
        except OSError as exc:
            self.discard()
            raise InvalidInput("output directory", f"{target}: {exc.strerror}; nothing "
                               "was published") from None

    def place(self, version: int) -> dict[str, str]:
        """Rename the staged files into place; the path of each."""
        assert self.out_dir is not None and self.temp is not None
        placed: dict[str, str] = {}
        failed: list[str] = []
        problem = ""
        for doc in self.docs:
            target = self.out_dir / doc.filename
            try:
                os.replace(self.temp / doc.filename, target)
            except OSError as exc:
                failed.append(doc.filename)
                problem = problem or f"{target}: {exc.strerror}"
                continue
            placed[doc.filename] = str(target)
        self.discard()
        if failed:
            raise InvalidInput("output directory", (
                f"{problem} (advisory version {version} of {self.case.case_id} is "
                "published and stored; these files were not written: "
                + ", ".join(failed) + "; their stored bytes are listed by the advisory "
                "list command and the CSAF ones are laid out again by the provider "
                "directory command)"))
        return placed

    def discard(self) -> None:
        if self.temp is not None:
            import shutil

            shutil.rmtree(self.temp, ignore_errors=True)
            self.temp = None


def _check_publishable(adv: Advisory) -> None:
    """Refused before anything is rendered: an advisory without a vulnerability says
    nothing any format can carry."""
    if not adv.vulnerabilities:
        raise InvalidInput("vulnerabilities", f"{adv.case_id} has no vulnerability: add "
                           "one before publishing, nothing was published")


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


def _render_all(adv: Advisory, wanted: Iterable[AdvisoryFormat], settings: Any,
                ) -> tuple[list[Any], list[str], list[str]]:
    """(documents, what the formats have no place for, formats whose writer refused the
    advisory with its reasons): the one rendering loop of draft and publish."""
    docs: list[Any] = []
    skipped: list[str] = []
    refused: list[str] = []
    for fmt in wanted:
        try:
            rendered, why = _render(adv, fmt, settings)
        except InvalidAdvisory as exc:
            refused.append(f"{fmt.value}: " + "; ".join(exc.problems))
            continue
        docs.extend(rendered)
        skipped.extend(why)
    return docs, skipped, refused


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
