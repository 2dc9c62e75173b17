"""Storage on SQLite and PostgreSQL: projections equal the log, times keep their zone,
the log is append-only, migrations are idempotent, stale writes are refused."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from cvdesk.domain.codec import to_jsonable
from cvdesk.domain.cs import CSEvent
from cvdesk.domain.em import ConsentTrigger
from cvdesk.domain.model import AttemptOutcome, Channel, Role
from cvdesk.intake import load_report_file
from cvdesk.services import CaseService
from cvdesk.store import migrate
from cvdesk.store.cases import CaseRepository, ConcurrentUpdate, participant_values
from cvdesk.store.db import Database
from cvdesk.store.snapshot import case_from_rows
from tests.conftest import held_race

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "report.yaml"
CET = timezone(timedelta(hours=1))


def busy_case(service: CaseService, clock) -> str:  # type: ignore[no-untyped-def]
    start = clock.now
    # Received before the imported history below (nothing may predate the case).
    sub = service.submit_report(load_report_file(EXAMPLE), at=start - timedelta(days=4))
    cid = sub.case_id
    service.add_participant(cid, "Beta Corp", [Role.VENDOR, Role.DEPLOYER],
                            email="psirt@beta.example", at=start - timedelta(days=4))
    service.contact_attempt(cid, "p3", Channel.EMAIL, AttemptOutcome.SENT)
    service.contact_attempt(cid, "p4", Channel.WEB_FORM, AttemptOutcome.BOUNCED,
                            at=start - timedelta(days=3))  # imported history
    clock.advance(days=1)
    service.contact_reply(cid, "p3", Channel.EMAIL)  # implies V for p3 (Vultron RM -> CS)
    end = (start + timedelta(days=45)).astimezone(CET)
    service.propose_embargo(cid, end)
    service.consent(cid, "p3", ConsentTrigger.SIGN)
    service.embargo(cid, "accept")
    clock.advance(days=2)
    service.contact_attempt(cid, "p3", Channel.PHONE, AttemptOutcome.NO_REPLY)
    service.record_cs(cid, CSEvent.A, None)
    return cid


def test_projections_equal_the_replayed_log(service: CaseService, clock) -> None:  # type: ignore[no-untyped-def]
    cid = busy_case(service, clock)
    replayed = service.replay(cid)
    with service.db.sessions() as s:
        repo = CaseRepository(s)
        row = repo.case_row(cid)
        rows = repo.participants(row.id)
        snap = case_from_rows(row, rows)
        for r in rows:
            stored = {k: getattr(r, k) for k in participant_values(replayed.participants[r.pid])}
            assert stored == participant_values(replayed.participants[r.pid])
        for field in ("em", "embargo_end", "proposed_end", "pxa", "pxa_at", "status",
                      "last_event_at", "signals"):
            assert getattr(snap, field) == getattr(replayed, field), field
        assert row.version == replayed.seq
    p3 = replayed.participants[3]
    assert (p3.attempts, p3.attempts_since_reply, p3.replies, p3.rm.value) == (2, 1, 1,
                                                                              "received")
    assert replayed.participants[4].first_attempt_at == clock.now - timedelta(days=6)


def test_times_keep_their_instant_and_zone(service: CaseService, clock) -> None:  # type: ignore[no-untyped-def]
    cid = busy_case(service, clock)
    view = service.show(cid)
    assert view.case.embargo_end_text is not None
    end = datetime.fromisoformat(view.case.embargo_end_text)
    assert end.utcoffset() == timedelta(hours=1)
    assert view.case.embargo_end == end and view.case.embargo_end.tzinfo is not None
    assert all(e.at.tzinfo is not None for e in service.timeline(cid))


def test_report_form_round_trips(service: CaseService) -> None:
    report = load_report_file(EXAMPLE)
    sub = service.submit_report(report)
    assert service.report(sub.tracking_id).form == to_jsonable(report)
    assert re.fullmatch(r"VR-\d{4}-[A-Z2-9]{6}", sub.tracking_id)


def test_case_ids_are_sequential_and_tracking_ids_unique(service: CaseService, clock) -> None:  # type: ignore[no-untyped-def]
    report = load_report_file(EXAMPLE)
    subs = [service.submit_report(report) for _ in range(3)]
    year = clock.now.year
    assert [s.case_id for s in subs] == [f"CVD-{year}-000{i}" for i in (1, 2, 3)]
    assert len({s.tracking_id for s in subs}) == 3


@pytest.mark.parametrize("statement", ["UPDATE events SET actor = 'mallory'",
                                       "DELETE FROM events"])
def test_the_event_log_is_append_only(service: CaseService, statement: str) -> None:
    service.submit_report(load_report_file(EXAMPLE))
    with pytest.raises(DBAPIError, match="append-only"), service.db.engine.begin() as conn:
        conn.execute(text(statement))
    with service.db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM events")).scalar_one() > 0


def test_migrations_are_idempotent_and_match_the_tables(db: Database) -> None:
    assert migrate.current_revision(db) == migrate.head_revision(db) == "0016"
    assert migrate.upgrade(db) == ("0016", "0016")
    assert migrate.schema_differences(db) == []


def test_a_stale_write_is_refused(service: CaseService) -> None:
    cid = service.submit_report(load_report_file(EXAMPLE)).case_id
    with service.db.sessions() as s1:
        repo = CaseRepository(s1)
        row, stale = repo.load(cid)
        version = row.version
    service.note(cid, "someone else wrote first")
    stale.note("late writer", at=datetime.now(UTC), actor="x")
    with service.db.transaction() as s2:
        repo = CaseRepository(s2)
        fresh_row = repo.case_row(cid)
        with pytest.raises(ConcurrentUpdate):
            repo.save(fresh_row, stale, expected_version=version)


def test_sqlite_pragmas(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'p.db'}")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.dispose()


def test_two_transactions_starting_one_counter_get_one_number_each(db: Database) -> None:
    """The first case of a year, opened twice at the same moment: the first transaction
    starts the counter and holds it; the second waits for it (its row on PostgreSQL, the
    write lock on SQLite) and takes the next number instead of failing on the key."""
    numbers = held_race(db, lambda s: CaseRepository(s).next_number("case-1999"),
                        lambda s: CaseRepository(s).next_number("case-1999"))
    assert numbers == (1, 2)
    with db.transaction() as s:
        assert CaseRepository(s).new_case_id(1999) == "CVD-1999-0003"
