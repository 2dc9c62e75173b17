"""Drafting an advisory from a case (issue 10; guide 6.9 and appendix D).

The case log is the source: the advisory value is built from the replayed case
(``cvdesk.publish.build``), then written in each format asked for, each validated
offline by its writer before any byte reaches a file.  A draft records nothing on the
case: it can be made as often as wanted while the statements come in.

The service's parts live beside it: its views (publication_views), the staging of
published files (publication_files), the notices it queues (publication_mail) and the
submission to CVE Services (publication_cve).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cvdesk.domain.advisory import Advisory, AdvisoryStatus, Publisher
from cvdesk.domain.case import Case
from cvdesk.domain.cs import CSEvent
from cvdesk.domain.errors import InvalidInput
from cvdesk.domain.model import Role, check_aware
from cvdesk.publish.common import InvalidAdvisory
from cvdesk.services.cases import CaseService
from cvdesk.services.publication_files import _PRIVATE_TLP, _make_dir, _Staged
from cvdesk.services.publication_mail import _addressed, _not_queued, _queue
from cvdesk.services.publication_views import (
    CveSubmissionView,
    DocumentView,
    DraftView,
    PreviewView,
    ProviderDirView,
    PublishedView,
    RevisionView,
)
from cvdesk.store.files import private_dir, write_private

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from cvdesk.channels.mail import Attachment
    from cvdesk.services.mail import MailService


class AdvisoryFormat(StrEnum):
    CSAF = "csaf"
    CSAF_VEX = "csaf-vex"
    CVE = "cve"
    OSV = "osv"
    MARKDOWN = "markdown"
    HTML = "html"


#: what ``draft`` writes when no format is named
DEFAULT_FORMATS = (AdvisoryFormat.CSAF, AdvisoryFormat.MARKDOWN)


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
              out_dir: Path | None = None, at: datetime | None = None,
              csaf_version: str | None = None) -> DraftView:
        """Write the draft in each format.  Every document is validated by its writer
        before anything is written; a format whose writer refuses the advisory as it
        stands (a CVE record with no reference yet) is listed in ``refused`` with the
        writer's reasons, so the draft shows what the case still lacks.  Files are
        created readable by their owner only: a draft holds embargoed details."""
        wanted = _formats(formats)
        adv = self.advisory(case_id, at=at)
        rendered, skipped, refused = _render_all(adv, wanted, self.settings, csaf_version)
        from cvdesk.publish.build import unversioned_products  # publish refuses these

        refused += [f"publication: {why}" for why in unversioned_products(adv)]
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
            draft = self._draft_of(case, now)
            # A draft with products lacking versions may still go out: asking the vendors
            # for them is one reason to share it; publishing it is refused.
            unversioned = _check_publishable(draft, "sending the draft for review, "
                                             "nothing was sent", versions=False)
            text = write_markdown(draft).content
            digest = hashlib.sha256(text).hexdigest()
            attachments, note = _csaf_for_review(draft, self.settings)
            people = [p for p in case.participants.values()
                      if p.roles & {Role.VENDOR, Role.REPORTER}]
            addressed, skipped = _addressed(session, people)
            warnings = review_warnings(case, now, self.settings.policy.draft_share_min_days)
            if unversioned:
                warnings = [*warnings, "versions: " + "; ".join(unversioned)
                            + "; ask the vendors for them (publishing is refused without)"]
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
                           "advisory": text.decode("utf-8"), "attachment": note},
                          attachments)
            CaseRepository(session).save(row, case)
        return PreviewView(case.case_id, version, until, digest, tuple(sent),
                           tuple(skipped), tuple(warnings), bool(fresh),
                           attached=tuple(a.filename for a in attachments),
                           not_attached="" if attachments else note.strip())

    # ------------------------------------------------------------ publish (6.9)
    def publish(self, case_id: str, formats: Iterable[AdvisoryFormat | str] = (), *,
                summary: str = "", early: bool = False, reason: str = "",
                out_dir: Path | None = None, provider_dir: Path | None = None,
                csaf_version: str | None = None) -> PublishedView:
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
        if provider_dir is not None and \
                (csaf_version or self.settings.publish.csaf_version) != "2.0":
            # checked before publishing: the directory is laid out after the commit
            raise InvalidInput("provider directory", "a CSAF provider directory serves "
                               "CSAF 2.0 documents; publish in CSAF 2.0 to lay one out "
                               "(nothing was published)")
        if out_dir is not None:
            _make_dir(out_dir)
        staged: _Staged | None = None
        try:
            with self.cases.db.transaction() as session:
                staged = self._publish_in(
                    session, case_id, wanted, summary=summary, early=early, reason=reason,
                    out_dir=out_dir, mail=mail, now=now, who=who,
                    csaf_version=csaf_version)
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
                    who: str, csaf_version: str | None = None) -> _Staged:
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
        docs, skipped, refused = _render_all(adv, wanted, self.settings, csaf_version)
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
        public the moment it is submitted (6.9).  The outcome is logged on the case
        (``cve.submitted`` with the digest of what was sent, or ``cve.submission_failed``
        with the reason): services/publication_cve.py."""
        from cvdesk.services.publication_cve import submit_cve

        return submit_cve(self, case_id, key)

    def _mail(self) -> MailService:
        from cvdesk.services.mail import MailService

        mail = MailService(self.cases)
        if not mail.sender:
            raise InvalidInput("smtp.sender", "no sender address: set smtp.sender or "
                               "desk.email in the settings")
        return mail


