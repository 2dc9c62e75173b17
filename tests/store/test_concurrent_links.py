"""Rows two writers may add at the same moment, on both backends: a user linked to a
participant twice (a second click on the same invitation), a sign-in failure counted
twice for a new key: neither transaction fails, and nothing is lost.  A coordinator
added twice: the second add is refused as a repeat is, not with a database error."""

from __future__ import annotations

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
from tests.conftest import TEST_NOW, held_race
from tests.store.test_storage import EXAMPLE


def test_two_transactions_linking_one_member_make_one_link(service: CaseService) -> None:
    db = service.db
    case_id = service.submit_report(load_report_file(EXAMPLE)).case_id
    with db.transaction() as s:
        user = AccountRepository(s).add_user(
            email="v@vendor.example", name="V", password_hash="", site_role=SiteRole.MEMBER,
            organization_id=None, now=TEST_NOW)

    def link(s: object) -> str:
        AccountRepository(s).add_member(user, case_id, 2, TEST_NOW)  # type: ignore[arg-type]
        return "ok"

    assert held_race(db, link, link) == ("ok", "ok")
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(CaseMemberRow)) == 1


def test_two_failed_sign_ins_at_once_for_a_new_key_count_two(service: CaseService) -> None:
    """Parallel wrong passwords from an address never seen: the first failure's
    transaction holds the new key, the second waits for it and then counts on."""
    db = service.db
    key = "address:192.0.2.7"

    def fail(restart: bool):  # type: ignore[no-untyped-def]
        def count(s: object) -> str:
            AccountRepository(s).add_failure(key, TEST_NOW, restart=restart)  # type: ignore[arg-type]
            return "ok"
        return count

    assert held_race(db, fail(True), fail(False)) == ("ok", "ok")
    with db.transaction() as s:
        repo = AccountRepository(s)
        assert repo.failures(key) == (2, TEST_NOW, TEST_NOW)
        later = TEST_NOW + timedelta(hours=2)
        repo.add_failure(key, later, restart=True)
        assert repo.failures(key) == (1, later, later)


def test_two_admins_adding_one_coordinator_get_one_and_a_refusal(db: Database) -> None:
    """The second add of the same coordinator, made while the first is still being
    written, is refused naming the field, as an add after it is."""
    def add(s: object) -> str:
        CoordinatorRepository(s).add(  # type: ignore[arg-type]
            "Example CERT", "national", country="NL", email="", url="", notes="",
            now=TEST_NOW)
        return "ok"

    first, refused = held_race(db, add, add)
    assert first == "ok"
    assert isinstance(refused, InvalidInput) and refused.field == "name", refused
    assert "already in the directory" in str(refused)
