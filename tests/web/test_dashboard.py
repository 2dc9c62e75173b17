"""The dashboard (issue 11): the troubleshooting findings across the viewer's cases, most
urgent first, with the actions for the viewer's role; staff acknowledge or snooze them
with a reason, and a handled finding leaves the dashboard."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, update

from cvdesk.domain.accounts import TokenScope
from cvdesk.domain.case import Case
from cvdesk.domain.model import TLP, Role
from cvdesk.store.bulk import insert_cases
from cvdesk.store.tables import CaseRow, ParticipantRow, UserRow
from tests.web.conftest import CASE, OTHER, PASSWORD, Web, csrf_of

COORD, VENDOR = "coord@test.example", "vendor@test.example"
OTHER_REPORTER = "other-reporter@test.example"


def bearer(web: Web, email: str, scope: TokenScope = TokenScope.WRITE) -> dict[str, str]:
    accounts = web.desk.accounts()
    me = accounts.sign_in(email, PASSWORD).principal
    return {"Authorization": f"Bearer {accounts.create_token(me, 't', scope).secret}"}


def findings(web: Web, headers: dict[str, str], limit: int = 200) -> dict[str, Any]:
    r = web.client.get("/api/v1/findings", headers=headers, params={"limit": limit})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def swept(web: Web) -> Web:
    web.desk.doctor().sweep()
    return web


def test_staff_see_every_finding_most_urgent_first(web: Web) -> None:
    h = bearer(swept(web), COORD)
    page = findings(web, h)
    assert page["total"] > 10
    levels = [f["severity_level"] for f in page["items"]]
    assert levels == sorted(levels, reverse=True)
    assert all(f["may_handle"] and {a["role"] for a in f["actions"]} <= {"coordinator"}
               for f in page["items"])
    second = findings(web, h, limit=5)
    assert second["total"] == page["total"] and len(second["items"]) == 5
    html = web.login(COORD).get("/")
    assert html.status_code == 200
    first = page["items"][0]
    assert f'id="finding-{first["id"]}"' in html.text and first["case_id"] in html.text


def test_acknowledge_and_snooze_take_the_finding_off_the_dashboard(web: Web) -> None:
    h = bearer(swept(web), COORD)
    before = findings(web, h)
    first, second = before["items"][0], before["items"][1]
    coord = web.login(COORD)
    token = csrf_of(coord.get("/").text)
    r = coord.post(f"/findings/{first['id']}/acknowledge",
                   data={"csrftoken": token, "reason": "called the vendor"},
                   follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/?done=acknowledge"
    page = coord.get("/").text
    assert f'id="finding-{first["id"]}"' not in page and "acknowledged" in page
    r = web.client.post(f"/api/v1/findings/{second['id']}/snooze", headers=h,
                        json={"reason": "waiting for the patch",
                              "until": "2026-11-09T09:00:00Z"})
    assert r.status_code == 200 and r.json()["status"] == "snoozed"
    after = findings(web, h)
    assert after["total"] == before["total"] - 2
    assert {first["id"], second["id"]}.isdisjoint(f["id"] for f in after["items"])
    actions = {a.action for a in web.desk.accounts().audit_log(None, limit=200).items}
    assert {"finding acknowledged", "finding snoozed"} <= actions
    # when the snooze ends the finding is due again, even before the next sweep
    web.clock.advance(days=8)
    assert second["id"] in {f["id"] for f in findings(web, h)["items"]}


def test_handling_needs_a_reason_and_a_future_date(web: Web) -> None:
    h = bearer(swept(web), COORD)
    fid = findings(web, h)["items"][0]["id"]
    r = web.client.post(f"/api/v1/findings/{fid}/snooze", headers=h,
                        json={"reason": "later", "until": "2026-10-01T00:00:00Z"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "until"
    coord = web.login(COORD)
    token = csrf_of(coord.get("/").text)
    r = coord.post(f"/findings/{fid}/snooze", data={"csrftoken": token, "reason": "later",
                                                   "until": "2026-10-01"})
    assert r.status_code == 422 and "until: " in r.text
    r = coord.post(f"/findings/{fid}/acknowledge", data={"csrftoken": token, "reason": " "})
    assert r.status_code == 422 and "reason: " in r.text
    assert fid in {f["id"] for f in findings(web, h)["items"]}


def test_members_see_their_cases_findings_for_their_role_only(web: Web) -> None:
    swept(web)
    reporter = findings(web, bearer(web, OTHER_REPORTER))
    assert reporter["items"], "the reporter of OTHER has findings to act on"
    assert {f["case_id"] for f in reporter["items"]} == {OTHER}
    for f in reporter["items"]:
        assert not f["may_handle"] and "reporter" in f["concerns"]
        assert {a["role"] for a in f["actions"]} <= {"reporter"}
        assert "Globex" not in f["title"] and not f["evidence"]  # the vendor is not named
    vendor = findings(web, bearer(web, VENDOR))
    mine = {c["case_id"] for c in web.login(VENDOR).get(
        "/api/v1/cases", params={"status": "", "limit": 200}).json()["items"]}
    assert {f["case_id"] for f in vendor["items"]} <= mine
    assert all("vendor" in f["concerns"] for f in vendor["items"])
    page = web.login(OTHER_REPORTER).get("/")
    assert page.status_code == 200 and "Acknowledge" not in page.text


def test_only_staff_handle_findings_or_sweep(web: Web) -> None:
    fid = findings(swept(web), bearer(web, COORD))["items"][0]["id"]
    for email in (VENDOR, OTHER_REPORTER):
        h = bearer(web, email)
        r = web.client.post(f"/api/v1/findings/{fid}/acknowledge", headers=h,
                            json={"reason": "not mine to say"})
        assert r.status_code == 403
        assert web.client.post("/api/v1/findings/sweep", headers=h).status_code == 403
    vendor = web.login(VENDOR)
    token = csrf_of(vendor.get("/").text)
    r = vendor.post(f"/findings/{fid}/acknowledge", data={"csrftoken": token,
                                                          "reason": "x"})
    assert r.status_code == 403
    coord = web.login(COORD)
    r = coord.post("/findings/sweep", data={"csrftoken": csrf_of(coord.get("/").text)},
                   follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/?done=sweep"


def test_a_vendor_in_more_cases_than_a_statement_takes_parameters_sees_its_findings(
        web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    """The member dashboard named each of the vendor's cases as a parameter of one
    statement: a vendor in more cases than SQLite takes parameters (32,766) got a 500.
    Here SQLite is held to 100 parameters and the vendor takes part in 150 more cases."""
    if not web.desk.db.url.startswith("sqlite"):
        pytest.skip("the limit on parameters is SQLite's")
    db = web.desk.db
    with db.transaction() as session:
        org = session.scalars(select(ParticipantRow.organization_id)
                              .join(CaseRow, CaseRow.id == ParticipantRow.case_pk)
                              .join(UserRow, UserRow.organization_id
                                    == ParticipantRow.organization_id)
                              .where(CaseRow.case_id == CASE, UserRow.email == VENDOR)).first()
        assert org is not None
        at = web.clock.now - timedelta(days=40)  # stalled: a finding the vendor sees
        cases = []
        for n in range(150):
            case = Case.open(f"CVD-2025-{n:04d}", f"Old case {n}", TLP.AMBER, at=at, actor="t")
            case.add_participant("Rita", [Role.FINDER, Role.REPORTER], at=at, actor="t")
            case.add_participant("The vendor", [Role.VENDOR], at=at, actor="t")
            cases.append(case)
        insert_cases(session, cases)
        session.execute(update(ParticipantRow).where(
            ParticipantRow.name == "The vendor").values(organization_id=org))
    swept(web)
    db.engine.dispose()

    @event.listens_for(db.engine, "connect")
    def few_parameters(conn: Any, _record: Any) -> None:
        conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 100)

    try:
        page = findings(web, bearer(web, VENDOR))
    finally:
        event.remove(db.engine, "connect", few_parameters)
        db.engine.dispose()
    shown = {f["case_id"] for f in page["items"]}
    assert len({c for c in shown if c.startswith("CVD-2025-")}) == 150
    assert all("vendor" in f["concerns"] for f in page["items"])
