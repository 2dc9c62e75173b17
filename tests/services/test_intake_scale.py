"""Naming many vendors at submit stays linear: "one party, once" is a key look-up in the
case aggregate, not a scan of everyone already on the case per added participant."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cvdesk.domain import checks
from cvdesk.domain.case import Case
from cvdesk.domain.checks import same_party
from cvdesk.domain.errors import InvalidInput
from cvdesk.domain.model import TLP, Report, ReporterInfo, Role
from cvdesk.services.cases import CaseService

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _case() -> Case:
    return Case.open("CVD-2026-000001", "t", TLP.AMBER, at=NOW, actor="t")


@settings(max_examples=200, deadline=None)
@given(people=st.lists(st.tuples(st.sampled_from(["Acme", "acme ", "Beta", "ACME", "Gamma"]),
                                 st.sampled_from(["", "a@x", "A@X ", "b@x"])), max_size=8))
def test_the_index_refuses_exactly_what_the_scan_refuses(people: list[tuple[str, str]]) -> None:
    case = _case()
    for name, email in people:
        scan = same_party(list(case.participants.values()), name, email)
        if scan is None:
            added = case.add_participant(name, [Role.VENDOR], at=NOW, actor="t", email=email)
            assert added.pid == len(case.participants)
            continue
        p, by = scan
        with pytest.raises(InvalidInput) as err:
            case.add_participant(name, [Role.VENDOR], at=NOW, actor="t", email=email)
        assert err.value.field == by and f"as p{p.pid} " in str(err.value)


def test_adding_n_vendors_compares_names_a_linear_number_of_times(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0
    real = checks.party_key

    def counting(text: str) -> str:
        nonlocal calls
        calls += 1
        return real(text)

    monkeypatch.setattr(checks, "party_key", counting)
    case = _case()
    n = 2000
    for i in range(n):
        case.add_participant(f"Vendor {i}", [Role.VENDOR], at=NOW, actor="t")
    assert calls <= 6 * n  # a scan per add makes about n * n / 2


def test_a_report_naming_many_vendors_opens_one_case_with_each_once(service: CaseService,
                                                                    ) -> None:
    vendors = (*(f"Vendor {i}" for i in range(700)), "vendor 3", "Vendor 5 ")
    report = Report(title="Library flaw", description="shared component",
                    reporter=ReporterInfo(name="Finder"), vendors=vendors)
    cid = service.submit_report(report).case_id
    names = [p.name for p in service.show(cid).participants]
    assert len(names) == 702 and len(set(names)) == 702  # the desk, the finder, 700 vendors
