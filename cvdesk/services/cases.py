"""Case use cases. Each public method is one transaction: load, decide (domain), save.

The service is the only writer.  It turns "now" into explicit times for the
domain, checks times that people give (``--at``), and maps participant
references ("3", "p3", "Acme") to participants.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from cvdesk.domain import cs
from cvdesk.domain.advisory import Remediation
from cvdesk.domain.case import Case, default_embargo_end
from cvdesk.domain.checks import choose, member, party_key
from cvdesk.domain.codec import report_from_dict, to_jsonable
from cvdesk.domain.em import ConsentTrigger
from cvdesk.domain.errors import InvalidInput
from cvdesk.domain.events import Event, EventType
from cvdesk.domain.model import (
    TLP,
    AttemptOutcome,
    CaseStatus,
    Channel,
    Direction,
    Message,
    Report,
    Role,
    SignalKind,
    VersionRange,
    Vulnerability,
    check_aware,
    check_email,
)
from cvdesk.domain.rm import RMTrigger
from cvdesk.services.collector import collector_paused
from cvdesk.services.views import (
    CaseList,
    CaseSummary,
    CaseView,
    ParticipantView,
    ReportForm,
    ReportView,
    StatementView,
    Timeline,
    VulnerabilityView,
)
from cvdesk.settings import Settings
from cvdesk.store.db import Database
from cvdesk.store.queries import case_summaries

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from cvdesk.store.cases import CaseRepository
    from cvdesk.store.tables import CaseRow

#: What may happen to the case embargo as a whole (the per-participant triggers are consent).
EMBARGO_ACTIONS = ("accept", "reject", "terminate")
#: The longest message body logged by hand (``log_message``): a long e-mail pasted whole
#: fits; every later read of the case carries it.
MAX_LOGGED_BODY = 1_000_000


def _repository(session: Session) -> CaseRepository:
    """The ORM repository, imported on first use: ``list_cases`` reads through SQLAlchemy
    Core (cvdesk.store.queries), so ``cvdesk case list`` never loads the ORM (issue 9)."""
    from cvdesk.store.cases import CaseRepository

    return CaseRepository(session)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Submitted:
    tracking_id: str
    case_id: str


def read_report_file(path: Path) -> Report:
    """A report form (.json, .yaml, .yml) read and checked, needing no database: a face can
    tell the reporter what is wrong with the form before anything else."""
    from cvdesk.intake import load_report_file  # YAML and friends: only when submitting

    return load_report_file(path)


class CaseService:
    def __init__(self, db: Database, settings: Settings,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock

    # ------------------------------------------------------------ plumbing
    def when(self, at: datetime | None) -> datetime:
        """The time of a command: now, or a given time that is aware and not in the future."""
        now = self.clock()
        if at is None:
            return now
        check_aware(at, "at")
        skew = timedelta(minutes=self.settings.policy.future_skew_minutes)
        if at > now + skew:
            raise InvalidInput("at", f"{at.isoformat()} is in the future (now is "
                               f"{now.isoformat(timespec='seconds')})")
        return at

    @contextmanager
    def case(self, case_id: str) -> Iterator[Case]:
        """Load a case for several commands in one transaction; saved when the block ends."""
        with self.db.transaction() as session:
            repo = _repository(session)
            row, case = repo.load(case_id)
            yield case
            repo.save(row, case)

    def actor(self, actor: str | None) -> str:
        return actor or self.settings.actor

    # ------------------------------------------------------------ intake
    def submit_report_file(self, path: Path, *, at: datetime | None = None,
                           actor: str | None = None,
                           reporter_is_finder: bool = True) -> Submitted:
        """Read a report form (.json, .yaml, .yml) and open its case: the faces hand over
        the file and never parse forms themselves."""
        return self.submit_report(read_report_file(path), at=at, actor=actor,
                                  reporter_is_finder=reporter_is_finder)

    def submit_report(self, report: Report, *, at: datetime | None = None,
                      actor: str | None = None, reporter_is_finder: bool = True) -> Submitted:
        """Open a case for a new report, with the desk, the reporter and the named vendors.

        The cycle collector is held for the submit (services/collector.py): a report naming
        thousands of vendors builds a case whose objects would otherwise set off a full
        collection, walking every live object of the process, in the middle of it.  It
        resumes once ``_submit`` has returned and its objects are freed."""
        with collector_paused():
            return self._submit(report, self.when(at), self.actor(actor), reporter_is_finder)

    def _submit(self, report: Report, at: datetime, who: str,
                reporter_is_finder: bool) -> Submitted:
        with self.db.transaction() as session:
            repo = _repository(session)
            case_id = repo.new_case_id(at.astimezone(UTC).year)
            tracking_id = repo.new_tracking_id(at)
            case = Case.open(case_id, report.title, report.tlp, at=at, actor=who)
            case.receive_report(tracking_id, report, at=at, actor=who)
            self._add_first_parties(case, report, at, who, reporter_is_finder)
            for vuln in report.vulnerabilities:
                case.add_vulnerability(vuln, at=at, actor=who, reason="listed in the report")
            row = repo.add(case)
            self._flag_duplicates(repo, row, case, tracking_id, report, at, who)
        return Submitted(tracking_id, case_id)

    def _add_first_parties(self, case: Case, report: Report, at: datetime, who: str,
                           reporter_is_finder: bool) -> None:
        """The desk, the reporter and the named vendors, each party once: a reporter or a
        desk that is also a named vendor (a PSIRT reporting on its own product) joins once
        with both roles, and so does a reporter writing from the desk's own address."""
        desk, rep = self.settings.desk, report.reporter
        desk_roles: set[Role] = {Role(desk.role)}
        rep_roles = {Role.REPORTER, Role.FINDER} if reporter_is_finder else {Role.REPORTER}
        vendors = []
        for name in _vendor_names(report):
            if party_key(name) == party_key(desk.name):
                desk_roles.add(Role.VENDOR)
            elif party_key(name) == party_key(rep.name):
                rep_roles.add(Role.VENDOR)
            else:
                vendors.append(name)
        reporter_is_desk = party_key(rep.name) == party_key(desk.name) or bool(
            rep.email and party_key(rep.email) == party_key(desk.email))
        if reporter_is_desk:
            desk_roles |= rep_roles
        me = case.add_participant(desk.name, desk_roles, at=at, actor=who, email=desk.email,
                                  reason="the desk handling this case")
        case.rm(me.pid, RMTrigger.RECEIVE, at=at, actor=who, reason="report submitted")
        holder = me
        if not reporter_is_desk:
            holder = case.add_participant(rep.name, rep_roles, at=at, actor=who,
                                          organization=rep.organization, email=rep.email,
                                          phone=rep.phone, reason="submitted the report")
            case.rm(holder.pid, RMTrigger.RECEIVE, at=at, actor=who,
                    reason="the reporter holds the report they wrote")
        for trigger in (RMTrigger.VALIDATE, RMTrigger.ACCEPT):
            case.rm(holder.pid, trigger, at=at, actor=who,
                    reason="the reporter holds the report they wrote")
        for name in vendors:
            case.add_participant(name, [Role.VENDOR], at=at, actor=who,
                                 reason="named in the report")

    def _flag_duplicates(self, repo: CaseRepository, row: CaseRow, case: Case,
                         tracking_id: str, report: Report, at: datetime, who: str) -> None:
        """A second report of a known vulnerability (6.5; 6.10 row 15): mark both cases for a
        person to check independence.

        Only reports that can match are read: those sharing a product key with the new one
        (the 0.25 word bar needs one) and those whose early words share enough weight with
        the new one's (without a product in common, the 0.6 bar needs that; the proof is in
        cvdesk.troubleshoot.similarity).  Each is then judged by ``match`` on its stored
        fingerprint, so the matches are those a comparison with every open report finds, at
        a cost that follows the candidates rather than the store."""
        from cvdesk.troubleshoot.similarity import (
            PREFIX_BOUND,
            SHORT_LIST,
            fingerprint,
            from_stored,
            gram_keys,
            match,
            product_probe,
            shares_product,
            stored_keys,
            to_stored,
            word_ids,
            word_prefix,
            word_probe,
        )

        new = fingerprint(report)
        # What is filed must be what the stored form decodes to (a later submit compares
        # against it), so it is computed from the form as it is stored.
        stored = fingerprint(report_from_dict(to_jsonable(report)))
        # Both prefixes are cut under the store's word-rarity snapshot, read before this
        # report's own is filed (cvdesk.store.word_order says why that order matters).
        order = repo.word_rarity(word_ids(new) | word_ids(stored))
        repo.add_fingerprint(tracking_id, to_stored(stored), stored_keys(stored),
                             word_prefix(stored, order))
        rarity = repo.key_counts(gram_keys(new), cap=SHORT_LIST)
        by_product = repo.product_keys(repo.reports_under_all(product_probe(new, rarity)))
        candidates = ({pk for pk, keys in by_product.items() if shares_product(new, keys)} |
                      repo.reports_sharing_words(word_probe(new, order), PREFIX_BOUND))
        for other_id, other_tid, data in repo.fingerprints(candidates, exclude=case.case_id):
            found = match(new, from_stored(data))
            if found is None:
                continue
            why = (f"same product '{found.same_product}', " if found.same_product else "") + \
                f"word similarity {found.text_similarity:.2f}"
            other_row, other = repo.load(other_id)
            # A report entered with an earlier time (report submit --at) is noted on the
            # other case no earlier than that case's own opening.
            seen = max(at, other.opened_at) if other.opened_at else at
            other.observe(SignalKind.POSSIBLE_DUPLICATE, at=seen, actor=who,
                          text=f"report {tracking_id} ({case.case_id}) may describe the same "
                          f"vulnerability: {why}",
                          data={"case_id": case.case_id, "tracking_id": tracking_id,
                                "score": found.score})
            repo.save(other_row, other)
            # The new case was saved a moment ago and is still in hand: no need to replay
            # a log that may hold thousands of vendors.
            case.observe(SignalKind.POSSIBLE_DUPLICATE, at=at, actor=who,
                         text=f"may describe the same vulnerability as {other_id} (report "
                         f"{other_tid}): {why}",
                         data={"case_id": other_id, "tracking_id": other_tid,
                               "score": found.score})
            repo.save(row, case)

    def refile_word_order(self) -> int:
        """Order the duplicate check's word prefixes by how many reports use each word now
        and recut every stored prefix (cvdesk.store.word_order); returns how many reports
        were refiled.  The check finds the same matches either way; a store that has grown
        several times over since its last refiling reads fewer entries per submit after."""
        from cvdesk.store.word_order import refile
        from cvdesk.troubleshoot.similarity import from_stored, word_ids, word_prefix

        with self.db.transaction() as session:
            return refile(session, lambda data: word_ids(from_stored(data)),
                          lambda data, rarity: word_prefix(from_stored(data), rarity))

    # ------------------------------------------------------------ commands
    def add_participant(self, case_id: str, name: str, roles: Iterable[Role], *,
                        organization: str = "", email: str = "", phone: str = "",
                        at: datetime | None = None, actor: str | None = None,
                        reason: str = "") -> int:
        if email:  # every face: mail goes to it, in a header
            check_email(email)
        at = self.when(at)
        with self.case(case_id) as case:
            return case.add_participant(name, roles, at=at, actor=self.actor(actor),
                                        organization=organization, email=email, phone=phone,
                                        reason=reason).pid

    def rm(self, case_id: str, participant: str, trigger: RMTrigger, *,
           at: datetime | None = None, actor: str | None = None, reason: str = "") -> str:
        at = self.when(at)
        with self.case(case_id) as case:
            p = case.find_participant(participant)
            case.rm(p.pid, trigger, at=at, actor=self.actor(actor), reason=reason)
            return p.rm.value

    def propose_embargo(self, case_id: str, end: datetime | None = None, *,
                        invite: Iterable[str] | None = None, at: datetime | None = None,
                        actor: str | None = None, reason: str = "") -> datetime:
        at = self.when(at)
        with self.case(case_id) as case:
            if end is None:
                end = default_embargo_end(case, self.settings.policy.embargo_default_days, at)
            pids = None if invite is None else [case.find_participant(r).pid for r in invite]
            case.propose_embargo(end, at=at, actor=self.actor(actor), reason=reason,
                                 invite=pids, max_days=self.settings.policy.embargo_max_days)
            return end

    def embargo(self, case_id: str, action: str, *, at: datetime | None = None,
                actor: str | None = None, reason: str = "") -> str:
        """accept / reject / terminate the case embargo; returns the new EM state."""
        action = choose(EMBARGO_ACTIONS, action, "action", "embargo action")
        at = self.when(at)
        with self.case(case_id) as case:
            command = {"accept": case.accept_embargo, "reject": case.reject_embargo,
                       "terminate": case.terminate_embargo}[action]
            command(at=at, actor=self.actor(actor), reason=reason)
            return case.em.value

    def consent(self, case_id: str, participant: str, trigger: ConsentTrigger, *,
                at: datetime | None = None, actor: str | None = None,
                reason: str = "") -> str:
        at = self.when(at)
        with self.case(case_id) as case:
            p = case.find_participant(participant)
            case.consent(p.pid, trigger, at=at, actor=self.actor(actor), reason=reason)
            return p.consent.value

    def record_cs(self, case_id: str, event: cs.CSEvent, vendor: str | None = None, *,
                  at: datetime | None = None, actor: str | None = None,
                  reason: str = "") -> list[Event]:
        """Record a CS event; returns every event written, implied ones included."""
        at = self.when(at)
        with self.case(case_id) as case:
            pid = case.find_participant(vendor).pid if vendor is not None else None
            case.record_cs(event, pid, at=at, actor=self.actor(actor), reason=reason)
            return list(case.pending)

    def contact_attempt(self, case_id: str, participant: str, channel: Channel,
                        outcome: AttemptOutcome, *, address: str = "",
                        at: datetime | None = None, actor: str | None = None,
                        reason: str = "") -> int:
        at = self.when(at)
        with self.case(case_id) as case:
            p = case.find_participant(participant)
            case.contact_attempt(p.pid, channel, outcome, at=at, actor=self.actor(actor),
                                 reason=reason, address=address)
            return p.attempts

    def contact_reply(self, case_id: str, participant: str, channel: Channel, *,
                      at: datetime | None = None, actor: str | None = None,
                      reason: str = "") -> int:
        at = self.when(at)
        with self.case(case_id) as case:
            p = case.find_participant(participant)
            case.contact_reply(p.pid, channel, at=at, actor=self.actor(actor), reason=reason)
            return p.replies

    def log_message(self, case_id: str, *, direction: Direction, channel: Channel,
                    subject: str, body: str, participant: str | None = None,
                    tlp: TLP = TLP.AMBER, at: datetime | None = None,
                    actor: str | None = None) -> Message:
        if len(body) > MAX_LOGGED_BODY:
            raise InvalidInput("body", f"longer than {MAX_LOGGED_BODY:,} characters; keep "
                               "long material (logs, dumps) apart and log a summary")
        at = self.when(at)
        with self.case(case_id) as case:
            pid = case.find_participant(participant).pid if participant is not None else None
            message = Message(message_id=f"<{uuid.uuid4()}@cvdesk>", direction=direction,
                              at=at, channel=channel, subject=subject, body=body,
                              participant=pid, tlp=tlp)
            flags = {}
            if direction is Direction.INBOUND:
                from cvdesk.troubleshoot.text import analyze

                flags = analyze(f"{subject}\n{body}")
            case.log_message(message, actor=self.actor(actor), flags=flags)
            return message

    def observe(self, case_id: str, kind: SignalKind, *, text: str = "", url: str = "",
                participant: str | None = None, at: datetime | None = None,
                actor: str | None = None) -> None:
        at = self.when(at)
        with self.case(case_id) as case:
            pid = case.find_participant(participant).pid if participant is not None else None
            case.observe(kind, at=at, actor=self.actor(actor), text=text, url=url,
                         participant=pid)

    def set_policy(self, case_id: str, participant: str, days: int, *,
                   at: datetime | None = None, actor: str | None = None,
                   reason: str = "") -> None:
        at = self.when(at)
        with self.case(case_id) as case:
            case.set_policy(case.find_participant(participant).pid, days, at=at,
                            actor=self.actor(actor), reason=reason)

    def add_vulnerability(self, case_id: str, vuln: Vulnerability, *,
                          at: datetime | None = None, actor: str | None = None,
                          reason: str = "") -> None:
        at = self.when(at)
        with self.case(case_id) as case:
            case.add_vulnerability(vuln, at=at, actor=self.actor(actor), reason=reason)

    def close(self, case_id: str, *, reopen: bool = False, at: datetime | None = None,
              actor: str | None = None, reason: str = "") -> str:
        at = self.when(at)
        with self.case(case_id) as case:
            (case.reopen if reopen else case.close)(at=at, actor=self.actor(actor),
                                                    reason=reason)
            return case.status.value

    def note(self, case_id: str, text: str, *, at: datetime | None = None,
             actor: str | None = None) -> None:
        at = self.when(at)
        with self.case(case_id) as case:
            case.note(text, at=at, actor=self.actor(actor))

    # ------------------------------------------------------------ queries
    # Each query copies what it read into frozen views (cvdesk.services.views) before its
    # session closes: no ORM row reaches a face.
    def list_cases(self, status: str | None = "open") -> CaseList:
        """Cases with this status (open or closed), or every case for None."""
        if status is not None:
            status = member(CaseStatus, status, "status", "case status").value
        return CaseList(tuple(CaseSummary.of(r) for r in case_summaries(self.db, status)))

    def show(self, case_id: str) -> CaseView:
        with self.db.sessions() as session:
            repo = _repository(session)
            row = repo.case_row(case_id)
            details = _details(session, row.case_id, row.id)
            return CaseView(CaseSummary.of(row),
                            tuple(ParticipantView.of(p) for p in repo.participants(row.id)),
                            tuple(ReportView.of(r) for r in repo.reports(row.id)),
                            _vulnerability_views(details), _statement_views(details))

    def timeline(self, case_id: str) -> Timeline:
        """The case log in time order (back-dated entries where they happened)."""
        with self.db.sessions() as session:
            repo = _repository(session)
            row = repo.case_row(case_id)
            found, events = row.case_id, repo.events(row.id)
        return Timeline(found, tuple(sorted(events, key=lambda e: (e.at, e.seq))))

    def replay(self, case_id: str) -> Case:
        """The case as its log says it is: the domain's own aggregate, rebuilt from the log,
        for services that judge or package a case and for audits of the projections.  It
        is not a view for faces (they get ``show`` and ``timeline``), and changing it
        stores nothing."""
        with self.db.sessions() as session:
            repo = _repository(session)
            row = repo.case_row(case_id)
            return Case.replay(row.case_id, repo.events(row.id))

    def report(self, tracking_id: str) -> ReportForm:
        """One report as it was submitted."""
        with self.db.sessions() as session:
            return ReportForm.of(_repository(session).report_by_tracking_id(tracking_id))

    # ------------------------------------------------------------ vulnerability details
    # and vendor statements (issue 10)
    def update_vulnerability(self, case_id: str, key: str, *, title: str | None = None,
                             cve: str | None = None, cwes: Iterable[str] | None = None,
                             description: str | None = None,
                             cvss: Iterable[str] | None = None,
                             references: Iterable[str] | None = None,
                             product: str | None = None, vendor: str = "",
                             versions: Iterable[VersionRange] | None = None,
                             version_text: str | None = None,
                             at: datetime | None = None, actor: str | None = None,
                             reason: str = "") -> VulnerabilityView:
        """Change a vulnerability named by its key (its CVE id, or V1, V2 ... in the order
        added).  ``cvss`` holds CVSS 3.1 and 4.0 vectors, at most one of each; each
        replaces the score of its version.  ``versions`` and ``version_text`` replace
        those of the affected ``product`` (of ``vendor`` when several list that name).
        Returns the vulnerability as it now is."""
        from cvdesk.domain.scores import version_of

        by_version: dict[str, str] = {}
        for vector in cvss or ():
            version = version_of(vector)
            if version in by_version:
                raise InvalidInput("cvss", f"two CVSS {version} vectors given; give one per "
                                   "version")
            by_version[version] = vector
        at = self.when(at)
        with self.case(case_id) as case:
            place = case.find_vulnerability(key)
            affected = case.with_versions(key, product, vendor=vendor, versions=versions,
                                          version_text=version_text)
            case.update_vulnerability(
                key, at=at, actor=self.actor(actor), reason=reason, title=title, cve=cve,
                cwes=None if cwes is None else list(cwes), description=description,
                cvss_v3=by_version.get("3.1"), cvss_v4=by_version.get("4.0"),
                references=None if references is None else list(references),
                affected=affected)
            return VulnerabilityView.of_vulnerability(case.vulnerability_key(place),
                                                      case.vulnerabilities[place - 1])

    def record_statement(self, case_id: str, vendor: str, vulnerability: str, product: str,
                         status: str, *, justification: str | None = None,
                         fixed_version: str = "", remediations: Iterable[Remediation] = (),
                         statement: str = "", on_behalf: bool = False,
                         at: datetime | None = None, actor: str | None = None,
                         reason: str = "") -> StatementView:
        """Record a vendor's statement on one product and one vulnerability; a later one
        for the same three replaces it.  ``on_behalf``: the coordinator enters it for the
        vendor, marked so until the vendor confirms it."""
        at = self.when(at)
        with self.case(case_id) as case:
            pid = case.find_participant(vendor).pid
            s = case.record_statement(pid, vulnerability, product, status, at=at,
                                      actor=self.actor(actor), justification=justification,
                                      fixed_version=fixed_version,
                                      remediations=tuple(remediations), statement=statement,
                                      on_behalf=on_behalf, reason=reason)
            return StatementView.of(case.vulnerability_key(s.vulnerability), s)

    def confirm_statement(self, case_id: str, vendor: str, vulnerability: str, product: str,
                          *, at: datetime | None = None, actor: str | None = None,
                          reason: str = "") -> StatementView:
        """The vendor confirms, as its own words, a statement entered on its behalf."""
        at = self.when(at)
        with self.case(case_id) as case:
            pid = case.find_participant(vendor).pid
            s = case.confirm_statement(pid, vulnerability, product, at=at,
                                       actor=self.actor(actor), reason=reason)
            return StatementView.of(case.vulnerability_key(s.vulnerability), s)


