"""Accounts (issue 11): users, sign-in with throttling, sessions, API tokens, password
reset and invitation links, per-case access and the audit log.

Every secret handed out (session cookie, API token, e-mailed link) is 256 random bits;
only its SHA-256 is stored, so a copy of the database opens nothing.  Passwords are
hashed with argon2 (pwdlib).  What a principal may see of a case is decided here, from
the domain's rules (cvdesk.domain.accounts), so the pages and the API cannot disagree.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from cvdesk.domain.accounts import (
    CaseAccess,
    LinkPurpose,
    Principal,
    SiteRole,
    Throttle,
    TokenScope,
    account_email,
    case_access,
    check_password,
    require_admin,
    require_write,
)
from cvdesk.domain.errors import (
    InvalidInput,
    NotAllowed,
    NotFound,
    NotSignedIn,
    TooManyAttempts,
)
from cvdesk.services.views import _time
from cvdesk.settings import is_time_zone

if TYPE_CHECKING:
    from pwdlib import PasswordHash

    from cvdesk.services.database import Database
    from cvdesk.settings import Settings
    from cvdesk.store.accounts import AccountRepository, AuditRecord, TokenRecord, UserRecord

TOKEN_PREFIX = "cvd_"


@cache
def _hasher() -> PasswordHash:
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    return PasswordHash((Argon2Hasher(),))


@cache
def _dummy_hash() -> str:
    """Verified against when the account does not exist, so that a wrong e-mail and a
    wrong password take the same time (no account enumeration by timing)."""
    return _hasher().hash(secrets.token_urlsafe(16))


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _secret() -> str:
    return secrets.token_urlsafe(32)


# ------------------------------------------------------------------ views
@dataclass(frozen=True, slots=True)
class UserView:
    id: int
    email: str
    name: str
    site_role: SiteRole
    organization: str
    time_zone: str
    created_at: datetime
    disabled: bool

    @classmethod
    def of(cls, u: UserRecord) -> UserView:
        return cls(u.id, u.email, u.name, u.site_role, u.organization, u.time_zone,
                   u.created_at, u.disabled)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "email": self.email, "name": self.name,
                "site_role": self.site_role.value, "organization": self.organization,
                "time_zone": self.time_zone, "created_at": _time(self.created_at),
                "disabled": self.disabled}


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A new session: ``token`` goes into the cookie and is not stored."""

    token: str
    user: UserView
    principal: Principal
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class TokenView:
    id: int
    name: str
    scope: TokenScope
    created_at: datetime
    expires_at: datetime
    revoked: bool
    last_used_at: datetime | None

    @classmethod
    def of(cls, t: TokenRecord) -> TokenView:
        return cls(t.id, t.name, t.scope, t.created_at, t.expires_at, t.revoked_at is not None,
                   t.last_used_at)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "scope": self.scope.value,
                "created_at": _time(self.created_at), "expires_at": _time(self.expires_at),
                "revoked": self.revoked, "last_used_at": _time(self.last_used_at)}


