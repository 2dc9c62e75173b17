"""Demo accounts for ``cvdesk serve --demo`` (issue 11): one login per role, so whoever
tries the desk sees it as a coordinator, as a vendor in one case, and as a reporter.

Passwords are new random ones at every start (printed once): a demo left running on a
reachable address must not open with a password written in the README."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from cvdesk.domain.accounts import SiteRole
from cvdesk.domain.model import Role
from cvdesk.services.accounts import AccountService
from cvdesk.services.cases import CaseService

DOMAIN = "demo.cvdesk.test"
#: The demo case whose vendor and reporter get a login.
CASE = "CVD-2026-0001"


@dataclass(frozen=True, slots=True)
class DemoLogin:
    role: str
    email: str
    password: str
    sees: str


def _password() -> str:
    return "demo-" + secrets.token_urlsafe(12)


def demo_logins(cases: CaseService, accounts: AccountService) -> list[DemoLogin]:
    """Create the demo accounts (or give them a new password) and return their logins."""
    view = cases.show(CASE)
    vendor = next(p for p in view.participants
                  if p.is_vendor and Role.VENDOR.value in p.roles.split(","))
    reporter = next(p for p in view.participants
                    if {"reporter", "finder"} & set(p.roles.split(",")))
    wanted = [
        ("coordinator", f"coordinator@{DOMAIN}", "Demo Coordinator", SiteRole.COORDINATOR,
         None, None, "every case"),
        ("vendor", f"psirt@{DOMAIN}", f"{vendor.organization or vendor.name} PSIRT",
         SiteRole.MEMBER, vendor.organization or vendor.name, None,
         f"the cases of {vendor.organization or vendor.name}"),
        ("reporter", f"reporter@{DOMAIN}", reporter.name, SiteRole.MEMBER, None,
         reporter.pid, f"{CASE}, the report it sent"),
    ]
    logins = []
    for role, email, name, site_role, org, pid, sees in wanted:
        password = _password()
        found = accounts.find_user(email)
        if found is None:
            user = accounts.create_user(email, name, password, site_role=site_role,
                                        organization=org)
        else:
            user = found
            accounts.set_password(user.id, password)
        if pid is not None:
            accounts.link_member(user.id, CASE, pid)
        logins.append(DemoLogin(role, email, password, sees))
    return logins
