"""The day text the rules write (``common.day``, ``attempts_text``) comes from a table by
the day's ordinal (issue 9: a cold sweep writes a few hundred thousand); it must be the
text ``date().isoformat()`` gives, in the instant's own offset, whatever the table held."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from cvdesk.store.mapping import SweptParticipant
from cvdesk.troubleshoot import common
from cvdesk.troubleshoot.common import day

_OFFSETS = st.sampled_from([UTC, timezone(timedelta(hours=-11)), timezone(timedelta(hours=13))])
_INSTANTS = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31),
                         timezones=_OFFSETS)


@settings(max_examples=200, deadline=None)
@given(values=st.lists(_INSTANTS, min_size=1, max_size=20))
def test_day_is_the_date_in_the_instants_own_offset(values: list[datetime]) -> None:
    for value in values:
        expected = (value.date().isoformat() if value.year >= 1000
                    else value.strftime("%Y-%m-%d"))
        assert day(value) == expected


def test_a_full_table_is_cleared_not_wrong(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    table = common._Days()
    monkeypatch.setattr(common, "_DAYS", table)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    for n in range(100_005):
        table[start.toordinal() + n]
    assert len(table) < 100_000
    late = start + timedelta(days=100_010)
    assert day(late) == late.date().isoformat()
    assert day(None) == "none"


def test_each_swept_participant_has_its_own_list_of_attempt_times() -> None:
    a, b = (SweptParticipant.__new__(SweptParticipant) for _ in range(2))
    a.pid, b.pid = 1, 2
    a.attempt_times.append(datetime(2026, 1, 1, tzinfo=UTC))
    assert b.attempt_times == []
    assert len(a.attempt_times) == 1 and a.attempt_times is a.attempt_times
