"""A signed-in user's own account: password, time zone and API tokens.  A new token's
secret is shown once, on the page that answers its creation, and never again."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cvdesk.domain.accounts import TokenScope
from cvdesk.domain.errors import BadInput, NotSignedIn
from cvdesk.web.auth import SESSION_COOKIE, Authenticator

if TYPE_CHECKING:
    from cvdesk.app import Desk
    from cvdesk.domain.accounts import Principal
    from cvdesk.services.accounts import NewToken
    from cvdesk.web.render import Renderer

#: what a finished change says (a fixed text per key: nothing from the query is shown)
DONE = {"password": "Your password was changed; your other sessions have ended.",
        "zone": "Your time zone was saved.", "revoked": "The token was revoked."}


@cache
def time_zones() -> tuple[str, ...]:
    from zoneinfo import available_timezones

    return tuple(sorted(z for z in available_timezones() if "/" in z or z == "UTC"))


def router(desk: Desk, auth: Authenticator, renderer: Renderer) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    def user_of(request: Request) -> Principal:
        me = auth.require(request)
        if me.user_id is None:  # a reporter's private link has no account
            raise NotSignedIn("sign in to your account first")
        return me

    def page(request: Request, me: Principal, *, status: int = 200, done: str = "",
             error: str = "", new: NewToken | None = None) -> HTMLResponse:
        accounts = desk.accounts()
        assert me.user_id is not None
        user = accounts.user(me.user_id)
        return renderer.page(request, "account.html", me, http_status=status,
                             zone=user.time_zone, user=user, tokens=accounts.tokens(me),
                             zones=time_zones(), done=DONE.get(done, ""), error=error,
                             new=new, scopes=[s.value for s in TokenScope])

    @r.get("/account")
    def account(request: Request, done: str = "") -> HTMLResponse:
        return page(request, user_of(request), done=done)

    @r.post("/account/password")
    def change_password(request: Request, current: Annotated[str, Form(max_length=1024)],
                        password: Annotated[str, Form(max_length=1024)],
                        repeat: Annotated[str, Form(max_length=1024)]) -> Response:
        me = user_of(request)
        if password != repeat:
            return page(request, me, status=422, error="password: the two passwords differ")
        try:
            desk.accounts().change_password(me, current, password,
                                            keep_session=request.cookies.get(SESSION_COOKIE))
        except BadInput as exc:
            return page(request, me, status=422, error=str(exc))
        return RedirectResponse("/account?done=password", status_code=303)

    @r.post("/account/timezone")
    def time_zone(request: Request, zone: Annotated[str, Form(max_length=64)]) -> Response:
        me = user_of(request)
        try:
            desk.accounts().set_time_zone(me, zone)
        except BadInput as exc:
            return page(request, me, status=422, error=str(exc))
        return RedirectResponse("/account?done=zone", status_code=303)

    @r.post("/account/tokens")
    def create_token(request: Request, name: Annotated[str, Form(max_length=200)],
                     scope: Annotated[TokenScope, Form()] = TokenScope.READ,
                     days: Annotated[int, Form(ge=1, le=3650)] = 90) -> HTMLResponse:
        me = user_of(request)
        try:
            new = desk.accounts().create_token(me, name, scope, days=days)
        except BadInput as exc:
            return page(request, me, status=422, error=str(exc))
        return page(request, me, new=new)

    @r.post("/account/tokens/{token_id}/revoke")
    def revoke_token(request: Request,
                     token_id: Annotated[int, Path(ge=1, le=2**62)]) -> Response:
        me = user_of(request)
        desk.accounts().revoke_token(me, token_id)
        return RedirectResponse("/account?done=revoked", status_code=303)

    return r
