"""``cvdesk serve`` (the web desk), ``cvdesk user`` (accounts) and ``cvdesk audit``.

The web application is started by uvicorn from its import string
(``cvdesk.web.main:app``), which is also what several worker processes need; the
command line never imports the web face itself (faces do not import each other)."""

from __future__ import annotations

import os
import secrets
from typing import Any

import typer

from cvdesk.cli.context import app_context
from cvdesk.cli.invite import invite
from cvdesk.cli.output import emit_json, fmt_time, out, table
from cvdesk.domain.errors import InvalidInput

user_app = typer.Typer(help="Accounts of the web desk.", no_args_is_help=True)

WEB_APP = "cvdesk.web.main:app"
#: uvicorn's h11 protocol with TCP_NODELAY on every connection (cvdesk/web/server.py).
WEB_HTTP = "cvdesk.web.server:NoDelayH11Protocol"


def check_host(host: str, field: str) -> None:
    """Refuse, before anything starts, an address this machine cannot listen on (a name
    that does not resolve, a typo): uvicorn would only say "Name or service not known"
    after the desk had started."""
    import socket

    try:
        socket.getaddrinfo(host, None, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, socket.gaierror) else "not a host name"
        raise InvalidInput(field, f"'{host}' is not an address to listen on ({reason})"
                           ) from None


def serve(ctx: typer.Context,
          demo: bool = typer.Option(False, "--demo", help="Load the demo dataset into an "
                                    "empty database and print one login per role."),
          host: str | None = typer.Option(None, "--host", help="Address to listen on "
                                          "(settings: web.host, default 127.0.0.1)."),
          port: int | None = typer.Option(None, "--port", min=1, max=65535,
                                          help="Port (settings: web.port, default 8000)."),
          workers: int = typer.Option(1, "--workers", min=1, max=64,
                                      help="Worker processes (use PostgreSQL for more "
                                      "than one)."),
          ) -> None:
    """Run the web desk: pages for coordinators, vendors and reporters, and the REST API."""
    from cvdesk.cli.workers import run_workers

    app_ctx = app_context(ctx)
    check_host(host or app_ctx.settings.web.host, "--host" if host else "web.host")
    if demo and not (app_ctx.settings.desk.email or app_ctx.settings.smtp.sender):
        # The demo's mail (invitations, password resets) needs a sender; it is queued in
        # the outbox and goes nowhere until a worker runs with an SMTP server.
        os.environ["CVDESK_DESK__EMAIL"] = "cvd@demo.cvdesk.test"
        app_ctx.__dict__.pop("settings", None)
    desk = app_ctx.desk
    settings = desk.settings
    desk.init_database()
    if demo:
        from cvdesk.cli.progress import progress_bar

        if desk.case_count() == 0:
            with progress_bar("loading the demo cases") as progress:
                desk.load_demo(progress=progress)
        # the dashboard shows the findings the last sweep stored
        swept = desk.doctor().sweep()
        out.print(f"troubleshooting sweep: {len(swept.findings)} findings on the open cases")
    host = host or settings.web.host
    port = port or settings.web.port
    base = settings.web.base_url or f"http://{host}:{port}"
    out.print(f"cvdesk web desk on {base}/  (database {desk.database_label()})")
    if demo:
        out.print("demo logins (new passwords at each start):")
        for login in desk.demo_logins():
            out.print(f"  {login.role:<12} {login.email:<32} {login.password}   "
                      f"sees {login.sees}")
    # Every worker builds the same desk from the environment: the settings file, the
    # command line's database and actor, and one CSRF signing key for all of them.
    env = os.environ
    if app_ctx.config is not None:
        env["CVDESK_CONFIG"] = str(app_ctx.config)
    env["CVDESK_DATABASE_URL"] = settings.database_url
    if not settings.web.secret_key:
        env["CVDESK_WEB__SECRET_KEY"] = secrets.token_urlsafe(32)
    desk.close()
    minutes = settings.web.sweep_minutes
    out.print(f"troubleshooting sweep every {minutes:g} minutes (web.sweep_minutes)"
              if minutes else "no periodic sweep (web.sweep_minutes = 0)")
    run_workers(WEB_APP, factory=True, host=host, port=port, workers=workers,
                proxy_headers=settings.web.https, log_level="info", server_header=False,
                http=WEB_HTTP, log_config=log_config())


def log_config() -> dict[str, Any]:
    """uvicorn's logging, with the desk's own messages (the periodic sweep's counts)
    written the same way, in every worker."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["cvdesk"] = {"handlers": ["default"], "level": "INFO",
                                   "propagate": False}
    return config


@user_app.command("create")
def user_create(ctx: typer.Context,
                email: str = typer.Argument(..., help="E-mail address (the login name)."),
                name: str = typer.Option(..., "--name", help="Name shown to others."),
                admin: bool = typer.Option(False, "--admin", help="Site admin."),
                coordinator: bool = typer.Option(False, "--coordinator",
                                                 help="Site coordinator."),
                organization: str | None = typer.Option(
                    None, "--organization", help="Organization the user belongs to "
                    "(a vendor's users see its cases)."),
                time_zone: str = typer.Option("UTC", "--time-zone"),
                as_json: bool = typer.Option(False, "--json")) -> None:
    """Create an account; the password is asked for twice at a hidden prompt (or read
    from CVDESK_NEW_PASSWORD)."""
    from cvdesk.domain.accounts import SiteRole

    desk = app_context(ctx).desk
    password = os.environ.get("CVDESK_NEW_PASSWORD") or typer.prompt(
        "Password", hide_input=True, confirmation_prompt=True)
    role = (SiteRole.ADMIN if admin else SiteRole.COORDINATOR if coordinator
            else SiteRole.MEMBER)
    user = desk.accounts().create_user(email, name, password, site_role=role,
                                       organization=organization, time_zone=time_zone)
    if as_json:
        emit_json(user.to_json())
    else:
        out.print(f"created {user.site_role.value} account {user.email} (user {user.id})")


@user_app.command("list")
def user_list(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """Every account."""
    from cvdesk.domain.accounts import Principal, SiteRole

    desk = app_context(ctx).desk
    operator = Principal(None, "operator", SiteRole.ADMIN)
    page = desk.accounts().users(operator, limit=200)
    if as_json:
        emit_json(page.to_json())
        return
    table(f"{page.total} account(s)", ["id", "e-mail", "name", "role", "organization",
                                       "disabled"],
          [[u.id, u.email, u.name, u.site_role.value, u.organization,
            "yes" if u.disabled else ""] for u in page.items])


def audit(ctx: typer.Context,
          case: str | None = typer.Option(None, "--case", help="Only this case."),
          limit: int = typer.Option(50, "--limit", min=1, max=200),
          as_json: bool = typer.Option(False, "--json")) -> None:
    """The audit log: web writes, sign-ins and reads of embargoed cases, newest first."""
    desk = app_context(ctx).desk
    page = desk.accounts().audit_log(None, case_id=case.upper() if case else None,
                                     limit=limit)
    if as_json:
        emit_json(page.to_json())
        return
    table(f"{page.total} entr{'y' if page.total == 1 else 'ies'}",
          ["at", "who", "what", "case", "target", "from"],
          [[fmt_time(e.at), e.actor, e.action, e.case_id, e.target, e.address]
           for e in page.items])


user_app.command("invite")(invite)
