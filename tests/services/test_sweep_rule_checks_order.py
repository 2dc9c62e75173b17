"""``cases.rule_checks`` is written in one order, whichever way the sweep came to it (issue
9): a case asked only by the rules whose check has come (the rules taken from a set) and
its twin asked by every rule store the same text, entries sorted by name; on both
backends.  Before, the text followed the order the rules were asked in, which for a case
asked in part followed Python's string hashing."""

from __future__ import annotations

from sqlalchemy import select, update

from cvdesk.domain.model import AttemptOutcome, Channel, Role
from cvdesk.services import CaseService
from cvdesk.services.doctor import DoctorService
from cvdesk.store.tables import CaseRow
from tests.conftest import Clock
from tests.services.test_sweep_rule_checks import VENDORS, both, twins


def _checks(service: CaseService, cid: str) -> list[str]:
    with service.db.sessions() as s:
        text = s.scalars(select(CaseRow.rule_checks).where(CaseRow.case_id == cid)).one()
    return text.split(" ")[1:] if text else []


def test_rule_checks_text_is_the_same_however_the_case_was_asked(
        service: CaseService, clock: Clock) -> None:
    doctor = DoctorService(service.db, service.settings, clock=clock)
    pairs = twins(service)
    forced = [b for _, b in pairs]
    seen_partial_order = False

    def sweep() -> None:
        nonlocal seen_partial_order
        with service.db.transaction() as s:
            s.execute(update(CaseRow).where(CaseRow.case_id.in_(forced))
                      .values(needs_sweep=True))
        doctor.sweep()
        for a, b in pairs:
            mine, theirs = _checks(service, a), _checks(service, b)
            assert mine == theirs
            assert mine == sorted(mine)
            seen_partial_order = seen_partial_order or len(mine) > 1

    both(pairs, lambda c: [service.add_participant(c, v, [Role.VENDOR]) for v in VENDORS])
    both(pairs, lambda c: service.contact_attempt(c, "Acme", Channel.EMAIL,
                                                  AttemptOutcome.SENT))
    both(pairs, lambda c: service.contact_attempt(c, "Globex", Channel.PHONE,
                                                  AttemptOutcome.NO_REPLY))
    both(pairs, lambda c: service.contact_reply(c, "Acme", Channel.EMAIL))
    sweep()
    for hours in (1, 23, 30, 50, 24 * 9, 24 * 30):
        clock.advance(hours=hours)
        sweep()
    assert seen_partial_order  # some case kept more than one check