#: the stored formats a CSAF provider directory serves (their checksums are made again)
_CSAF_FORMATS = (AdvisoryFormat.CSAF.value, AdvisoryFormat.CSAF_VEX.value)


def _check_publishable(adv: Advisory, doing: str = "publishing, nothing was published",
                       *, versions: bool = True) -> list[str]:
    """Refused before anything is rendered: an advisory without a vulnerability says
    nothing any format can carry; one naming a product without versions cannot tell a
    reader whether they are affected (``unversioned_products``).  With ``versions``
    False the products without versions are returned instead of refused."""
    from cvdesk.publish.build import unversioned_products

    if not adv.vulnerabilities:
        raise InvalidInput("vulnerabilities", f"{adv.case_id} has no vulnerability: add "
                           f"one before {doing}")
    missing = unversioned_products(adv)
    if missing and versions:
        raise InvalidInput("versions", f"{adv.case_id}: " + "; ".join(missing)
                           + f"; add the affected versions before {doing}")
    return missing


def _document(doc: Any, digest: str, path: str | None) -> DocumentView:
    return DocumentView(doc.format, doc.filename, len(doc.content), digest, path,
                        doc.content)


def _csaf_for_review(draft: Advisory, settings: Any) -> tuple[list[Attachment], str]:
    """The draft's CSAF document to attach to the review mail (vendors review what their
    tools will read, not only the text), and the line of the mail that says so; when
    the CSAF writer refuses the draft as it stands, no attachment and the line says why."""
    from cvdesk.channels.mail import Attachment

    try:
        docs, _ = _render(draft, AdvisoryFormat.CSAF, settings)
    except InvalidAdvisory as exc:
        return [], ("The CSAF document of this draft is not attached: the CSAF writer\n"
                    f"refused the draft as it stands ({'; '.join(exc.problems)}).\n\n")
    doc = docs[0]  # the document; its checksum files are for a provider directory
    return [Attachment(doc.filename, doc.content, doc.media_type)], (
        f"The draft is attached as a CSAF document too ({doc.filename}).\n\n")


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
                csaf_version: str | None = None) -> tuple[list[Any], list[str], list[str]]:
    """(documents, what the formats have no place for, formats whose writer refused the
    advisory with its reasons): the one rendering loop of draft and publish.  The CSAF
    documents are written in ``csaf_version``, by default ``publish.csaf_version``."""
    from cvdesk.publish.csaf_check import SUPPORTED

    version = csaf_version or settings.publish.csaf_version
    if version not in SUPPORTED:
        raise InvalidInput("CSAF version", f"'{version}' is not one of "
                           + ", ".join(SUPPORTED))
    docs: list[Any] = []
    skipped: list[str] = []
    refused: list[str] = []
    for fmt in wanted:
        try:
            rendered, why = _render(adv, fmt, settings, version)
        except InvalidAdvisory as exc:
            refused.append(f"{fmt.value}: " + "; ".join(exc.problems))
            continue
        docs.extend(rendered)
        skipped.extend(why)
    return docs, skipped, refused


def _render(adv: Advisory, fmt: AdvisoryFormat, settings,  # type: ignore[no-untyped-def]
            csaf_version: str | None = None):
    """(documents, reasons for what was skipped) for one format."""
    p = settings.publish
    if fmt in (AdvisoryFormat.CSAF, AdvisoryFormat.CSAF_VEX):
        from cvdesk.publish.csaf import checksums, write_csaf

        if fmt is AdvisoryFormat.CSAF_VEX:
            # The VEX profile is a document of its own: its own tracking id, so its file
            # name (which the standard derives from the id) differs from the advisory's.
            adv = replace(adv, tracking_id=f"{adv.tracking_id}-VEX")
        doc = write_csaf(adv, vex=fmt is AdvisoryFormat.CSAF_VEX,
                         version=csaf_version or p.csaf_version)
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