#: The events a case's vulnerabilities and statements fold from, without the rest of the
#: log (cvdesk.domain.state keeps them independent of the other events).
DETAIL_EVENTS = (EventType.VULNERABILITY, EventType.VULNERABILITY_UPDATED,
                 EventType.STATEMENT_RECORDED, EventType.STATEMENT_CONFIRMED)


def _details(session: Session, case_id: str, case_pk: int) -> Case:
    from cvdesk.store.case_log import events_of_types

    return Case.replay(case_id, events_of_types(session, case_pk, DETAIL_EVENTS))


def _vulnerability_views(case: Case) -> tuple[VulnerabilityView, ...]:
    return tuple(VulnerabilityView.of_vulnerability(case.vulnerability_key(i), v)
                 for i, v in enumerate(case.vulnerabilities, 1))


def _statement_views(case: Case) -> tuple[StatementView, ...]:
    """In vulnerability order, then in the order recorded."""
    ordered = sorted(case.statements.values(), key=lambda s: s.vulnerability)
    return tuple(StatementView.of(case.vulnerability_key(s.vulnerability), s)
                 for s in ordered)


def _vendor_names(report: Report) -> list[str]:
    names: dict[str, str] = {}
    for name in [*report.vendors, *(p.vendor for p in report.products),
                 *(p.vendor for v in report.vulnerabilities for p in v.affected)]:
        if name.strip():
            names.setdefault(name.strip().lower(), name.strip())
    return list(names.values())
