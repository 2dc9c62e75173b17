"""Invitations (issue 11): a coordinator invites a vendor's contact; the mail goes
through the outbox without a case (no contact attempt is logged for it); its link works
once, sets the password and lands on the case; the vendor then sees only that case."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from cvdesk.domain.model import Role
from cvdesk.services.worker import Worker
from cvdesk.settings import load_settings
from cvdesk.store.tables import EventRow, OutboxRow
from tests.mail.conftest import Recorder, smtp_server  # noqa: F401  (a fixture)
from tests.web import account_helpers
from tests.web.account_helpers import BASE, account_mail, link_in, post_form
from tests.web.conftest import CASE, OTHER, PASSWORD, Web

mweb = account_helpers.mweb  # the fixture, for this module

NEW_PASSWORD = "correct horse battery staple"


def new_vendor(web: Web, case_id: str = OTHER, name: str = "Initech PSIRT") -> int:
    return web.desk.cases().add_participant(case_id, name, [Role.VENDOR],
                                            email="psirt@initech.example")


def invite_through_api(web: Web, case_id: str, pid: int, **body: Any) -> Any:
    coord = web.login("coord@test.example")
    token = coord.post("/api/v1/tokens", json={"name": "t", "scope": "write"},
                       headers={"x-csrftoken": coord.cookies["csrftoken"]}).json()["secret"]
    return web.fresh().post(f"/api/v1/cases/{case_id}/invitations",
                            json={"participant": f"p{pid}", **body},
                            headers={"authorization": f"Bearer {token}"})


def test_invitation_link_sets_the_password_once_and_lands_on_the_case(mweb: Web) -> None:
    pid = new_vendor(mweb)
    r = invite_through_api(mweb, OTHER, pid)
    assert r.status_code == 201, r.text
    assert r.json()["new_account"] and r.json()["email"] == "psirt@initech.example"
    [(row, body)] = account_mail(mweb.desk, "account-invite")
    assert row.recipient == "psirt@initech.example" and row.participant is None
    assert OTHER in body and BASE in body
    path = link_in(body)
    assert path.startswith("/invite/")
    vendor = mweb.fresh()
    page = vendor.get(path)
    assert page.status_code == 200 and OTHER in page.text and "psirt@initech.example" in page.text
    token = path.rsplit("/", 1)[1]
    done = post_form(vendor, path, "/password/set", {"token": token, "purpose": "invite",
                     "password": NEW_PASSWORD, "repeat": NEW_PASSWORD},
                     follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/cases/{OTHER}"
    # Signed in, and sees only that case.
    ids = {c["case_id"] for c in vendor.get("/api/v1/cases", params={"status": ""}).json()["items"]}
    assert ids == {OTHER}
    assert vendor.get(f"/cases/{OTHER}").status_code == 200
    assert vendor.get(f"/cases/{CASE}").status_code == 404
    # The link worked once.
    again = mweb.fresh()
    assert again.get(path).status_code == 404
    assert mweb.login("psirt@initech.example", password=NEW_PASSWORD)


def test_an_account_with_a_password_is_linked_and_told(mweb: Web) -> None:
    pid = new_vendor(mweb, OTHER, "Known contact")
    r = invite_through_api(mweb, OTHER, pid, email="reporter@test.example")
    assert r.status_code == 201 and r.json()["template"] == "account-added"
    [(_, body)] = account_mail(mweb.desk, "account-added")
    assert link_in(body) == f"/cases/{OTHER}"
    rep = mweb.login("reporter@test.example")
    assert rep.get(f"/cases/{OTHER}").status_code == 200


def test_only_coordinators_invite(mweb: Web) -> None:
    pid = new_vendor(mweb)
    vendor = mweb.login("vendor@test.example")
    token = vendor.post("/api/v1/tokens", json={"name": "t", "scope": "write"},
                        headers={"x-csrftoken": vendor.cookies["csrftoken"]}).json()["secret"]
    r = mweb.fresh().post(f"/api/v1/cases/{OTHER}/invitations", json={"participant": str(pid)},
                          headers={"authorization": f"Bearer {token}"})
    assert r.status_code == 403
    assert account_mail(mweb.desk) == []


def test_invitation_needs_an_address_and_not_the_desk(mweb: Web) -> None:
    pid = mweb.desk.cases().add_participant(OTHER, "No Mail Inc", [Role.VENDOR])
    r = invite_through_api(mweb, OTHER, pid)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "email"  # the body's
    desk_itself = invite_through_api(mweb, OTHER, 1)
    assert desk_itself.status_code == 422


def test_the_worker_delivers_account_mail_without_logging_on_a_case(
        mweb: Web, smtp_server: tuple[Recorder, int]) -> None:  # noqa: F811
    recorder, port = smtp_server
    pid = new_vendor(mweb)
    mweb.desk.invitations().invite(None, OTHER, str(pid))
    with mweb.desk.db.sessions() as s:
        events = s.scalar(select(func.count()).select_from(EventRow))
    settings = load_settings(database_url=mweb.desk.settings.database_url, actor="tester",
                             desk={"email": "cert@desk.example"},
                             smtp={"port": port, "lease_seconds": 30})
    stats = Worker(mweb.desk.db, settings, clock=mweb.clock).run()
    assert stats.sent == 1 and stats.failed == 0
    [msg] = recorder.parsed()
    assert msg["To"] == "psirt@initech.example" and "/invite/" in msg.get_content()
    with mweb.desk.db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(EventRow)) == events
        assert s.scalar(select(OutboxRow.status).where(OutboxRow.case_pk.is_(None))) == "sent"


def test_cli_invites(mweb: Web, cli_runner: Any) -> None:
    pid = new_vendor(mweb)
    url = mweb.desk.settings.database_url
    cli_runner.monkeypatch.setenv("CVDESK_DESK__EMAIL", "cert@desk.example")
    out = cli_runner.ok("--database-url", url, "user", "invite", OTHER, f"p{pid}")
    assert "invitation queued (new account) for psirt@initech.example" in out
    assert len(account_mail(mweb.desk, "account-invite")) == 1


@pytest.mark.parametrize("known", [True, False])
def test_password_reset_answers_the_same_and_its_link_works_once(mweb: Web,
                                                                  known: bool) -> None:
    email = "vendor@test.example" if known else "nobody@test.example"
    c = mweb.fresh()
    r = post_form(c, "/password/reset", "/password/reset", {"email": email})
    assert r.status_code == 200 and "If the address belongs to an account" in r.text
    mail = account_mail(mweb.desk, "account-reset")
    if not known:
        assert mail == []
        return
    [(row, body)] = mail
    assert row.recipient == email
    path = link_in(body)
    token = path.rsplit("/", 1)[1]
    assert c.get(path).status_code == 200
    short = post_form(c, path, "/password/set", {"token": token, "password": "short",
                                                 "repeat": "short"})
    assert short.status_code == 422 and "at least 12 characters are needed" in short.text
    done = post_form(c, path, "/password/set", {"token": token, "password": NEW_PASSWORD,
                                                "repeat": NEW_PASSWORD},
                     follow_redirects=False)
    assert done.status_code == 303
    assert mweb.login(email, password=NEW_PASSWORD)
    assert mweb.fresh().get(path).status_code == 404
    with pytest.raises(AssertionError):
        mweb.login(email, password=PASSWORD)


def test_password_reset_is_limited_per_address(mweb: Web) -> None:
    c = mweb.fresh()
    for _ in range(5):
        assert post_form(c, "/password/reset", "/password/reset",
                         {"email": "vendor@test.example"}).status_code == 200
    assert len(account_mail(mweb.desk, "account-reset")) == 3  # per account, quietly
    refused = post_form(c, "/password/reset", "/password/reset", {"email": "x@test.example"})
    assert refused.status_code == 429
