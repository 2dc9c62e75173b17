"""The metrics period (guide 6.9): one reading of since/until for skill, timing and the
charts, on every face."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cvdesk.domain.errors import InvalidInput
from cvdesk.domain.model import YEARS
from cvdesk.services.metrics_period import Scope, parse_day, parse_scope, period_instants


def test_a_day_as_typed() -> None:
    assert parse_day(" 2025-03-01 ", "since") == date(2025, 3, 1)
    assert parse_day("20250301", "since") == date(2025, 3, 1)  # ISO 8601's basic form
    assert parse_day("", "since") is None and parse_day(None, "until") is None
    assert parse_scope("2025-03-01", "", "  Acme ") == Scope(date(2025, 3, 1), None, "Acme")
    assert parse_scope(None, None, "  ") == Scope()


@pytest.mark.parametrize("text, field, words", [
    ("March", "since", "'March' is not a date (YYYY-MM-DD"),
    ("2026-13-01", "until", "is not a date"),
    ("2025-03-01T10:00", "since", "is a date and time; the period counts whole days"),
    ("2025-03-01 23:00-05:00", "until", "is a date and time"),
    ("20250301T1200", "until", "is a date and time"),
    ("2025-03", "since", "is not a date"),
    ("0999-01-01", "since", "outside the years"),
])
def test_what_is_not_a_day_is_refused_naming_the_field(text: str, field: str,
                                                       words: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_day(text, field)
    assert refused.value.field == field and words in str(refused.value)


def test_the_period_as_instants() -> None:
    assert period_instants(date(2025, 3, 1), date(2025, 3, 1)) == (
        datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 2, tzinfo=UTC))
    assert period_instants(None, None) == (None, None)
    assert period_instants(None, date.max) == (None, None)  # no day after the last one
    with pytest.raises(InvalidInput, match="is before since"):
        period_instants(date(2025, 3, 2), date(2025, 3, 1))
    with pytest.raises(InvalidInput, match="date and time") as refused:
        period_instants(datetime(2025, 3, 1, 10, tzinfo=UTC), None)
    assert refused.value.field == "since"


@given(st.dates(min_value=date(YEARS[0], 1, 1), max_value=date(YEARS[1], 12, 31)))
def test_every_day_in_the_years_reads_back(day: date) -> None:
    assert parse_day(day.isoformat(), "since") == day
    assert parse_day(f"  {day.isoformat()}\t", "until") == day


@given(st.text(max_size=40))
def test_any_text_is_a_day_or_refused_naming_the_field(text: str) -> None:
    try:
        day = parse_day(text, "until")
    except InvalidInput as refused:
        assert refused.field == "until"
    else:
        assert day is None or isinstance(day, date)
        assert (day is None) == (not text.strip())
