"""The duplicate check at submit (guide 6.5; 6.10 row 15) looks candidates up by key.

The look-up must find exactly what comparing the new report with every open report
found before (the old full scan is re-run here as the oracle), on both backends.
"""

from __future__ import annotations

import math
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cvdesk.domain.codec import report_from_dict
from cvdesk.domain.events import EventType
from cvdesk.domain.model import AffectedProduct, Report, ReporterInfo, SignalKind
from cvdesk.services.cases import CaseService
from cvdesk.troubleshoot.similarity import (
    TEXT_ONLY_THRESHOLD,
    Fingerprint,
    cosine,
    fingerprint,
    match,
    may_reach_text_bar,
    word_prefix,
)
from tests.troubleshoot.test_duplicates_labelled import REPORTS

WORDS = ["heap", "overflow", "firmware", "upload", "token", "http", "router", "admin",
         "bypass", "xss", "parser", "tls", "record", "crash", "config", "root", "password"]
PRODUCTS = ["SmartPlug", "SmartPlug P100", "Telemetry SDK", "Oscorp Telemetry SDK", "libq",
            "libquill", "NetCam 2", "RouterOS", "Acme RouterOS"]
VENDORS = ["", "Contoso", "Contoso Home", "Oscorp", "Acme", "Initech"]


def _duplicates(service: CaseService, case_id: str) -> set[tuple[str, float]]:
    return {(e.data["case_id"], e.data["score"]) for e in service.timeline(case_id)
            if e.type is EventType.OBSERVATION
            and e.data["kind"] == SignalKind.POSSIBLE_DUPLICATE.value}


def _check_like_a_full_scan(service: CaseService, reports: list[Report],
                            close: frozenset[int] = frozenset()) -> int:
    """Submit ``reports`` in turn (closing the cases numbered in ``close`` right away) and
    compare every case's duplicate signals with the old scan over all open reports."""
    expected: dict[str, set[tuple[str, float]]] = {}
    open_cases: list[tuple[str, Fingerprint]] = []
    for i, report in enumerate(reports):
        case_id = service.submit_report(report).case_id
        new = fingerprint(report)
        expected[case_id] = set()
        for other_id, old in open_cases:
            found = match(new, old)
            if found is not None:
                expected[case_id].add((other_id, found.score))
                expected[other_id].add((case_id, found.score))
        if i in close:
            service.close(case_id)
        else:
            stored = service.report(service.show(case_id).reports[0].tracking_id).form
            open_cases.append((case_id, fingerprint(report_from_dict(stored))))
    for case_id, want in expected.items():
        assert _duplicates(service, case_id) == want, case_id
    return sum(len(v) for v in expected.values())


def test_labelled_reports_give_the_same_duplicates_as_a_full_scan(service: CaseService,
                                                                  ) -> None:
    assert _check_like_a_full_scan(service, list(REPORTS.values())) > 0


def test_a_closed_case_is_no_candidate(service: CaseService) -> None:
    first, second = REPORTS["plug-upload/a"], REPORTS["plug-upload/b"]
    assert _check_like_a_full_scan(service, [first, second], close=frozenset({0})) == 0


def test_text_alone_and_a_product_inside_another_are_found(service: CaseService) -> None:
    text = "Heap overflow in the TLS record parser of the admin interface on crafted records"
    reports = [
        Report(title="Heap overflow", description=text, reporter=ReporterInfo(name="a"),
               products=(AffectedProduct(product="Alpha Widget", vendor="One"),)),
        # no product in common: only the 0.6 word bar applies
        Report(title="Heap overflow", description=text, reporter=ReporterInfo(name="b"),
               products=(AffectedProduct(product="Other Thing", vendor="Two"),)),
        # "libquill" sits inside "libquill-tls" (character grams, not words)
        Report(title="libquill overflow parser", description="crash on records",
               reporter=ReporterInfo(name="c"),
               products=(AffectedProduct(product="libquill-tls"),)),
        Report(title="libquill parser crash", description="records overflow heap",
               reporter=ReporterInfo(name="d"),
               products=(AffectedProduct(product="libquill"),)),
        # a purl key, and a report with no words at all
        Report(title="x", description="y", reporter=ReporterInfo(name="e"),
               products=(AffectedProduct(product="p", purl="pkg:npm/left-pad@1.0"),)),
    ]
    assert _check_like_a_full_scan(service, reports) >= 2


def _report(words: list[str], product: str, vendor: str) -> Report:
    half = len(words) // 2
    return Report(title=" ".join(words[:half]) or "t", description=" ".join(words[half:]) or "d",
                  reporter=ReporterInfo(name="r"),
                  products=(AffectedProduct(product=product, vendor=vendor),))


reports_strategy = st.lists(
    st.builds(_report, st.lists(st.sampled_from(WORDS), max_size=8),
              st.sampled_from(PRODUCTS), st.sampled_from(VENDORS)),
    min_size=2, max_size=6)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reports=reports_strategy, close=st.frozensets(st.integers(0, 5), max_size=2))
def test_random_reports_give_the_same_duplicates_as_a_full_scan(
        service: CaseService, reports: list[Report], close: frozenset[int]) -> None:
    try:
        _check_like_a_full_scan(service, reports, close)
    finally:  # the database outlives one example: leave nothing open for the next
        for row in service.list_cases("open"):
            service.close(row.case_id)


@settings(max_examples=300, deadline=None)
@given(a=st.dictionaries(st.sampled_from(WORDS), st.integers(1, 5), max_size=10),
       b=st.dictionaries(st.sampled_from(WORDS), st.integers(1, 5), max_size=10))
def test_a_similar_report_always_shares_enough_prefix_weight(
        a: dict[str, int], b: dict[str, int]) -> None:
    fa, fb = Counter(a), Counter(b)
    pa = word_prefix(Fingerprint(frozenset(), fa))
    pb = word_prefix(Fingerprint(frozenset(), fb))
    if cosine(fa, fb) >= TEXT_ONLY_THRESHOLD:
        assert may_reach_text_bar(pa, pb)
    assert not math.isnan(cosine(fa, fb))
