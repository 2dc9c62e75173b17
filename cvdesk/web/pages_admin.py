"""The admin pages (site admins only; the service refuses everyone else with 403):
users, organizations, the contact directory, the outbox, the quarantine, the audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cvdesk.domain.accounts import SiteRole
from cvdesk.domain.errors import BadInput
from cvdesk.web.auth import Authenticator, client_address

if TYPE_CHECKING:
    from cvdesk.app import Desk
    from cvdesk.domain.accounts import Principal
    from cvdesk.web.render import Renderer

Offset = Annotated[int, Query(ge=0, le=10**9)]
Limit = Annotated[int, Query(ge=1, le=200)]
Text = Annotated[str, Query(max_length=200)]
UserId = Annotated[int, Path(ge=1, le=2**62)]
DONE = {"created": "The account was made; its owner gets a link to set a password.",
        "disabled": "The account was disabled and its sessions ended.",
        "enabled": "The account was enabled."}


def router(desk: Desk, auth: Authenticator, renderer: Renderer) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    def show(request: Request, me: Principal, template: str, *, http_status: int = 200,
             **values: object) -> HTMLResponse:
        zone = desk.accounts().user(me.user_id).time_zone if me.user_id else "UTC"
        return renderer.page(request, template, me, http_status=http_status, zone=zone,
                             **values)

    @r.get("/admin")
    def admin(request: Request) -> Response:
        auth.require(request)
        return RedirectResponse("/admin/users", status_code=303)

    # ------------------------------------------------------------ users
    @r.get("/admin/users")
    def users(request: Request, offset: Offset = 0, limit: Limit = 50,
              done: Text = "") -> HTMLResponse:
        me = auth.require(request)
        page = desk.admin().users(me, offset=offset, limit=limit)
        return show(request, me, "admin_users.html", page=page, done=DONE.get(done, ""),
                    error="", roles=[s.value for s in SiteRole], typed={})

    @r.post("/admin/users")
    def create_user(request: Request, email: Annotated[str, Form(max_length=320)],
                    name: Annotated[str, Form(max_length=200)],
                    site_role: Annotated[SiteRole, Form()] = SiteRole.MEMBER,
                    organization: Annotated[str, Form(max_length=200)] = "") -> Response:
        me = auth.require(request)
        admin = desk.admin()
        try:
            admin.create_user(me, email, name, site_role=site_role, organization=organization,
                              address=client_address(request))
        except BadInput as exc:
            return show(request, me, "admin_users.html", http_status=422,
                        page=admin.users(me), done="", error=str(exc),
                        roles=[s.value for s in SiteRole],
                        typed={"email": email, "name": name, "organization": organization,
                               "site_role": site_role.value})
        return RedirectResponse("/admin/users?done=created", status_code=303)

    @r.post("/admin/users/{user_id}/disable")
    def disable(request: Request, user_id: UserId) -> Response:
        me = auth.require(request)
        desk.admin().set_disabled(me, user_id, True, address=client_address(request))
        return RedirectResponse("/admin/users?done=disabled", status_code=303)

    @r.post("/admin/users/{user_id}/enable")
    def enable(request: Request, user_id: UserId) -> Response:
        me = auth.require(request)
        desk.admin().set_disabled(me, user_id, False, address=client_address(request))
        return RedirectResponse("/admin/users?done=enabled", status_code=303)

    # ------------------------------------------------------------ directory
    @r.get("/admin/organizations")
    def organizations(request: Request, q: Text = "", offset: Offset = 0,
                      limit: Limit = 50) -> HTMLResponse:
        me = auth.require(request)
        page = desk.admin().organizations(me, search=q, offset=offset, limit=limit)
        return show(request, me, "admin_organizations.html", page=page, q=q)

    @r.get("/admin/directory")
    def directory(request: Request, organization: Text = "", offset: Offset = 0,
                  limit: Limit = 50) -> HTMLResponse:
        me = auth.require(request)
        page = desk.admin().contacts(me, organization=organization, offset=offset,
                                     limit=limit)
        return show(request, me, "admin_directory.html", page=page,
                    organization=organization)

    # ------------------------------------------------------------ mail
    @r.get("/admin/outbox")
    def outbox(request: Request, status: Annotated[str, Query(max_length=16)] = "",
               offset: Offset = 0, limit: Limit = 50) -> HTMLResponse:
        me = auth.require(request)
        page = desk.admin().outbox(me, status=status, offset=offset, limit=limit)
        return show(request, me, "admin_outbox.html", page=page, status=status)

    @r.get("/admin/quarantine")
    def quarantine(request: Request, offset: Offset = 0, limit: Limit = 50) -> HTMLResponse:
        me = auth.require(request)
        page = desk.admin().quarantine(me, offset=offset, limit=limit)
        return show(request, me, "admin_quarantine.html", page=page)

    # ------------------------------------------------------------ audit
    @r.get("/admin/audit")
    def audit(request: Request, case: Annotated[str, Query(max_length=32)] = "",
              offset: Offset = 0, limit: Limit = 100) -> HTMLResponse:
        me = auth.require(request)
        page = desk.admin().audit_log(me, case_id=case, offset=offset, limit=limit)
        return show(request, me, "admin_audit.html", page=page, case=case)

    return r
