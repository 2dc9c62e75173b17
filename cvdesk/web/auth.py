"""Who is asking: a bearer API token, a session cookie, or a reporter's private-link
cookie, in that order; nobody otherwise.  The services decide what each may do."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Request

from cvdesk.domain.accounts import Principal
from cvdesk.domain.errors import NotSignedIn

if TYPE_CHECKING:
    from cvdesk.app import Desk

SESSION_COOKIE = "cvdesk_session"
REPORT_COOKIE = "cvdesk_report"


class Authenticator:
    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    def principal(self, request: Request) -> Principal | None:
        """The principal of the request, or None for an anonymous one.  A bearer token
        that is not valid is refused (401), not treated as anonymous."""
        accounts = self.desk.accounts()
        header = request.headers.get("authorization", "")
        if header:
            scheme, _, secret = header.partition(" ")
            if scheme.lower() != "bearer" or not secret.strip():
                raise NotSignedIn("authorization: use 'Bearer <API token>'")
            return accounts.token_principal(secret.strip())
        token = request.cookies.get(SESSION_COOKIE, "")
        if token:
            try:
                found, zone = accounts.session_viewer(token)
            except NotSignedIn:
                pass
            else:
                request.state.cvdesk_viewer = (found, zone)
                return found
        link = request.cookies.get(REPORT_COOKIE, "")
        if link:
            try:
                return accounts.link_principal(link)
            except NotSignedIn:
                pass
        return None

    def zone(self, request: Request, principal: Principal | None) -> str:
        """The time zone the principal's pages show times in: a session's user's, read
        with the session (no second lookup); the desk's for a reporter's link or nobody."""
        if principal is None or principal.user_id is None:
            return self.desk.settings.display_timezone
        known = getattr(request.state, "cvdesk_viewer", None)
        if known is not None and known[0] is principal:
            return str(known[1])
        return self.desk.accounts().user(principal.user_id).time_zone

    def require(self, request: Request) -> Principal:
        found = self.principal(request)
        if found is None:
            raise NotSignedIn("sign in first")
        return found


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this desk only (no open redirect)."""
    if (not target or not target.startswith("/") or target.startswith("//")
            or "\\" in target or any(ord(c) < 32 for c in target)):
        return "/"
    return target
