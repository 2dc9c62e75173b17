"""Who may reach what (issue 11, Tests): every route of the web desk, pages and API, by
every kind of principal, with the status each gets, all from the one table ``ROWS``.

A route the application serves without a row here fails ``test_every_route_has_a_row``,
so a new route cannot land without its authorization decided in the open.  A row names
the route by method and path template (as FastAPI declares it), how to fill the path
parameters, and the status per role; ``expect(default, **overrides)`` keeps rows short.

The roles (columns): anonymous; the reporter of CASE (an account linked to its report);
the reporter of OTHER; a vendor user whose organization takes part in CASE; one whose
organization takes part in OTHER but not CASE; a coordinator; an admin; and the reporter
of CASE following its private link (no account: the link cookie).

How it runs, and what a new row must respect:
- one application and one database per backend for the whole module; every role signs
  in once; rows run in table order, each role in ``ROLES`` order;
- a write (POST) is sent with a valid CSRF token (the form's first field, or the
  ``x-csrftoken`` header for JSON), so the status is the authorization one;
- a write that succeeds changes that shared database: make each role's request stand on
  its own (``data`` may be a function of the context and role, e.g. a text naming the
  role) and expect what the table order leaves; a row whose request ends the session
  (sign-out, password change) sets ``fresh_session`` to get a session of its own;
- cookies are never kept between requests: each request carries exactly its role's.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount
from starlette.testclient import TestClient

from cvdesk.app import Desk
from cvdesk.domain.accounts import LinkPurpose
from cvdesk.settings import load_settings
from cvdesk.web.app import create_app
from tests.conftest import PG_ENV, TEST_NOW, Clock, _pg_database
from tests.web.conftest import ACCOUNTS, CASE, OTHER, PASSWORD, _reporter_pid, csrf_of

#: Columns of the table, in the order each row runs them.
ROLES = ("anonymous", "reporter", "other_reporter", "vendor", "other_vendor",
         "coordinator", "admin", "report_link")
#: The account each signed-in role uses (tests/web/conftest.py ACCOUNTS).
EMAILS = {
    "reporter": "reporter@test.example",
    "other_reporter": "other-reporter@test.example",
    "vendor": "vendor@test.example",
    "other_vendor": "other-vendor@test.example",
    "coordinator": "coord@test.example",
    "admin": "admin@test.example",
}
assert set(EMAILS.values()) <= set(ACCOUNTS)

UNKNOWN_CASE = "CVD-2099-9999"


def expect(default: int, **overrides: int) -> dict[str, int]:
    """A status for every role: ``default``, except those named."""
    unknown = set(overrides) - set(ROLES)
    assert not unknown, f"unknown roles {sorted(unknown)}; the roles are {ROLES}"
    return {role: overrides.get(role, default) for role in ROLES}


#: Common shapes.  Pages send a visitor who is not signed in to the sign-in page (303);
#: the API answers 401.  A case one takes no part in is "not found" (404), never 403, so
#: guessing ids tells nothing.
PUBLIC = expect(200)
PAGE = expect(200, anonymous=303)
API = expect(200, anonymous=401)
CASE_PAGE = expect(200, anonymous=303, other_reporter=404, other_vendor=404)
CASE_API = expect(200, anonymous=401, other_reporter=404, other_vendor=404)
#: OTHER, seen by the roles of CASE: the other reporter and other vendor take part in it.
OTHER_CASE_PAGE = expect(200, anonymous=303, reporter=404, vendor=404, report_link=404)
OTHER_CASE_API = expect(200, anonymous=401, reporter=404, vendor=404, report_link=404)


@dataclass
class Context:
    """What rows may use to fill their requests."""

    desk: Desk
    link_token: str  # the private link of CASE's reporter
    values: dict[str, Any] = field(default_factory=dict)  # for rows that set things up

    def user_id(self, role: str) -> int:
        found = self.desk.accounts().find_user(EMAILS[role])
        assert found is not None
        return found.id


Fill = str | Callable[[Context], str]
Body = dict[str, Any] | Callable[[Context, str], dict[str, Any]] | None


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # the route's path template, exactly as the application declares it
    status: dict[str, int]
    params: dict[str, Fill] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    data: Body = None  # a form (CSRF token added as its first field)
    json: Body = None  # a JSON body (CSRF token in the x-csrftoken header)
    fresh_session: bool = False
    why: str = ""  # shown in the test id: which variant of the route this row is

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}" + (f" [{self.why}]" if self.why else "")


def _wrong_login(_ctx: Context, role: str) -> dict[str, Any]:
    # One unknown account per role: the throttle counts failures per account.
    return {"email": f"nobody-{role.replace('_', '-')}@test.example",
            "password": "not the password", "next": "/cases"}


def _write(case_id: str = CASE, **fields: Any) -> Callable[[Context, str], dict[str, Any]]:
    """A case write's body (web/pages_actions.py, web/api_actions.py): the case version as
    read just before sending (earlier writes move it on, and a stale one is 409), and
    ``{role}`` and ``{n}`` (a number new at each request) in text values filled in."""
    def body(ctx: Context, role: str) -> dict[str, Any]:
        n = ctx.values["writes"] = ctx.values.get("writes", 0) + 1
        return {"version": ctx.desk.cases().show(case_id).case.version,
                **{k: v.format(role=role, n=n) if isinstance(v, str) else v
                   for k, v in fields.items()}}
    return body


#: The case writes and the dashboard's (pages_actions.py, api_actions.py).  Coordinator
#: writes are refused to the others (403 in the case, 404 outside it); a row whose
#: request the desk refuses on its merits (422: a participant that is no vendor, no sender
#: address for notices) shows that authorization let it through to the service.
STAFF_FORM = expect(403, anonymous=401, other_reporter=404, other_vendor=404,
                    coordinator=303, admin=303)
STAFF_JSON = {**STAFF_FORM, "coordinator": 200, "admin": 200}
STAFF_REFUSED_INPUT = {**STAFF_FORM, "coordinator": 422, "admin": 422}
STATEMENT_FORM = {**STAFF_FORM, "vendor": 303}
CONFIRM_FORM = {**STAFF_FORM, "vendor": 303, "coordinator": 403, "admin": 403}
MESSAGE_FORM = expect(303, anonymous=401, other_reporter=404, other_vendor=404)
FINDING_FORM = expect(403, anonymous=401, coordinator=404, admin=404)  # no such finding
SWEEP_FORM = expect(403, anonymous=401, coordinator=303, admin=303)


def _json(status: dict[str, int]) -> dict[str, int]:
    """The API's statuses for a form's: 200 for the redirect after a write."""
    return {role: 200 if code == 303 else code for role, code in status.items()}


_ACTIONS: list[tuple[str, dict[str, int], Callable[[Context, str], dict[str, Any]], str]] = [
    # (the API's document refuses an unknown event or action before anyone is asked, so
    # these ask for something well formed that the case refuses)
    ("events", STAFF_REFUSED_INPUT, _write(event="V", vendor="p1"), "p1 is no vendor: 422"),
    ("embargo", STAFF_REFUSED_INPUT, _write(action="propose", end="2000-01-02T00:00:00Z"),
     "an end in the past: 422"),
    ("participants", STAFF_FORM, _write(name="Matrix vendor {n}"), ""),
    ("notify", STAFF_REFUSED_INPUT, _write(), "no sender address: 422"),
    ("attempts", STAFF_FORM, _write(participant="p3", channel="phone",
                                    outcome="no-reply"), ""),
    ("notes", STAFF_FORM, _write(text="note by {role}"), ""),
    # the vendor's own words; staff enter it on the vendor's behalf (admin last) ...
    ("statements", STATEMENT_FORM, _write(vulnerability="V1", product="Matrix product",
                                          status="under_investigation", vendor="p3"), ""),
    # ... which the vendor (only) then confirms
    ("statements/confirm", CONFIRM_FORM, _write(vulnerability="V1",
                                                product="Matrix product"), ""),
    ("messages", MESSAGE_FORM, _write(body="hello from {role}"), ""),
    ("publish", STAFF_REFUSED_INPUT, _write(), "no sender address: 422"),
]


def _action_rows() -> list[Row]:
    rows: list[Row] = [
        Row("GET", "/cases/{case_id}/act", CASE_PAGE, params={"case_id": CASE}),
        Row("GET", "/cases/{case_id}/advisory/preview",
            expect(403, anonymous=303, other_reporter=404, other_vendor=404,
                   coordinator=200, admin=200), params={"case_id": CASE}),
        Row("GET", "/api/v1/cases/{case_id}/advisory/preview",
            expect(403, anonymous=401, other_reporter=404, other_vendor=404,
                   coordinator=200, admin=200), params={"case_id": CASE}),
    ]
    # the forms first, then the API: each statement row is followed by its confirm row
    rows += [Row("POST", f"/cases/{{case_id}}/{path}", status, params={"case_id": CASE},
                 data=body, why=why) for path, status, body, why in _ACTIONS]
    rows += [Row("POST", f"/api/v1/cases/{{case_id}}/{path}", _json(status),
                 params={"case_id": CASE}, json=body, why=why)
             for path, status, body, why in _ACTIONS]
    snooze = {"reason": "matrix", "until": "2030-01-01"}
    rows += [
        Row("GET", "/api/v1/findings", API),
        Row("POST", "/findings/{finding_id}/acknowledge", FINDING_FORM,
            params={"finding_id": "999999"}, data={"reason": "matrix"}),
        Row("POST", "/api/v1/findings/{finding_id}/acknowledge",
            {**FINDING_FORM, "anonymous": 401}, params={"finding_id": "999999"},
            json={"reason": "matrix"}),
        Row("POST", "/findings/{finding_id}/snooze", FINDING_FORM,
            params={"finding_id": "999999"}, data=snooze),
        Row("POST", "/api/v1/findings/{finding_id}/snooze", FINDING_FORM,
            params={"finding_id": "999999"},
            json={**snooze, "until": "2030-01-01T00:00:00Z"}),
        Row("POST", "/findings/sweep", SWEEP_FORM),
        Row("POST", "/api/v1/findings/sweep", _json(SWEEP_FORM)),
    ]
    return rows


def _invite_link(ctx: Context) -> str:
    """A live invitation to CASE for the vendor account (its page shows it, unused)."""
    return ctx.desk.accounts().issue_link(LinkPurpose.INVITE, user_id=ctx.user_id("vendor"),
                                          case_id=CASE)


def _reset_link(ctx: Context) -> str:
    return ctx.desk.accounts().issue_link(LinkPurpose.RESET, user_id=ctx.user_id("vendor"))


def _public_case(ctx: Context) -> str:
    """A TLP:CLEAR case published once (by a desk of its own on the same database: this
    module's desk has no sender address, which publishing needs for its notices)."""
    if "public_case" not in ctx.values:
        from tests.web.test_public_advisories import clear_case

        desk = Desk(load_settings(database_url=ctx.desk.settings.database_url,
                                  actor="tester", desk={"email": "cert@test.example"}),
                    clock=ctx.desk.clock)
        try:
            case_id = clear_case(desk, "Matrix public advisory")
            desk.publication().publish(case_id, ["csaf", "markdown"])
        finally:
            desk.close()
        ctx.values["public_case"] = case_id
    return str(ctx.values["public_case"])


def _public_file(ctx: Context) -> str:
    return f"{_public_case(ctx).lower()}.json"


def _report_form(_ctx: Context, role: str) -> dict[str, Any]:
    return {"title": f"Matrix report by {role}", "description": "sent by the matrix"}


def _report_json(_ctx: Context, role: str) -> dict[str, Any]:
    return {**_report_form(_ctx, role), "reporter": f"Matrix {role}"}


#: Pages of one's own account; a report link has no account (sign-in page, or 401).
ACCOUNT_PAGE = expect(200, anonymous=303, report_link=303)
#: Admin pages and API: site admins only.
ADMIN_PAGE = expect(403, anonymous=303, admin=200)
ADMIN_API = expect(403, anonymous=401, admin=200)
#: Pages for coordinators and admins (the desk's metrics span every case).
STAFF_PAGE = expect(403, anonymous=303, coordinator=200, admin=200)
NO_SUCH_ID = "999999999"
#: This module's desk has no sender address: what would queue mail answers 503.
NO_SENDER = "no sender address: 503"


ROWS: list[Row] = [
    # ------------------------------------------------------------ public pages
    Row("GET", "/healthz", PUBLIC),
    Row("GET", "/login", PUBLIC),
    Row("POST", "/login", expect(401), data=_wrong_login, why="wrong password"),
    Row("POST", "/logout", expect(303), fresh_session=True),
    Row("GET", "/track/{token}", expect(303), params={"token": lambda c: c.link_token},
        why="the report's private link"),
    Row("GET", "/track/{token}", expect(303), params={"token": "not-a-link"},
        why="unknown link: to sign-in"),
    # ------------------------------------------------------------ cases (pages)
    Row("GET", "/", PAGE, why="the dashboard"),
    Row("GET", "/cases", PAGE),
    Row("GET", "/cases/{case_id}", CASE_PAGE, params={"case_id": CASE}, why="CASE"),
    Row("GET", "/cases/{case_id}", OTHER_CASE_PAGE, params={"case_id": OTHER},
        why="OTHER"),
    Row("GET", "/cases/{case_id}", expect(404, anonymous=303),
        params={"case_id": UNKNOWN_CASE}, why="no such case"),
    # ------------------------------------------------------------ API
    Row("GET", "/api/v1/me", API),
    Row("GET", "/api/v1/cases", API),
    Row("GET", "/api/v1/cases/{case_id}", CASE_API, params={"case_id": CASE}, why="CASE"),
    Row("GET", "/api/v1/cases/{case_id}", OTHER_CASE_API, params={"case_id": OTHER},
        why="OTHER"),
    Row("GET", "/api/v1/cases/{case_id}", expect(404, anonymous=401),
        params={"case_id": UNKNOWN_CASE}, why="no such case"),
    # ------------------------------------------------------------ case page parts
    Row("GET", "/cases/{case_id}/timeline.svg", CASE_PAGE, params={"case_id": CASE},
        why="CASE"),
    Row("GET", "/cases/{case_id}/timeline.svg", OTHER_CASE_PAGE, params={"case_id": OTHER},
        why="OTHER"),
    *[Row("GET", f"/api/v1/cases/{{case_id}}/{part}", status, params={"case_id": case},
          why=why)
      for part in ("timeline", "findings", "messages")
      for case, status, why in ((CASE, CASE_API, "CASE"), (OTHER, OTHER_CASE_API, "OTHER"),
                                (UNKNOWN_CASE, expect(404, anonymous=401), "no such case"))],
    # ------------------------------------------------------------ case actions, dashboard
    *_action_rows(),
    # ------------------------------------------------------------ report form, links
    Row("GET", "/report", PUBLIC),
    Row("POST", "/report", PUBLIC, data=_report_form, why="anyone may report"),
    Row("GET", "/invite/{token}", PUBLIC, params={"token": _invite_link}, why="live"),
    Row("GET", "/invite/{token}", expect(404), params={"token": "not-a-link"},
        why="unknown link"),
    Row("GET", "/password/set/{token}", PUBLIC, params={"token": _reset_link}, why="live"),
    Row("GET", "/password/set/{token}", expect(404), params={"token": "not-a-link"},
        why="unknown link"),
    Row("POST", "/password/set", expect(404), why="unknown link",
        data={"token": "not-a-link", "password": "a long new passphrase",
              "repeat": "a long new passphrase"}),
    Row("GET", "/password/reset", PUBLIC),
    # ------------------------------------------------------------ published advisories
    Row("GET", "/advisories", PUBLIC),
    Row("GET", "/advisories/{case_id}", PUBLIC, params={"case_id": _public_case},
        why="published, TLP:CLEAR"),
    Row("GET", "/advisories/{case_id}", expect(404), params={"case_id": CASE},
        why="not published: 404 for everyone"),
    Row("GET", "/advisories/{case_id}/{version}/{filename}", PUBLIC,
        params={"case_id": _public_case, "version": "1", "filename": _public_file},
        why="published, TLP:CLEAR"),
    Row("GET", "/advisories/{case_id}/{version}/{filename}", expect(404),
        params={"case_id": CASE, "version": "1", "filename": "cvd-2026-0001.json"},
        why="not published: 404 for everyone"),
    Row("POST", "/password/reset", expect(503), data={"email": "nobody@test.example"},
        why=NO_SENDER),
    # ------------------------------------------------------------ one's own account
    Row("GET", "/account", ACCOUNT_PAGE),
    Row("POST", "/account/password", expect(422, anonymous=401, report_link=401),
        data={"current": "not the password", "password": "a long new passphrase",
              "repeat": "a long new passphrase"}, why="wrong current password"),
    Row("POST", "/account/timezone", expect(303, anonymous=401, report_link=401),
        data={"zone": "UTC"}),
    Row("POST", "/account/tokens", expect(200, anonymous=401, report_link=401),
        data=lambda _c, role: {"name": f"matrix {role}", "scope": "read", "days": "1"}),
    Row("POST", "/account/tokens/{token_id}/revoke",
        expect(404, anonymous=401, report_link=401), params={"token_id": NO_SUCH_ID},
        why="no such token"),
    # ------------------------------------------------------------ admin pages
    Row("GET", "/admin", expect(303)),
    Row("GET", "/admin/users", ADMIN_PAGE),
    Row("POST", "/admin/users", expect(403, anonymous=401, admin=503), why=NO_SENDER,
        data=lambda _c, role: {"email": f"matrix-{role.replace('_', '-')}@test.example",
                               "name": "Matrix"}),
    Row("POST", "/admin/users/{user_id}/disable", expect(403, anonymous=401, admin=404),
        params={"user_id": NO_SUCH_ID}, why="no such user"),
    Row("POST", "/admin/users/{user_id}/enable", expect(403, anonymous=401, admin=404),
        params={"user_id": NO_SUCH_ID}, why="no such user"),
    Row("GET", "/admin/organizations", ADMIN_PAGE),
    Row("GET", "/admin/directory", ADMIN_PAGE),
    Row("GET", "/admin/outbox", ADMIN_PAGE),
    Row("GET", "/admin/quarantine", ADMIN_PAGE),
    Row("GET", "/admin/audit", ADMIN_PAGE),
    # ------------------------------------------------------------ account API
    Row("POST", "/api/v1/reports", expect(201), json=_report_json, why="anyone may report"),
    Row("GET", "/api/v1/tokens", API),
    Row("POST", "/api/v1/tokens", expect(201, anonymous=401, report_link=401),
        json={"name": "matrix"}),
    Row("DELETE", "/api/v1/tokens/{token_id}", expect(404, anonymous=401, report_link=401),
        params={"token_id": NO_SUCH_ID}, why="no such token"),
    Row("POST", "/api/v1/cases/{case_id}/invitations",
        expect(403, anonymous=401, coordinator=503, admin=503), params={"case_id": CASE},
        json={"participant": "p2", "email": "matrix@test.example"}, why=NO_SENDER),
    # the coordinator's forms of case_vulnerability_forms.html (pages_actions.py)
    Row("POST", "/cases/{case_id}/invitations",
        expect(403, anonymous=401, coordinator=503, admin=503), params={"case_id": CASE},
        data={"participant": "p2", "email": "matrix@test.example"}, why=NO_SENDER),
    Row("POST", "/cases/{case_id}/vulnerabilities", STAFF_FORM, params={"case_id": CASE},
        data=_write(title="Matrix vulnerability {n} by {role}", product="Matrix app",
                    introduced="1.{n}")),
    Row("POST", "/cases/{case_id}/vulnerabilities/versions", STAFF_FORM,
        params={"case_id": CASE},
        data=_write(vulnerability="V1", product="Matrix versions product",
                    fixed="{n}.0")),
    Row("GET", "/api/v1/admin/users", ADMIN_API),
    Row("GET", "/api/v1/admin/audit", ADMIN_API),
    # ------------------------------------------------------------ metrics (issue 12)
    Row("GET", "/metrics", STAFF_PAGE),
    Row("GET", "/metrics/charts/{name}.svg", STAFF_PAGE, params={"name": "alpha"}),
]


# ---------------------------------------------------------------- the routes served
def _docs_paths(app: Any) -> set[str]:
    return {p for p in (app.openapi_url, app.docs_url, app.redoc_url,
                        app.swagger_ui_oauth2_redirect_url) if p}


def served_routes(asgi_app: Any) -> set[tuple[str, str]]:
    """(method, path template) of every route, the static files and the OpenAPI
    documents aside."""
    app = asgi_app.fastapi
    skip = _docs_paths(app)
    found: set[tuple[str, str]] = set()

    def walk(routes: list[Any], prefix: str) -> None:
        # FastAPI keeps included routers as such: iter_route_contexts flattens them.
        for rc in iter_route_contexts(routes):
            path = prefix + (rc.path or "")
            if isinstance(rc.route, Mount):
                if path != "/static":
                    walk(rc.route.routes, path)
                continue
            if path in skip:
                continue
            methods = set(rc.methods or {"GET"})
            if "GET" in methods:
                methods.discard("HEAD")
            found.update((m, path) for m in methods)

    walk(app.routes, "")
    return found


def test_every_route_has_a_row_and_every_row_a_route(tmp_path: Path) -> None:
    desk = Desk(load_settings(database_url=f"sqlite:///{tmp_path / 'none.db'}"))
    try:
        served = served_routes(create_app(desk))
    finally:
        desk.close()
    assert ("GET", "/cases/{case_id}") in served  # the walk sees the routes
    tabled = {(r.method, r.path) for r in ROWS}
    missing = sorted(served - tabled)
    assert not missing, ("routes without a row in ROWS (tests/web/test_authorization_matrix"
                         f".py): {missing}")
    stale = sorted(tabled - served)
    assert not stale, f"rows for routes the application does not serve: {stale}"
    assert len({r.id for r in ROWS}) == len(ROWS), "two rows share one id: set `why`"


# ---------------------------------------------------------------- one desk per backend
@dataclass
class Matrix:
    client: TestClient
    ctx: Context
    csrf: str  # a signed token: the same value goes in the cookie and the form
    sessions: dict[str, str]

    def cookies(self, role: str, session: str | None = None) -> dict[str, str]:
        jar = {"csrftoken": self.csrf}
        if role == "report_link":
            jar["cvdesk_report"] = self.ctx.link_token
        elif role != "anonymous":
            jar["cvdesk_session"] = session or self.sessions[role]
        return jar

    def sign_in(self, role: str) -> str:
        return self.ctx.desk.accounts().sign_in(EMAILS[role], PASSWORD).token

    def send(self, row: Row, role: str) -> int:
        path = row.path
        for name, fill in row.params.items():
            path = path.replace(f"{{{name}}}", fill(self.ctx) if callable(fill) else fill)
        assert "{" not in path, f"{row.id}: path parameters left unfilled in {path}"
        session = self.sign_in(role) if row.fresh_session and role in EMAILS else None
        headers = {"cookie": "; ".join(f"{k}={v}" for k, v in
                                       self.cookies(role, session).items())}
        kwargs: dict[str, Any] = {"params": row.query}
        if row.method not in ("GET", "HEAD"):
            if row.json is not None:
                headers["x-csrftoken"] = self.csrf
                kwargs["json"] = row.json(self.ctx, role) if callable(row.json) else row.json
            else:
                form = row.data(self.ctx, role) if callable(row.data) else (row.data or {})
                kwargs["data"] = {"csrftoken": self.csrf, **form}
        self.client.cookies.clear()
        response = self.client.request(row.method, path, headers=headers,
                                       follow_redirects=False, **kwargs)
        self.client.cookies.clear()
        return response.status_code


def _clean_env(mp: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("CVDESK_") and key != PG_ENV:
            mp.delenv(key)


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def matrix(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("matrix") / "web.db"
        shutil.copyfile(request.getfixturevalue("sqlite_web_template"), path)
        urls: Iterator[str] = iter([f"sqlite:///{path}"])
    else:
        urls = _pg_database(request.getfixturevalue("pg_web_template"), prefix="cvdesk_mx_")
    for url in urls:
        with pytest.MonkeyPatch.context() as mp:
            _clean_env(mp)
            desk = Desk(load_settings(database_url=url, actor="tester"), clock=Clock(TEST_NOW))
            link = desk.accounts().issue_link(LinkPurpose.REPORT, case_id=CASE,
                                              pid=_reporter_pid(desk, CASE))
            client = TestClient(create_app(desk), base_url="http://testserver")
            page = client.get("/login")
            csrf = client.cookies["csrftoken"]
            assert re.fullmatch(r"[^;\s]+", csrf) and csrf_of(page.text) == csrf
            m = Matrix(client, Context(desk, link), csrf, {})
            m.sessions = {role: m.sign_in(role) for role in EMAILS}
            try:
                yield m
            finally:
                client.close()
                desk.close()


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_authorization(matrix: Matrix, row: Row) -> None:
    got = {role: matrix.send(row, role) for role in ROLES}
    wrong = {role: f"got {got[role]}, expected {row.status[role]}"
             for role in ROLES if got[role] != row.status[role]}
    assert not wrong, f"{row.id}: {wrong}"
