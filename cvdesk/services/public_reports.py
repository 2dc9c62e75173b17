"""The public report form (issue 11; guide 4.1 and appendix C): anyone may report,
with or without an account.

A report read from the web form or the API goes through the same reader as a file
(cvdesk.intake), so it is held to the same rules and its problems carry the same field
paths.  The reporter gets a tracking id and a private link, shown once, with which it
follows its report and answers questions without an account; a signed-in reporter's
account is linked to its participant as well.

Anonymous submissions are limited per client address (``REPORTS_PER_WINDOW`` a
``REPORT_WINDOW``).  The count is kept in the sign-in throttle's table under a key of its
own ("report:<address>"): it is in the database, so every web worker and every process
against one PostgreSQL share it and a restart does not reset it, and it needs no schema
change.  A signed-in user is not limited this way (its reports are audited to it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from cvdesk.domain.accounts import LinkPurpose, Principal, require_write
from cvdesk.domain.errors import InvalidInput, NotAllowed, TooManyAttempts
from cvdesk.domain.model import Report
from cvdesk.store.accounts import AccountRepository

if TYPE_CHECKING:
    from cvdesk.intake.web_form import WebField
    from cvdesk.services.accounts import AccountService
    from cvdesk.services.cases import CaseService

REPORTS_PER_WINDOW = 10
REPORT_WINDOW = timedelta(hours=1)


class TooManyRequests(TooManyAttempts):
    """More requests of one kind from one address than the desk takes in a while (429);
    unlike sign-in, these need not have failed."""

    def __init__(self, what: str, many: str, retry_after_seconds: int, hint: str = "") -> None:
        self.retry_after_seconds = max(1, retry_after_seconds)
        minutes = max(1, (self.retry_after_seconds + 59) // 60)
        NotAllowed.__init__(self, f"{what}: too many {many}; try again in {minutes} "
                            f"minute{'s' if minutes != 1 else ''}{hint}")


@dataclass(frozen=True, slots=True)
class ReportReceipt:
    """What the reporter is told once: the tracking id and the private link."""

    tracking_id: str
    case_id: str
    title: str
    link_path: str  # /track/<token>: shown once, never stored (only its digest is)
    link_url: str  # the same on the desk's configured address, when it has one
    account_linked: bool

    def to_json(self) -> dict[str, Any]:
        return {"tracking_id": self.tracking_id, "case_id": self.case_id,
                "title": self.title, "link": self.link_path, "link_url": self.link_url,
                "account_linked": self.account_linked}


class PublicReportService:
    def __init__(self, cases: CaseService, accounts: AccountService) -> None:
        self.cases = cases
        self.accounts = accounts

    @staticmethod
    def fields() -> tuple[WebField, ...]:
        """The inputs of the web form: the report form's fields (cvdesk.intake)."""
        from cvdesk.intake.web_form import WEB_FIELDS

        return WEB_FIELDS

    @staticmethod
    def field_of(path: str) -> tuple[str, str]:
        """The web form input a problem's field path belongs to (see intake.web_form)."""
        from cvdesk.intake.web_form import field_of

        return field_of(path)

    def submit_fields(self, principal: Principal | None, posted: Mapping[str, str], *,
                      address: str = "") -> ReportReceipt:
        """A report from the web form; FormError (422) lists every problem by path."""
        from cvdesk.intake import parse_report
        from cvdesk.intake.web_form import form_tree

        self._throttle(principal, address)
        name = principal.name if principal is not None and principal.user_id else "anonymous"
        report = parse_report(form_tree(posted, anonymous_name=name), "report form")
        return self._submit(principal, report, address)

    def submit_json(self, principal: Principal | None, raw: bytes, *,
                    address: str = "") -> ReportReceipt:
        """A report as the JSON report form (the same fields as a file)."""
        from cvdesk.intake import load_report_bytes

        self._throttle(principal, address)
        report = load_report_bytes(raw, "json", "report")
        return self._submit(principal, report, address)

    # ------------------------------------------------------------ the steps
    def _submit(self, principal: Principal | None, report: Report,
                address: str) -> ReportReceipt:
        from cvdesk.domain.checks import party_key

        desk = self.cases.settings.desk
        rep = report.reporter
        if party_key(rep.name) == party_key(desk.name) or (
                rep.email and desk.email and party_key(rep.email) == party_key(desk.email)):
            # The desk's own name would make the reporter the desk's participant.
            raise InvalidInput("reporter.name", "is the desk's own name or address; give "
                               "your own (or leave it empty)")
        user = principal.user_id if principal is not None else None
        if principal is not None and user is not None:
            require_write(principal, "report")  # a read-only token writes nothing
        actor = principal.actor if principal is not None and user else "web report form"
        done = self.cases.submit_report(report, actor=actor)
        pid = self._reporter_pid(done.case_id)
        token = self.accounts.issue_link(LinkPurpose.REPORT, case_id=done.case_id, pid=pid)
        if user is not None:
            self.accounts.link_member(user, done.case_id, pid)
        else:
            self._count(address)
        self.accounts.audit(principal if user else None, "report submitted",
                            case_id=done.case_id, target=done.tracking_id, address=address)
        path = f"/track/{token}"
        base = self.cases.settings.web.base_url.rstrip("/")
        return ReportReceipt(done.tracking_id, done.case_id, report.title, path,
                             f"{base}{path}" if base else "", user is not None)

    def _reporter_pid(self, case_id: str) -> int:
        """The participant the report's reporter became: the first one after the desk
        (added first) with the reporter role."""
        people = sorted(self.cases.show(case_id).participants, key=lambda p: p.pid)
        return next(p.pid for p in people[1:] if "reporter" in p.roles.split(","))

    def _key(self, address: str) -> str:
        return f"report:{address or 'unknown'}"

    def _throttle(self, principal: Principal | None, address: str) -> None:
        if principal is not None and principal.user_id is not None:
            return
        now = self.accounts.clock()
        with self.accounts.db.sessions() as session:
            count, first, _ = AccountRepository(session).failures(self._key(address))
        if first is not None and now - first <= REPORT_WINDOW and count >= REPORTS_PER_WINDOW:
            raise TooManyRequests("report", "reports from this address",
                                  int((first + REPORT_WINDOW - now).total_seconds()),
                                  ", or sign in")

    def _count(self, address: str) -> None:
        now = self.accounts.clock()
        with self.accounts.db.transaction() as session:
            repo = AccountRepository(session)
            _, first, _ = repo.failures(self._key(address))
            repo.add_failure(self._key(address), now,
                             restart=first is None or now - first > REPORT_WINDOW)
