"""Users, sessions, API tokens, e-mailed links, sign-in failures, the audit log, and the
participations that decide what a user sees (issue 11).  Records leave as frozen values;
secrets are looked up by their SHA-256 only."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cvdesk.domain.accounts import Participation, SiteRole, TokenScope
from cvdesk.domain.errors import InvalidInput, NotFound
from cvdesk.domain.model import Role
from cvdesk.store.tables import (
    AccessLinkRow,
    ApiTokenRow,
    AuditRow,
    CaseMemberRow,
    CaseRow,
    OrganizationRow,
    ParticipantRow,
    SignInFailureRow,
    UserRow,
    WebSessionRow,
)
from cvdesk.store.upsert import insert_or_ignore, upsert

#: The longest key the sign-in failure table holds (``SignInFailureRow.key``).
FAILURE_KEY_MAX = 320


def failure_key(key: str) -> str:
    """``key`` as the failure table keeps it: itself when it fits, else its first 240
    characters and a digest of the whole.  What is typed at sign-in may be longer than
    any address (an account's address can have 318 characters, and "account:" comes
    before it); a key that does not fit failed the write on PostgreSQL."""
    if len(key) <= FAILURE_KEY_MAX:
        return key
    return f"{key[:240]}#sha256:{hashlib.sha256(key.encode()).hexdigest()}"


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    email: str
    name: str
    password_hash: str
    site_role: SiteRole
    organization_id: int | None
    organization: str
    time_zone: str
    created_at: datetime
    disabled: bool

    @classmethod
    def of(cls, row: UserRow, organization: str = "") -> UserRecord:
        return cls(row.id, row.email, row.name, row.password_hash, SiteRole(row.site_role),
                   row.organization_id, organization, row.time_zone, row.created_at,
                   row.disabled_at is not None)


@dataclass(frozen=True, slots=True)
class TokenRecord:
    id: int
    user_id: int
    name: str
    scope: TokenScope
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class LinkRecord:
    id: int
    purpose: str
    user_id: int | None
    case_id: str | None
    pid: int | None
    expires_at: datetime | None
    used_at: datetime | None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    at: datetime
    user_id: int | None
    actor: str
    action: str
    case_id: str
    target: str
    address: str


def _roles(text: str) -> frozenset[Role]:
    return frozenset(Role(r) for r in text.split(",") if r)


#: Built once: an audit entry is written at every read of an embargoed case.
_AUDIT_INSERT = insert(AuditRow.__table__)


class AccountRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # ------------------------------------------------------------ users
    def add_user(self, *, email: str, name: str, password_hash: str, site_role: SiteRole,
                 organization_id: int | None, now: datetime, time_zone: str = "UTC") -> int:
        if self.session.scalar(select(UserRow.id).where(UserRow.email == email)) is not None:
            raise InvalidInput("e-mail", f"an account with {email} exists already")
        row = UserRow(email=email, name=name, password_hash=password_hash,
                      site_role=site_role.value, organization_id=organization_id,
                      time_zone=time_zone, created_at=now,
                      password_changed_at=now if password_hash else None)
        self.session.add(row)
        try:
            with self.session.begin_nested():
                self.session.flush()
        except IntegrityError:  # added at the same moment by someone else
            raise InvalidInput("e-mail", f"an account with {email} exists already") from None
        return row.id

    def _user_select(self) -> Any:
        return (select(UserRow, OrganizationRow.name)
                .outerjoin(OrganizationRow, OrganizationRow.id == UserRow.organization_id))

    def user_by_email(self, email: str) -> UserRecord | None:
        found = self.session.execute(self._user_select().where(UserRow.email == email)).first()
        return UserRecord.of(found[0], found[1] or "") if found else None

    def user(self, user_id: int) -> UserRecord:
        found = self.session.execute(self._user_select().where(UserRow.id == user_id)).first()
        if found is None:
            raise NotFound(f"user {user_id}: not found")
        return UserRecord.of(found[0], found[1] or "")

    def users(self, *, offset: int = 0, limit: int = 100) -> tuple[list[UserRecord], int]:
        total = self.session.scalar(select(func.count()).select_from(UserRow)) or 0
        rows = self.session.execute(self._user_select().order_by(UserRow.email)
                                    .offset(offset).limit(limit)).all()
        return [UserRecord.of(r[0], r[1] or "") for r in rows], total

    def set_password(self, user_id: int, password_hash: str, now: datetime) -> None:
        self.session.execute(update(UserRow).where(UserRow.id == user_id).values(
            password_hash=password_hash, password_changed_at=now))

    def set_disabled(self, user_id: int, now: datetime | None) -> None:
        self.session.execute(update(UserRow).where(UserRow.id == user_id)
                             .values(disabled_at=now))

    def organization_id(self, name: str) -> int | None:
        from cvdesk.store.directory import organization_key

        return self.session.scalar(select(OrganizationRow.id)
                                   .where(OrganizationRow.name_key == organization_key(name))
                                   .order_by(OrganizationRow.id).limit(1))

    # ------------------------------------------------------------ participation
    def add_member(self, user_id: int, case_id: str, pid: int, now: datetime) -> None:
        """Link the user to the participant; a link already there (or being added by
        another transaction, such as a second click on the same invitation) is kept."""
        case_pk = self._case_pk(case_id)
        self.session.execute(insert_or_ignore(self.session, CaseMemberRow.__table__).values(
            user_id=user_id, case_pk=case_pk, pid=pid, created_at=now))

    def _case_pk(self, case_id: str) -> int:
        pk = self.session.scalar(select(CaseRow.id).where(CaseRow.case_id == case_id))
        if pk is None:
            raise NotFound(f"case {case_id}: not found")
        return pk

    def visible_case_pks(self, user_id: int | None, organization_id: int | None) -> Any:
        """A select of the case keys a member takes part in (by organization or link)."""
        by_member = select(CaseMemberRow.case_pk).where(CaseMemberRow.user_id == user_id)
        if organization_id is None:
            return by_member
        by_org = select(ParticipantRow.case_pk).where(
            ParticipantRow.organization_id == organization_id)
        return by_member.union(by_org)

    def participations(self, user_id: int | None, organization_id: int | None,
                       case_id: str) -> list[Participation]:
        """The participants of ``case_id`` the user acts as."""
        p = ParticipantRow
        conds = []
        if organization_id is not None:
            conds.append(p.organization_id == organization_id)
        if user_id is not None:
            conds.append(p.pid.in_(select(CaseMemberRow.pid).where(
                CaseMemberRow.user_id == user_id, CaseMemberRow.case_pk == p.case_pk)))
        if not conds:
            return []
        rows = self.session.execute(
            select(p.pid, p.roles).join(CaseRow, CaseRow.id == p.case_pk)
            .where(CaseRow.case_id == case_id, or_(*conds))).all()
        return [Participation(case_id, pid, _roles(roles)) for pid, roles in rows]

    def participant_roles(self, case_id: str, pid: int) -> list[Participation]:
        rows = self.session.execute(
            select(ParticipantRow.pid, ParticipantRow.roles)
            .join(CaseRow, CaseRow.id == ParticipantRow.case_pk)
            .where(CaseRow.case_id == case_id, ParticipantRow.pid == pid)).all()
        return [Participation(case_id, r[0], _roles(r[1])) for r in rows]

    # ------------------------------------------------------------ sessions
    def add_session(self, token_hash: str, user_id: int, now: datetime, expires: datetime,
                    address: str) -> None:
        self.session.add(WebSessionRow(token_hash=token_hash, user_id=user_id, created_at=now,
                                       last_seen_at=now, expires_at=expires, address=address))

    def session_user(self, token_hash: str, now: datetime) -> SessionRecord | None:
        """The user of a live session (what a request needs of it) and when it was last
        seen, in one statement: every signed-in request asks this first (issue 11,
        speed)."""
        found = self.session.execute(_session_user(), {"h": token_hash, "now": now}).first()
        return SessionRecord(*found) if found is not None else None

    def touch_session(self, token_hash: str, now: datetime, expires: datetime) -> None:
        self.session.execute(update(WebSessionRow)
                             .where(WebSessionRow.token_hash == token_hash)
                             .values(last_seen_at=now, expires_at=expires))

    def end_session(self, token_hash: str) -> None:
        self.session.execute(delete(WebSessionRow).where(WebSessionRow.token_hash == token_hash))

    def end_sessions_of(self, user_id: int, *, keep: str | None = None) -> int:
        stmt = delete(WebSessionRow).where(WebSessionRow.user_id == user_id)
        if keep is not None:
            stmt = stmt.where(WebSessionRow.token_hash != keep)
        return self.session.execute(stmt).rowcount or 0

    def end_expired_sessions(self, now: datetime) -> int:
        return self.session.execute(
            delete(WebSessionRow).where(WebSessionRow.expires_at <= now)).rowcount or 0

    # ------------------------------------------------------------ API tokens
    def add_token(self, token_hash: str, user_id: int, name: str, scope: TokenScope,
                  now: datetime, expires: datetime) -> int:
        row = ApiTokenRow(token_hash=token_hash, user_id=user_id, name=name,
                          scope=scope.value, created_at=now, expires_at=expires)
        self.session.add(row)
        self.session.flush()
        return row.id

    def token(self, token_hash: str) -> TokenRecord | None:
        row = self.session.scalar(select(ApiTokenRow).where(ApiTokenRow.token_hash == token_hash))
        return _token(row) if row is not None else None

    def used_token(self, token_id: int, now: datetime) -> None:
        self.session.execute(update(ApiTokenRow).where(ApiTokenRow.id == token_id)
                             .values(last_used_at=now))

    def tokens_of(self, user_id: int) -> list[TokenRecord]:
        rows = self.session.scalars(select(ApiTokenRow).where(ApiTokenRow.user_id == user_id)
                                    .order_by(ApiTokenRow.id))
        return [_token(r) for r in rows]

    def revoke_token(self, token_id: int, user_id: int | None, now: datetime) -> bool:
        stmt = (update(ApiTokenRow).where(ApiTokenRow.id == token_id,
                                          ApiTokenRow.revoked_at.is_(None))
                .values(revoked_at=now))
        if user_id is not None:
            stmt = stmt.where(ApiTokenRow.user_id == user_id)
        return bool(self.session.execute(stmt).rowcount)

    # ------------------------------------------------------------ links
    def add_link(self, token_hash: str, purpose: str, *, now: datetime,
                 expires: datetime | None, user_id: int | None = None,
                 case_id: str | None = None, pid: int | None = None) -> None:
        case_pk = self._case_pk(case_id) if case_id is not None else None
        self.session.add(AccessLinkRow(token_hash=token_hash, purpose=purpose,
                                       user_id=user_id, case_pk=case_pk, pid=pid,
                                       created_at=now, expires_at=expires))
        self.session.flush()

    def link(self, token_hash: str) -> LinkRecord | None:
        found = self.session.execute(
            select(AccessLinkRow, CaseRow.case_id)
            .outerjoin(CaseRow, CaseRow.id == AccessLinkRow.case_pk)
            .where(AccessLinkRow.token_hash == token_hash)).first()
        if found is None:
            return None
        row, case_id = found
        return LinkRecord(row.id, row.purpose, row.user_id, case_id, row.pid, row.expires_at,
                          row.used_at)

    def use_link(self, link_id: int, now: datetime) -> bool:
        """Mark a one-time link used; False when someone used it first."""
        return bool(self.session.execute(
            update(AccessLinkRow).where(AccessLinkRow.id == link_id,
                                        AccessLinkRow.used_at.is_(None))
            .values(used_at=now)).rowcount)

    def set_link_user(self, link_id: int, user_id: int) -> None:
        self.session.execute(update(AccessLinkRow).where(AccessLinkRow.id == link_id)
                             .values(user_id=user_id))

    # ------------------------------------------------------------ sign-in failures
    def failures(self, key: str) -> tuple[int, datetime | None, datetime | None]:
        """(failures, first, last) for ``key``, read as stored now (a plain query: the
        counts change through ``add_failure``'s statement, not through mapped rows)."""
        f = SignInFailureRow
        row = self.session.execute(select(f.failures, f.first_at, f.last_at)
                                   .where(f.key == failure_key(key))).first()
        return (row[0], row[1], row[2]) if row else (0, None, None)

    def add_failure(self, key: str, now: datetime, *, restart: bool) -> None:
        """Count one more failure for ``key`` (from 1 again when ``restart``), in one
        statement: two failures at once for a key seen for the first time (parallel
        guesses from a new address) would otherwise both insert it on PostgreSQL, and
        the second would fail on the key and go uncounted."""
        table = SignInFailureRow.__table__
        again = ({"failures": 1, "first_at": now, "last_at": now} if restart
                 else {"failures": table.c.failures + 1, "last_at": now})
        self.session.execute(
            upsert(self.session, table).values(key=failure_key(key), failures=1, first_at=now,
                                               last_at=now)
            .on_conflict_do_update(index_elements=[table.c.key], set_=again))

    def clear_failures(self, key: str) -> None:
        self.session.execute(delete(SignInFailureRow).where(
            SignInFailureRow.key == failure_key(key)))

    # ------------------------------------------------------------ audit
    def audit(self, *, at: datetime, user_id: int | None, actor: str, action: str,
              case_id: str = "", target: str = "", address: str = "") -> None:
        # A Core insert: the same in an ORM session and on a bare connection (the audit
        # of every read of an embargoed case, AccountService.audit).
        self.session.execute(_AUDIT_INSERT, {
            "at": at, "user_id": user_id, "actor": actor, "action": action,
            "case_id": case_id, "target": target, "address": address})

    def audit_entries(self, *, case_id: str | None = None, since: datetime | None = None,
                      offset: int = 0, limit: int = 100) -> tuple[list[AuditRecord], int]:
        stmt = select(AuditRow)
        if case_id:
            stmt = stmt.where(AuditRow.case_id == case_id)
        if since is not None:
            stmt = stmt.where(AuditRow.at >= since)
        total = self.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = self.session.scalars(stmt.order_by(AuditRow.at.desc(), AuditRow.id.desc())
                                    .offset(offset).limit(limit))
        return [AuditRecord(r.at, r.user_id, r.actor, r.action, r.case_id, r.target, r.address)
                for r in rows], total


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """A live session's user, as much as a request needs (not the password hash)."""

    last_seen_at: datetime
    user_id: int
    name: str
    site_role_text: str
    organization_id: int | None
    time_zone: str
    disabled_at: datetime | None

    @property
    def site_role(self) -> SiteRole:
        return SiteRole(self.site_role_text)

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None


@cache
def _session_user() -> Any:
    """Built once: a statement built per request costs more than the lookup itself."""
    s, u = WebSessionRow.__table__.c, UserRow.__table__.c
    return (select(s.last_seen_at, u.id, u.name, u.site_role, u.organization_id,
                   u.time_zone, u.disabled_at)
            .join_from(WebSessionRow.__table__, UserRow.__table__, u.id == s.user_id)
            .where(s.token_hash == bindparam("h"), s.expires_at > bindparam("now")))


def _token(row: ApiTokenRow) -> TokenRecord:
    return TokenRecord(row.id, row.user_id, row.name, TokenScope(row.scope), row.created_at,
                       row.expires_at, row.revoked_at, row.last_used_at)
