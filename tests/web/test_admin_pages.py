"""Admin pages and API (issue 11): only site admins get in; users are made without a
password (a link is mailed) and can be disabled; every listing is paginated."""

from __future__ import annotations

import pytest

from tests.web import account_helpers
from tests.web.account_helpers import account_mail, link_in, post_form
from tests.web.conftest import PASSWORD, Web

mweb = account_helpers.mweb  # the fixture, for this module

ADMIN_PAGES = ["/admin/users", "/admin/organizations", "/admin/directory", "/admin/outbox",
               "/admin/quarantine", "/admin/audit"]
ADMIN_API = ["/api/v1/admin/users", "/api/v1/admin/audit"]


@pytest.mark.parametrize("email", ["coord@test.example", "vendor@test.example",
                                   "reporter@test.example"])
def test_admin_pages_are_refused_to_everyone_else(web: Web, email: str) -> None:
    c = web.login(email)
    for path in ADMIN_PAGES + ADMIN_API:
        assert c.get(path).status_code == 403, path


def test_admin_pages_send_the_anonymous_to_sign_in(web: Web) -> None:
    c = web.fresh()
    for path in ADMIN_PAGES:
        r = c.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), path
    for path in ADMIN_API:
        assert c.get(path).status_code == 401


def test_admin_sees_every_listing(web: Web) -> None:
    admin = web.login("admin@test.example")
    for path in ADMIN_PAGES:
        assert admin.get(path).status_code == 200, path
    assert "coord@test.example" in admin.get("/admin/users").text
    users = admin.get("/api/v1/admin/users", params={"limit": 2}).json()
    assert users["total"] >= 6 and len(users["items"]) == 2
    second = admin.get("/api/v1/admin/users", params={"limit": 2, "offset": 2}).json()
    assert {u["email"] for u in users["items"]}.isdisjoint(u["email"] for u in second["items"])
    audit = admin.get("/api/v1/admin/audit").json()
    assert any(e["action"] == "sign-in" for e in audit["items"])
    orgs = admin.get("/admin/organizations", params={"limit": 1})
    assert "next →" in orgs.text
    assert admin.get("/admin/outbox", params={"status": "nonsense"}).status_code == 422


def test_admin_makes_and_disables_an_account(mweb: Web) -> None:
    admin = mweb.login("admin@test.example")
    r = post_form(admin, "/admin/users", "/admin/users",
                  {"email": "New.Person@Test.Example", "name": "New <Person>",
                   "site_role": "coordinator", "organization": ""}, follow_redirects=False)
    assert r.status_code == 303
    page = admin.get("/admin/users").text
    assert "new.person@test.example" in page and "New &lt;Person&gt;" in page
    [(_, body)] = account_mail(mweb.desk, "account-welcome")
    path = link_in(body)
    new = mweb.fresh()
    token = path.rsplit("/", 1)[1]
    done = post_form(new, path, "/password/set", {"token": token,
                     "password": "a brand new passphrase", "repeat": "a brand new passphrase"},
                     follow_redirects=False)
    assert done.status_code == 303
    assert new.get("/api/v1/me").json()["site_role"] == "coordinator"
    # A second account with that address is refused, naming the field.
    again = post_form(admin, "/admin/users", "/admin/users",
                      {"email": "new.person@test.example", "name": "Twice"})
    assert again.status_code == 422 and "e-mail" in again.text
    # Disabling ends its sessions and its sign-in.
    user_id = next(u["id"] for u in admin.get("/api/v1/admin/users",
                                              params={"limit": 200}).json()["items"]
                   if u["email"] == "new.person@test.example")
    off = post_form(admin, "/admin/users", f"/admin/users/{user_id}/disable", {},
                    follow_redirects=False)
    assert off.status_code == 303
    assert new.get("/api/v1/me").status_code == 401
    with pytest.raises(AssertionError):
        mweb.login("new.person@test.example", password="a brand new passphrase")
    actions = [e["action"] for e in admin.get("/api/v1/admin/audit").json()["items"]]
    assert "user disabled" in actions and "user created" in actions


def test_an_admin_cannot_disable_itself(web: Web) -> None:
    admin = web.login("admin@test.example")
    me = admin.get("/api/v1/me").json()["user_id"]
    r = post_form(admin, "/admin/users", f"/admin/users/{me}/disable", {})
    assert r.status_code == 422


