"""The REST API against its own OpenAPI document (issue 11, Tests): schemathesis makes
requests from /api/v1/openapi.json, valid and not, and checks that none gets a 5xx and
that every answer (status, content type, body) is one the document declares.

It runs in process through the ASGI application (no network), on the demo with the web
test accounts, as a coordinator with a write API token: the principal that can reach the
most.  Writes it makes land in a database of this module's own.

Every check schemathesis has runs, "schema-valid data is accepted" too: the document
says the allowed values (the domain's enums), which text must not be blank, which
fields go together, so a request it calls valid is one the services understand.  Such a
request may still be refused for what the case holds (404: no such case or participant;
409: a transition its model does not allow from the current state, or a stale
``version``); those answers are documented and expected.  What no schema can say is
judged by the services and answered 422 naming the field; ``JUDGED`` lists, per
operation, the fields that may be refused so, and why: any other 422 to valid data
fails the test."""

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
from schemathesis.checks import CheckContext, negative_data_rejection, positive_data_acceptance
from schemathesis.config import SchemathesisConfig
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


#: What a valid request may be answered besides success: refused for what the case or
#: desk holds (403 confirming a statement is the vendor's own act, never staff's; 404;
#: 409), or throttled (429, the report form).  Not 401: every request is signed in.
ACCEPTED = ["2xx", "403", "404", "409", "429"]

#: Fields whose meaning the services judge beyond what the document can say, per
#: operation: a valid request refused 422 must name only these.
JUDGED: dict[str, set[str]] = {
    # the end must come after now, after the current end (extend), within the policy's
    # longest embargo; a proposed end that has passed cannot be accepted
    "POST /api/v1/cases/{case_id}/embargo": {"end"},
    # the attempt was made, so not in the future
    "POST /api/v1/cases/{case_id}/attempts": {"at"},
    # a snooze ends in the future
    "POST /api/v1/findings/{finding_id}/snooze": {"until"},
    # the named participant must be a vendor of this case; a coordinator names one
    "POST /api/v1/cases/{case_id}/events": {"vendor"},
    "POST /api/v1/cases/{case_id}/statements": {"vendor"},
    # a participant's thread must be one the caller may see in this case
    "GET /api/v1/cases/{case_id}/messages": {"thread"},
    # the report form has its own reader (guide appendix C): it takes synonyms and
    # text where lists are expected, and checks each value's meaning (dates, addresses,
    # CVE ids, lengths), naming every problem by its path
    "POST /api/v1/reports": {"*"},
    # the desk itself, or a participant with no e-mail address given or known, cannot be
    # invited; the schema cannot know which participant is which
    "POST /api/v1/cases/{case_id}/invitations": {"participant", "email"},
}

#: Operations whose reader takes more than the document spells out, on purpose: the
#: report form reads what people commonly write (a number where a name or a list is
#: expected, kept as written; README "The reader takes what people commonly write"),
#: so a body the schema calls invalid may be a good report.  Their refusals are still
#: checked (every 422 names its fields); only "invalid data is refused" is not asked.
FORGIVING = {"POST /api/v1/reports"}


def valid_data_is_accepted(ctx: CheckContext, response: Any, case: Any) -> bool | None:
    """schemathesis's "positive data acceptance", with the refusals ``JUDGED`` allows."""
    if response.status_code == 422 and case.meta is not None \
            and case.meta.generation.mode.is_positive:
        judged = JUDGED.get(case.operation.label, set())
        named = {e.get("field") for e in response.json().get("errors", ())}
        if named and ("*" in judged or named <= judged):
            return None
    return positive_data_acceptance(ctx, response, case)


