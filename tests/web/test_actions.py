"""The write side of the web desk (issue 11): the coordinator's, vendor's and reporter's
actions on the case page and through the API, each refused to the roles it is not for,
written under the principal's name, audited, and refused when the case changed since
it was read (409)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.testclient import TestClient

from cvdesk.domain.accounts import TokenScope
from cvdesk.domain.events import EventType
from cvdesk.domain.model import Role
from tests.web.account_helpers import mweb  # noqa: F401  (the fixture below uses it)
from tests.web.conftest import CASE, OTHER, PASSWORD, Web, csrf_of

COORD, VENDOR = "coord@test.example", "vendor@test.example"
REPORTER, OTHER_VENDOR = "reporter@test.example", "other-vendor@test.example"
OTHER_REPORTER = "other-reporter@test.example"
VENDOR_PID = 3  # Acme Networks on CASE (the demo)


@pytest.fixture
def mailing(mweb: Web) -> Web:  # noqa: F811
    """The web desk with a sender address: notices and publication queue mail."""
    return mweb


def bearer(web: Web, email: str, scope: TokenScope = TokenScope.WRITE) -> dict[str, str]:
    accounts = web.desk.accounts()
    me = accounts.sign_in(email, PASSWORD).principal
    return {"Authorization": f"Bearer {accounts.create_token(me, 't', scope).secret}"}


def version(web: Web, case_id: str = CASE) -> int:
    return web.desk.cases().show(case_id).case.version


def events(web: Web, case_id: str = CASE) -> list[Any]:
    return list(web.desk.cases().timeline(case_id).events)


def post_form(client: TestClient, path: str, case_id: str = CASE,
              **data: Any) -> Any:
    """Send a form of the case page as a browser does: the CSRF token first."""
    page = client.get(f"/cases/{case_id}/act")
    assert page.status_code == 200, page.text
    return client.post(path, data={"csrftoken": csrf_of(page.text), **data},
                       follow_redirects=False)


# ------------------------------------------------------------------ coordinator (API)
def test_coordinator_runs_the_case_through_the_api(web: Web) -> None:
    h = bearer(web, COORD)
    api = web.client
    v = version(web)
    r = api.post(f"/api/v1/cases/{CASE}/notes", headers=h,
                 json={"version": v, "text": "called the vendor's PSIRT"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["version"] == v + 1 and body["action"] == "note"
    r = api.post(f"/api/v1/cases/{CASE}/events", headers=h,
                 json={"version": body["version"], "event": "D", "vendor": f"p{VENDOR_PID}",
                       "reason": "patch rolled out"})
    assert r.status_code == 200, r.text
    r = api.post(f"/api/v1/cases/{CASE}/embargo", headers=h,
                 json={"version": r.json()["version"], "action": "extend",
                       "end": "2026-12-01T09:00:00+01:00", "reason": "more time"})
    assert r.status_code == 200, r.text
    assert web.desk.cases().show(CASE).case.em_state == "revise"
    r = api.post(f"/api/v1/cases/{CASE}/embargo", headers=h,
                 json={"version": r.json()["version"], "action": "accept"})
    assert r.status_code == 200 and web.desk.cases().show(CASE).case.em_state == "active"
    r = api.post(f"/api/v1/cases/{CASE}/participants", headers=h,
                 json={"version": r.json()["version"], "name": "Initech PSIRT",
                       "email": "psirt@initech.example"})
    assert r.status_code == 200, r.text
    pid = r.json()["result"]["participant"]
    r = api.post(f"/api/v1/cases/{CASE}/attempts", headers=h,
                 json={"version": r.json()["version"], "participant": f"p{pid}",
                       "channel": "phone", "outcome": "no-reply"})
    assert r.status_code == 200, r.text
    r = api.post(f"/api/v1/cases/{CASE}/messages", headers=h,
                 json={"version": r.json()["version"], "participant": f"p{pid}",
                       "body": "Please confirm receipt."})
    assert r.status_code == 200, r.text
    log = events(web)
    mine = [e for e in log if e.seq > v]
    assert {e.type for e in mine} >= {EventType.NOTE, EventType.CS, EventType.EM,
                                      EventType.PARTICIPANT_ADDED,
                                      EventType.CONTACT_ATTEMPT, EventType.MESSAGE}
    assert all(e.actor.startswith("Coordinator (user ") for e in mine)
    audit = web.desk.accounts().audit_log(None, case_id=CASE, limit=50).items
    assert {"note", "case-state event", "embargo extend", "embargo accept",
            "add participant", "contact attempt", "message"} <= {a.action for a in audit}


def test_extension_must_be_later_than_the_current_end(web: Web) -> None:
    r = web.client.post(f"/api/v1/cases/{CASE}/embargo", headers=bearer(web, COORD),
                        json={"version": version(web), "action": "extend",
                              "end": "2026-11-10T09:00:00Z"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "end"


def test_stale_version_is_409_naming_the_version_and_writes_nothing(web: Web) -> None:
    h = bearer(web, COORD)
    v = version(web)
    assert web.client.post(f"/api/v1/cases/{CASE}/notes", headers=h,
                           json={"version": v, "text": "first"}).status_code == 200
    before = len(events(web))
    r = web.client.post(f"/api/v1/cases/{CASE}/notes", headers=h,
                        json={"version": v, "text": "based on an old read"})
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["field"] == "version"
    assert len(events(web)) == before
    # the same on a form: shown again with the refusal, at 409
    coord = web.login(COORD)
    page = post_form(coord, f"/cases/{CASE}/notes", text="stale form", version=str(v))
    assert page.status_code == 409 and "changed since it was read" in page.text
    assert len(events(web)) == before


def test_stale_version_on_services_that_load_the_case_themselves(mailing: Web) -> None:
    h = bearer(mailing, COORD)
    v = version(mailing, "CVD-2026-0013")
    r = mailing.client.post("/api/v1/cases/CVD-2026-0013/publish", headers=h,
                         json={"version": v - 1, "formats": ["csaf"], "early": True,
                               "reason": "exploit seen"})
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "version"
    r = mailing.client.post(f"/api/v1/cases/{CASE}/notify", headers=h,
                         json={"version": version(mailing) - 1})
    assert r.status_code == 409


def test_a_read_only_token_may_read_but_not_write(web: Web) -> None:
    h = bearer(web, COORD, TokenScope.READ)
    assert web.client.get(f"/api/v1/cases/{CASE}", headers=h).status_code == 200
    assert web.client.get("/api/v1/findings", headers=h).status_code == 200
    v = version(web)
    writes = {"notes": {"text": "x"}, "events": {"event": "P"},
              "embargo": {"action": "end"}, "participants": {"name": "X"},
              "notify": {}, "attempts": {"participant": "p3", "channel": "phone",
                                         "outcome": "sent"},
              "statements": {"vulnerability": "V1", "product": "p", "status": "fixed",
                             "fixed_version": "2.0", "vendor": "p3"},
              "statements/confirm": {"vulnerability": "V1", "product": "p"},
              "messages": {"body": "x"}, "publish": {}}
    for path, body in writes.items():
        r = web.client.post(f"/api/v1/cases/{CASE}/{path}", headers=h,
                            json={"version": v, **body})
        assert r.status_code == 403, (path, r.text)
    for path, body in (("acknowledge", {"reason": "x"}),
                       ("snooze", {"reason": "x", "until": "2027-01-01T00:00:00Z"})):
        assert web.client.post(f"/api/v1/findings/1/{path}", headers=h,
                               json=body).status_code == 403
    assert len(events(web)) == v


def test_forms_without_the_csrf_token_are_refused(web: Web) -> None:
    coord = web.login(COORD)
    v = version(web)
    r = coord.post(f"/cases/{CASE}/notes", data={"version": str(v), "text": "forged"},
                   follow_redirects=False)
    assert r.status_code == 403
    # a JSON write with the session cookie needs the header too
    r = coord.post(f"/api/v1/cases/{CASE}/notes", json={"version": v, "text": "forged"})
    assert r.status_code == 403
    assert version(web) == v


# ------------------------------------------------------------------ roles
COORDINATOR_WRITES = {"notes": {"text": "x"}, "events": {"event": "P"},
                      "embargo": {"action": "end"}, "participants": {"name": "Someone"},
                      "attempts": {"participant": "p2", "channel": "email",
                                   "outcome": "sent"}}


@pytest.mark.parametrize(("email", "status"), [(VENDOR, 403), (REPORTER, 403),
                                               (OTHER_VENDOR, 404), (OTHER_REPORTER, 404)])
def test_coordinator_actions_are_refused_to_others(web: Web, email: str, status: int) -> None:
    h = bearer(web, email)
    v = version(web)
    for path, body in COORDINATOR_WRITES.items():
        r = web.client.post(f"/api/v1/cases/{CASE}/{path}", headers=h,
                            json={"version": v, **body})
        assert r.status_code == status, (path, r.text)
    r = web.client.get(f"/api/v1/cases/{CASE}/advisory/preview", headers=h)
    assert r.status_code == status
    assert version(web) == v
    assert web.fresh().post(f"/api/v1/cases/{CASE}/notes",
                            json={"version": v, "text": "x"}).status_code in (401, 403)


def test_coordinator_forms_on_the_page(web: Web) -> None:
    coord = web.login(COORD)
    page = coord.get(f"/cases/{OTHER}")
    assert 'action="/cases/' + OTHER + '/embargo"' in page.text
    r = post_form(coord, f"/cases/{OTHER}/embargo", OTHER, version=str(version(web, OTHER)),
                  action="propose", end="2026-11-20T16:00", reason="standard window")
    assert r.status_code == 303, re.findall(r"class=.error.[^>]*>([^<]*)", r.text)
    assert r.headers["location"].startswith(f"/cases/{OTHER}?done=")
    assert web.desk.cases().show(OTHER).case.em_state == "proposed"
    shown = coord.get(r.headers["location"]).text
    assert "The embargo was updated." in shown
    bad = post_form(coord, f"/cases/{OTHER}/embargo", OTHER,
                    version=str(version(web, OTHER)), action="propose", end="next week")
    assert bad.status_code == 422
    assert "end: " in bad.text and 'aria-invalid="true"' in bad.text
    # a vendor's page has no coordinator forms, and posting one anyway is refused
    vendor = web.login(VENDOR)
    assert f'action="/cases/{CASE}/embargo"' not in vendor.get(f"/cases/{CASE}").text
    r = post_form(vendor, f"/cases/{CASE}/notes", version=str(version(web)), text="x")
    assert r.status_code == 403


# ------------------------------------------------------------------ vendor
def test_vendor_statement_is_its_own_words(web: Web) -> None:
    vendor = web.login(VENDOR)
    r = post_form(vendor, f"/cases/{CASE}/statements", version=str(version(web)),
                  vulnerability="V1", product="RouterOS 7", status="fixed",
                  fixed_version="7.15.1", statement="Fixed in 7.15.1.")
    assert r.status_code == 303, r.text
    case = vendor.get(f"/api/v1/cases/{CASE}").json()
    mine = [s for s in case["statements"] if s["product"] == "RouterOS 7"]
    assert len(mine) == 1 and mine[0]["on_behalf"] is False
    assert mine[0]["participant"] == VENDOR_PID and mine[0]["status"] == "fixed"
    logged = [e for e in events(web) if e.type is EventType.STATEMENT_RECORDED][-1]
    assert logged.actor.startswith("Vendor user (user ") and logged.data["on_behalf"] is False
    page = vendor.get(f"/cases/{CASE}").text
    assert "Fixed in 7.15.1." in page


def test_coordinator_enters_on_behalf_and_the_vendor_confirms(web: Web) -> None:
    h = bearer(web, COORD)
    r = web.client.post(f"/api/v1/cases/{CASE}/statements", headers=h, json={
        "version": version(web), "vulnerability": "V1", "product": "RouterOS 6",
        "status": "affected", "vendor": f"p{VENDOR_PID}"})
    assert r.status_code == 200 and r.json()["result"]["on_behalf"] is True
    refused = web.client.post(f"/api/v1/cases/{CASE}/statements/confirm", headers=h, json={
        "version": version(web), "vulnerability": "V1", "product": "RouterOS 6",
        "vendor": f"p{VENDOR_PID}"})
    assert refused.status_code == 403
    v = bearer(web, VENDOR)
    r = web.client.post(f"/api/v1/cases/{CASE}/statements/confirm", headers=v, json={
        "version": version(web), "vulnerability": "V1", "product": "RouterOS 6"})
    assert r.status_code == 200 and r.json()["result"]["on_behalf"] is False


def test_statements_refused_to_reporters_and_outsiders(web: Web) -> None:
    body = {"vulnerability": "V1", "product": "x", "status": "fixed", "fixed_version": "2.0"}
    for email, status in ((REPORTER, 403), (OTHER_VENDOR, 404), (OTHER_REPORTER, 404)):
        r = web.client.post(f"/api/v1/cases/{CASE}/statements", headers=bearer(web, email),
                            json={"version": version(web), **body})
        assert r.status_code == status, (email, r.text)
    # a vendor may not speak as another participant of the case
    r = web.client.post(f"/api/v1/cases/{CASE}/statements", headers=bearer(web, VENDOR),
                        json={"version": version(web), "vendor": "p2", **body})
    assert r.status_code == 403


def test_vendor_and_reporter_reply_in_their_own_threads(web: Web) -> None:
    vendor = web.login(VENDOR)
    r = post_form(vendor, f"/cases/{CASE}/messages", version=str(version(web)),
                  subject="Re: report", body="We are on it.")
    assert r.status_code == 303, r.text
    reporter = web.login(REPORTER)
    r = post_form(reporter, f"/cases/{CASE}/messages", version=str(version(web)),
                  body="Here is a second proof of concept.")
    assert r.status_code == 303, r.text
    log = events(web)
    messages = [e for e in log if e.type is EventType.MESSAGE][-2:]
    replies = [e for e in log if e.type is EventType.CONTACT_REPLY][-2:]
    rep_pid = messages[1].participant
    assert [m.participant for m in messages] == [VENDOR_PID, rep_pid] and rep_pid != VENDOR_PID
    assert all(m.data["direction"] == "in" and m.data["channel"] == "platform"
               for m in messages)
    assert [e.participant for e in replies] == [VENDOR_PID, rep_pid]
    # each thread is private: the vendor does not see the reporter's message
    seen = web.login(VENDOR).get(f"/api/v1/cases/{CASE}").json()["events"]
    assert all(e["participant"] in (None, VENDOR_PID) for e in seen)
    # nobody writes as another participant, nor in a case it takes no part in
    r = web.client.post(f"/api/v1/cases/{CASE}/messages", headers=bearer(web, VENDOR),
                        json={"version": version(web), "body": "x", "participant": "p2"})
    assert r.status_code == 403
    r = web.client.post(f"/api/v1/cases/{CASE}/messages",
                        headers=bearer(web, OTHER_REPORTER),
                        json={"version": version(web), "body": "x"})
    assert r.status_code == 404


# ------------------------------------------------------------------ notices, publication
def test_notify_queues_to_a_new_vendor(mailing: Web) -> None:
    h = bearer(mailing, COORD)
    r = mailing.client.post(f"/api/v1/cases/{CASE}/participants", headers=h, json={
        "version": version(mailing), "name": "Initech", "email": "psirt@initech.example"})
    pid = r.json()["result"]["participant"]
    r = mailing.client.post(f"/api/v1/cases/{CASE}/notify", headers=h, json={
        "version": r.json()["version"], "participants": [f"p{pid}"]})
    assert r.status_code == 200, r.text
    assert r.json()["result"]["queued"] == [
        {"participant": pid, "recipient": "psirt@initech.example", "new": True}]
    sent = [e for e in events(mailing) if e.type is EventType.MESSAGE][-1]
    assert sent.actor.startswith("Coordinator (user ") and sent.participant == pid
    r = mailing.client.post(f"/api/v1/cases/{CASE}/notify", headers=h,
                         json={"version": version(mailing), "template": "publication"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "template"


def test_preview_each_format_then_publish_early(mailing: Web) -> None:
    case_id = "CVD-2026-0013"  # embargo until 2026-12-02
    h = bearer(mailing, COORD)
    r = mailing.client.get(f"/api/v1/cases/{case_id}/advisory/preview", headers=h,
                        params=[("format", "csaf"), ("format", "markdown")])
    assert r.status_code == 200, r.text
    docs = r.json()["documents"]
    assert {"csaf", "markdown"} <= {d["format"] for d in docs}
    assert all(d["content"] for d in docs)
    coord = mailing.login(COORD)
    page = coord.get(f"/cases/{case_id}/advisory/preview",
                     params=[("format", "csaf"), ("format", "osv")])
    assert page.status_code == 200 and 'action="/cases/' + case_id + '/publish"' in page.text
    assert "&#34;csaf_version&#34;" in page.text or "&quot;csaf_version&quot;" in page.text
    r = mailing.client.post(f"/api/v1/cases/{case_id}/publish", headers=h,
                         json={"version": version(mailing, case_id), "formats": ["csaf"]})
    assert r.status_code in (409, 422)  # before the embargo end: only early, with a reason
    r = post_form(coord, f"/cases/{case_id}/publish", case_id,
                  version=str(version(mailing, case_id)), formats="csaf", early="true",
                  reason="exploit published", summary="Initial advisory")
    assert r.status_code == 303, r.text
    revisions = mailing.desk.publication().revisions(case_id)
    assert [x.version for x in revisions] == [1] and revisions[0].early
    logged = [e for e in events(mailing, case_id)
              if e.type is EventType.ADVISORY_PUBLISHED][-1]
    assert logged.actor.startswith("Coordinator (user ")
    assert any(a.action == "publish" for a in
               mailing.desk.accounts().audit_log(None, case_id=case_id).items)


def test_the_forms_offer_exactly_what_the_domain_knows(web: Web) -> None:
    """The case page's choices are written in its template: each must be a name the
    domain accepts, and none may be missing."""
    from cvdesk.domain.advisory import Justification, ProductStatus
    from cvdesk.domain.cs import CSEvent
    from cvdesk.domain.model import AttemptOutcome, Channel, Role
    from cvdesk.services.portal_actions import EMBARGO_ACTIONS, NOTICES

    html = web.login(COORD).get(f"/cases/{CASE}/act").text
    selects = {name: set(re.findall(r'<option value="([^"]*)"', body)) for name, body in
               re.findall(r'<select name="([a-z_]+)"[^>]*>(.*?)</select>', html, re.S)}
    assert selects["event"] == {e.value for e in CSEvent}
    assert selects["action"] == set(EMBARGO_ACTIONS)
    assert selects["role"] == {r.value for r in Role}
    assert selects["template"] == set(NOTICES)
    assert selects["channel"] == {c.value for c in Channel}
    assert selects["outcome"] == {o.value for o in AttemptOutcome}
    assert selects["status"] == {s.value for s in ProductStatus}
    assert selects["justification"] == {""} | {j.value for j in Justification}


# ------------------------------------------------------------------ vulnerabilities
def _vuln(web: Web, case_id: str, key: str) -> Any:
    return next(v for v in web.desk.cases().show(case_id).vulnerabilities if v.key == key)


def test_coordinator_adds_a_vulnerability_with_its_product_versions(web: Web) -> None:
    coord = web.login(COORD)
    assert f'action="/cases/{OTHER}/vulnerabilities"' in coord.get(f"/cases/{OTHER}").text
    before = len(web.desk.cases().show(OTHER).vulnerabilities)
    r = post_form(coord, f"/cases/{OTHER}/vulnerabilities", OTHER,
                  version=str(version(web, OTHER)), title="Stored XSS in comments",
                  cwes="CWE-79", product="Initech Portal", vendor="Initech",
                  introduced="3.0", fixed="3.5")
    assert r.status_code == 303, re.findall(r"class=.error.[^>]*>([^<]*)", r.text)
    assert r.headers["location"] == f"/cases/{OTHER}?done=vulnerability#actions"
    assert "The vulnerability was added." in coord.get(r.headers["location"]).text
    shown = web.desk.cases().show(OTHER).vulnerabilities
    assert len(shown) == before + 1
    added = shown[-1]
    assert added.title == "Stored XSS in comments" and added.data["cwes"] == ["CWE-79"]
    [product] = added.data["affected"]
    assert product["product"] == "Initech Portal" and product["vendor"] == "Initech"
    assert product["versions"] == [{"introduced": "3.0", "fixed": "3.5",
                                    "last_affected": None}]
    logged = [e for e in events(web, OTHER) if e.type is EventType.VULNERABILITY][-1]
    assert logged.actor.startswith("Coordinator (user ")
    assert any(a.action == "add vulnerability" for a in
               web.desk.accounts().audit_log(None, case_id=OTHER).items)


def test_product_versions_replace_a_listed_product_or_add_one(web: Web) -> None:
    coord = web.login(COORD)
    r = post_form(coord, f"/cases/{CASE}/vulnerabilities/versions",
                  version=str(version(web)), vulnerability="V1", product="Matrix Router",
                  vendor="Acme", last_affected="2.4", version_text="and older firmware",
                  title="Renamed by the form")
    assert r.status_code == 303, re.findall(r"class=.error.[^>]*>([^<]*)", r.text)
    v1 = _vuln(web, CASE, "V1")
    assert v1.title == "Renamed by the form"
    added = [a for a in v1.data["affected"] if a["product"] == "Matrix Router"]
    assert added == [{**added[0], "vendor": "Acme", "version_text": "and older firmware",
                      "versions": [{"introduced": None, "fixed": None,
                                    "last_affected": "2.4"}]}]
    count = len(v1.data["affected"])
    # the same product again: its versions are replaced, no second entry
    r = post_form(coord, f"/cases/{CASE}/vulnerabilities/versions",
                  version=str(version(web)), vulnerability="V1", product="matrix router",
                  introduced="2.0", last_affected="2.0")
    assert r.status_code == 303
    v1 = _vuln(web, CASE, "V1")
    assert len(v1.data["affected"]) == count
    [again] = [a for a in v1.data["affected"] if a["product"] == "Matrix Router"]
    assert again["versions"] == [{"introduced": "2.0", "fixed": None, "last_affected": "2.0"}]
    assert again["version_text"] == ""


def test_vulnerability_forms_refuse_bad_versions_and_other_roles(web: Web) -> None:
    coord = web.login(COORD)
    v = version(web)
    bad = post_form(coord, f"/cases/{CASE}/vulnerabilities/versions", version=str(v),
                    vulnerability="V1", product="Matrix Router", fixed="3", last_affected="2")
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text
    assert "versions: " in bad.text
    none = post_form(coord, f"/cases/{CASE}/vulnerabilities/versions", version=str(v),
                     vulnerability="V1", product="Matrix Router")
    assert none.status_code == 422 and "give the versions of" in none.text
    nameless = post_form(coord, f"/cases/{CASE}/vulnerabilities", version=str(v), title=" ")
    assert nameless.status_code == 422 and "title: " in nameless.text
    stale = post_form(coord, f"/cases/{CASE}/vulnerabilities", version=str(v - 1),
                      title="From an old read")
    assert stale.status_code == 409
    assert version(web) == v
    vendor = web.login(VENDOR)
    assert f'action="/cases/{CASE}/vulnerabilities"' not in vendor.get(f"/cases/{CASE}").text
    for path in ("vulnerabilities", "vulnerabilities/versions", "invitations"):
        r = post_form(vendor, f"/cases/{CASE}/{path}", version=str(v), title="x",
                      vulnerability="V1", product="x", fixed="1", participant="p3")
        assert r.status_code == 403, (path, r.text)
    assert version(web) == v


def test_coordinator_invites_a_participant_from_the_case_page(mailing: Web) -> None:
    from tests.web.account_helpers import account_mail, link_in

    pid = mailing.desk.cases().add_participant(OTHER, "Initech PSIRT", [Role.VENDOR],
                                               email="psirt@initech.example")
    coord = mailing.login(COORD)
    assert f'action="/cases/{OTHER}/invitations"' in coord.get(f"/cases/{OTHER}").text
    r = post_form(coord, f"/cases/{OTHER}/invitations", OTHER, participant=f"p{pid}")
    assert r.status_code == 303, r.text
    assert "The invitation was queued." in coord.get(r.headers["location"]).text
    [(row, body)] = account_mail(mailing.desk, "account-invite")
    assert row.recipient == "psirt@initech.example"
    assert link_in(body).startswith("/invite/")
    assert any(a.action == "invitation sent" for a in
               mailing.desk.accounts().audit_log(None, case_id=OTHER).items)
    refused = post_form(coord, f"/cases/{OTHER}/invitations", OTHER, participant="p1")
    assert refused.status_code == 422 and "the desk itself" in refused.text
