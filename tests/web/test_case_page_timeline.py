"""The case page's pure parts (issue 11): embargo windows from the EM entries, the
timeline's geometry and drawing, and which findings a participant may see."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from cvdesk.domain.accounts import CaseAccess
from cvdesk.domain.events import Event, EventType
from cvdesk.domain.model import Role
from cvdesk.services.portal_views import (
    LANES,
    TimelineView,
    embargo_windows,
    redacted,
    redactor,
    visible_finding,
)
from cvdesk.web.timeline import LEFT, RIGHT, WIDTH, layout, svg

T0 = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=30)


def em(trigger: str, to: str, day: float, end: datetime | None = None) -> Event:
    data = {"trigger": trigger, "from": "", "to": to}
    if end is not None:
        data["end"] = end.isoformat()
    return Event(EventType.EM, T0 + timedelta(days=day), "t", data=data)


def test_an_embargo_in_force_runs_from_acceptance_to_its_agreed_end() -> None:
    end = T0 + timedelta(days=45)
    w = embargo_windows([em("propose", "proposed", 1, end), em("accept", "active", 2)], NOW)
    assert [(x.kind, x.start, x.end) for x in w] == [
        ("proposed", T0 + timedelta(days=1), T0 + timedelta(days=2)),
        ("active", T0 + timedelta(days=2), end)]


def test_an_embargo_ended_early_stops_at_its_exit_and_keeps_the_agreed_end() -> None:
    end = T0 + timedelta(days=45)
    w = embargo_windows([em("propose", "proposed", 1, end), em("accept", "active", 1),
                         em("terminate", "exited", 10)], NOW)[-1]
    assert (w.kind, w.end, w.planned_end, w.ended_early) == (
        "active", T0 + timedelta(days=10), end, True)


def test_a_revision_moves_the_end_only_when_accepted() -> None:
    first, later, rejected = (T0 + timedelta(days=d) for d in (40, 50, 90))
    base = [em("propose", "proposed", 1, first), em("accept", "active", 1)]
    assert embargo_windows([*base, em("propose", "revise", 5, later),
                            em("accept", "active", 6)], NOW)[-1].end == later
    assert embargo_windows([*base, em("propose", "revise", 5, rejected),
                            em("reject", "active", 6)], NOW)[-1].end == first


def test_a_rejected_proposal_is_a_window_of_its_own_and_nothing_is_none() -> None:
    w = embargo_windows([em("propose", "proposed", 1, T0 + timedelta(days=40)),
                         em("reject", "none", 3)], NOW)
    assert [(x.kind, x.end) for x in w] == [("proposed", T0 + timedelta(days=3))]
    assert embargo_windows([], NOW) == ()


def _view(counts: list[tuple[str, str, int, datetime, datetime]],
          windows: tuple = ()) -> TimelineView:
    return TimelineView.build("CVD-2026-0001", T0, NOW, counts, windows)


def test_marks_are_one_per_lane_and_day_placed_in_time_order() -> None:
    day = lambda d: (T0 + timedelta(days=d)).date().isoformat()  # noqa: E731
    at = lambda d: T0 + timedelta(days=d)  # noqa: E731
    view = _view([(day(0), "case.opened", 1, at(0), at(0)),
                  (day(3), "contact.attempt", 2000, at(3), at(3.2)),
                  (day(3), "participant.added", 1500, at(3), at(3)),
                  (day(3), "rm.transition", 500, at(3), at(3.1)),
                  (day(9), "contact.reply", 7, at(9), at(9.5))])
    assert len(view.marks) == 4 and view.entries == 4008
    people = next(m for m in view.marks if m.lane == "participants")
    assert people.count == 2000 and people.kinds[0] == ("participant.added", 1500)
    chart = layout(view)
    xs = {d.title.split(":")[0][:10]: d.x for d in chart.dots}
    assert xs[day(0)] < xs[day(3)] < xs[day(9)]
    assert all(LEFT <= d.x <= WIDTH - RIGHT for d in chart.dots)
    assert max(d.r for d in chart.dots) <= 11  # a busy day is big, not huge
    assert LEFT <= chart.today <= WIDTH - RIGHT
    assert [label for label, _ in chart.lanes] == [label for _, label in LANES]


def test_the_band_spans_the_window_and_today_lies_within_when_in_force() -> None:
    w = embargo_windows([em("propose", "proposed", 2, T0 + timedelta(days=60)),
                         em("accept", "active", 2)], NOW)
    chart = layout(_view([], w))
    band = chart.bands[-1]
    assert band.kind == "active" and band.x0 < chart.today < band.x1


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 400), st.sampled_from(
    [t.value for t in EventType]), st.integers(1, 10_000)), max_size=60))
def test_any_history_draws_as_well_formed_svg_inside_the_frame(
        entries: list[tuple[int, str, int]]) -> None:
    counts = {}
    for d, kind, n in entries:
        at = T0 + timedelta(days=d - 200, hours=d % 24)
        counts[((at.date().isoformat()), kind)] = (at.date().isoformat(), kind, n, at, at)
    view = _view(list(counts.values()))
    root = ET.fromstring(svg(view, standalone=True))
    circles = root.findall("{http://www.w3.org/2000/svg}circle")
    assert len(circles) == len(view.marks) <= len(counts)
    for c in circles:
        assert LEFT <= float(c.get("cx", "-1")) <= WIDTH - RIGHT


def test_text_in_the_drawing_is_escaped() -> None:
    view = TimelineView.build("<script>x</script>&", T0, NOW, [], ())
    text = svg(view)
    assert "<script>" not in text and "&lt;script&gt;" in text
    ET.fromstring(text)


def _access(pids: set[int], roles: set[Role], staff: bool = False) -> CaseAccess:
    return CaseAccess("CVD-2026-0001", staff, frozenset(pids), frozenset(roles))


FINDING = {"title": "t", "concerns": ["reporter", "vendor", "coordinator"], "subject": None,
           "subject_name": "", "evidence": ["Initech and Globex are not aware yet"],
           "actions": [{"role": "vendor", "text": "fix"}, {"role": "reporter", "text": "wait"},
                       {"role": "coordinator", "text": "chase"}]}


def test_findings_are_shown_to_the_roles_they_concern_with_their_actions() -> None:
    vendor = _access({3}, {Role.VENDOR})
    assert [a["role"] for a in visible_finding(FINDING, vendor)["actions"]] == ["vendor"]
    assert visible_finding(FINDING, _access(set(), set(), staff=True)) == FINDING
    only_coord = {**FINDING, "concerns": ["coordinator"]}
    assert visible_finding(only_coord, vendor) is None
    about_other = {**FINDING, "subject": 4, "subject_name": "Initech"}
    assert visible_finding(about_other, vendor) is None
    assert visible_finding({**about_other, "subject": 3}, vendor) is not None
    reporter = _access({2}, {Role.REPORTER, Role.FINDER})
    assert visible_finding(about_other, reporter) is not None
    assert visible_finding({**about_other, "concerns": ["vendor"]}, reporter) is None


def test_names_of_participants_one_may_not_see_are_hidden() -> None:
    shown = redacted(FINDING, redactor(["Initech", "Glob", "x"]))
    assert shown["evidence"] == ["another participant and Globex are not aware yet"]
    assert redacted(FINDING, redactor([])) == FINDING
