"""The public report form (issue 11): anonymous reports get a tracking id and a private
link that opens that one case; mistakes are named by field and keep what was typed; the
API takes the same form as JSON; anonymous senders are limited per address."""

from __future__ import annotations

import re

import pytest

from cvdesk.services import public_reports
from tests.web.conftest import CASE, Web, csrf_of

FORM = {"title": "Stored XSS in Widget admin", "description": "The name field is echoed.",
        "tlp": "AMBER", "reporter.name": "Rita Finder", "reporter.email": "rita@finder.example",
        "products": "Widget | 2.0 to 2.3\nWidget Cloud", "vendors": "Widget Works"}


def send(client, data: dict[str, str]):  # type: ignore[no-untyped-def]
    token = csrf_of(client.get("/report").text)
    return client.post("/report", data={"csrftoken": token, **data}, follow_redirects=False)


def test_anonymous_report_gets_a_tracking_id_and_a_link_to_that_case_only(web: Web) -> None:
    c = web.fresh()
    page = c.get("/report")
    assert page.status_code == 200
    for name in ("title", "description", "reporter.email", "products", "disclosure_date",
                 "share_contact", "wants_credit"):
        assert f'name="{name}"' in page.text
    done = send(c, FORM)
    assert done.status_code == 200, done.text
    tracking = re.search(r"<code>([^<]+)</code>", done.text).group(1)  # type: ignore[union-attr]
    link = re.search(r'href="http://testserver(/track/[^"]+)"', done.text).group(1)  # type: ignore[union-attr]
    case_id = next(c.case_id for c in web.desk.cases().list_cases(None).cases
                   if c.title == FORM["title"])
    # The link opens this case, and only this one.
    reporter = web.fresh()
    landed = reporter.get(link, follow_redirects=False)
    assert landed.status_code == 303 and landed.headers["location"] == f"/cases/{case_id}"
    assert reporter.get(f"/cases/{case_id}").status_code == 200
    assert reporter.get(f"/cases/{CASE}").status_code == 404
    listed = reporter.get("/api/v1/cases", params={"status": ""}).json()
    assert {x["case_id"] for x in listed["items"]} <= {case_id}
    assert reporter.get(f"/api/v1/cases/{case_id}").status_code == 200
    assert reporter.get(f"/api/v1/cases/{CASE}").status_code == 404
    # What the form said is what the case holds.
    view = web.desk.cases().show(case_id)
    assert {p.name for p in view.participants} >= {"Rita Finder", "Widget Works"}
    form = web.desk.cases().report(tracking).form
    assert form["products"][0]["version_text"] == "2.0 to 2.3"


def test_a_missing_title_is_named_and_what_was_typed_is_kept(web: Web) -> None:
    c = web.fresh()
    r = send(c, {**FORM, "title": "", "description": "kept <b>as typed</b>"})
    assert r.status_code == 422
    assert "title: required field is missing" in r.text
    assert 'data-field="title"' in r.text
    assert "kept &lt;b&gt;as typed&lt;/b&gt;" in r.text
    assert 'value="rita@finder.example"' in r.text


def test_a_bad_line_is_named_by_field_and_line(web: Web) -> None:
    r = send(web.fresh(), {**FORM, "public_urls": "https://ok.example/a\nnot a web address"})
    assert r.status_code == 422
    assert "public_urls[1]:" in r.text
    assert re.search(r'data-field="public_urls">[^<]*line 2: ', r.text)


def test_a_title_with_markup_is_shown_as_text(web: Web) -> None:
    r = send(web.fresh(), {**FORM, "title": "<script>alert(1)</script>"})
    assert r.status_code == 200
    assert "<script>alert(1)</script>" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text


def test_a_reporter_may_not_pose_as_the_desk(web: Web) -> None:
    desk_name = web.desk.settings.desk.name
    r = send(web.fresh(), {**FORM, "reporter.name": desk_name})
    assert r.status_code == 422 and 'data-field="reporter.name"' in r.text


def test_a_signed_in_reporter_finds_the_report_in_its_cases(web: Web) -> None:
    rep = web.login("reporter@test.example")
    done = send(rep, {**FORM, "title": "Second report by a known reporter"})
    assert done.status_code == 200 and "linked to your account" in done.text
    ids = {c["case_id"] for c in rep.get("/api/v1/cases", params={"status": ""}).json()["items"]}
    new = next(c.case_id for c in web.desk.cases().list_cases(None).cases
               if c.title == "Second report by a known reporter")
    assert ids == {CASE, new}


def test_the_api_takes_the_json_form(web: Web) -> None:
    c = web.fresh()
    body = {"title": "Path traversal", "description": "../../etc/passwd",
            "reporter": {"name": "Api Reporter"}, "products": ["Gizmo"]}
    r = c.post("/api/v1/reports", json=body)
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["tracking_id"] and got["link"].startswith("/track/")
    assert web.fresh().get(got["link"], follow_redirects=False).headers["location"] == \
        f"/cases/{got['case_id']}"
    bad = c.post("/api/v1/reports", json={"description": "x", "reporter": "R", "tlp": "blue"})
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    fields = {e["field"] for e in bad.json()["errors"]}
    assert {"title", "tlp"} <= fields
    dup = c.post("/api/v1/reports", content=b'{"title": "a", "title": "b"}',
                 headers={"content-type": "application/json"})
    assert dup.status_code == 422


def test_anonymous_reports_are_limited_per_address(web: Web,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(public_reports, "REPORTS_PER_WINDOW", 2)
    c = web.fresh()
    for i in range(2):
        assert send(c, {**FORM, "title": f"Report {i}"}).status_code == 200
    refused = send(c, {**FORM, "title": "One too many"})
    assert refused.status_code == 429 and "too many reports" in refused.text
    assert "Retry-After" in refused.headers
    api = web.fresh().post("/api/v1/reports",
                           json={"title": "t", "description": "d", "reporter": "R"})
    assert api.status_code == 429
    # A signed-in user is accountable and not limited this way.
    rep = web.login("reporter@test.example")
    assert send(rep, {**FORM, "title": "Signed in"}).status_code == 200
    # The window passes.
    web.clock.advance(hours=1, minutes=1)
    assert send(c, {**FORM, "title": "Later"}).status_code == 200
