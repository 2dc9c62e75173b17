"""Findings stored short (issue 9): a sweep stores each finding with the name of its kind
(the fixed words, kept once in ``finding_kinds``) and the parts that vary; every reader
words it whole again.  Rows stored whole by an older sweep read the same and are not
rewritten only to change their form.  Both backends."""

from __future__ import annotations

import json

from sqlalchemy import delete, select

from cvdesk.domain.model import Report, ReporterInfo, Role, SignalKind
from cvdesk.services import CaseService
from cvdesk.services.doctor import DoctorService, finding_data
from cvdesk.store.findings import FindingRepository
from cvdesk.store.tables import FindingKindRow, FindingRow
from cvdesk.troubleshoot import diagnose
from cvdesk.troubleshoot.stored import facts, facts_text, short_text, whole
from tests.conftest import Clock
from tests.services.test_sweep_writes import statements


def _case(service: CaseService, clock: Clock) -> str:
    cid = service.submit_report(Report("Bug", "desc", ReporterInfo("Rita")), actor="t").case_id
    service.add_participant(cid, "Acme", [Role.VENDOR])
    service.add_participant(cid, "Initech", [Role.VENDOR])
    service.observe(cid, SignalKind.HOSTILE_TONE, text="rude")
    clock.advance(days=2, minutes=1)
    return cid


def _rows(service: CaseService) -> dict[str, tuple[object, ...]]:
    with service.db.sessions() as s:
        return {f.key: (f.id, f.data, f.last_seen_at, f.status)
                for f in s.scalars(select(FindingRow))}


def test_findings_are_stored_short_and_shown_whole(service: CaseService,
                                                  clock: Clock) -> None:
    cid = _case(service, clock)
    doctor = DoctorService(service.db, service.settings, clock=clock)
    shown = doctor.sweep()
    expected = diagnose(service.replay(cid), service.settings.policy, clock.now)
    rows = _rows(service)
    with service.db.sessions() as s:
        kinds = FindingRepository(s).kinds()
    assert {k: set(v[1]) for k, v in rows.items()} == {f.key: {
        "kind", "title", "case_id", "subject", "subject_name", "evidence"}
        for f in expected.findings}
    assert {k: whole(v[1], kinds[v[1]["kind"]]) for k, v in rows.items()} == {
        f.key: facts(f) for f in expected.findings}
    # the two vendors' "not notified" findings share one kind, stored once
    assert len(kinds) == len({f.problem for f in expected.findings})
    assert {f.data["key"]: f.data for f in shown.findings} == {
        f.key: finding_data(f) for f in expected.findings}
    # handling one words it whole too
    one = doctor.handle(shown.findings[0].id, "acknowledged", reason="seen", actor="t")
    assert one.data == shown.findings[0].data
    # the short form, completed, is the whole form byte for byte
    for f in expected.findings:
        made: dict[str, str] = {}
        short = json.loads(short_text(f, made))
        (name, kind), = made.items()
        assert short["kind"] == name and name.startswith(f.problem + ".")
        assert json.dumps(whole(short, json.loads(kind))) == facts_text(f)
        assert len(short_text(f, made)) < len(facts_text(f)) / 2 + 200


def test_findings_stored_whole_read_the_same_and_stay(service: CaseService,
                                                      clock: Clock) -> None:
    cid = _case(service, clock)
    doctor = DoctorService(service.db, service.settings, clock=clock)
    before = doctor.sweep()
    # As an older sweep stored them: whole, and no kinds stored.
    with service.db.transaction() as s:
        kinds = FindingRepository(s).kinds()
        for row in s.scalars(select(FindingRow)):
            row.data = whole(row.data, kinds[row.data["kind"]])
        s.execute(delete(FindingKindRow))
    old = _rows(service)
    assert doctor.current(at=clock.now, swept=1).to_json() == before.to_json()
    # Due again with nothing changed: nothing is rewritten, whole rows stay whole.
    clock.advance(hours=3)
    service.note(cid, "asked around")
    with statements(service) as seen:
        doctor.sweep()
    assert [s for s in seen if s.startswith(("update findings", "insert into findings"))] == []
    assert _rows(service) == old
    # A change rewrites the finding it touches, in the short form.
    clock.advance(hours=1)
    service.observe(cid, SignalKind.HOSTILE_TONE, text="ruder")
    shown = doctor.sweep()
    after = _rows(service)
    assert "kind" in after["hostile-tone:-"][1]
    assert after["vendor-not-notified:p3"] == old["vendor-not-notified:p3"]
    expected = diagnose(service.replay(cid), service.settings.policy, clock.now)
    assert {f.data["key"]: f.data for f in shown.findings} == {
        f.key: finding_data(f) for f in expected.findings}
