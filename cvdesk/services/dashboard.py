"""The dashboard (issue 11): the troubleshooting findings across a principal's cases,
most urgent first, each with what the principal's own role should do (guide 6: every
finding names the roles it concerns and an action per role).

Staff see every stored finding of every open case, and may acknowledge or snooze one
(with a reason; the status is the desk's, shared by every coordinator).  A vendor or
reporter sees the findings of its own cases that concern its role, with the actions for
that role.  Who else takes part stays with the coordinator (guide 5.4: vendors need not
learn of each other): a finding about another participant is shown without its title
and evidence (which name it), and the evidence of case-wide findings, which may name
participants, is left out too.

The findings are those the last sweep stored (``cvdesk doctor``, or ``sweep`` here).

A finding tells about its case (what went wrong, with whom), so a dashboard that shows a
finding of a case under embargo is a read of that case and is audited like the case
page (guide 7.2: who saw what while it was embargoed): one entry per dashboard view
(page or API), naming every embargoed case among the findings shown, not one per
finding.  Its case field holds the case when there is one, so ``cvdesk audit --case``
finds it; a view showing several such cases lists them all in its target and leaves the
case field empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cvdesk.domain.accounts import Principal, require_staff, require_write
from cvdesk.domain.checks import choose
from cvdesk.services.accounts import Page
from cvdesk.services.portal import EMBARGOED, page_bounds
from cvdesk.services.views import ShownFinding

if TYPE_CHECKING:
    from cvdesk.services.accounts import AccountService
    from cvdesk.services.cases import CaseService
    from cvdesk.services.doctor import DoctorService

#: What the faces call the two ways of handling a finding, and the action each is.
HANDLING = {"acknowledge": "acknowledged", "snooze": "snoozed"}


@dataclass(frozen=True, slots=True)
class DashboardFinding:
    """A finding as one viewer sees it: the actions for its role, and whether it may
    acknowledge or snooze it."""

    finding: ShownFinding
    actions: tuple[dict[str, str], ...]
    may_handle: bool

    def to_json(self) -> dict[str, Any]:
        return {**self.finding.to_json(), "case_title": self.finding.case_title,
                "actions": [dict(a) for a in self.actions], "may_handle": self.may_handle}


class Dashboard:
    def __init__(self, cases: CaseService, accounts: AccountService) -> None:
        self.cases = cases
        self.accounts = accounts
        self.db = cases.db

    def _doctor(self) -> DoctorService:
        from cvdesk.services.doctor import DoctorService

        return DoctorService(self.db, self.cases.settings, clock=self.cases.clock)

    def findings(self, principal: Principal, *, offset: int = 0, limit: int = 50,
                 address: str = "") -> Page:
        """One page of the principal's findings; the view is audited when it shows a
        finding of an embargoed case (``_audit_embargoed``)."""
        found, embargoed = self._findings(principal, offset=offset, limit=limit)
        self._audit_embargoed(principal, embargoed, address)
        return found

    def _audit_embargoed(self, principal: Principal, case_ids: list[str],
                         address: str) -> None:
        if not case_ids:
            return
        self.accounts.audit(principal, "read embargoed findings",
                            case_id=case_ids[0] if len(case_ids) == 1 else "",
                            target="dashboard: " + ", ".join(case_ids), address=address)

    def _findings(self, principal: Principal, *, offset: int, limit: int,
                  ) -> tuple[Page, list[str]]:
        """(the page, the embargoed cases among its findings, in order of appearance)."""
        from sqlalchemy import Select

        from cvdesk.store.dashboard import (
            linked_participant,
            member_cases,
            member_participants,
            open_findings,
        )
        from cvdesk.store.findings import FindingRepository
        from cvdesk.troubleshoot.stored import worded

        offset, limit = page_bounds(offset, limit)
        now = self.cases.clock()
        with self.db.sessions() as session:
            kinds = FindingRepository(session).kinds()
            if principal.is_staff:
                rows, total = open_findings(session, now=now, case_pks=None, offset=offset,
                                            limit=limit)
                items = []
                embargoed: dict[str, None] = {}
                for f, c in rows:
                    data = worded(f.data, now, kinds)
                    items.append(DashboardFinding(_shown(f, c, data),
                                                  _actions(data, {"coordinator"}), True))
                    if c.em_state in EMBARGOED:
                        embargoed[c.case_id] = None
                return Page(tuple(items), total, offset, limit), list(embargoed)
            cases: list[int] | Select[tuple[int]]
            if principal.link_case is not None and principal.link_pid is not None:
                mine = linked_participant(session, principal.link_case, principal.link_pid)
                cases = list(mine)
            else:
                mine = member_participants(session, principal.user_id,
                                           principal.organization_id)
                # As a select, not the list of keys: a vendor may take part in more cases
                # than one statement takes parameters.
                cases = member_cases(principal.user_id, principal.organization_id)
            rows, _ = open_findings(session, now=now, case_pks=cases) if mine else ((), 0)
            shown = []
            under_embargo: set[str] = set()
            for f, c in rows:
                data = worded(f.data, now, kinds)
                pids = {pid for pid, _ in mine[c.id]}
                roles = _role_names(roles for _, roles in mine[c.id])
                if not roles & set(data["concerns"]):
                    continue
                if data["subject"] is not None and data["subject"] not in pids:
                    # about another participant: what to do, without who it is
                    data = {**data, "title": f"{data['problem'].replace('-', ' ')}: about "
                            "another participant of the case", "subject": None,
                            "subject_name": "", "evidence": []}
                elif data["subject"] is None:
                    data = {**data, "evidence": []}
                shown.append(DashboardFinding(_shown(f, c, data), _actions(data, roles),
                                              False))
                if c.em_state in EMBARGOED:
                    under_embargo.add(c.case_id)
        page = tuple(shown[offset:offset + limit])
        cases = dict.fromkeys(d.finding.case_id for d in page
                              if d.finding.case_id in under_embargo)
        return Page(page, len(shown), offset, limit), list(cases)

    def handle(self, principal: Principal, finding_id: int, action: str, *, reason: str,
               until: datetime | None = None, address: str = "") -> ShownFinding:
        """Acknowledge a finding, or snooze it until a time, with the reason: the desk's
        handling of it, so staff only."""
        what = f"{action} finding"
        require_write(principal, what)
        require_staff(principal, what)
        status = HANDLING[choose(HANDLING, (action or "").strip(), "action",
                                 "finding action")]
        shown = self._doctor().handle(finding_id, status, reason=reason.strip(),
                                      actor=principal.actor, until=until)
        self.accounts.audit(principal, f"finding {status}", case_id=shown.case_id,
                            target=f"finding {finding_id}", address=address)
        return shown

    def sweep(self, principal: Principal, *, address: str = "") -> int:
        """Re-check the open cases that are due (incremental: only those whose log
        changed or whose next check has come); returns how many were judged."""
        require_write(principal, "sweep")
        require_staff(principal, "sweep")
        swept = self._doctor().run_sweep(self.cases.clock())
        self.accounts.audit(principal, "sweep", target=f"{swept} case(s)", address=address)
        return swept


def _shown(f: Any, c: Any, data: dict[str, Any]) -> ShownFinding:
    return ShownFinding(f.id, c.case_id, c.title, f.status, data, f.first_seen_at,
                        f.snoozed_until, f.handled_reason)


def _actions(data: dict[str, Any], roles: set[str]) -> tuple[dict[str, str], ...]:
    return tuple(a for a in data["actions"] if a["role"] in roles)


def _role_names(texts: Any) -> set[str]:
    """The roles a finding's ``concerns`` name, of the participants a member acts as (a
    finder is concerned as the reporter is)."""
    names = {r for text in texts for r in text.split(",") if r}
    if "finder" in names:
        names.add("reporter")
    return names

