"""Who may see and do what in a case (issue 11): accounts, site roles and per-case access.

CVD is a process among several parties (guide 2, 4): the coordinator runs the case, but
vendors and reporters act in it too, each seeing only what concerns them.  The desk has
two site roles, admin and coordinator; everything else follows from participation:
a user of an organization sees the cases that organization takes part in, and a user
linked to a participant (the reporter of a report, a vendor contact who followed an
invitation) sees that participant's cases.

These are pure rules over values; the store finds the participations, the services
ask these rules, the faces show what they are given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from cvdesk.domain.errors import BadInput, InvalidInput, NotAllowed
from cvdesk.domain.model import Role


class SiteRole(StrEnum):
    """A role on the whole desk.  ``member`` is everyone else: vendors, reporters,
    finders; what they see follows from the cases they take part in."""

    ADMIN = "admin"
    COORDINATOR = "coordinator"
    MEMBER = "member"


class TokenScope(StrEnum):
    """What an API token may do: read, or read and write."""

    READ = "read"
    WRITE = "write"


class LinkPurpose(StrEnum):
    """What a link sent by e-mail (or shown once) opens: a password reset, an invitation
    to a case, or a reporter's private view of the report it sent."""

    RESET = "reset"
    INVITE = "invite"
    REPORT = "report"


class WeakPassword(BadInput):
    """A new password that fails the desk's rules; names the rule it broke."""

    def __init__(self, problem: str) -> None:
        self.field = "password"
        self.problem = problem
        super().__init__(f"password: {problem}")


_EMAIL = re.compile(r"^[^@\s<>\"']{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
MIN_PASSWORD = 12
MAX_PASSWORD = 1024


def account_email(raw: str) -> str:
    """An account's e-mail address, the login name: trimmed and lower-cased so that one
    person cannot get two accounts by changing case."""
    value = raw.strip()
    if not _EMAIL.fullmatch(value) or ".." in value.split("@", 1)[1]:
        raise InvalidInput("e-mail", f"{value!r} is not an e-mail address")
    return value.lower()


def check_password(password: str, *, email: str = "", name: str = "") -> None:
    """Length is what matters (NIST SP 800-63B 3.1.1.2): at least 12 characters, and
    not the account's own e-mail or name."""
    if len(password) < MIN_PASSWORD:
        raise WeakPassword(f"at least {MIN_PASSWORD} characters are needed "
                           f"(this one has {len(password)})")
    if len(password) > MAX_PASSWORD:
        raise WeakPassword(f"at most {MAX_PASSWORD} characters")
    lowered = password.lower()
    for own in (email.lower(), email.lower().split("@")[0], name.lower()):
        if own and len(own) >= 4 and own in lowered and len(lowered) - len(own) < 8:
            raise WeakPassword("too close to the account's own e-mail or name")


@dataclass(frozen=True, slots=True)
class Participation:
    """One participant of one case that a user acts as (through its organization or a
    direct link)."""

    case_id: str
    pid: int
    roles: frozenset[Role]


@dataclass(frozen=True, slots=True)
class Principal:
    """The one acting: a signed-in user, an API token's user, or a reporter following
    its private link (``user_id`` None, one participation)."""

    user_id: int | None
    name: str
    site_role: SiteRole
    organization_id: int | None = None
    scope: TokenScope = TokenScope.WRITE
    link_case: str | None = None  # a private report link opens this one case only
    link_pid: int | None = None

    @property
    def is_staff(self) -> bool:
        """Admins and coordinators run cases and see all of them."""
        return self.site_role in (SiteRole.ADMIN, SiteRole.COORDINATOR)

    @property
    def is_admin(self) -> bool:
        return self.site_role is SiteRole.ADMIN

    @property
    def actor(self) -> str:
        """The name written into the case log for what this principal does."""
        if self.user_id is None:
            return f"reporter link ({self.link_case})"
        return f"{self.name} (user {self.user_id})"


@dataclass(frozen=True, slots=True)
class CaseAccess:
    """What a principal may do in one case."""

    case_id: str
    staff: bool
    pids: frozenset[int]  # the participants it acts as
    roles: frozenset[Role]  # their roles together

    @property
    def is_vendor(self) -> bool:
        return Role.VENDOR in self.roles

    @property
    def is_reporter(self) -> bool:
        return bool(self.roles & {Role.REPORTER, Role.FINDER})

    def may_see_participant(self, pid: int) -> bool:
        """Other vendors' statements and threads are private to them and the
        coordinator (guide 5.4: vendors need not learn who else is affected)."""
        return self.staff or pid in self.pids

    def may_edit_case(self) -> bool:
        return self.staff


def case_access(principal: Principal, case_id: str,
                participations: list[Participation]) -> CaseAccess:
    """The access of ``principal`` to ``case_id`` given the participations the store found
    for it in that case; NotAllowed when it has none (said as "not found" by the faces,
    so that a case's existence does not leak)."""
    if principal.is_staff:
        return CaseAccess(case_id, True, frozenset(p.pid for p in participations),
                          frozenset().union(*(p.roles for p in participations)))
    mine = [p for p in participations if p.case_id == case_id]
    if principal.link_case is not None:
        mine = [p for p in mine if p.pid == principal.link_pid]
    if not mine:
        raise CaseHidden(case_id)
    return CaseAccess(case_id, False, frozenset(p.pid for p in mine),
                      frozenset().union(*(p.roles for p in mine)))


class CaseHidden(NotAllowed):
    """A case the principal takes no part in.  Faces answer 404 so nobody learns that
    a case exists by guessing its id."""

    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        super().__init__(f"case {case_id}: not found")


def require_staff(principal: Principal, what: str) -> None:
    if not principal.is_staff:
        raise NotAllowed(f"{what}: only a coordinator may do this")


def require_admin(principal: Principal, what: str) -> None:
    if not principal.is_admin:
        raise NotAllowed(f"{what}: only an admin may do this")


def require_write(principal: Principal, what: str) -> None:
    if principal.scope is not TokenScope.WRITE:
        raise NotAllowed(f"{what}: this API token may only read")


@dataclass(frozen=True, slots=True)
class Throttle:
    """Sign-in throttling: after ``max_failures`` failures within ``window``, refuse
    for ``lockout`` (OWASP authentication cheat sheet: slow guessing, keep the owner
    able to come back)."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)

    def locked_for(self, failures: int, first_at: datetime | None,
                   last_at: datetime | None, now: datetime) -> timedelta | None:
        """How long sign-in stays refused, or None when it is allowed."""
        if first_at is None or last_at is None or failures < self.max_failures:
            return None
        if now - first_at > self.window + self.lockout:
            return None
        left = last_at + self.lockout - now
        return left if left > timedelta(0) else None

    def counts_again(self, first_at: datetime | None, now: datetime) -> bool:
        """True when the window has passed and failures start counting from zero."""
        return first_at is None or now - first_at > self.window
