"""Invitations and account mail (issue 11): a participant's contact invited to the web
desk, a password reset by e-mail, a welcome for an account an admin made.

Each one-time link and the message that carries it are written in one transaction
(the link, the account when it is new, the outbox row, the audit entry), so a crash
leaves either all of it or nothing.  The messages go through the outbox like case mail
but belong to no case (``case_pk`` NULL, no participant): the worker delivers them and
logs no contact attempt, and the case log never holds the link.

Links in mail use the desk's configured address (``web.base_url``), never the Host
header of the request that asked for them: a forged Host would otherwise send a reset
link for someone else's account to the forger's site (password-reset poisoning).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from cvdesk.channels.account_mail import compose_account_mail, render_account_mail
from cvdesk.domain.accounts import (
    LinkPurpose,
    Principal,
    SiteRole,
    account_email,
    require_staff,
    require_write,
)
from cvdesk.domain.errors import InvalidInput, Unavailable
from cvdesk.services.accounts import digest
from cvdesk.services.public_reports import TooManyRequests
from cvdesk.store.accounts import AccountRepository
from cvdesk.store.outbox import PENDING, OutboxRepository

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from cvdesk.services.accounts import AccountService
    from cvdesk.services.cases import CaseService

#: Password reset requests: per client address (answered 429 beyond it), and per
#: account (beyond it, quietly no more mail: the answer must not tell accounts apart).
RESETS_PER_ADDRESS = 5
RESETS_PER_ACCOUNT = 3
RESET_WINDOW = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Invitation:
    """What an invitation did: the account it is for (new or found) and the message."""

    case_id: str
    participant: int
    email: str
    user_id: int
    new_account: bool
    template: str  # account-invite (a password to set) or account-added (signed-in user)
    message_id: str

    def to_json(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "participant": self.participant,
                "email": self.email, "user_id": self.user_id,
                "new_account": self.new_account, "template": self.template,
                "message_id": self.message_id}


class InvitationService:
    def __init__(self, cases: CaseService, accounts: AccountService) -> None:
        self.cases = cases
        self.accounts = accounts
        self.db = accounts.db
        self.settings = accounts.settings

    # ------------------------------------------------------------ invitations
    def invite(self, principal: Principal | None, case_id: str, participant: str,
               email: str | None = None, *, address: str = "") -> Invitation:
        """Invite the contact of a participant to the case on the web desk.

        No account for the address: one is made without a password (a member of the
        vendor's organization when the participant is a vendor) and an invitation link is
        mailed; following it sets the password and opens the case.  An account that has a
        password already is linked to the participant and told so.  ``principal`` None is
        the desk's operator at the command line."""
        if principal is not None:
            require_staff(principal, "invitation")
            require_write(principal, "invitation")
        case = self.cases.replay(case_id)
        case_id = case.case_id
        party = case.find_participant(participant)
        if party.pid == 1:  # a case's first participant is the desk (CaseService.submit_report)
            raise InvalidInput("participant", f"p{party.pid} is the desk itself")
        login = account_email(email if email and email.strip() else party.email or "")
        organization = (party.organization or party.name) if party.is_vendor else ""
        sender, domain = self.sender_address()
        now = self.accounts.clock()
        actor = principal.actor if principal is not None else self.settings.actor
        hours = self.settings.web.link_hours
        with self.db.transaction() as session:
            repo = AccountRepository(session)
            user = repo.user_by_email(login)
            if user is not None and user.disabled:
                raise InvalidInput("e-mail", f"the account {login} is disabled")
            new = user is None
            if user is None:
                from cvdesk.store.directory import DirectoryRepository

                org_id = (DirectoryRepository(session).upsert_organization(organization,
                                                                           now=now)
                          if organization else None)
                user_id = repo.add_user(email=login, name=party.name, password_hash="",
                                        site_role=SiteRole.MEMBER, organization_id=org_id,
                                        now=now)
                user = repo.user(user_id)
            values = {"desk": self.settings.desk.name, "name": party.name, "email": login,
                      "case_id": case_id, "title": case.title,
                      "hours": f"{hours:g}"}
            if user.password_hash:
                repo.add_member(user.id, case_id, party.pid, now)
                template = "account-added"
                values["link"] = f"{self.base_url()}/cases/{case_id}"
            else:
                template = "account-invite"
                token = secrets.token_urlsafe(32)
                repo.add_link(digest(token), LinkPurpose.INVITE.value, now=now,
                              expires=now + timedelta(hours=hours), user_id=user.id,
                              case_id=case_id, pid=party.pid)
                values["link"] = f"{self.base_url()}/invite/{token}"
            message_id = self._queue(session, template, login, values, sender, domain,
                                     key=f"{case_id}/p{party.pid}")
            repo.audit(at=now, user_id=principal.user_id if principal else None, actor=actor,
                       action="invitation sent", case_id=case_id,
                       target=f"p{party.pid} {login}", address=address)
        return Invitation(case_id, party.pid, login, user.id, new, template,
                          message_id)

    # ------------------------------------------------------------ password reset
    def send_reset(self, email: str, *, address: str = "") -> None:
        """Mail a password reset link when the address has a live account; the same
        (nothing) either way, so the answer tells no one whether an account exists.
        More than ``RESETS_PER_ADDRESS`` requests an hour from one address: 429."""
        sender, domain = self.sender_address()
        now = self.accounts.clock()
        by_address = f"reset:{address or 'unknown'}"
        try:
            login = account_email(email)
        except InvalidInput:
            login = ""
        with self.db.transaction() as session:
            repo = AccountRepository(session)
            if self._spent(repo, by_address, RESETS_PER_ADDRESS, now):
                _, first, _ = repo.failures(by_address)
                assert first is not None
                raise TooManyRequests("password reset", "requests from this address",
                                      int((first + RESET_WINDOW - now).total_seconds()))
            self._tick(repo, by_address, now)
            user = repo.user_by_email(login) if login else None
            if user is None or user.disabled:
                return
            by_account = f"reset-account:{login}"
            if self._spent(repo, by_account, RESETS_PER_ACCOUNT, now):
                return
            self._tick(repo, by_account, now)
            hours = self.settings.web.link_hours
            token = secrets.token_urlsafe(32)
            repo.add_link(digest(token), LinkPurpose.RESET.value, now=now,
                          expires=now + timedelta(hours=hours), user_id=user.id)
            self._queue(session, "account-reset", login, {
                "desk": self.settings.desk.name, "name": user.name, "email": login,
                "hours": f"{hours:g}", "link": f"{self.base_url()}/password/set/{token}"},
                sender, domain, key=f"user{user.id}")
            repo.audit(at=now, user_id=user.id, actor=login,
                       action="password reset requested", address=address)

    def welcome(self, session: Session, user_id: int, email: str, name: str) -> str:
        """In the caller's transaction: a link for a new account without a password, and
        the message that carries it (an admin made the account).  The Message-ID."""
        sender, domain = self.sender_address()
        now = self.accounts.clock()
        hours = self.settings.web.link_hours
        token = secrets.token_urlsafe(32)
        AccountRepository(session).add_link(digest(token), LinkPurpose.INVITE.value, now=now,
                                            expires=now + timedelta(hours=hours),
                                            user_id=user_id)
        return self._queue(session, "account-welcome", email, {
            "desk": self.settings.desk.name, "name": name, "email": email,
            "hours": f"{hours:g}", "link": f"{self.base_url()}/password/set/{token}"},
            sender, domain, key=f"user{user_id}")

    # ------------------------------------------------------------ plumbing
    def base_url(self) -> str:
        web = self.settings.web
        return web.base_url.rstrip("/") or f"http://{web.host}:{web.port}"

    def sender_address(self) -> tuple[str, str]:
        smtp, desk = self.settings.smtp, self.settings.desk
        sender = smtp.sender or desk.email
        if not sender:
            raise Unavailable("mail: the desk has no sender address; set smtp.sender or "
                              "desk.email in the settings")
        return sender, smtp.domain or sender.split("@")[-1]

    def _queue(self, session: Session, template: str, recipient: str,
               values: dict[str, str], sender: str, domain: str, *, key: str) -> str:
        now = self.accounts.clock()
        subject, body = render_account_mail(template, values)
        message_id, raw = compose_account_mail(sender=sender, recipient=recipient,
                                               subject=subject, body=body, at=now,
                                               domain=domain)
        # Every request is a new message (a new link): the key only has to be unique.
        OutboxRepository(session).add([dict(
            idempotency_key=f"account/{template}/{key}/{secrets.token_hex(8)}",
            case_pk=None, participant=None, template=template, sender=sender,
            recipient=recipient, message_id=message_id, raw=raw, status=PENDING,
            attempts=0, next_attempt_at=now, created_at=now, worker="", last_error="",
            in_doubt=False, logged=False)])
        return message_id

    @staticmethod
    def _spent(repo: AccountRepository, key: str, limit: int, now: Any) -> bool:
        count, first, _ = repo.failures(key)
        return first is not None and now - first <= RESET_WINDOW and count >= limit

    @staticmethod
    def _tick(repo: AccountRepository, key: str, now: Any) -> None:
        _, first, _ = repo.failures(key)
        repo.add_failure(key, now, restart=first is None or now - first > RESET_WINDOW)