schema = schemathesis.openapi.from_dict(_document(), config=SchemathesisConfig.from_dict(
    {"checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED}}}))
schema.app = LATE


@dataclass
class Api:
    app: Any
    token: str
    token_id: int


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
        made = accounts.create_token(me, "schemathesis", TokenScope.WRITE, days=1)
        LATE.app = create_app(desk)
        try:
            yield Api(LATE.app, made.secret, made.token.id)
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
@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_api_answers_as_documented(case: Any, known: str | None, api: Api) -> None:
    # Random ids name no case: most of the time, ask about a demo case instead, so that the
    # operations get past "not found" (unless the id is the deliberately wrong part).
    params = case.path_parameters or {}
    if known and "case_id" in params and not case.meta.is_negative_at(ParameterLocation.PATH):
        params["case_id"] = known
    if params.get("token_id") == api.token_id:  # revoking its own token ends the run
        params["token_id"] = api.token_id + 1_000_000
    excluded = [positive_data_acceptance]
    if case.operation.label in FORGIVING:
        excluded.append(negative_data_rejection)
    case.call_and_validate(headers={"Authorization": f"Bearer {api.token}"},
                           excluded_checks=excluded,
                           additional_checks=[valid_data_is_accepted])


# ------------------------------------------------------------------ what the document says
def _client(api: Api) -> tuple[TestClient, dict[str, str]]:
    return TestClient(api.app), {"Authorization": f"Bearer {api.token}"}


def _version(client: TestClient, auth: dict[str, str], case_id: str) -> int:
    return int(client.get(f"/api/v1/cases/{case_id}", headers=auth).json()["version"])


def test_allowed_values_are_the_domains_own() -> None:
    """The document offers exactly the values the domain knows (no copied lists)."""
    from cvdesk.domain.advisory import Justification, ProductStatus
    from cvdesk.domain.cs import CSEvent
    from cvdesk.domain.em import EM
    from cvdesk.domain.model import AttemptOutcome, CaseStatus, Channel, Role
    from cvdesk.services.portal import case_orders
    from cvdesk.services.portal_actions import EMBARGO_ACTIONS, NOTICES
    from cvdesk.services.publication import AdvisoryFormat

    doc = _document()
    shapes = doc["components"]["schemas"]

    def enum(name: str, field: str) -> list[str]:
        prop = shapes[name]["properties"][field]
        ref = prop.get("$ref") or next((s.get("$ref") for s in prop.get("anyOf", ())
                                        if "$ref" in s), None)
        if ref is None and "items" in prop:
            ref = prop["items"].get("$ref")
        return shapes[ref.rsplit("/", 1)[1]]["enum"] if ref else prop["enum"]

    assert enum("EventIn", "event") == [e.value for e in CSEvent]
    assert enum("EmbargoIn", "action") == list(EMBARGO_ACTIONS)
    assert enum("NotifyIn", "template") == list(NOTICES)
    assert enum("ParticipantIn", "role") == [r.value for r in Role]
    assert enum("AttemptIn", "channel") == [c.value for c in Channel]
    assert enum("AttemptIn", "outcome") == [o.value for o in AttemptOutcome]
    assert enum("StatementIn", "status") == [s.value for s in ProductStatus]
    assert enum("StatementIn", "justification") == [j.value for j in Justification]
    assert enum("PublishIn", "formats") == [f.value for f in AdvisoryFormat]
    query = {p["name"]: p["schema"] for p in doc["paths"]["/api/v1/cases"]["get"]["parameters"]}
    assert query["status"]["enum"] == ["", *(s.value for s in CaseStatus)]
    assert query["embargo"]["enum"] == ["", *(e.value for e in EM)]
    assert query["order"]["enum"] == list(case_orders())
    writes = doc["paths"]["/api/v1/cases/{case_id}/events"]["post"]["responses"]
    assert {"200", "404", "409", "422"} <= set(writes)
    assert writes["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/DoneModel")


def test_a_body_refused_by_its_schema_names_the_field_without_body(api: Api) -> None:
    client, auth = _client(api)
    r = client.post(f"/api/v1/cases/{CASE}/notes", headers=auth,
                    json={"version": 1, "text": " \u2003 "})
    assert r.status_code == 422
    assert r.json()["errors"] == [{"field": "text",
                                   "detail": "must not be empty or only white space"}]
    r = client.post(f"/api/v1/cases/{CASE}/events", headers=auth,
                    json={"version": 1, "event": "V"})
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["vendor"]
    r = client.post(f"/api/v1/cases/{CASE}/statements", headers=auth,
                    json={"version": 1, "vulnerability": "V1", "product": "x",
                          "status": "affected", "fixed_version": "2.0"})
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["fixed_version"]
    r = client.post("/api/v1/tokens", headers={**auth, "content-type": "application/json"},
                    content=b'{"name": ')
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body"


def test_the_domains_field_words_are_named_as_the_request_names_them(api: Api) -> None:
    """The domain says "note", "fixed version"; the problem names the body's field."""
    client, auth = _client(api)
    r = client.post(f"/api/v1/cases/{CASE}/notes", headers=auth,
                    json={"version": _version(client, auth, CASE), "text": "x" * 100_001})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "text"


def test_extending_without_an_embargo_is_a_409_naming_the_action(api: Api) -> None:
    """Found by schemathesis: the case's state refused it, answered 422 as bad input."""
    client, auth = _client(api)
    listed = client.get("/api/v1/cases", headers=auth,
                        params={"status": "open", "embargo": "none", "limit": 1}).json()
    case_id = listed["items"][0]["case_id"]
    r = client.post(f"/api/v1/cases/{case_id}/embargo", headers=auth, json={
        "version": _version(client, auth, case_id), "action": "extend",
        "end": "2027-01-10T09:00:00Z"})
    assert r.status_code == 409, r.text
    assert r.json()["errors"][0]["field"] == "action"
    assert "allowed from 'none': propose" in r.json()["detail"]


def test_revoking_a_token_that_is_not_there_is_404(api: Api) -> None:
    """Found by schemathesis: a token id in the path that names no token of the caller's
    was answered 422, as if the request were malformed."""
    client, auth = _client(api)
    r = client.delete(f"/api/v1/tokens/{api.token_id + 1_000_000}", headers=auth)
    assert r.status_code == 404 and r.headers["content-type"].startswith(
        "application/problem+json")


def test_a_write_answers_its_documented_shape(api: Api) -> None:
    client, auth = _client(api)
    r = client.post(f"/api/v1/cases/{CASE}/notes", headers=auth,
                    json={"version": _version(client, auth, CASE), "text": "shape"})
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"case_id", "action", "version", "message"}
