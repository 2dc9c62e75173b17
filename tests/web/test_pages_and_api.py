"""The web desk's first slice (issue 11): sign-in with CSRF, sessions, the case list and
case page per principal, the API's problem details, and the security headers."""

from __future__ import annotations

from tests.web.conftest import CASE, OTHER, PASSWORD, Web, csrf_of


def test_pages_need_a_session_and_send_the_browser_to_sign_in(web: Web) -> None:
    r = web.fresh().get("/cases", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Fcases"
    api = web.fresh().get("/api/v1/cases")
    assert api.status_code == 401
    assert api.headers["content-type"].startswith("application/problem+json")
    assert api.json()["status"] == 401


def test_sign_in_needs_the_csrf_token_and_renews_the_session(web: Web) -> None:
    c = web.fresh()
    c.get("/login")
    refused = c.post("/login", data={"email": "coord@test.example", "password": PASSWORD})
    assert refused.status_code == 403
    first = web.login("coord@test.example", c)
    old = first.cookies.get("cvdesk_session")
    web.login("coord@test.example", c)
    assert c.cookies.get("cvdesk_session") != old
    assert web.desk.accounts().session_principal(c.cookies["cvdesk_session"]).is_staff


def test_wrong_password_is_refused_on_the_page(web: Web) -> None:
    c = web.fresh()
    token = csrf_of(c.get("/login").text)
    r = c.post("/login", data={"csrftoken": token, "email": "coord@test.example",
                               "password": "not the password at all"})
    assert r.status_code == 401 and "wrong e-mail or password" in r.text


def test_no_open_redirect_after_sign_in(web: Web) -> None:
    c = web.fresh()
    token = csrf_of(c.get("/login").text)
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        r = c.post("/login", data={"csrftoken": token, "email": "coord@test.example",
                                   "password": PASSWORD, "next": target},
                   follow_redirects=False)
        assert r.headers["location"] == "/"


def test_coordinator_sees_every_case_vendor_only_its_own(web: Web) -> None:
    coord = web.login("coord@test.example")
    all_cases = coord.get("/api/v1/cases", params={"status": "", "limit": 200}).json()
    assert all_cases["total"] >= 16
    vendor = web.login("vendor@test.example")
    mine = vendor.get("/api/v1/cases", params={"status": ""}).json()
    ids = {c["case_id"] for c in mine["items"]}
    assert CASE in ids and OTHER not in ids
    assert vendor.get(f"/api/v1/cases/{OTHER}").status_code == 404
    assert vendor.get(f"/cases/{OTHER}").status_code == 404
    page = vendor.get(f"/cases/{CASE}")
    assert page.status_code == 200 and CASE in page.text


def test_vendor_sees_only_itself_and_the_coordinators(web: Web) -> None:
    vendor = web.login("vendor@test.example")
    body = vendor.get(f"/api/v1/cases/{CASE}", params={"limit": 200}).json()
    roles = [set(p["roles"]) for p in body["participants"]["items"]]
    assert all("vendor" in r or "coordinator" in r for r in roles)
    mine = set(body["access"]["participants"])
    assert all(e["participant"] in (None, *mine) for e in body["events"])


def test_reporter_sees_its_report_case(web: Web) -> None:
    rep = web.login("reporter@test.example")
    ids = {c["case_id"] for c in rep.get("/api/v1/cases", params={"status": ""}).json()["items"]}
    assert ids == {CASE}
    assert "reporter" in rep.get(f"/api/v1/cases/{CASE}").json()["access"]["roles"] or \
        "finder" in rep.get(f"/api/v1/cases/{CASE}").json()["access"]["roles"]


def test_titles_from_outside_are_escaped(web: Web) -> None:
    from cvdesk.domain.model import Report, ReporterInfo

    case_id = web.desk.cases().submit_report(Report(
        title="<script>alert(1)</script>", description="x",
        reporter=ReporterInfo("<b>Mallory</b>"), vendors=("ACME",))).case_id
    coord = web.login("coord@test.example")
    page = coord.get(f"/cases/{case_id}").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>Mallory</b>" not in page


def test_security_headers_on_every_answer(web: Web) -> None:
    for path in ("/login", "/api/v1/cases", "/static/cvdesk.css"):
        r = web.fresh().get(path)
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
    cookie = web.login("coord@test.example").cookies
    assert cookie.get("cvdesk_session")


def test_session_cookie_is_httponly_and_samesite(web: Web) -> None:
    c = web.fresh()
    token = csrf_of(c.get("/login").text)
    r = c.post("/login", data={"csrftoken": token, "email": "coord@test.example",
                               "password": PASSWORD}, follow_redirects=False)
    header = r.headers["set-cookie"].lower()
    assert "cvdesk_session=" in header and "httponly" in header and "samesite=lax" in header


def test_api_tokens_read_scope_and_bad_tokens(web: Web) -> None:
    from cvdesk.domain.accounts import TokenScope

    accounts = web.desk.accounts()
    me = accounts.sign_in("coord@test.example", PASSWORD).principal
    token = accounts.create_token(me, "ci", TokenScope.READ, days=1).secret
    c = web.fresh()
    ok = c.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200
    bad = c.get("/api/v1/cases", headers={"Authorization": "Bearer cvd_nope"})
    assert bad.status_code == 401 and bad.headers["www-authenticate"].startswith("Bearer")


def test_bad_query_values_are_422_problems_naming_the_field(web: Web) -> None:
    coord = web.login("coord@test.example")
    r = coord.get("/api/v1/cases", params={"status": "banana"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "status"
    r = coord.get("/api/v1/cases", params={"limit": 100000})
    assert r.status_code == 422 and "limit" in r.json()["detail"]


def test_reading_an_embargoed_case_is_audited(web: Web) -> None:
    coord = web.login("coord@test.example")
    embargoed = [c["case_id"] for c in coord.get(
        "/api/v1/cases", params={"embargo": "active"}).json()["items"]]
    assert embargoed
    coord.get(f"/api/v1/cases/{embargoed[0]}")
    log = web.desk.accounts().audit_log(None, case_id=embargoed[0])
    assert any(e.action == "read embargoed case" for e in log.items)


def test_oversized_bodies_are_refused_before_they_are_read(web: Web) -> None:
    c = web.fresh()
    token = csrf_of(c.get("/login").text)
    r = c.post("/login", data={"csrftoken": token, "email": "coord@test.example",
                               "password": "x" * (5 * 1024 * 1024)})
    assert r.status_code == 413
    assert r.headers["content-type"] == "application/problem+json"


def test_a_form_that_is_not_utf8_is_a_400_not_a_server_error(web: Web) -> None:
    """The CSRF check decodes a form body strictly: a stray byte (not %FF, a raw 0xff)
    made every form post a 500.  It is refused as bad input; percent-escaped bytes are
    text and pass; a good form still works after."""
    c = web.fresh()
    token = csrf_of(c.get("/login").text)
    form = "application/x-www-form-urlencoded"
    for path in ("/login", "/report", "/password/reset"):
        r = c.post(path, content=b"csrftoken=" + token.encode() + b"&email=a\xff@b.example",
                   headers={"content-type": form})
        assert r.status_code == 400, (path, r.status_code)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["detail"].startswith("the form is not UTF-8 text")
    r = c.post("/login", content=("csrftoken=" + token + "&email=a%FF%40b.example&password=x"
                                  ).encode(), headers={"content-type": form})
    assert r.status_code in (200, 401, 422), r.status_code  # read: a wrong sign-in
    assert "wrong e-mail or password" in r.text
    web.login("coord@test.example", c)


def test_no_third_party_assets(web: Web) -> None:
    assert web.fresh().get("/api/v1/docs").status_code == 404
    assert web.fresh().get("/api/v1/openapi.json").status_code == 200
    import re

    for page in ("/login", "/report"):
        html = web.fresh().get(page).text
        assets = re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="([^"]+)"', html)
        assert assets and all(a.startswith("/static/") for a in assets), assets


def test_counts_and_dates_read_well(web: Web) -> None:
    coord = web.login("coord@test.example")
    page = coord.get(f"/cases/{CASE}").text
    assert "(1 vendor)" in page and "1 vendors" not in page
    listing = coord.get("/cases").text
    assert '<td class="when">' in listing
    assert "td.when { white-space: nowrap; }" in web.fresh().get("/static/cvdesk.css").text
