"""The web desk (issue 11): one FastAPI application with server-rendered pages and the
REST API under /api/v1.  It is built around one ``Desk`` (the composition root) handed in
explicitly; routes call its services and render what they return, nothing else.

Around the routes, from the outside in: the security headers, then CSRF protection for
every state-changing form (asgi-csrf, a signed double-submit cookie; API calls with a
bearer token are exempt, as no browser sends one on its own)."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from cvdesk.web import (
    api,
    api_accounts,
    api_actions,
    pages,
    pages_account,
    pages_actions,
    pages_admin,
    pages_advisories,
    pages_metrics,
    pages_public,
    problems,
)
from cvdesk.web.auth import Authenticator
from cvdesk.web.lifespan import sweeping
from cvdesk.web.render import STATIC, Renderer
from cvdesk.web.security import BodyLimit, FormText, SecurityHeaders, csrf_failed

if TYPE_CHECKING:
    from cvdesk.app import Desk

#: Forms a browser may post before it has any cookie: CSRF applies to them too.
ALWAYS_PROTECT = {"/login", "/report", "/password/reset", "/password/set"}


def create_app(desk: Desk, *, sweep: bool = False) -> Any:
    """The ASGI application for ``desk``; with ``sweep`` it runs the periodic
    troubleshooting sweep while it serves (``web.sweep_minutes``; web/lifespan.py)."""
    from asgi_csrf import asgi_csrf

    web = desk.settings.web
    # No Swagger UI: it loads its script from a CDN, and the desk serves every asset
    # itself (its CSP would refuse it anyway).  The OpenAPI document is served.
    app = FastAPI(title="cvdesk", version="1", summary="Coordinated vulnerability disclosure "
                  "desk: the REST API", docs_url=None, redoc_url=None,
                  openapi_url="/api/v1/openapi.json",
                  lifespan=sweeping(desk) if sweep else None)
    auth = Authenticator(desk)
    renderer = Renderer(desk)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(pages.router(desk, auth, renderer))
    app.include_router(api.router(desk, auth), prefix="/api/v1")
    app.include_router(pages_actions.router(desk, auth, renderer))
    app.include_router(api_actions.router(desk, auth), prefix="/api/v1")
    app.include_router(pages_public.router(desk, auth, renderer))
    app.include_router(pages_advisories.router(desk, auth, renderer))
    app.include_router(pages_account.router(desk, auth, renderer))
    app.include_router(pages_admin.router(desk, auth, renderer))
    app.include_router(pages_metrics.router(desk, auth, renderer))
    app.include_router(api_accounts.router(desk, auth), prefix="/api/v1")
    problems.install(app, renderer)
    secret = web.secret_key or secrets.token_urlsafe(32)
    protected = asgi_csrf(app, signing_secret=secret, always_protect=ALWAYS_PROTECT,
                          cookie_secure=web.https, cookie_samesite="Lax",
                          send_csrf_failed=csrf_failed)
    outer = SecurityHeaders(BodyLimit(FormText(protected)), https=web.https)
    outer.fastapi = app  # the routes, for tests that walk them (authorization matrix)
    outer.renderer = renderer  # its templates, compiled before serving (web/settle.py)
    return outer
