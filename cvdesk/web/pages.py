"""The server-rendered pages: sign-in and out, the case list and the case page.  Each
handler asks the principal, calls one service and renders its view."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from cvdesk.domain.errors import NotSignedIn
from cvdesk.web.auth import REPORT_COOKIE, SESSION_COOKIE, Authenticator, client_address, safe_next

if TYPE_CHECKING:
    from cvdesk.app import Desk
    from cvdesk.web.render import Renderer


def router(desk: Desk, auth: Authenticator, renderer: Renderer) -> APIRouter:
    r = APIRouter(include_in_schema=False)
    secure = desk.settings.web.https

    def set_cookie(response: Response, name: str, value: str, max_age: int) -> None:
        response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax",
                            secure=secure, path="/")

    @r.get("/healthz")
    def healthz() -> PlainTextResponse:
        """Trivial endpoint: the floor the page benchmarks compare against."""
        return PlainTextResponse("ok")

    # ------------------------------------------------------------ sign-in
    @r.get("/login")
    def login_form(request: Request, next: str = "/") -> HTMLResponse:
        return renderer.page(request, "login.html", None, next=safe_next(next), error="",
                             email="")

    @r.post("/login")
    def login(request: Request, email: Annotated[str, Form(max_length=320)],
              password: Annotated[str, Form(max_length=1024)],
              next: Annotated[str, Form(max_length=2000)] = "/") -> Response:
        accounts = desk.accounts()
        try:
            signed = accounts.sign_in(email, password, address=client_address(request))
        except NotSignedIn as exc:
            return renderer.page(request, "login.html", None, http_status=401,
                                 next=safe_next(next), error=str(exc), email=email)
        # A new session id at every sign-in (no session fixation); any old one ends.
        accounts.sign_out(request.cookies.get(SESSION_COOKIE, ""))
        response = RedirectResponse(safe_next(next), status_code=303)
        set_cookie(response, SESSION_COOKIE, signed.token,
                   int(desk.settings.web.session_hours * 3600))
        response.delete_cookie(REPORT_COOKIE, path="/")
        return response

    @r.post("/logout")
    def logout(request: Request) -> Response:
        desk.accounts().sign_out(request.cookies.get(SESSION_COOKIE, ""))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        response.delete_cookie(REPORT_COOKIE, path="/")
        return response

    @r.get("/track/{token}")
    def track(request: Request, token: str) -> Response:
        """A reporter's private link: remembered in a cookie, then the report's case."""
        principal = desk.accounts().link_principal(token)
        response = RedirectResponse(f"/cases/{principal.link_case}", status_code=303)
        set_cookie(response, REPORT_COOKIE, token, 30 * 24 * 3600)
        return response

    # ------------------------------------------------------------ cases
    # "/" is the dashboard (web/pages_actions.py).
    @r.get("/cases")
    def cases(request: Request, status: str = "open", q: Annotated[str, Query(
              max_length=200)] = "", embargo: str = "", order: str = "activity",
              offset: int = 0, limit: int = 50) -> HTMLResponse:
        me = auth.require(request)
        found = desk.portal().case_list(me, status=status or None, search=q,
                                        embargo=embargo or None, order=order,
                                        offset=offset, limit=limit)
        return renderer.page(request, "cases.html", me, zone=auth.zone(request, me), page=found,
                             status=status, q=q, embargo=embargo, order=order)

    @r.get("/cases/{case_id}")
    def case(request: Request, case_id: Annotated[str, Path(max_length=32)],
             offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
             limit: Annotated[int, Query(ge=1, le=200)] = 50, vendors: bool = False,
             q: Annotated[str, Query(max_length=200)] = "",
             thread: Annotated[str, Query(max_length=12)] = "all",
             moffset: Annotated[int, Query(ge=0, le=10**9)] = 0,
             foffset: Annotated[int, Query(ge=0, le=10**9)] = 0,
             loffset: Annotated[int, Query(ge=0, le=10**9)] = 0) -> HTMLResponse:
        from cvdesk.services.portal_views import EM_WORDS
        from cvdesk.web.timeline import svg

        me = auth.require(request)
        view = desk.portal().case_page(me, case_id, offset=offset, limit=limit,
                                       vendors_only=vendors, search=q, thread=thread,
                                       messages_offset=moffset, findings_offset=foffset,
                                       log_offset=loffset, address=client_address(request))
        return renderer.page(request, "case.html", me, zone=auth.zone(request, me), view=view,
                             q=q, vendors=vendors, thread=thread, now=view.timeline.now,
                             em_words=EM_WORDS, timeline_svg=svg(view.timeline))

    @r.get("/cases/{case_id}/timeline.svg")
    def case_timeline_svg(request: Request,
                          case_id: Annotated[str, Path(max_length=32)]) -> Response:
        """The timeline drawing as an image of its own (the page has it inline)."""
        from cvdesk.web.timeline import svg

        me = auth.require(request)
        chart = desk.portal().timeline_chart(me, case_id, address=client_address(request))
        return Response(svg(chart, standalone=True), media_type="image/svg+xml",
                        headers={"cache-control": "private, no-store"})

    return r
