"""The advisory a case says (guide 6.9 "publish"; appendix D), built from its folded log.

Every format writer reads the ``Advisory`` this returns, never the case, so what the
formats say is decided here once: which products each vulnerability affects, each
vendor's statement, who is credited, how far each vendor took part and what happened
when.  Pure: the case comes in replayed and ``now`` as a parameter; nothing is stored.

What is taken from where:

- vulnerabilities: their current version (after every ``vulnerability.updated``) with
  their advisory key (CVE id, else "V" and the place on the case);
- statements: the latest per vendor, product and vulnerability, with the mark of one
  the coordinator entered on the vendor's behalf and the vendor has not confirmed;
- acknowledgments: only credits the person agreed to make public (6.9);
- involvements: per vendor, from the contact log: "completed" once it replied, reached
  F or gave a statement; "contact_attempted" while attempts went unanswered;
  "not_contacted" before any attempt (CSAF involvements), with the dates of the
  contact attempts, which the formats give for a vendor that never made a statement
  (6.10 row 6: published as "unknown", never left out);
- timeline (appendix D): report received, first contact attempt, first vendor reply,
  fix ready per vendor, publication (P).

``unversioned_products`` says which products the advisory would name as affected without
saying which versions; publication and the review preview are refused while there are any.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from cvdesk.domain import cs
from cvdesk.domain.advisory import (
    Acknowledgment,
    Advisory,
    AdvisoryStatus,
    AdvisoryVulnerability,
    CreditType,
    Involvement,
    InvolvementStatus,
    ProductStatus,
    Publisher,
    Revision,
    TimelineEntry,
    VendorStatement,
)
from cvdesk.domain.case import Case
from cvdesk.domain.checks import member
from cvdesk.domain.model import Role, check_aware
from cvdesk.domain.state import ParticipantState
from cvdesk.domain.statements import Statement

#: Whose part a credit names, in the CVE record's credit types.
CREDIT_TYPES = {
    Role.FINDER: CreditType.FINDER,
    Role.REPORTER: CreditType.REPORTER,
    Role.COORDINATOR: CreditType.COORDINATOR,
    Role.VENDOR: CreditType.REMEDIATION_DEVELOPER,
}


def advisory_from_case(case: Case, *, publisher: Publisher, revisions: tuple[Revision, ...],
                       status: AdvisoryStatus | str, now: datetime) -> Advisory:
    """The advisory of ``case`` as of ``now``.  ``revisions`` are the advisory's own
    history, oldest first (the service keeps them); without any, the advisory is dated
    ``now``."""
    check_aware(now, "now")
    status = member(AdvisoryStatus, status, "status", "advisory status")
    vulnerabilities = tuple(
        AdvisoryVulnerability(key=case.vulnerability_key(place), title=v.title, cve=v.cve,
                              cwes=v.cwes, description=v.description, scores=v.scores,
                              references=v.references, products=v.affected)
        for place, v in enumerate(case.vulnerabilities, 1))
    statements = tuple(_statement(case, s) for s in sorted(
        case.statements.values(), key=lambda s: s.vulnerability))
    return Advisory(
        case_id=case.case_id, tracking_id=case.case_id, title=case.title, tlp=case.tlp,
        status=status, publisher=publisher, summary=_summary(case),
        vulnerabilities=vulnerabilities, statements=statements,
        acknowledgments=_acknowledgments(case), involvements=_involvements(case),
        withheld_credits=sum(1 for c in case.credits if not c.public),
        timeline=_timeline(case), revisions=revisions,
        initial_release=revisions[0].at if revisions else now,
        current_release=revisions[-1].at if revisions else now)


def revisions_of(case: Case) -> tuple[Revision, ...]:
    """The advisory's revision history as the log has it: one revision per
    ``advisory.published`` event, oldest first (CSAF integer versioning: "1", "2" ...)."""
    return tuple(Revision(str(p.version), p.at, p.summary) for p in case.publications)


def draft_revisions(case: Case, now: datetime) -> tuple[Revision, ...]:
    """The history of the next version while it is a draft: the published revisions,
    then the draft as version N+1 ("0" before the first publication, as CSAF has it for
    a document never released)."""
    published = revisions_of(case)
    number = str(case.advisory_version + 1) if published else "0"
    return (*published, Revision(number, now, "Draft for review."))


def unversioned_products(adv: Advisory) -> tuple[str, ...]:
    """The products ``adv`` names as affected, or leaves unknown, without any version:
    one problem each, naming the vulnerability, the product and its vendor.

    A reader must be able to tell whether the version they run is affected (appendix D
    lists affected and fixed versions per vendor; a CVE record's and OSV's affected
    entries are version lists), and a product name alone does not tell them.  Versions
    are what the report gave and the vendor's statement added, taken together:

    - a version range (one exact version is a range from and to it), or the words given
      for the versions (``version_text``: "all versions", "firmware before 2024-03");
    - the first fixed version of a "fixed" statement on its own: every version before it
      is affected, which is how the formats write it (CVE "lessThan", OSV "fixed").

    A product needs no version when the vendor states it is not affected (no version is)
    or is still investigating (published as unknown).  Without a statement the product
    is published as affected-or-unknown (6.10 row 6), so the report's versions are
    required then.  The statement is the one the format writers pick for the product."""
    problems = []
    for v in adv.vulnerabilities:
        said = adv.statements_for(v.key)
        for p in v.products:
            if p.versions or p.version_text.strip():
                continue
            s = next((s for s in said if s.product == p.product
                      and (not p.vendor or s.vendor == p.vendor)), None)
            if s is not None and (s.fixed_version or s.status in (
                    ProductStatus.NOT_AFFECTED, ProductStatus.UNDER_INVESTIGATION)):
                continue
            vendor = p.vendor or (s.vendor if s else "")
            problems.append(f"{v.key}: product '{p.product}'"
                            + (f" of {vendor}" if vendor else "")
                            + ": no affected version or range given, and no statement "
                              "names a fixed version")
    return tuple(problems)


def _statement(case: Case, s: Statement) -> VendorStatement:
    return VendorStatement(
        vendor=s.vendor_name, product=s.product,
        vulnerability=case.vulnerability_key(s.vulnerability), status=s.status,
        justification=s.justification, fixed_version=s.fixed_version,
        remediations=s.remediations, statement=s.statement, on_behalf=s.on_behalf, at=s.at)


def _summary(case: Case) -> str:
    """The vulnerabilities' own descriptions; the case title when none has one.  The
    report's text is not used: it is the reporter's, may hold exploit details, and was
    written before the vendor's analysis."""
    described = [v for v in case.vulnerabilities if v.description.strip()]
    if len(described) == 1:
        return described[0].description.strip()
    if described:
        return "\n\n".join(f"{v.title}: {v.description.strip()}" for v in described)
    return case.title


