"""Per-organization policy overrides are found by trimmed, case-blind name, first written
winning: the same answer as scanning every override, from one dict lookup."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cvdesk.domain.policy import Policy

names = st.text(alphabet="aAbB -", min_size=0, max_size=4)
overrides = st.dictionaries(names, st.integers(min_value=1, max_value=90).map(
    lambda d: {"unresponsive_silence_days": d}), max_size=8)


def scan(policy: Policy, *wanted: str) -> int:
    for name in wanted:
        key = name.strip().lower()
        if not key:
            continue
        for org, values in policy.organizations.items():
            if org.strip().lower() == key:
                return int(values["unresponsive_silence_days"])
    return policy.unresponsive_silence_days


@settings(max_examples=200)
@given(overrides, st.lists(names, max_size=3))
def test_lookup_equals_a_scan_of_every_override(orgs: dict, wanted: list[str]) -> None:
    policy = Policy(organizations=orgs)
    assert policy.for_party(*wanted).unresponsive_silence_days == scan(policy, *wanted)


def test_many_overrides_are_indexed_once() -> None:
    orgs = {f"Vendor {i}": {"unresponsive_silence_days": 1 + i % 60} for i in range(5000)}
    policy = Policy(organizations=orgs)
    assert policy.for_party(" vendor 4999 ").unresponsive_silence_days == 1 + 4999 % 60
    assert policy.for_party("nobody", "VENDOR 7").unresponsive_silence_days == 8
    assert policy.for_party("nobody") is policy
