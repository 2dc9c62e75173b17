"""The REST API against its own OpenAPI document (issue 11, Tests): schemathesis makes
requests from /api/v1/openapi.json, valid and not, and checks that none gets a 5xx and
that every answer (status, content type, body) is one the document declares.

It runs in process through the ASGI application (no network), on the demo with the web
test accounts, as a coordinator with a write API token: the principal that can reach the
most.  Writes it makes land in a database of this module's own.

Every check schemathesis has runs but one: "schema-valid data is accepted".  The document
describes the shape of each request (types, lengths) while the services judge its
meaning (a known event name, a date in the future, a case in the right state), and say
so with a 422 naming the field, which is the answer the document promises."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import positive_data_acceptance
from schemathesis.core.parameters import ParameterLocation
from starlette.testclient import TestClient

from cvdesk.app import Desk
from cvdesk.domain.accounts import TokenScope
from cvdesk.settings import load_settings
from cvdesk.web.app import create_app
from tests.conftest import PG_ENV, TEST_NOW, Clock
from tests.web.conftest import CASE, OTHER, PASSWORD


class LateApp:
    """The ASGI application schemathesis calls.  The operations are read from the
    document when this module is collected; the desk behind them (a database, accounts,
    a token) is built by the ``api`` fixture and plugged in here when the tests run."""

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert self.app is not None, "the api fixture plugs the application in"
        await self.app(scope, receive, send)


LATE = LateApp()


def _document() -> dict[str, Any]:
    """The OpenAPI document, from an application whose desk never opens its database."""
    desk = Desk(load_settings(database_url="sqlite://"))
    try:
        return dict(create_app(desk).fastapi.openapi())
    finally:
        desk.close()


schema = schemathesis.openapi.from_dict(_document())
schema.app = LATE


@dataclass
class Api:
    app: Any
    token: str


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, sqlite_web_template: Any) -> Iterator[Api]:
    path = tmp_path_factory.mktemp("api_schema") / "web.db"
    shutil.copyfile(sqlite_web_template, path)
    with pytest.MonkeyPatch.context() as mp:
        for key in list(os.environ):
            if key.startswith("CVDESK_") and key != PG_ENV:
                mp.delenv(key)
        desk = Desk(load_settings(database_url=f"sqlite:///{path}", actor="tester"),
                    clock=Clock(TEST_NOW))
        accounts = desk.accounts()
        me = accounts.sign_in("coord@test.example", PASSWORD).principal
        token = accounts.create_token(me, "schemathesis", TokenScope.WRITE, days=1).secret
        LATE.app = create_app(desk)
        try:
            yield Api(LATE.app, token)
        finally:
            LATE.app = None
            desk.close()


def test_the_document_is_served_as_read(api: Api) -> None:
    served = TestClient(api.app).get("/api/v1/openapi.json")
    assert served.status_code == 200 and served.json() == _document()


def test_a_wrong_method_is_answered_with_every_allowed_one(api: Api) -> None:
    """Found by schemathesis: a 405 came without Allow (RFC 9110 15.5.6), and where GET
    and POST are two routes on one path, Allow named only the first."""
    client = TestClient(api.app)
    auth = {"Authorization": f"Bearer {api.token}"}
    r = client.request("TRACE", "/api/v1/me", headers=auth)
    assert r.status_code == 405 and r.headers["allow"] == "GET"
    assert r.headers["content-type"].startswith("application/problem+json")
    r = client.request("OPTIONS", "/api/v1/tokens", headers=auth)
    assert r.status_code == 405 and r.headers["allow"] == "GET, POST"
    page = client.request("OPTIONS", "/healthz")
    assert page.status_code == 405 and page.headers["allow"] == "GET"


def test_a_body_that_is_not_utf8_json_is_a_documented_400(api: Api) -> None:
    """Found by schemathesis: such a body is answered 400, which no operation declared."""
    r = TestClient(api.app).post("/api/v1/tokens", content=b"\xff\xfe{", headers={
        "Authorization": f"Bearer {api.token}", "content-type": "application/json"})
    assert r.status_code == 400
    assert "400" in _document()["paths"]["/api/v1/tokens"]["post"]["responses"]


@pytest.mark.fuzz
@schema.parametrize()
@schema.given(known=st.sampled_from([None, CASE, OTHER, "CVD-2026-0003", "CVD-2026-0007"]))
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_api_answers_as_documented(case: Any, known: str | None, api: Api) -> None:
    # Random ids name no case: most of the time, ask about a demo case instead, so that the
    # operations get past "not found" (unless the id is the deliberately wrong part).
    params = case.path_parameters or {}
    if known and "case_id" in params and not case.meta.is_negative_at(ParameterLocation.PATH):
        params["case_id"] = known
    case.call_and_validate(headers={"Authorization": f"Bearer {api.token}"},
                           excluded_checks=[positive_data_acceptance])