def _acknowledgments(case: Case) -> tuple[Acknowledgment, ...]:
    found = []
    for c in case.credits:
        if not c.public:
            continue
        p = case.participants.get(c.participant) if c.participant is not None else None
        found.append(Acknowledgment(name=c.name, organization=p.organization if p else "",
                                    contribution=c.contribution,
                                    credit_type=CREDIT_TYPES.get(c.role, CreditType.OTHER)))
    return tuple(found)


def _involvements(case: Case) -> tuple[Involvement, ...]:
    said: dict[int, datetime] = {}
    for s in case.statements.values():
        if s.at is not None and (s.vendor not in said or s.at > said[s.vendor]):
            said[s.vendor] = s.at
    return tuple(_involvement(p, said.get(p.pid)) for p in case.vendors)


def _involvement(p: ParticipantState, stated: datetime | None) -> Involvement:
    contacted = tuple(sorted(set(p.attempt_times)))
    return replace(_involvement_status(p, stated), contacted=contacted)


def _involvement_status(p: ParticipantState, stated: datetime | None) -> Involvement:
    fixed = p.vfd_at.get(cs.CSEvent.F)
    done = [t for t in (p.last_reply_at, fixed, stated) if t is not None]
    if done:
        parts = [f"{p.replies} repl{'y' if p.replies == 1 else 'ies'}" if p.replies else "",
                 "fix ready" if fixed else "", "statement given" if stated else ""]
        return Involvement(p.name, "vendor", InvolvementStatus.COMPLETED, max(done),
                           ", ".join(x for x in parts if x))
    if p.attempts:
        return Involvement(p.name, "vendor", InvolvementStatus.CONTACT_ATTEMPTED,
                           p.last_attempt_at,
                           f"{p.attempts} contact attempt{'s' if p.attempts > 1 else ''}, "
                           "no reply")
    return Involvement(p.name, "vendor", InvolvementStatus.NOT_CONTACTED)


def _timeline(case: Case) -> tuple[TimelineEntry, ...]:
    entries: list[TimelineEntry] = []
    received = [r["received_at"] for r in case.reports]
    if received:
        entries.append(TimelineEntry(min(received), "report received"))
    elif case.opened_at is not None:
        entries.append(TimelineEntry(case.opened_at, "case opened"))
    vendors = case.vendors
    attempts = [p.first_attempt_at for p in vendors if p.first_attempt_at is not None]
    if attempts:
        entries.append(TimelineEntry(min(attempts), "first contact attempt"))
    replied = [(p.first_reply_at, p.pid, p.name) for p in vendors
               if p.first_reply_at is not None]
    if replied:
        at, _, name = min(replied)
        entries.append(TimelineEntry(at, f"first vendor reply ({name})"))
    for p in vendors:
        if cs.CSEvent.F in p.vfd_at:
            entries.append(TimelineEntry(p.vfd_at[cs.CSEvent.F], f"fix ready ({p.name})"))
    if cs.CSEvent.P in case.pxa_at:
        entries.append(TimelineEntry(case.pxa_at[cs.CSEvent.P], "publication"))
    return tuple(sorted(entries, key=lambda e: e.at))  # stable: same time keeps this order