@dataclass(frozen=True, slots=True)
class NewToken:
    """A token as created: ``secret`` is shown once and never again."""

    secret: str
    token: TokenView

    def to_json(self) -> dict[str, Any]:
        return {"secret": self.secret, **self.token.to_json()}


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    case_id: str
    target: str
    address: str

    @classmethod
    def of(cls, r: AuditRecord) -> AuditEntry:
        return cls(r.at, r.actor, r.action, r.case_id, r.target, r.address)

    def to_json(self) -> dict[str, Any]:
        return {"at": _time(self.at), "actor": self.actor, "action": self.action,
                "case_id": self.case_id, "target": self.target, "address": self.address}


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a longer listing."""

    items: tuple[Any, ...]
    total: int
    offset: int
    limit: int

    def to_json(self) -> dict[str, Any]:
        return {"items": [i.to_json() for i in self.items], "total": self.total,
                "offset": self.offset, "limit": self.limit}


# ------------------------------------------------------------------ the service
class AccountService:
    def __init__(self, db: Database, settings: Settings, *,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        web = settings.web
        self.throttle = Throttle(web.max_failed_sign_ins,
                                 timedelta(minutes=web.lockout_minutes),
                                 timedelta(minutes=web.lockout_minutes))
        self.session_idle = timedelta(hours=web.session_hours)

    def _repo(self, session: Any) -> AccountRepository:
        from cvdesk.store.accounts import AccountRepository

        return AccountRepository(session)

    # ------------------------------------------------------------ users
    def create_user(self, email: str, name: str, password: str | None, *,
                    site_role: SiteRole = SiteRole.MEMBER, organization: str | None = None,
                    time_zone: str = "UTC") -> UserView:
        """A new account.  ``password`` None leaves it without one (an invitation or a
        reset link sets it).  ``organization`` is found, or added, in the directory."""
        from cvdesk.store.directory import DirectoryRepository

        address = account_email(email)
        name = name.strip()
        if not name:
            raise InvalidInput("name", "must not be empty")
        _check_zone(time_zone)
        hashed = ""
        if password is not None:
            check_password(password, email=address, name=name)
            hashed = _hasher().hash(password)
        now = self.clock()
        with self.db.transaction() as session:
            org_id = (DirectoryRepository(session).upsert_organization(organization, now=now)
                      if organization and organization.strip() else None)
            repo = self._repo(session)
            user_id = repo.add_user(email=address, name=name, password_hash=hashed,
                                    site_role=SiteRole(site_role), organization_id=org_id,
                                    now=now, time_zone=time_zone)
            return UserView.of(repo.user(user_id))

    def user(self, user_id: int) -> UserView:
        with self.db.sessions() as session:
            return UserView.of(self._repo(session).user(user_id))

    def find_user(self, email: str) -> UserView | None:
        with self.db.sessions() as session:
            found = self._repo(session).user_by_email(account_email(email))
        return UserView.of(found) if found is not None else None

    def set_password(self, user_id: int, password: str) -> None:
        """Set a password without the current one: for the desk's operator (the command
        line, the demo), never a web request."""
        self._set_password(self._reload(user_id), password)

    def set_time_zone(self, principal: Principal, zone: str) -> None:
        """The zone the user's pages show times in (next to UTC)."""
        from cvdesk.store.account_admin import AdminRepository

        if principal.user_id is None:
            raise NotSignedIn("sign in first")
        require_write(principal, "time zone")
        _check_zone(zone)
        with self.db.transaction() as session:
            AdminRepository(session).set_time_zone(principal.user_id, zone)

    def users(self, principal: Principal, *, offset: int = 0, limit: int = 50) -> Page:
        require_admin(principal, "users")
        with self.db.sessions() as session:
            found, total = self._repo(session).users(offset=offset, limit=limit)
        return Page(tuple(UserView.of(u) for u in found), total, offset, limit)

    # ------------------------------------------------------------ sign-in
    def sign_in(self, email: str, password: str, *, address: str = "") -> SignedIn:
        """A new session for the right password.  After ``web.max_failed_sign_ins``
        failures for one account, or four times as many from one address, sign-in is
        refused for ``web.lockout_minutes`` (TooManyAttempts), right password or not."""
        try:
            login = account_email(email)
        except InvalidInput:
            login = email.strip().lower()[:320]
        now = self.clock()
        keys = [f"account:{login}"] + ([f"address:{address}"] if address else [])
        with self.db.sessions() as session:
            repo = self._repo(session)
            for key in keys:
                factor = 4 if key.startswith("address:") else 1
                count, first, last = repo.failures(key)
                wait = Throttle(self.throttle.max_failures * factor, self.throttle.window,
                                self.throttle.lockout).locked_for(count, first, last, now)
                if wait is not None:
                    raise TooManyAttempts("sign-in", int(wait.total_seconds()))
            user = repo.user_by_email(login)
        hashed = user.password_hash if user is not None and user.password_hash else ""
        ok = _hasher().verify(password, hashed or _dummy_hash())
        if not ok or user is None or not hashed or user.disabled:
            with self.db.transaction() as session:
                repo = self._repo(session)
                for key in keys:
                    _, first, _ = repo.failures(key)
                    repo.add_failure(key, now, restart=self.throttle.counts_again(first, now))
                repo.audit(at=now, user_id=user.id if user else None, actor=login,
                           action="sign-in failed", address=address)
            raise NotSignedIn("sign-in: wrong e-mail or password")
        token = _secret()
        expires = now + self.session_idle
        with self.db.transaction() as session:
            repo = self._repo(session)
            for key in keys[:1]:
                repo.clear_failures(key)
            repo.add_session(digest(token), user.id, now, expires, address)
            repo.audit(at=now, user_id=user.id, actor=user.email, action="sign-in",
                       address=address)
        return SignedIn(token, UserView.of(user), _principal(user), expires)

    def session_principal(self, token: str) -> Principal:
        """The principal of a live session; NotSignedIn for none or an expired one.  The
        session's idle time starts again, written at most once a minute."""
        return self.session_viewer(token)[0]

    def session_viewer(self, token: str) -> tuple[Principal, str]:
        """``session_principal`` and the user's time zone, from one read (the pages show
        times in it).  Nothing is remembered between requests: a session ended by signing
        out or by a password change, in any worker process, is refused at the next
        request."""
        if not token:
            raise NotSignedIn("not signed in")
        now = self.clock()
        key = digest(token)
        with self.db.reading() as conn:  # one Core read: no ORM session needed
            found = self._repo(conn).session_user(key, now)
        if found is None or found.disabled:
            raise NotSignedIn("the session has ended: sign in again")
        if now - found.last_seen_at > timedelta(minutes=1):
            with self.db.transaction() as session:
                self._repo(session).touch_session(key, now, now + self.session_idle)
        return (Principal(found.user_id, found.name, found.site_role, found.organization_id),
                found.time_zone)

    def sign_out(self, token: str) -> None:
        if token:
            with self.db.transaction() as session:
                self._repo(session).end_session(digest(token))

    def change_password(self, principal: Principal, current: str, new: str, *,
                        keep_session: str | None = None) -> None:
        """Needs the current password; ends the user's other sessions."""
        if principal.user_id is None:
            raise NotSignedIn("not signed in")
        with self.db.sessions() as session:
            user = self._repo(session).user(principal.user_id)
        if not user.password_hash or not _hasher().verify(current, user.password_hash):
            raise InvalidInput("current password", "is not right")
        self._set_password(user, new,
                           keep=digest(keep_session) if keep_session else None)

    def _set_password(self, user: UserRecord, new: str, *, keep: str | None = None) -> None:
        check_password(new, email=user.email, name=user.name)
        hashed = _hasher().hash(new)
        now = self.clock()
        with self.db.transaction() as session:
            repo = self._repo(session)
            repo.set_password(user.id, hashed, now)
            repo.end_sessions_of(user.id, keep=keep)
            repo.audit(at=now, user_id=user.id, actor=user.email, action="password changed")

    # ------------------------------------------------------------ links
    def issue_link(self, purpose: LinkPurpose, *, user_id: int | None = None,
                   case_id: str | None = None, pid: int | None = None,
                   hours: float | None = None) -> str:
        """A new link token (shown or mailed once).  Reset and invitation links expire
        (``web.link_hours``) and work once; a reporter's link lasts as long as its case."""
        token = _secret()
        now = self.clock()
        if hours is None and purpose is not LinkPurpose.REPORT:
            hours = self.settings.web.link_hours
        expires = now + timedelta(hours=hours) if hours is not None else None
        with self.db.transaction() as session:
            self._repo(session).add_link(digest(token), purpose.value, now=now,
                                         expires=expires, user_id=user_id, case_id=case_id,
                                         pid=pid)
        return token

    def link_principal(self, token: str) -> Principal:
        """The principal of a reporter's private link: that one participant of that one
        case, reading and answering without an account."""
        link = self._live_link(token, LinkPurpose.REPORT)
        assert link.case_id is not None and link.pid is not None
        return Principal(None, "reporter", SiteRole.MEMBER, scope=TokenScope.WRITE,
                         link_case=link.case_id, link_pid=link.pid)

    def _live_link(self, token: str, purpose: LinkPurpose) -> Any:
        now = self.clock()
        with self.db.sessions() as session:
            link = self._repo(session).link(digest(token)) if token else None
        if (link is None or link.purpose != purpose.value or link.used_at is not None
                or (link.expires_at is not None and link.expires_at <= now)):
            raise NotSignedIn(f"{purpose.value} link: not valid (expired, used or unknown)")
        return link

    def link_info(self, token: str) -> tuple[UserView, str | None]:
        """The account a live reset or invitation link is for, and the case an invitation
        opens, without using the link (its page shows whose it is and lands on the case)."""
        for purpose in (LinkPurpose.RESET, LinkPurpose.INVITE):
            try:
                link = self._live_link(token, purpose)
                return UserView.of(self._reload(link.user_id)), link.case_id
            except NotSignedIn:
                continue
        raise NotSignedIn("link: not valid (expired, used or unknown)")

    def request_reset(self, email: str) -> str | None:
        """A password reset link for the account, or None when there is no such account
        (the face says the same either way).  The caller sends it (``AccountMail``)."""
        try:
            login = account_email(email)
        except InvalidInput:
            return None
        with self.db.sessions() as session:
            user = self._repo(session).user_by_email(login)
        if user is None or user.disabled:
            return None
        return self.issue_link(LinkPurpose.RESET, user_id=user.id)

    def use_password_link(self, token: str, new: str) -> SignedIn:
        """Set a password with a reset or invitation link (once), and sign in.  An
        invitation also links the user to the participant it invited."""
        for purpose in (LinkPurpose.RESET, LinkPurpose.INVITE):
            try:
                link = self._live_link(token, purpose)
                break
            except NotSignedIn:
                continue
        else:
            raise NotSignedIn("link: not valid (expired, used or unknown)")
        with self.db.sessions() as session:
            user = self._repo(session).user(link.user_id)
        check_password(new, email=user.email, name=user.name)
        now = self.clock()
        with self.db.transaction() as session:
            repo = self._repo(session)
            if not repo.use_link(link.id, now):
                raise NotSignedIn("link: already used")
            if link.case_id is not None and link.pid is not None:
                repo.add_member(user.id, link.case_id, link.pid, now)
        self._set_password(user, new)
        token_ = _secret()
        expires = now + self.session_idle
        with self.db.transaction() as session:
            self._repo(session).add_session(digest(token_), user.id, now, expires, "")
        user = self._reload(user.id)
        return SignedIn(token_, UserView.of(user), _principal(user), expires)

    def _reload(self, user_id: int) -> UserRecord:
        with self.db.sessions() as session:
            return self._repo(session).user(user_id)

    # ------------------------------------------------------------ API tokens
    def create_token(self, principal: Principal, name: str, scope: TokenScope, *,
                     days: int | None = None) -> NewToken:
        if principal.user_id is None:
            raise NotSignedIn("API tokens belong to an account: sign in first")
        require_write(principal, "API tokens")  # a read-only token mints no write token
        days = self.settings.web.token_days if days is None else days
        if not 1 <= days <= 3650:
            raise InvalidInput("expires in days", f"{days} is not between 1 and 3650")
        if not name.strip():
            raise InvalidInput("name", "must not be empty")
        secret = TOKEN_PREFIX + _secret()
        now = self.clock()
        with self.db.transaction() as session:
            repo = self._repo(session)
            tid = repo.add_token(digest(secret), principal.user_id, name.strip(),
                                 TokenScope(scope), now, now + timedelta(days=days))
            repo.audit(at=now, user_id=principal.user_id, actor=principal.actor,
                       action="token created", target=f"token {tid}")
            record = next(t for t in repo.tokens_of(principal.user_id) if t.id == tid)
        return NewToken(secret, TokenView.of(record))

    def token_principal(self, secret: str) -> Principal:
        now = self.clock()
        with self.db.sessions() as session:
            repo = self._repo(session)
            token = repo.token(digest(secret)) if secret.startswith(TOKEN_PREFIX) else None
            user = repo.user(token.user_id) if token is not None else None
        if (token is None or user is None or user.disabled or token.revoked_at is not None
                or token.expires_at <= now):
            raise NotSignedIn("API token: not valid (expired, revoked or unknown)")
        if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
            with self.db.transaction() as session:
                self._repo(session).used_token(token.id, now)
        p = _principal(user)
        return Principal(p.user_id, p.name, p.site_role, p.organization_id, token.scope)

    def tokens(self, principal: Principal) -> tuple[TokenView, ...]:
        if principal.user_id is None:
            return ()
        with self.db.sessions() as session:
            return tuple(TokenView.of(t) for t in self._repo(session).tokens_of(
                principal.user_id))

    def revoke_token(self, principal: Principal, token_id: int) -> None:
        if principal.user_id is None:  # a report link owns no token (and may revoke none)
            raise NotSignedIn("API tokens belong to an account: sign in first")
        require_write(principal, "API tokens")
        now = self.clock()
        with self.db.transaction() as session:
            repo = self._repo(session)
            owner = None if principal.is_admin else principal.user_id
            if not repo.revoke_token(token_id, owner, now):
                raise NotFound(f"token {token_id}: no such live token of yours")
            repo.audit(at=now, user_id=principal.user_id, actor=principal.actor,
                       action="token revoked", target=f"token {token_id}")

    # ------------------------------------------------------------ access
    def access(self, principal: Principal, case_id: str) -> CaseAccess:
        """What ``principal`` may do in the case; CaseHidden when it takes no part."""
        if principal.link_case is None and principal.is_staff:
            return case_access(principal, case_id, [])  # staff: nothing to read
        with self.db.reading() as conn:  # Core reads: no ORM session needed
            repo = self._repo(conn)
            if principal.link_case is not None:
                found = (repo.participant_roles(case_id, principal.link_pid)
                         if case_id == principal.link_case else [])
            else:
                found = repo.participations(principal.user_id, principal.organization_id,
                                            case_id)
        return case_access(principal, case_id, found)

    def link_member(self, user_id: int, case_id: str, pid: int) -> None:
        """Let a user act as one participant of a case (the reporter who sent it, a
        vendor contact)."""
        with self.db.transaction() as session:
            self._repo(session).add_member(user_id, case_id, pid, self.clock())

    # ------------------------------------------------------------ audit
    def audit(self, principal: Principal | None, action: str, *, case_id: str = "",
              target: str = "", address: str = "") -> None:
        # Written before the answer is sent, in a transaction of its own (an audited
        # read is never shown without its entry): a Core connection, no ORM session;
        # one statement, so on PostgreSQL it commits by itself (one round trip).
        with self.db.writing_one() as conn:
            self._repo(conn).audit(
                at=self.clock(), user_id=principal.user_id if principal else None,
                actor=principal.actor if principal else "anonymous", action=action,
                case_id=case_id, target=target, address=address)

    def audit_log(self, principal: Principal | None, *, case_id: str | None = None,
                  since: datetime | None = None, offset: int = 0, limit: int = 100) -> Page:
        """The audit log, newest first; admins only (``principal`` None: the desk's own
        operator at the command line)."""
        if principal is not None:
            require_admin(principal, "audit log")
        with self.db.sessions() as session:
            found, total = self._repo(session).audit_entries(
                case_id=case_id, since=since, offset=offset, limit=limit)
        return Page(tuple(AuditEntry.of(r) for r in found), total, offset, limit)


def _principal(user: UserRecord) -> Principal:
    if user.disabled:
        raise NotAllowed("this account is disabled")
    return Principal(user.id, user.name, user.site_role, user.organization_id)


def _check_zone(name: str) -> None:
    if not is_time_zone(name):
        shown = name if len(name) <= 80 else name[:80] + "..."
        raise InvalidInput("time zone", f"{shown!r} is not a time zone name "
                           "(e.g. Europe/Berlin)")
