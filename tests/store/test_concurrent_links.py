"""Rows two writers may add at the same moment, on both backends: a user linked to a
participant twice (a second click on the same invitation), a sign-in failure counted
twice for a new key: neither transaction fails, and nothing is lost.  A coordinator
added twice: the second add is refused as a repeat is, not with a database error."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from cvdesk.domain.accounts import SiteRole
from cvdesk.domain.errors import InvalidInput
from cvdesk.intake import load_report_file
from cvdesk.services import CaseService
from cvdesk.store.accounts import AccountRepository
from cvdesk.store.coordinators import CoordinatorRepository
from cvdesk.store.db import Database
from cvdesk.store.tables import CaseMemberRow
from tests.conftest import TEST_NOW, until_blocked
from tests.store.test_storage import EXAMPLE


def test_two_transactions_linking_one_member_make_one_link(service: CaseService) -> None:
    db = service.db
    case_id = service.submit_report(load_report_file(EXAMPLE)).case_id
    with db.transaction() as s:
        user = AccountRepository(s).add_user(
            email="v@vendor.example", name="V", password_hash="", site_role=SiteRole.MEMBER,
            organization_id=None, now=TEST_NOW)
    outcome: dict[str, object] = {}
    linked, release = threading.Event(), threading.Event()

    def first() -> None:
        with db.transaction() as s:
            AccountRepository(s).add_member(user, case_id, 2, TEST_NOW)
            linked.set()
            assert release.wait(30)
        outcome["first"] = "ok"

    def second() -> None:
        try:
            with db.transaction() as s:
                AccountRepository(s).add_member(user, case_id, 2, TEST_NOW)
            outcome["second"] = "ok"
        except Exception as exc:  # the test looks at what it was
            outcome["second"] = exc

    a = threading.Thread(target=first)
    a.start()
    assert linked.wait(30)
    b = threading.Thread(target=second)
    b.start()
    until_blocked(db)
    release.set()
    a.join(30)
    b.join(30)
    assert outcome == {"first": "ok", "second": "ok"}
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(CaseMemberRow)) == 1


def test_two_failed_sign_ins_at_once_for_a_new_key_count_two(service: CaseService) -> None:
    """Parallel wrong passwords from an address never seen: the first failure's
    transaction holds the new key, the second waits for it and then counts on."""
    db = service.db
    outcome: dict[str, object] = {}
    counted, release = threading.Event(), threading.Event()

    def first() -> None:
        with db.transaction() as s:
            AccountRepository(s).add_failure("address:192.0.2.7", TEST_NOW, restart=True)
            counted.set()
            assert release.wait(30)
        outcome["first"] = "ok"

    def second() -> None:
        try:
            with db.transaction() as s:
                AccountRepository(s).add_failure("address:192.0.2.7", TEST_NOW, restart=False)
            outcome["second"] = "ok"
        except Exception as exc:  # the test looks at what it was
            outcome["second"] = exc

    a = threading.Thread(target=first)
    a.start()
    assert counted.wait(30)
    b = threading.Thread(target=second)
    b.start()
    until_blocked(db)
    release.set()
    a.join(30)
    b.join(30)
    assert outcome == {"first": "ok", "second": "ok"}
    with db.transaction() as s:
        repo = AccountRepository(s)
        assert repo.failures("address:192.0.2.7") == (2, TEST_NOW, TEST_NOW)
        later = TEST_NOW + timedelta(hours=2)
        repo.add_failure("address:192.0.2.7", later, restart=True)
        assert repo.failures("address:192.0.2.7") == (1, later, later)


def test_two_admins_adding_one_coordinator_get_one_and_a_refusal(db: Database) -> None:
    """The second add of the same coordinator, made while the first is still being
    written, is refused naming the field, as an add after it is."""
    outcome: dict[str, object] = {}
    added, release = threading.Event(), threading.Event()

    def add(name: str) -> None:
        with db.transaction() as s:
            CoordinatorRepository(s).add("Example CERT", "national", country="NL",
                                         email="", url="", notes="", now=TEST_NOW)
            if name == "first":
                added.set()
                assert release.wait(30)

    def run(name: str) -> None:
        try:
            add(name)
            outcome[name] = "ok"
        except Exception as exc:  # the test looks at what it was
            outcome[name] = exc

    a = threading.Thread(target=run, args=("first",))
    a.start()
    assert added.wait(30)
    b = threading.Thread(target=run, args=("second",))
    b.start()
    until_blocked(db)
    release.set()
    a.join(30)
    b.join(30)
    assert outcome["first"] == "ok"
    refused = outcome["second"]
    assert isinstance(refused, InvalidInput) and refused.field == "name", refused
    assert "already in the directory" in str(refused)
