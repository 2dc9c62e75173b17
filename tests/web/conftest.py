"""The web desk under test: the demo dataset, one account per kind of principal, and a
client that signs in through the real sign-in form (CSRF token included)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from cvdesk.app import Desk
from cvdesk.domain.accounts import SiteRole
from cvdesk.settings import load_settings
from cvdesk.web.app import create_app
from tests.conftest import PG_ENV, TEST_NOW, Clock, _demo_url, _pg_database

PASSWORD = "a long test passphrase"
CASE = "CVD-2026-0001"  # the case the vendor and reporter accounts take part in
OTHER = "CVD-2026-0002"  # a case they do not take part in


@dataclass
class Web:
    desk: Desk
    client: TestClient
    clock: Clock

    def fresh(self) -> TestClient:
        """Another browser (its own cookies) on the same app."""
        return TestClient(self.client.app, base_url="http://testserver")

    def login(self, email: str, client: TestClient | None = None,
              password: str = PASSWORD) -> TestClient:
        c = client or self.fresh()
        token = csrf_of(c.get("/login").text)
        r = c.post("/login", data={"csrftoken": token, "email": email,
                                   "password": password, "next": "/cases"},
                   follow_redirects=False)
        assert r.status_code == 303, r.text
        return c


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrftoken" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


#: email -> (name, site role, organization or None, (case, participant finder) or None)
ACCOUNTS = {
    "admin@test.example": ("Admin", SiteRole.ADMIN, None, None),
    "coord@test.example": ("Coordinator", SiteRole.COORDINATOR, None, None),
    "vendor@test.example": ("Vendor user", SiteRole.MEMBER, "vendor-of-case", None),
    "other-vendor@test.example": ("Other vendor", SiteRole.MEMBER, "vendor-of-other", None),
    "reporter@test.example": ("Reporter", SiteRole.MEMBER, None, CASE),
    "other-reporter@test.example": ("Other reporter", SiteRole.MEMBER, None, OTHER),
}


def _vendor_org(desk: Desk, case_id: str, exclude: set[str]) -> str:
    view = desk.cases().show(case_id)
    return next(p.organization or p.name for p in view.participants
                if p.is_vendor and (p.organization or p.name) not in exclude)


def _reporter_pid(desk: Desk, case_id: str) -> int:
    view = desk.cases().show(case_id)
    return next(p.pid for p in view.participants
                if {"reporter", "finder"} & set(p.roles.split(",")))


def _add_accounts(url: str) -> None:
    """The accounts of ``ACCOUNTS`` on a copy of the demo (argon2 hashing is slow by
    design, so this runs once per backend and tests copy the result)."""
    with pytest.MonkeyPatch.context() as mp:
        for key in list(os.environ):
            if key.startswith("CVDESK_") and key != PG_ENV:
                mp.delenv(key)
        desk = Desk(load_settings(database_url=url, actor="tester"), clock=Clock(TEST_NOW))
        try:
            _create_accounts(desk)
        finally:
            desk.close()


def _create_accounts(desk: Desk) -> None:
    accounts = desk.accounts()
    vendor_org = _vendor_org(desk, CASE, set())
    orgs_in_case = {p.organization or p.name for p in desk.cases().show(CASE).participants}
    other_org = _vendor_org(desk, OTHER, orgs_in_case)
    for email, (name, role, org, linked) in ACCOUNTS.items():
        org = {"vendor-of-case": vendor_org, "vendor-of-other": other_org}.get(org or "", org)
        user = accounts.create_user(email, name, PASSWORD, site_role=role, organization=org)
        if linked:
            accounts.link_member(user.id, linked, _reporter_pid(desk, linked))


@pytest.fixture(scope="session")
def sqlite_web_template(tmp_path_factory: pytest.TempPathFactory,
                        sqlite_demo_template: Path) -> Path:
    path = tmp_path_factory.mktemp("web_template") / "web.db"
    shutil.copyfile(sqlite_demo_template, path)
    _add_accounts(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_web_template(pg_demo_template: str) -> Iterator[str]:
    for url in _pg_database(pg_demo_template, prefix="cvdesk_web_tpl_"):
        _add_accounts(url)
        yield make_url(url).database or ""


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def web_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The demo at TEST_NOW with the accounts of ``ACCOUNTS``, on both backends."""
    yield from _demo_url(request, tmp_path, "web_")


@pytest.fixture
def web(web_db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Web]:
    for key in list(os.environ):
        if key.startswith("CVDESK_") and key != PG_ENV:
            monkeypatch.delenv(key)
    clock = Clock(TEST_NOW)
    desk = Desk(load_settings(database_url=web_db_url, actor="tester"), clock=clock)
    client = TestClient(create_app(desk), base_url="http://testserver")
    yield Web(desk, client, clock)
    client.close()
    desk.close()
