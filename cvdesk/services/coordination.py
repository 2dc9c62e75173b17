"""What the troubleshooting advice leads to (guide 6.9): hand the case to a third-party
coordinator, publish early, credit the helpers, and learn from the case afterwards.
The coordinator directory and the retrospectives are read and written through
cvdesk/store/coordinators.py."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from cvdesk.domain.checks import same_party
from cvdesk.domain.codec import to_jsonable
from cvdesk.domain.cs import CSEvent
from cvdesk.domain.em import EM, EM_IN_FORCE
from cvdesk.domain.errors import DomainError, InvalidInput
from cvdesk.domain.events import EventType
from cvdesk.domain.model import Credit, Retrospective, Role, check_email
from cvdesk.metrics.themes import NO_PROBLEM, RetroRecord, Theme, recurring_themes
from cvdesk.services.cases import CaseService
from cvdesk.services.doctor import finding_data
from cvdesk.store.coordinators import (
    CaseToReview,
    CoordinatorRepository,
    CoordinatorView,
    RetrospectiveFound,
    RetrospectiveRepository,
    RetrospectiveView,
)
from cvdesk.store.files import write_private
from cvdesk.troubleshoot import diagnose

__all__ = ["COORDINATOR_KINDS", "HANDOFF_FORMAT", "CaseToReview", "CoordinationService",
           "CoordinatorView", "RetrospectiveFound", "RetrospectiveView", "Theme"]

COORDINATOR_KINDS = ("coordinator", "national-csirt", "bug-bounty", "vendor-psirt", "other")
HANDOFF_FORMAT = "cvdesk-handoff/1"


class CoordinationService:
    def __init__(self, cases: CaseService) -> None:
        self.cases = cases
        self.db = cases.db

    # ------------------------------------------------------------ coordinator directory
    def coordinators(self) -> list[CoordinatorView]:
        with self.db.sessions() as session:
            return CoordinatorRepository(session).all()

    def coordinator(self, name: str) -> CoordinatorView:
        """The entry of that name, in any letter case; NotFound otherwise."""
        with self.db.sessions() as session:
            return CoordinatorRepository(session).find(name)

    def add_coordinator(self, name: str, kind: str, *, country: str = "", email: str = "",
                        url: str = "", notes: str = "") -> CoordinatorView:
        if not name.strip():
            raise InvalidInput("name", "must not be empty")
        if kind not in COORDINATOR_KINDS:
            raise InvalidInput("kind", f"'{kind}' is not one of {', '.join(COORDINATOR_KINDS)}")
        if email:
            check_email(email, "email")
        if url and not re.match(r"^https?://", url):
            raise InvalidInput("url", f"'{url}' is not an http(s) URL")
        with self.db.transaction() as session:
            return CoordinatorRepository(session).add(
                name, kind, country=country, email=email, url=url, notes=notes,
                now=self.cases.clock())

    def remove_coordinator(self, name: str) -> None:
        with self.db.transaction() as session:
            CoordinatorRepository(session).remove(name)

    # ------------------------------------------------------------ hand-off
    def handoff(self, case_id: str, coordinator: str, out: Path | None = None, *,
                actor: str | None = None, reason: str = "") -> tuple[Path, str]:
        """Write the hand-off package (report, timeline, contact attempts ...) and log it."""
        coord = self.coordinator(coordinator)
        package = self.package(case_id, coord)
        path = out or Path(f"handoff-{package['case']['case_id']}-"
                           f"{re.sub(r'[^A-Za-z0-9]+', '_', coord.name).strip('_')}.json")
        text = json.dumps(package, indent=2, ensure_ascii=False) + "\n"
        digest = hashlib.sha256(text.encode()).hexdigest()
        at = self.cases.when(None)
        who = self.cases.actor(actor)
        with self.cases.case(case_id) as case:
            if same_party(case.participants.values(), coord.name, coord.email) is None:
                case.add_participant(coord.name, [Role.COORDINATOR], at=at, actor=who,
                                     email=coord.email, reason="case handed off (6.9)")
            case.hand_off(coord.name, path.name, digest, at=at, actor=who, reason=reason)
            # Written inside the transaction: if the file cannot be written, nothing is logged.
            try:
                write_private(path, text)  # 0600: embargoed case data
            except OSError as exc:
                raise InvalidInput("output file", f"{path}: {exc.strerror or exc}") from None
        return path, digest

    def package(self, case_id: str, coord: CoordinatorView) -> dict[str, Any]:
        view = self.cases.show(case_id)
        events = self.cases.timeline(case_id)
        case = self.cases.replay(case_id)
        share = all(r.form.get("share_contact", False) for r in view.reports)
        reporters = {p.pid for p in case.participants.values()
                     if Role.REPORTER in p.roles or Role.FINDER in p.roles}
        names = {p.pid: p.name for p in case.participants.values()}
        now = self.cases.clock()
        open_findings = [finding_data(f) for f in diagnose(
            case, self.cases.settings.policy, now).findings]
        c = view.case

        def person(p: Any) -> dict[str, Any]:
            withheld = p.pid in reporters and not share
            return {"participant": p.pid, "name": p.name, "roles": p.roles.split(","),
                    "organization": p.organization,
                    "email": "(withheld: no consent to share)" if withheld else p.email,
                    "phone": "(withheld)" if withheld and p.phone else p.phone,
                    "rm_state": p.rm_state, "embargo": p.consent,
                    "vfd": p.vfd if p.is_vendor else None, "attempts": p.attempts,
                    "channels": [x for x in p.channels.split(",") if x],
                    "first_attempt_at": p.first_attempt_at, "last_reply_at": p.last_reply_at}

        return to_jsonable({
            "format": HANDOFF_FORMAT, "generated_at": self.cases.clock(),
            "tlp": c.tlp, "from": {"desk": self.cases.settings.desk.name,
                                   "email": self.cases.settings.desk.email},
            "to": {"name": coord.name, "kind": coord.kind, "email": coord.email,
                   "url": coord.url},
            "case": {"case_id": c.case_id, "title": c.title, "status": c.status,
                     "embargo": c.em_state, "embargo_end": c.embargo_end_text,
                     "case_state": c.pxa, "opened_at": c.opened_at},
            "reports": [{"tracking_id": r.tracking_id, "received_at": r.received_at,
                         "form": _redacted(r.form) if not share else r.form}
                        for r in view.reports],
            "vulnerabilities": [v.data for v in view.vulnerabilities],
            "participants": [person(p) for p in view.participants],
            "contact_attempts": [
                {"at": e.at, "participant": e.participant, "name": names.get(e.participant),
                 **{k: e.data.get(k) for k in ("channel", "outcome", "address")},
                 "note": e.reason}
                for e in events if e.type is EventType.CONTACT_ATTEMPT],
            "replies": [{"at": e.at, "participant": e.participant,
                         "name": names.get(e.participant), "channel": e.data["channel"]}
                        for e in events if e.type is EventType.CONTACT_REPLY],
            "timeline": [{"seq": e.seq, "at": e.at, "event": e.type, "what": e.summary(),
                          "actor": e.actor, "reason": e.reason} for e in events],
            "open_findings": open_findings,
            "credits": [to_jsonable(x) for x in case.credits],
        })

    # ------------------------------------------------------------ publish early
    def publish_early(self, case_id: str, *, reason: str, public: bool = False,
                      actor: str | None = None) -> str:
        """End the embargo now with the reason (6.9 "consider publishing early")."""
        if not reason.strip():
            raise InvalidInput("reason", "say why coordination has failed or the date moved")
        at = self.cases.when(None)
        who = self.cases.actor(actor)
        with self.cases.case(case_id) as case:
            why = f"publish early (6.9): {reason}"
            if case.em in EM_IN_FORCE:
                case.terminate_embargo(at=at, actor=who, reason=why)
            elif case.em is EM.PROPOSED:
                case.reject_embargo(at=at, actor=who, reason=why)
            elif not public:
                raise DomainError(f"{case.case_id} has no embargo to end (EM state "
                                  f"'{case.em.value}'); use --public to record publication")
            if public and CSEvent.P not in case.pxa:
                case.record_cs(CSEvent.P, None, at=at, actor=who, reason=why)
            return case.em.value

    # ------------------------------------------------------------ credits
    def add_credit(self, case_id: str, credit_name: str, role: Role, contribution: str, *,
                   public: bool, participant: str | None = None,
                   actor: str | None = None) -> Credit:
        at = self.cases.when(None)
        with self.cases.case(case_id) as case:
            pid = case.find_participant(participant).pid if participant else None
            credit = Credit(credit_name.strip(), role, contribution.strip(), public, pid)
            case.credit(credit, at=at, actor=self.cases.actor(actor))
            return credit

    def credits(self, case_id: str) -> list[Credit]:
        return self.cases.replay(case_id).credits

    # ------------------------------------------------------------ retrospectives
    def add_retrospective(self, case_id: str, retro: Retrospective, *,
                          actor: str | None = None) -> None:
        at = self.cases.when(None)
        with self.cases.case(case_id) as case:
            case.retrospective(retro, at=at, actor=self.cases.actor(actor))

    def retrospectives(self, *, case_id: str | None = None, query: str = "",
                       ) -> list[RetrospectiveView]:
        """Retrospectives, newest first, optionally of one case or with every word of
        ``query`` in an answer or the case title: what past cases taught (6.9)."""
        query = _query(query)
        with self.db.sessions() as session:
            return RetrospectiveRepository(session).search(case_id=case_id, query=query)

    def search_retrospectives(self, query: str = "", *, problem: str | None = None,
                              case_id: str | None = None) -> list[RetrospectiveFound]:
        """Like ``retrospectives``, narrowed to cases whose findings raised ``problem``
        (a troubleshooting problem id), each with the problems its case raised."""
        problem, query = _problem(problem), _query(query)
        none = problem == NO_PROBLEM
        with self.db.sessions() as session:
            found = RetrospectiveRepository(session).search_with_problems(
                case_id=case_id, query=query, problem=None if none else problem)
        return [f for f in found if f.problems == ()] if none else found

    def retrospective_themes(self, *, problem: str | None = None) -> list[Theme]:
        """What keeps going wrong, per problem: words and word pairs of "went wrong" and
        "do differently" found in the retrospectives of two or more cases that raised the
        same problem (cvdesk.metrics.themes)."""
        problem = _problem(problem)
        found = self.search_retrospectives(problem=problem)
        records = [RetroRecord(f.retrospective.case_id, f.problems,
                               f.retrospective.went_wrong, f.retrospective.do_differently)
                   for f in found]
        return list(recurring_themes(records, problem=problem))

    def closed_without_retrospective(self) -> list[CaseToReview]:
        with self.db.sessions() as session:
            return RetrospectiveRepository(session).closed_cases_without()


#: Different words a retrospective search may name.  Each is one more condition of the
#: statement, which SQLite refuses past 1,000 levels ("Expression tree is too large");
#: a search is a few words.
MAX_QUERY_WORDS = 32


def _query(query: str) -> str:
    """A search's words, checked: at most ``MAX_QUERY_WORDS`` different ones (a word
    repeated, in any case, counts once)."""
    words = {word.lower() for word in query.split()}
    if len(words) > MAX_QUERY_WORDS:
        raise InvalidInput("query", f"at most {MAX_QUERY_WORDS} different words "
                           f"(this search has {len(words)})")
    return query


def _problem(problem: str | None) -> str | None:
    """A troubleshooting problem id as the findings carry it, checked."""
    if problem is None or not problem.strip():
        return None
    from cvdesk.troubleshoot.rules import RULES

    key = problem.strip().lower()
    if key not in RULES and key != NO_PROBLEM:
        raise InvalidInput("problem", f"'{problem}' is not a troubleshooting problem; "
                           f"known: {', '.join(sorted(RULES))}")
    return key


def _redacted(form: dict[str, Any]) -> dict[str, Any]:
    reporter = dict(form.get("reporter", {}))
    for key in ("email", "phone", "pgp_key"):
        if reporter.get(key):
            reporter[key] = "(withheld: no consent to share)"
    return {**form, "reporter": reporter}


