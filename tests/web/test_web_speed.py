"""The web desk's reads stay few and cheap (issue 11, speed): what each page asks the
database, the case list's index, counts asked only when a page is full, and sessions
that end at once in every worker process although a request reads its session, user
and time zone in one statement."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, text
from starlette.testclient import TestClient

from cvdesk.app import Desk
from cvdesk.domain.wording import state_words
from cvdesk.services.portal_views import MessageView
from cvdesk.services.views import CaseSummary, ParticipantView
from cvdesk.store import portal as store_portal
from cvdesk.web.app import create_app
from cvdesk.web.render import state_title, when
from tests.web.conftest import CASE, PASSWORD, Web

COORD = "coord@test.example"


@contextmanager
def statements(desk: Desk) -> Iterator[list[str]]:
    """The SQL statements run meanwhile (BEGIN left out: SQLite's is a statement of its
    own, PostgreSQL's is not)."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.lstrip().upper().startswith("BEGIN"):
            seen.append(statement)

    event.listen(desk.db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(desk.db.engine, "before_cursor_execute", note)


def test_the_case_list_asks_the_session_and_one_page(web: Web) -> None:
    c = web.login(COORD)
    c.get("/cases")
    with statements(web.desk) as seen:
        assert c.get("/cases").status_code == 200
    # the session with its user and time zone; the page (16 cases: not full, no count)
    assert len(seen) == 2, seen
    with statements(web.desk) as seen:
        assert c.get("/cases?limit=5").status_code == 200
    assert len(seen) == 3, seen  # a full page: how many in all is counted


def test_the_case_page_asks_a_few_statements(web: Web) -> None:
    c = web.login(COORD)
    with statements(web.desk) as first:
        assert c.get(f"/cases/{CASE}").status_code == 200
    with statements(web.desk) as again:
        assert c.get(f"/cases/{CASE}").status_code == 200
    # Before: 23 statements each time (session, user, time zone, a count per list).
    assert len(first) <= 15, first
    assert len(again) <= 11, again  # what holds per case version is remembered


def test_totals_hold_without_counting_every_page(web: Web) -> None:
    """A page that is not full ends the list, so its total is known without a count; a
    full page, or an empty one past the end, is counted."""
    c = web.login(COORD)
    everyone = len(web.desk.cases().show(CASE).participants)
    for offset, limit in ((0, 1), (0, everyone), (0, everyone + 5), (everyone - 1, 5),
                          (everyone, 5), (everyone + 10, 5), (1, everyone - 1)):
        body = c.get(f"/api/v1/cases/{CASE}?offset={offset}&limit={limit}").json()
        assert body["participants"]["total"] == everyone, (offset, limit)
    cases = web.desk.case_count()
    for offset, limit in ((0, 1), (0, 200), (cases - 1, 10), (cases + 3, 10)):
        page = c.get(f"/api/v1/cases?status=&offset={offset}&limit={limit}").json()
        assert page["total"] == cases, (offset, limit)


def test_sign_out_and_password_change_end_sessions_in_every_worker(web: Web) -> None:
    """Two application instances over one database stand for two worker processes: a
    session ended through one is refused by the other at its next request."""
    other = Desk(web.desk.settings, clock=web.clock)
    second = TestClient(create_app(other), base_url="http://testserver")
    try:
        for end in ("sign out", "password"):
            c = web.login(COORD)
            token = c.cookies["cvdesk_session"]
            second.cookies.set("cvdesk_session", token)
            assert second.get("/api/v1/me").status_code == 200
            if end == "sign out":
                web.desk.accounts().sign_out(token)  # what POST /logout does
            else:
                me = web.desk.accounts().session_principal(token)
                web.desk.accounts().change_password(me, PASSWORD, PASSWORD + " anew")
                web.desk.accounts().change_password(me, PASSWORD + " anew", PASSWORD)
            assert second.get("/api/v1/me").status_code == 401, end
            assert second.get("/cases", follow_redirects=False).status_code == 303, end
    finally:
        second.close()
        other.close()


def test_time_zone_comes_with_the_session(web: Web) -> None:
    c = web.login(COORD)
    me = web.desk.accounts().session_principal(c.cookies["cvdesk_session"])
    before = c.get(f"/cases/{CASE}").text
    assert " CET (" not in before and " CEST (" not in before
    web.desk.accounts().set_time_zone(me, "Europe/Berlin")
    after = c.get(f"/cases/{CASE}").text  # the next request shows the new zone
    assert " CET (" in after or " CEST (" in after


def test_the_default_case_list_reads_in_index_order(web: Web) -> None:
    """Open cases by latest activity come from an index (migration 0014), not from
    sorting every open case."""
    if web.desk.db.backend != "sqlite":
        pytest.skip("SQLite's query plan")
    with web.desk.db.engine.connect() as conn:
        plan = " ".join(str(r[-1]) for r in conn.execute(text(
            "EXPLAIN QUERY PLAN SELECT id FROM cases WHERE status = 'open' "
            "ORDER BY last_event_at DESC, id DESC LIMIT 50")))
    assert "ix_cases_status_activity" in plan and "TEMP B-TREE" not in plan, plan


def test_rows_are_read_in_the_order_of_the_views_fields() -> None:
    """The portal builds its views from rows by position: the columns it reads must stay
    in the order of the views' fields."""
    def names(cls: Any) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    assert store_portal.SUMMARY_COLUMNS[0] == "id"
    assert store_portal.SUMMARY_COLUMNS[1:] == names(CaseSummary)
    assert names(ParticipantView) == store_portal.PARTICIPANT_COLUMNS
    assert names(MessageView) == store_portal.MESSAGE_COLUMNS


@pytest.mark.parametrize("zone", ["UTC", "Etc/UTC", "Europe/Berlin", "Europe/London",
                                  "America/New_York", "Asia/Kolkata", "Not/AZone", ""])
def test_times_read_as_before(zone: str) -> None:
    def old(value: datetime, zone: str, date_only: bool) -> str:  # the former filter
        from zoneinfo import ZoneInfo

        fmt = "%Y-%m-%d" if date_only else "%Y-%m-%d %H:%M"
        utc = value.astimezone(UTC)
        try:
            tz = ZoneInfo(zone)
        except (KeyError, ValueError):
            tz = ZoneInfo("UTC")
        local = value.astimezone(tz)
        if zone in ("UTC", "Etc/UTC") or local.utcoffset() == utc.utcoffset():
            return f"{utc.strftime(fmt)} UTC"
        return f"{local.strftime(fmt)} {local.tzname()} ({utc.strftime(fmt)} UTC)"

    for value in (datetime(2026, 1, 5, 23, 7, tzinfo=UTC), datetime(2026, 7, 1, 0, 0,
                                                                    tzinfo=UTC)):
        for date_only in (False, True):
            assert when(value, zone, date_only=date_only) == old(value, zone, date_only)
    assert when(None, zone) == "—"


def test_state_titles_read_as_before() -> None:
    for letters in ("pxa", "PXA", "pXa", "VFd", "vfd", "VFD", ""):
        assert state_title(letters) == "; ".join(w for _, _, w in state_words(letters))


def test_finding_kinds_are_read_again_only_for_a_kind_not_seen(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from cvdesk.services import portal_cache

    reads: list[int] = []
    stored = {"silent": {"problem": "p"}}

    def read(_session: Any) -> dict[str, dict[str, Any]]:
        reads.append(1)
        return dict(stored)

    monkeypatch.setattr(store_portal, "finding_kind_words", read)

    @dataclasses.dataclass
    class Row:
        data: dict[str, Any]

    db = object.__new__(type("Db", (), {}))
    assert portal_cache.finding_kinds(db, None, [Row({"kind": "silent"})]) == stored
    assert portal_cache.finding_kinds(db, None, [Row({"kind": "silent"}), Row({})]) == stored
    assert len(reads) == 1
    stored["leak"] = {"problem": "q"}  # a sweep stored a new kind
    assert "leak" in portal_cache.finding_kinds(db, None, [Row({"kind": "leak"})])
    assert len(reads) == 2
    assert "leak" in portal_cache.finding_kinds(db, None, [Row({"kind": "leak"})])
    assert len(reads) == 2