def test_account_page_changes_password_and_time_zone(web: Web) -> None:
    c = web.login("vendor@test.example")
    assert c.get("/account").status_code == 200
    wrong = post_form(c, "/account", "/account/password",
                      {"current": "not it at all", "password": "another long phrase",
                       "repeat": "another long phrase"})
    assert wrong.status_code == 422 and "current password" in wrong.text
    ok = post_form(c, "/account", "/account/password",
                   {"current": PASSWORD, "password": "another long phrase",
                    "repeat": "another long phrase"}, follow_redirects=False)
    assert ok.status_code == 303
    assert c.get("/account").status_code == 200  # this session is kept
    web.login("vendor@test.example", password="another long phrase")
    zone = post_form(c, "/account", "/account/timezone", {"zone": "Europe/Berlin"},
                     follow_redirects=False)
    assert zone.status_code == 303
    assert 'value="Europe/Berlin" selected' in c.get("/account").text
    bad = post_form(c, "/account", "/account/timezone", {"zone": "Mars/Olympus"})
    assert bad.status_code == 422 and "time zone" in bad.text


def test_api_tokens_shown_once_used_and_revoked(web: Web) -> None:
    c = web.login("coord@test.example")
    page = post_form(c, "/account", "/account/tokens", {"name": "ci <bot>", "scope": "read",
                                                        "days": "30"})
    assert page.status_code == 200 and "shown only once" in page.text
    assert "ci &lt;bot&gt;" in page.text
    secret = page.text.split('<p class="big"><code>', 1)[1].split("<", 1)[0]
    assert secret.startswith("cvd_") and secret not in c.get("/account").text
    bearer = {"authorization": f"Bearer {secret}"}
    api = web.fresh()
    assert api.get("/api/v1/me", headers=bearer).json()["scope"] == "read"
    # A read-only token cannot mint a write token (nor revoke).
    assert api.post("/api/v1/tokens", json={"name": "x", "scope": "write"},
                    headers=bearer).status_code == 403
    listed = api.get("/api/v1/tokens", headers=bearer).json()
    assert [t["name"] for t in listed] == ["ci <bot>"] and "secret" not in listed[0]
    # Revoked through the page; the token stops working.
    post_form(c, "/account", f"/account/tokens/{listed[0]['id']}/revoke", {})
    assert api.get("/api/v1/me", headers=bearer).status_code == 401


def test_api_token_create_and_delete(web: Web) -> None:
    c = web.login("vendor@test.example")
    made = c.post("/api/v1/tokens", json={"name": "w", "scope": "write", "days": 7},
                  headers={"x-csrftoken": c.cookies["csrftoken"]})
    assert made.status_code == 201 and made.json()["secret"].startswith("cvd_")
    bearer = {"authorization": f"Bearer {made.json()['secret']}"}
    api = web.fresh()
    other = web.login("other-vendor@test.example")
    theirs = other.post("/api/v1/tokens", json={"name": "o"},
                        headers={"x-csrftoken": other.cookies["csrftoken"]}).json()["id"]
    assert api.delete(f"/api/v1/tokens/{theirs}", headers=bearer).status_code == 404
    assert api.delete(f"/api/v1/tokens/{made.json()['id']}", headers=bearer).status_code == 204
    assert api.get("/api/v1/me", headers=bearer).status_code == 401


def test_a_report_link_revokes_no_token(web: Web) -> None:
    """Regression: revoking looked for the token of ``principal.user_id`` unless the
    principal was an admin, and a report link has no user id, so the filter fell away
    and a reporter's private link could revoke anyone's token."""
    from cvdesk.domain.accounts import LinkPurpose
    from tests.web.conftest import CASE, _reporter_pid

    coord = web.login("coord@test.example")
    made = coord.post("/api/v1/tokens", json={"name": "keep"},
                      headers={"x-csrftoken": coord.cookies["csrftoken"]}).json()
    link = web.desk.accounts().issue_link(LinkPurpose.REPORT, case_id=CASE,
                                          pid=_reporter_pid(web.desk, CASE))
    reporter = web.fresh()
    reporter.get(f"/track/{link}")
    r = reporter.delete(f"/api/v1/tokens/{made['id']}",
                        headers={"x-csrftoken": reporter.cookies.get("csrftoken", "")})
    assert r.status_code == 401
    bearer = {"authorization": f"Bearer {made['secret']}"}
    assert web.fresh().get("/api/v1/me", headers=bearer).status_code == 200
