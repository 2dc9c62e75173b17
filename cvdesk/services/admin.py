"""The desk's administration (issue 11), for site admins only: users (list, create,
disable), organizations and the contact directory, the outbox, the quarantine, and
the audit log.  Every listing is a ``Page``; every write is audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cvdesk.domain.accounts import Principal, SiteRole, require_admin, require_write
from cvdesk.domain.errors import InvalidInput
from cvdesk.services.accounts import Page, UserView
from cvdesk.services.mail import check_outbox_status
from cvdesk.services.views import _time
from cvdesk.store.account_admin import AdminRepository
from cvdesk.store.accounts import AccountRepository

if TYPE_CHECKING:
    from cvdesk.services.accounts import AccountService
    from cvdesk.services.invitations import InvitationService

MAX_LIMIT = 200


@dataclass(frozen=True, slots=True)
class OrganizationView:
    id: int
    name: str
    website: str
    contacts: int
    users: int

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "website": self.website,
                "contacts": self.contacts, "users": self.users}


@dataclass(frozen=True, slots=True)
class ContactView:
    organization: str
    kind: str
    value: str
    source: str
    verified_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {"organization": self.organization, "kind": self.kind, "value": self.value,
                "source": self.source, "verified_at": _time(self.verified_at)}


@dataclass(frozen=True, slots=True)
class OutboxView:
    """One queued message; account mail has no case and no participant."""

    id: int
    case_id: str | None
    participant: int | None
    recipient: str
    template: str
    status: str
    attempts: int
    in_doubt: bool
    last_error: str
    created_at: datetime
    sent_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "case_id": self.case_id, "participant": self.participant,
                "recipient": self.recipient, "template": self.template,
                "status": self.status, "attempts": self.attempts, "in_doubt": self.in_doubt,
                "last_error": self.last_error, "created_at": _time(self.created_at),
                "sent_at": _time(self.sent_at)}


@dataclass(frozen=True, slots=True)
class QuarantineView:
    id: int
    received_at: datetime
    source: str
    reason: str
    message_id: str
    sender: str
    subject: str
    size: int

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "received_at": _time(self.received_at), "source": self.source,
                "reason": self.reason, "message_id": self.message_id, "sender": self.sender,
                "subject": self.subject, "size": self.size}


def _bounds(offset: int, limit: int) -> tuple[int, int]:
    return max(0, offset), min(max(1, limit), MAX_LIMIT)


class AdminService:
    def __init__(self, accounts: AccountService, invitations: InvitationService) -> None:
        self.accounts = accounts
        self.invitations = invitations
        self.db = accounts.db

    # ------------------------------------------------------------ users
    def users(self, principal: Principal, *, offset: int = 0, limit: int = 50) -> Page:
        offset, limit = _bounds(offset, limit)
        return self.accounts.users(principal, offset=offset, limit=limit)

    def create_user(self, principal: Principal, email: str, name: str, *,
                    site_role: SiteRole = SiteRole.MEMBER, organization: str = "",
                    address: str = "") -> UserView:
        """A new account without a password; its owner gets a one-time link by mail to
        set one (an admin never learns or chooses another person's password)."""
        require_admin(principal, "users")
        require_write(principal, "users")
        self.invitations.sender_address()  # refuse before anything is written, not after
        user = self.accounts.create_user(email, name, None, site_role=SiteRole(site_role),
                                         organization=organization or None)
        with self.db.transaction() as session:
            self.invitations.welcome(session, user.id, user.email, user.name)
            AccountRepository(session).audit(
                at=self.accounts.clock(), user_id=principal.user_id, actor=principal.actor,
                action="user created", target=f"user {user.id} {user.email} "
                f"({user.site_role.value})", address=address)
        return user

    def set_disabled(self, principal: Principal, user_id: int, disabled: bool, *,
                     address: str = "") -> UserView:
        """Disable (its sessions end at once) or enable an account.  An admin cannot
        disable itself, so the desk keeps at least the admin who is acting."""
        require_admin(principal, "users")
        require_write(principal, "users")
        if disabled and user_id == principal.user_id:
            raise InvalidInput("user", "you cannot disable your own account")
        now = self.accounts.clock()
        with self.db.transaction() as session:
            repo = AccountRepository(session)
            user = repo.user(user_id)
            repo.set_disabled(user.id, now if disabled else None)
            if disabled:
                repo.end_sessions_of(user.id)
            repo.audit(at=now, user_id=principal.user_id, actor=principal.actor,
                       action="user disabled" if disabled else "user enabled",
                       target=f"user {user.id} {user.email}", address=address)
        return self.accounts.user(user_id)

    # ------------------------------------------------------------ directory
    def organizations(self, principal: Principal, *, search: str = "", offset: int = 0,
                      limit: int = 50) -> Page:
        require_admin(principal, "organizations")
        offset, limit = _bounds(offset, limit)
        with self.db.sessions() as session:
            rows, total = AdminRepository(session).organizations(search=search,
                                                                 offset=offset, limit=limit)
        return Page(tuple(OrganizationView(*r) for r in rows), total, offset, limit)

    def contacts(self, principal: Principal, *, organization: str = "", offset: int = 0,
                 limit: int = 50) -> Page:
        require_admin(principal, "contact directory")
        offset, limit = _bounds(offset, limit)
        with self.db.sessions() as session:
            rows, total = AdminRepository(session).contacts(organization=organization,
                                                            offset=offset, limit=limit)
        return Page(tuple(ContactView(o, str(k), v, str(s), at) for o, k, v, s, at in rows),
                    total, offset, limit)

    # ------------------------------------------------------------ mail
    def outbox(self, principal: Principal, *, status: str = "", offset: int = 0,
               limit: int = 50) -> Page:
        require_admin(principal, "outbox")
        check_outbox_status(status)
        offset, limit = _bounds(offset, limit)
        with self.db.sessions() as session:
            rows, total = AdminRepository(session).outbox(status=status, offset=offset,
                                                          limit=limit)
        return Page(tuple(OutboxView(*r) for r in rows), total, offset, limit)

    def quarantine(self, principal: Principal, *, offset: int = 0, limit: int = 50) -> Page:
        require_admin(principal, "quarantine")
        offset, limit = _bounds(offset, limit)
        with self.db.sessions() as session:
            rows, total = AdminRepository(session).quarantine(offset=offset, limit=limit)
        return Page(tuple(QuarantineView(*r) for r in rows), total, offset, limit)

    # ------------------------------------------------------------ audit
    def audit_log(self, principal: Principal, *, case_id: str = "", offset: int = 0,
                  limit: int = 100) -> Page:
        offset, limit = _bounds(offset, limit)
        return self.accounts.audit_log(principal, case_id=case_id.strip().upper() or None,
                                       offset=offset, limit=limit)
