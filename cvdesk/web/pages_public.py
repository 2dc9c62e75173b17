"""Pages anyone may open: the report form (guide appendix C), the page an invitation
link opens, and the password reset.  None of them tells whether an account exists."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from cvdesk.domain.errors import BadInput, NotSignedIn
from cvdesk.web.auth import REPORT_COOKIE, SESSION_COOKIE, Authenticator, client_address

if TYPE_CHECKING:
    from cvdesk.app import Desk
    from cvdesk.web.render import Renderer

#: A report form bigger than this is refused before it is read (the form reader's own
#: limit is 1 MiB of form text; the HTML encoding adds to it).
MAX_FORM_BODY = 3 * 1024 * 1024


class FormTooLarge(BadInput):
    def __init__(self) -> None:
        self.field = "report"
        self.problem = f"the form is larger than {MAX_FORM_BODY // (1024 * 1024)} MiB"
        super().__init__(f"report: {self.problem}")


def router(desk: Desk, auth: Authenticator, renderer: Renderer) -> APIRouter:
    r = APIRouter(include_in_schema=False)
    secure = desk.settings.web.https

    def form_page(request: Request, me: Any, posted: dict[str, str],
                  problems: list[tuple[str, str]], status: int = 200) -> HTMLResponse:
        """The report form, with what was typed and each problem next to its input."""
        service = desk.public_reports()
        by_field: dict[str, list[str]] = {}
        for path, message in problems:
            name, where = service.field_of(path)
            by_field.setdefault(name, []).append(f"{where}: {message}" if where else message)
        return renderer.page(request, "report.html", me, http_status=status,
                             fields=service.fields(), posted=posted, problems=problems,
                             by_field=by_field)

    # ------------------------------------------------------------ the report form
    @r.get("/report")
    def report_form(request: Request) -> HTMLResponse:
        return form_page(request, auth.principal(request), {"tlp": "AMBER"}, [])

    @r.post("/report")
    async def report_submit(request: Request) -> Response:
        if int(request.headers.get("content-length") or 0) > MAX_FORM_BODY:
            raise FormTooLarge()
        form = await request.form(max_fields=200)
        posted = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrftoken"}
        return await run_in_threadpool(submit, request, posted)

    def submit(request: Request, posted: dict[str, str]) -> Response:
        me = auth.principal(request)
        try:
            receipt = desk.public_reports().submit_fields(me, posted,
                                                          address=client_address(request))
        except BadInput as exc:
            listed = getattr(exc, "problems", None)
            if listed is None:
                field = getattr(exc, "field", "")
                listed = [(field, getattr(exc, "problem", str(exc)))]
            return form_page(request, me, posted, list(listed), status=422)
        base = str(request.base_url).rstrip("/")
        return renderer.page(request, "report_done.html", me, receipt=receipt,
                             link=receipt.link_url or f"{base}{receipt.link_path}")

    # ------------------------------------------------------------ links from mail
    def set_page(request: Request, token: str, purpose: str, *, error: str = "",
                 status: int = 200) -> HTMLResponse:
        try:
            user, case_id = desk.accounts().link_info(token)
        except NotSignedIn:
            return renderer.page(request, "error.html", None, http_status=404,
                                 title="Link not valid",
                                 detail="This link has expired, was used already, or is not "
                                        "one of ours. Ask for a new one: /password/reset")
        return renderer.page(request, "password_set.html", None, http_status=status,
                             token=token, email=user.email, case_id=case_id or "",
                             purpose=purpose, error=error)

    @r.get("/invite/{token}")
    def invite(request: Request, token: str) -> HTMLResponse:
        """An invitation: set a password, then land on the case."""
        return set_page(request, token, "invite")

    @r.get("/password/set/{token}")
    def password_set_form(request: Request, token: str) -> HTMLResponse:
        return set_page(request, token, "reset")

    @r.post("/password/set")
    def password_set(request: Request, token: Annotated[str, Form(max_length=200)],
                     password: Annotated[str, Form(max_length=1024)],
                     repeat: Annotated[str, Form(max_length=1024)],
                     purpose: Annotated[str, Form(max_length=16)] = "reset") -> Response:
        """The token travels in the form, not the path: the path is one that always needs
        the CSRF token (web/app.py ALWAYS_PROTECT)."""
        purpose = "invite" if purpose == "invite" else "reset"
        if password != repeat:
            return set_page(request, token, purpose, status=422,
                            error="password: the two passwords differ")
        accounts = desk.accounts()
        try:
            _, case_id = accounts.link_info(token)
            signed = accounts.use_password_link(token, password)
        except BadInput as exc:
            return set_page(request, token, purpose, status=422, error=str(exc))
        except NotSignedIn:
            return set_page(request, token, purpose)
        accounts.sign_out(request.cookies.get(SESSION_COOKIE, ""))
        response = RedirectResponse(f"/cases/{case_id}" if case_id else "/cases",
                                    status_code=303)
        response.set_cookie(SESSION_COOKIE, signed.token, httponly=True, samesite="lax",
                            secure=secure, path="/",
                            max_age=int(desk.settings.web.session_hours * 3600))
        response.delete_cookie(REPORT_COOKIE, path="/")
        return response

    # ------------------------------------------------------------ password reset
    @r.get("/password/reset")
    def reset_form(request: Request) -> HTMLResponse:
        return renderer.page(request, "password_reset.html", None, sent=False)

    @r.post("/password/reset")
    def reset(request: Request, email: Annotated[str, Form(max_length=320)]) -> HTMLResponse:
        """The same answer whether or not the address has an account."""
        desk.invitations().send_reset(email, address=client_address(request))
        return renderer.page(request, "password_reset.html", None, sent=True)

    return r
