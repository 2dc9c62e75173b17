"""What a sweep writes: only the findings whose stored facts changed are rewritten (a
count of days or hours is worded when shown, not stored), and words that carry a NUL
are stored as the data column stores them (U+FFFD), on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select

from cvdesk.domain.model import Report, ReporterInfo, Role, SignalKind
from cvdesk.services import CaseService
from cvdesk.services.doctor import DoctorService, finding_data
from cvdesk.store.findings import FindingRepository, json_text, same_data
from cvdesk.store.tables import FindingRow
from cvdesk.store.types import without_nul
from cvdesk.troubleshoot import diagnose
from cvdesk.troubleshoot.stored import facts, whole, worded
from tests.conftest import Clock


@contextmanager
def statements(service: CaseService) -> Iterator[list[str]]:
    seen: list[str] = []

    def log(_c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        seen.append(" ".join(statement.split()).lower())

    event.listen(service.db.engine, "before_cursor_execute", log)
    try:
        yield seen
    finally:
        event.remove(service.db.engine, "before_cursor_execute", log)


def stored(service: CaseService) -> dict[str, tuple[Any, ...]]:
    with service.db.sessions() as s:
        return {f.key: (f.id, f.data, f.first_seen_at, f.last_seen_at, f.status)
                for f in s.scalars(select(FindingRow))}


def test_unchanged_findings_are_not_rewritten_and_nul_is_stored_replaced(
        service: CaseService, clock: Clock) -> None:
    cid = service.submit_report(Report("Bug", "desc", ReporterInfo("Rita")), actor="t").case_id
    service.add_participant(cid, "Ac\x00me", [Role.VENDOR])
    service.observe(cid, SignalKind.LEGAL_THREAT, text="cease\x00 and desist")
    clock.advance(days=2, minutes=1)
    doctor = DoctorService(service.db, service.settings, clock=clock)
    doctor.sweep()
    first = stored(service)
    expected = diagnose(service.replay(cid), service.settings.policy, clock.now)
    # Stored: the facts (counts of hours and days as pieces), worded again when shown;
    # short when the kind's words can be named, whole when a NUL had to be replaced.
    with service.db.sessions() as s:
        kinds = FindingRepository(s).kinds()
    assert {k: whole(v[1], kinds[v[1]["kind"]]) if "kind" in v[1] else v[1]
            for k, v in first.items()} == {
        f.key: without_nul(facts(f)) for f in expected.findings}
    assert {k: worded(v[1], clock.now, kinds) for k, v in first.items()} == {
        f.key: without_nul(finding_data(f)) for f in expected.findings}
    assert {"vendor-not-notified:p3", "legal-threat:-"} <= set(first)
    assert "Ac\ufffdme has not been notified" in [v[1]["title"] for v in first.values()]

    # A new event makes the case due again; a few minutes later nothing is written.
    clock.advance(minutes=5)
    service.note(cid, "asked around for a contact")
    with statements(service) as seen:
        assert doctor.sweep().swept == 1
    assert [s for s in seen if s.startswith(("update findings", "insert into findings"))] == []
    assert stored(service) == first

    # An hour later the hour count in the evidence moves, but only in the words shown:
    # the stored facts are the same, so nothing is rewritten.
    clock.advance(hours=1)
    service.note(cid, "still looking")
    with statements(service) as seen:
        shown = doctor.sweep()
    assert [s for s in seen if s.startswith(("update findings", "insert into findings"))] == []
    assert stored(service) == first
    expected = diagnose(service.replay(cid), service.settings.policy, clock.now)
    assert {f.data["key"]: f.data for f in shown.findings} == {
        f.key: without_nul(finding_data(f)) for f in expected.findings}
    assert any("49 hours" in e for f in shown.findings for e in f.data["evidence"])


def test_json_text_replaces_nul_and_leaves_look_alikes() -> None:
    assert json_text({"a": "x\x00y"}) == '{"a": "x\\ufffdy"}'
    assert json_text({"a\x00": ["\x00"]}) == '{"a\\ufffd": ["\\ufffd"]}'
    look_alike = {"a": "\\u0000 is how JSON writes NUL"}
    assert json_text(look_alike) == '{"a": "\\\\u0000 is how JSON writes NUL"}'
    assert same_data(json_text(look_alike), json_text(look_alike))
    assert same_data(look_alike, json_text(look_alike))  # PostgreSQL gives it parsed
    assert not same_data({"a": "b"}, json_text({"a": "c"}))


def test_sweep_a_day_later_rewrites_only_what_moved(service: CaseService,
                                                      clock: Clock) -> None:
    cid = service.submit_report(Report("Bug", "desc", ReporterInfo("Rita")), actor="t").case_id
    service.add_participant(cid, "Acme", [Role.VENDOR])
    service.observe(cid, SignalKind.HOSTILE_TONE, text="rude")
    clock.advance(days=2)
    doctor = DoctorService(service.db, service.settings, clock=clock)
    doctor.sweep()
    before = stored(service)
    # A day later the count of hours moved, nothing else: nothing is rewritten.
    clock.advance(days=1)
    service.note(cid, "n")
    doctor.sweep()
    assert stored(service) == before
    # Another hostile message adds evidence: that finding alone is rewritten.
    clock.advance(hours=2)
    service.observe(cid, SignalKind.HOSTILE_TONE, text="ruder")
    shown = doctor.sweep()
    after = stored(service)
    assert after["vendor-not-notified:p3"] == before["vendor-not-notified:p3"]
    assert after["hostile-tone:-"][1] != before["hostile-tone:-"][1]
    assert after["hostile-tone:-"][3] == clock.now
    expected = diagnose(service.replay(cid), service.settings.policy, clock.now)
    assert {f.data["key"]: f.data for f in shown.findings} == {
        f.key: finding_data(f) for f in expected.findings}


def test_a_sweep_goes_through_every_due_case_batch_after_batch(
        service: CaseService, clock: Clock, monkeypatch: Any) -> None:
    """Batches follow each other by case number; a small batch size must still reach
    every due case once, with the same findings as one big batch."""
    import cvdesk.services.doctor as doctor_module

    ids = []
    for n in range(7):
        cid = service.submit_report(Report(f"Bug {n}", "desc", ReporterInfo("Rita")),
                                    actor="t").case_id
        service.add_participant(cid, f"Vendor {n}", [Role.VENDOR])
        ids.append(cid)
    clock.advance(days=2)
    monkeypatch.setattr(doctor_module, "BATCH", 3)
    doctor = DoctorService(service.db, service.settings, clock=clock)
    result = doctor.sweep()
    assert result.swept == 7
    assert sorted({f.case_id for f in result.findings}) == sorted(ids)
    assert all(result.next_checks[c] is not None for c in ids)
    assert doctor.sweep().swept == 0
