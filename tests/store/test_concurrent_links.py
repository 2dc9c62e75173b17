"""A user linked to a participant twice at the same moment (a second click on the same
invitation, or an invitation and an admin's link): one link, and neither transaction
fails, on both backends."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from cvdesk.domain.accounts import SiteRole
from cvdesk.intake import load_report_file
from cvdesk.services import CaseService
from cvdesk.store.accounts import AccountRepository
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
