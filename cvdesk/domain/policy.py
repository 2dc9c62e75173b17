"""Thresholds that drive deadlines and troubleshooting, with the CERT guide's defaults.

Every number a rule or a default uses lives here so that an organization can
override it in its settings file (see cvdesk.settings).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any


@dataclass(frozen=True)
class Policy:
    # Acknowledge a report within 24-48 hours (guide 4.x / 6.10).
    ack_target_hours: int = 24
    ack_deadline_hours: int = 48
    # Default publication 45 days after the first vendor contact attempt; 45-90 is the usual range.
    embargo_default_days: int = 45
    embargo_max_days: int = 90
    # Vendor unresponsive (6.2): repeated attempts, silent >= 2 weeks, and agreed date passed or
    # no embargo and >= 6 weeks since the vendor's last reply.
    unresponsive_min_attempts: int = 2
    unresponsive_silence_days: int = 14
    unresponsive_no_embargo_days: int = 42
    # Vendor unreachable (6.1): reasonable attempts on several channels.
    unreachable_min_attempts: int = 3
    unreachable_min_channels: int = 2
    # No reply for about two weeks: engage a coordinator (6.3).  Silence needs repeated
    # unanswered attempts since the last reply: one unanswered message is not silence.
    stopped_replying_days: int = 14
    stopped_replying_min_attempts: int = 2
    # Share the draft advisory 1-2 weeks before publication.
    draft_share_min_days: int = 7
    draft_share_max_days: int = 14
    # Courtesy copy of the advisory a few days before publishing alone.
    courtesy_copy_days: int = 3
    # Leak risk 1-(1-p)^n with p per party; above max_leak_risk suggest a shorter embargo.
    leak_probability_per_party: float = 0.001
    max_leak_risk: float = 0.05
    # A case with no event for this long is stalled.
    stalled_days: int = 30
    # Clock skew tolerated for times given by people (the 'at' of a command).
    future_skew_minutes: int = 5
    # Per-organization overrides, by organization or participant name (case-insensitive):
    # {"Acme Networks": {"unresponsive_silence_days": 21}}.
    organizations: dict[str, dict[str, Any]] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        names = {f.name for f in fields(self)} - {"organizations"}
        for org, values in self.organizations.items():
            for key in values:
                if key not in names:
                    raise ValueError(f"policy.organizations.{org}.{key}: not a policy setting")
        object.__setattr__(self, "_by_org", {})
        # Overrides by their matching key (trimmed, lower case), the first one written
        # winning, so a lookup is one dict access however many organizations there are.
        index: dict[str, dict[str, Any]] = {}
        for org, values in self.organizations.items():
            index.setdefault(org.strip().lower(), values)
        object.__setattr__(self, "_index", index)
        for name, value in vars(self).items():
            if name in ("organizations", "_by_org", "_index"):
                continue
            if value < 0:
                raise ValueError(f"policy.{name}: must not be negative (got {value})")
        if self.ack_target_hours > self.ack_deadline_hours:
            raise ValueError("policy.ack_target_hours: must not exceed ack_deadline_hours")
        if self.embargo_default_days > self.embargo_max_days:
            raise ValueError("policy.embargo_default_days: must not exceed embargo_max_days")
        if not 0 <= self.leak_probability_per_party <= 1:
            raise ValueError("policy.leak_probability_per_party: must be between 0 and 1")
        for org in self.organizations:
            self.for_party(org)  # check each override set now, not during a sweep

    def for_party(self, *names: str) -> Policy:
        """The policy for a participant: the first of ``names`` (its organization, its own
        name) with overrides wins; otherwise this policy."""
        if not self.organizations:
            return self
        cache: dict[str, Policy] = self._by_org  # type: ignore[attr-defined]
        for name in names:
            key = name.strip().lower()
            if not key:
                continue
            if key not in cache:
                values = self._index.get(key)  # type: ignore[attr-defined]
                if values is None:
                    continue
                cache[key] = replace(self, organizations={}, **values)
            return cache[key]
        return self


def leak_risk(parties: int, p: float) -> float:
    """Chance that at least one of ``parties`` leaks, each independently with probability p."""
    return 1 - (1 - p) ** parties
