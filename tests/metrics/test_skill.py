"""alpha on portfolios whose answer is known, the Wilson interval and its coverage, and
the two units (per vendor, per case)."""

from __future__ import annotations

import random
from datetime import timedelta
from math import comb

import pytest

from cvdesk.domain.cs import CSEvent
from cvdesk.metrics.histories import NEITHER_EVER, NEITHER_YET, baseline
from cvdesk.metrics.skill import (
    CaseRecord,
    Observed,
    VendorRecord,
    alpha,
    case_histories,
    desideratum_skill,
    skill_report,
    vendor_histories,
    wilson,
)
from tests.metrics.walks import T0, observed, walk

V, F, D, P, X, A = (CSEvent.V, CSEvent.F, CSEvent.D, CSEvent.P, CSEvent.X, CSEvent.A)


def _h(hours: float):  # type: ignore[no-untyped-def]
    return T0 + timedelta(hours=hours)


def test_alpha_is_zero_at_chance_and_one_at_perfection() -> None:
    assert alpha(1 / 3, 1 / 3) == 0
    assert alpha(1.0, 0.25) == 1
    assert alpha(0.0, 0.5) == -1
    assert alpha(0.5, 1.0) is None


def test_wilson_matches_published_values() -> None:
    low, high = wilson(5, 10)  # e.g. Newcombe (1998), table I
    assert (round(low, 4), round(high, 4)) == (0.2366, 0.7634)
    low, high = wilson(0, 10)
    assert (low, round(high, 4)) == (0.0, 0.2775)
    with pytest.raises(ValueError):
        wilson(0, 0)


def test_the_interval_of_alpha_is_wilsons_mapped() -> None:
    row = desideratum_skill("V<P", 7, 10, 1 / 3)
    low, high = wilson(7, 10)
    assert row.low == pytest.approx((low - 1 / 3) / (2 / 3))
    assert row.high == pytest.approx((high - 1 / 3) / (2 / 3))
    assert row.low < row.alpha < row.high
    empty = desideratum_skill("V<P", 0, 0, 1 / 3)
    assert (empty.observed, empty.alpha, empty.low, empty.high) == (None,) * 4


def test_all_desiderata_met_gives_alpha_one() -> None:
    portfolio = [observed((V, F, D, P, X, A)) for _ in range(40)]
    report = skill_report(portfolio, unit="vendor")
    assert report.histories == 40 and report.left_out == {}
    for row in report.desiderata:
        assert (row.held, row.counted, row.alpha) == (40, 40, 1.0)
        assert row.high == 1.0 and 0 < row.low < 1


def test_a_portfolio_drawn_from_the_models_walk_gives_alpha_near_zero() -> None:
    rng = random.Random(2021)
    n = 5000
    report = skill_report([observed(walk(rng)) for _ in range(n)], unit="vendor")
    for row in report.desiderata:
        assert row.counted == n
        se = (row.chance * (1 - row.chance) / n) ** 0.5 / (1 - row.chance)
        assert abs(row.alpha) < 4 * se, row  # alpha is 0 within sampling error
        assert row.high - row.low < 0.15 and row.low < 0.05 and row.high > -0.05
    # how often the interval covers 0: test_interval_coverage_by_simulation


def test_ties_ordered_by_the_log_count_as_the_model_orders_them() -> None:
    """A forced event is written at the time of the one that forced it (P with X, V
    with P); with the log's positions the report equals the one without ties."""
    rng = random.Random(7)
    paths = [walk(rng) for _ in range(500)]
    tied = []
    for path in paths:
        times, seqs, hour = {}, {}, 0
        for i, event in enumerate(path):
            forced = i > 0 and ((event is P and path[i - 1] is X)
                                or (event is V and path[i - 1] is P))
            hour += 0 if forced else 1
            times[event], seqs[event] = _h(hour), i
        tied.append(Observed(times, True, seqs))
    plain = skill_report([observed(p) for p in paths], unit="vendor")
    assert skill_report(tied, unit="vendor") == plain


def test_interval_coverage_by_simulation() -> None:
    """1000 portfolios of 50 histories drawn from the model's walk: the true alpha is 0,
    and each desideratum's interval should cover it about 95% of the time.  The exact
    coverage (binomial sum) at n = 50 is between 0.933 and 0.963 for the twelve chances;
    the simulation's standard error is about 0.007, so each simulated coverage must lie
    in [0.91, 0.99] and their mean in [0.93, 0.97]."""
    chance = baseline()
    n, portfolios = 50, 1000
    for name, p in chance.items():
        exact = sum(comb(n, k) * p**k * (1 - p)**(n - k) for k in range(n + 1)
                    if wilson(k, n)[0] <= p <= wilson(k, n)[1])
        assert 0.93 <= exact <= 0.97, (name, exact)
    rng = random.Random(50)
    covered = dict.fromkeys(chance, 0)
    for _ in range(portfolios):
        report = skill_report([observed(walk(rng)) for _ in range(n)], unit="vendor",
                              chance=chance)
        for row in report.desiderata:
            covered[row.desideratum] += row.low <= 0 <= row.high
    rates = {name: c / portfolios for name, c in covered.items()}
    assert all(0.91 <= r <= 0.99 for r in rates.values()), rates
    assert 0.93 <= sum(rates.values()) / len(rates) <= 0.97, rates


def test_open_cases_count_where_decided_and_say_why_the_rest_is_left_out() -> None:
    open_case = Observed({V: _h(1), F: _h(2)}, closed=False)
    closed_case = Observed({V: _h(1), P: _h(3)}, closed=True)
    report = skill_report([open_case, closed_case], unit="vendor")
    rows = {r.desideratum: r for r in report.desiderata}
    assert (rows["V<P"].held, rows["V<P"].counted) == (2, 2)
    assert (rows["F<P"].held, rows["F<P"].counted) == (1, 2)  # closed: P came, F never
    assert (rows["P<X"].held, rows["P<X"].counted, rows["X<A"].counted) == (1, 1, 0)
    # open: D, P, X, A none yet (6 pairs); closed: F, D, X, A never (5 pairs)
    assert report.left_out == {NEITHER_EVER: 5, NEITHER_YET: 6}
    assert sum(r.counted for r in report.desiderata) + 11 == 12 * report.histories


def _case(closed: bool, vendors: list[dict[CSEvent, float]], **pxa: float) -> CaseRecord:
    return CaseRecord("CVD-1", closed, {CSEvent(k): _h(v) for k, v in pxa.items()},
                      tuple(VendorRecord(f"v{i}", f"Org {i}", {e: _h(t) for e, t in v.items()})
                            for i, v in enumerate(vendors)))


def test_per_case_the_last_vendor_decides() -> None:
    case = _case(True, [{V: 1, F: 2, D: 3}, {V: 2, F: 6}], P=5)
    [whole] = case_histories([case])
    assert whole.times[V] == _h(2) and whole.times[F] == _h(6)
    assert D not in whole.times  # the second vendor never deployed: the case did not
    per_vendor = vendor_histories([case])
    assert [h.times[P] for h in per_vendor] == [_h(5), _h(5)]
    rows = {r.desideratum: r for r in skill_report([whole], unit="case").desiderata}
    assert (rows["V<P"].held, rows["F<P"].held, rows["D<P"].held) == (1, 0, 0)
    rows = {r.desideratum: r for r in skill_report(per_vendor, unit="vendor").desiderata}
    assert (rows["F<P"].held, rows["F<P"].counted) == (1, 2)
    assert case_histories([_case(False, [], P=1)]) == []  # no vendor: no history
