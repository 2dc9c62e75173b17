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
    downstream_vendors,
    draft_not_shared,
    embargo_ending,
    finder_handoff,
    hostile_tone,
    hype,
    independent_discovery,
    leak,
    legal_threat,
    no_acknowledgement,
    out_of_scope,
    policy_conflict,
    public_before_date,
    public_before_vendor,
    stopped_replying,
    too_many_parties,
    vendor_declined,
    vendor_not_notified,
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
    "draft-not-shared": draft_not_shared.check,
    "too-many-parties": too_many_parties.check,
    "case-stalled": case_stalled.check,
    "vendor-not-notified": vendor_not_notified.check,
    "public-before-vendor": public_before_vendor.check,
    "leak": leak.check,
    "independent-discovery": independent_discovery.check,
    "out-of-scope": out_of_scope.check,
    "finder-needs-handoff": finder_handoff.check,
    "downstream-vendors": downstream_vendors.check,
    "incompatible-policies": policy_conflict.check,
    "legal-threat": legal_threat.check,
    "hostile-tone": hostile_tone.check,
    "media-attention": hype.check,
}

#: The rules that read only the case's signals (observations and message analysis): with
#: no signal they find nothing and set no check, so a sweep need not ask them.
SIGNAL_RULES = frozenset({
    "leak", "independent-discovery", "out-of-scope", "finder-needs-handoff",
    "downstream-vendors", "legal-threat", "hostile-tone", "media-attention"})

#: The rules that read only the case's own state (its row: embargo, CS, dates), never its
#: participants: a sweep asks them about a case whose participants it has not read.
CASE_RULES = frozenset({"case-stalled", "draft-not-shared", "public-before-date"})

#: The rules that judge each participant on its own: what they find about a participant,
#: and when that may change (``Verdict.subject_checks``), depend on that participant and
#: the case's own state only.  A sweep asks them about the participants whose time has
#: come, read alone.  tests/troubleshoot/test_rule_checks.py holds both sets to this.
PARTICIPANT_RULES = frozenset({
    "no-acknowledgement", "stopped-replying", "vendor-not-notified", "vendor-unresponsive"})
