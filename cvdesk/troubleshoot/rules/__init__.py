"""One module per guide problem. Each exposes ``check(case, policy, now) -> Verdict``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from cvdesk.domain.case import Case
from cvdesk.domain.policy import Policy
from cvdesk.troubleshoot.finding import Verdict
from cvdesk.troubleshoot.rules import (
    active_exploitation,
    case_stalled,
    embargo_ending,
    no_acknowledgement,
    public_before_date,
    stopped_replying,
    too_many_parties,
    vendor_declined,
    vendor_unreachable,
    vendor_unresponsive,
)

Check = Callable[[Case, Policy, datetime], Verdict]

#: problem id -> rule; the ids are the ones findings carry.
RULES: dict[str, Check] = {
    "vendor-unreachable": vendor_unreachable.check,
    "no-acknowledgement": no_acknowledgement.check,
    "vendor-unresponsive": vendor_unresponsive.check,
    "stopped-replying": stopped_replying.check,
    "active-exploitation": active_exploitation.check,
    "public-before-date": public_before_date.check,
    "vendor-declined": vendor_declined.check,
    "embargo-ending-vendor-not-ready": embargo_ending.check,
    "too-many-parties": too_many_parties.check,
    "case-stalled": case_stalled.check,
}
