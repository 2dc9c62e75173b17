"""Helpers for the account tests (reports, invitations, resets, admin): a web desk that
can send mail (a sender address and a public base URL), and the links its account mail
carries, read from the outbox as the worker would send them."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from email import message_from_string, policy
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from cvdesk.app import Desk
from cvdesk.settings import load_settings
from cvdesk.store.tables import OutboxRow
from cvdesk.web.app import create_app
from tests.conftest import PG_ENV, TEST_NOW, Clock
from tests.web.conftest import Web, csrf_of

BASE = "https://desk.example"
SENDER = "cert@desk.example"


@pytest.fixture
def mweb(web_db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Web]:
    """The ``web`` fixture's desk (demo + accounts, both backends) with a sender address
    and ``web.base_url`` set, so account mail can be queued."""
    for key in list(os.environ):
        if key.startswith("CVDESK_") and key != PG_ENV:
            monkeypatch.delenv(key)
    clock = Clock(TEST_NOW)
    settings = load_settings(database_url=web_db_url, actor="tester",
                             desk={"email": SENDER}, web={"base_url": BASE})
    desk = Desk(settings, clock=clock)
    client = TestClient(create_app(desk), base_url="http://testserver")
    yield Web(desk, client, clock)
    client.close()
    desk.close()


def account_mail(desk: Desk, template: str | None = None) -> list[tuple[OutboxRow, str]]:
    """(outbox row, text body) of each queued account message, oldest first."""
    with desk.db.sessions() as s:
        rows = list(s.scalars(select(OutboxRow).where(OutboxRow.case_pk.is_(None))
                              .order_by(OutboxRow.id)))
        s.expunge_all()
    out = []
    for row in rows:
        if template is None or row.template == template:
            msg = message_from_string(row.raw, policy=policy.default)
            out.append((row, msg.get_body(("plain",)).get_content()))  # type: ignore[union-attr]
    return out


def link_in(body: str) -> str:
    """The path of the one desk link in a message body."""
    found = re.search(re.escape(BASE) + r"(/[\w/-]+)", body)
    assert found, body
    return found.group(1)


def post_form(client: TestClient, page: str, action: str, data: dict[str, str],
              **kw: Any) -> Any:
    """GET ``page`` for its CSRF token, then POST ``data`` (token first) to ``action``."""
    token = csrf_of(client.get(page).text)
    return client.post(action, data={"csrftoken": token, **data}, **kw)
