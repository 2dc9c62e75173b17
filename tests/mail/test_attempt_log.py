"""Contact attempts appended without replaying the case (store/case_log.py, issue 9)
write what the domain's command and ``CaseRepository.save`` write: the same events, the
same contact summaries on the participants' rows, the same case row, byte for byte as
stored, on both backends and whatever the participants' history."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from cvdesk.domain.errors import NotFound
from cvdesk.domain.model import AttemptOutcome, Channel, Report, ReporterInfo, Role
from cvdesk.services import CaseService
from cvdesk.store.case_log import Attempt, append_contact_attempts
from cvdesk.store.cases import CaseRepository, ConcurrentUpdate

_HISTORY = st.lists(st.tuples(
    st.integers(0, 3),  # participant
    st.sampled_from(["sent", "bounced", "no-reply", "acknowledged", "reply"]),
    st.sampled_from([Channel.EMAIL, Channel.PHONE, Channel.WEB_FORM]),
    st.integers(1, 600)), max_size=8)  # minutes after the case opened
_BATCH = st.lists(st.tuples(
    st.integers(0, 3), st.sampled_from([AttemptOutcome.SENT, AttemptOutcome.BOUNCED,
                                        AttemptOutcome.NO_REPLY]),
    st.sampled_from(["", "550 no such user", "bad\x00byte"])), min_size=1, max_size=8)


def _case(svc: CaseService, history: list[tuple[int, str, Channel, int]]) -> str:
    cid = svc.submit_report(Report("Heap overflow in libfoo", "details",
                                   ReporterInfo("Rita"))).case_id
    opened = svc.clock()
    with svc.case(cid) as case:
        pids = [case.add_participant(f"Vendor {i}", [Role.VENDOR], at=opened, actor="t",
                                     email=f"psirt{i}@vendor{i}.example").pid
                for i in range(4)]
        for who, kind, channel, minutes in history:
            at = opened + timedelta(minutes=minutes)
            if kind == "reply":
                case.contact_reply(pids[who], channel, at=at, actor="t")
            else:
                case.contact_attempt(pids[who], channel, AttemptOutcome(kind), at=at,
                                     actor="t")
    return cid


class _Undo(Exception):
    pass


def _stored(conn: Any, pk: int, after: int = 0) -> dict[str, Any]:
    """What the store holds for the case, as the driver gives it back (no column types);
    the events after position ``after`` (the first ones name the case and its report)."""
    case = conn.execute(text(
        "SELECT version, status, last_event_at, needs_sweep FROM cases WHERE id = :p"),
        {"p": pk}).one()
    people = conn.execute(text(
        "SELECT pid, attempts, attempts_since_reply, first_attempt_at, last_attempt_at, "
        "last_attempt_outcome, channels, channels_count, first_reply_at, last_reply_at, "
        "replies, rm_state, vfd, vfd_times FROM participants WHERE case_pk = :p "
        "ORDER BY pid"), {"p": pk}).all()
    events = conn.execute(text(
        "SELECT seq, type, at, actor, reason, participant, data FROM events "
        "WHERE case_pk = :p AND seq > :a ORDER BY seq"), {"p": pk, "a": after}).all()
    return {"case": tuple(case), "participants": [tuple(r) for r in people],
            "events": [tuple(r) for r in events]}


def _now_stored(svc: CaseService, cid: str, after: int = 0) -> dict[str, Any]:
    with svc.db.sessions() as s:
        return _stored(s.connection(), CaseRepository(s).case_row(cid).id, after)


@settings(max_examples=40, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=_HISTORY, batch=_BATCH, minutes=st.integers(0, 900))
def test_appending_attempts_writes_what_the_command_and_save_write(
        service: CaseService, history: list[tuple[int, str, Channel, int]],
        batch: list[tuple[int, AttemptOutcome, str]], minutes: int) -> None:
    """The same case takes the batch both ways: by the command and ``save`` (read back
    inside that transaction, then rolled back), and by the append."""
    cid = _case(service, history)
    replayed = service.replay(cid)
    known, pids = replayed.seq, [p.pid for p in replayed.vendors]
    at = service.clock() + timedelta(minutes=minutes)  # before, between or after the rest
    attempts = [(pids[w], o, why, f"psirt{w}@vendor{w}.example") for w, o, why in batch]
    want: dict[str, Any] = {}
    with pytest.raises(_Undo), service.db.transaction() as s:
        repo = CaseRepository(s)
        row, case = repo.load(cid)
        for pid, outcome, why, address in attempts:
            case.contact_attempt(pid, Channel.EMAIL, outcome, at=at, actor="worker",
                                 reason=why, address=address)
        repo.save(row, case)
        want = _stored(s.connection(), row.id, known)
        raise _Undo
    assert _now_stored(service, cid, known)["events"] == []  # rolled back
    with service.db.transaction() as s:
        pk = CaseRepository(s).case_row(cid).id
        assert append_contact_attempts(s, pk, [Attempt(*a) for a in attempts],
                                       channel=Channel.EMAIL, at=at, actor="worker")
    got = _now_stored(service, cid, known)
    for part in want:
        assert got[part] == want[part], (part, history, batch, minutes)
    assert service.replay(cid).participants == {
        p.pid: p for p in case.participants.values()}


def test_a_closed_case_takes_no_attempt(service: CaseService) -> None:
    cid = _case(service, [])
    with service.case(cid) as case:
        case.close(at=service.clock(), actor="t", reason="done")
    before = _now_stored(service, cid)
    with service.db.transaction() as s:
        pk = CaseRepository(s).case_row(cid).id
        assert not append_contact_attempts(
            s, pk, [Attempt(2, AttemptOutcome.SENT)], channel=Channel.EMAIL,
            at=service.clock(), actor="worker")
    assert _now_stored(service, cid) == before


def test_the_domain_checks_still_apply(service: CaseService) -> None:
    cid = _case(service, [])
    before = _now_stored(service, cid)
    with pytest.raises(NotFound), service.db.transaction() as s:
        pk = CaseRepository(s).case_row(cid).id
        append_contact_attempts(s, pk, [Attempt(99, AttemptOutcome.SENT)],
                                channel=Channel.EMAIL, at=service.clock(), actor="worker")
    with pytest.raises(ValueError), service.db.transaction() as s:
        append_contact_attempts(s, pk, [Attempt(2, AttemptOutcome.ACKNOWLEDGED)],
                                channel=Channel.EMAIL, at=service.clock(), actor="worker")
    assert _now_stored(service, cid) == before


def test_a_writer_holding_an_older_read_is_refused_afterwards(service: CaseService) -> None:
    """The append moves the version on, so a command based on the case as it was before
    cannot overwrite the attempts' log positions."""
    cid = _case(service, [])
    with service.db.transaction() as s:
        row, stale = CaseRepository(s).load(cid)
        s.expunge(row)
    with service.db.transaction() as s:
        pk = CaseRepository(s).case_row(cid).id
        append_contact_attempts(s, pk, [Attempt(2, AttemptOutcome.SENT)],
                                channel=Channel.EMAIL, at=service.clock(), actor="worker")
    stale.note("late", at=service.clock(), actor="t")
    with pytest.raises(ConcurrentUpdate), service.db.transaction() as s:
        CaseRepository(s).save(CaseRepository(s).case_row(cid), stale,
                               expected_version=row.version)


def test_queueing_does_not_compare_the_participants_rows(service: CaseService) -> None:
    """A logged message changes nothing on its participant's row, so the queue's save
    neither reads nor writes the participants (it compared all of them before)."""
    from cvdesk.services.mail import MailService
    from tests.mail.test_notify_speed import statements
    from tests.mail.test_outbox import case_with_vendors, mail_service

    svc = mail_service(service, 25)
    cid = case_with_vendors(svc, 3)
    with statements(svc) as seen:
        assert len(MailService(svc).queue(cid, None, "new-case")) == 3
    assert not [q for q in seen if q.startswith(("select participants.",
                                                 "update participants"))], seen
