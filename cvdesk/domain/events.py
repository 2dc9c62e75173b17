"""The append-only case log: one Event per state change or observation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    CASE_OPENED = "case.opened"
    CASE_CLOSED = "case.closed"
    CASE_REOPENED = "case.reopened"
    REPORT_RECEIVED = "report.received"
    PARTICIPANT_ADDED = "participant.added"
    RM = "rm.transition"
    EM = "em.transition"
    CONSENT = "embargo.consent"
    CS = "cs.event"
    CONTACT_ATTEMPT = "contact.attempt"
    CONTACT_REPLY = "contact.reply"
    MESSAGE = "message.logged"
    VULNERABILITY = "vulnerability.added"
    NOTE = "note.added"
    OBSERVATION = "observation.recorded"
    PARTICIPANT_POLICY = "participant.policy"
    CREDIT = "credit.recorded"
    HANDOFF = "case.handoff"
    RETROSPECTIVE = "retrospective.recorded"
    SSVC_ASSESSED = "ssvc.assessed"
    VULNERABILITY_UPDATED = "vulnerability.updated"
    STATEMENT_RECORDED = "statement.recorded"
    STATEMENT_CONFIRMED = "statement.confirmed"
    ADVISORY_PREVIEWED = "advisory.previewed"
    ADVISORY_PUBLISHED = "advisory.published"
    CVE_SUBMITTED = "cve.submitted"
    CVE_SUBMISSION_FAILED = "cve.submission_failed"


@dataclass(frozen=True)
class Event:
    """One entry of a case log.

    ``at`` is when it happened (time-zone aware, may be back-dated for imported
    history); ``seq`` is its position in the log, which is the order that the
    state machines saw.  ``data`` holds JSON-ready values only.
    """

    type: EventType
    at: datetime
    actor: str
    reason: str = ""
    participant: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    seq: int = 0

    def summary(self) -> str:
        """One line in the guide's vocabulary, for timelines."""
        d = self.data
        who = f"p{self.participant}" if self.participant is not None else ""
        match self.type:
            case EventType.RM | EventType.EM | EventType.CONSENT:
                text = f"{d['trigger']}: {d['from']} -> {d['to']}"
                if d.get("end"):
                    text += f" (ends {d['end']})"
            case EventType.CS:
                text = f"{d['event']} ({d['title']})" + (" [implied]" if d.get("auto") else "")
            case EventType.CONTACT_ATTEMPT:
                text = f"attempt via {d['channel']}: {d['outcome']}"
            case EventType.CONTACT_REPLY:
                text = f"reply via {d['channel']}"
            case EventType.PARTICIPANT_ADDED:
                text = f"{d['name']} joins as {', '.join(d['roles'])}"
            case EventType.REPORT_RECEIVED:
                text = f"report {d['tracking_id']}: {d['report']['title']}"
            case EventType.MESSAGE:
                text = f"{d['direction']} {d['channel']}: {d['subject']}"
            case EventType.VULNERABILITY:
                text = f"vulnerability {d.get('cve') or ''} {d['title']}".replace("  ", " ")
            case EventType.VULNERABILITY_UPDATED:
                text = f"vulnerability {d['key']} updated: {', '.join(d['changes'])}"
            case EventType.STATEMENT_RECORDED:
                text = (f"statement by {d['vendor_name']} on {d['product']} ({d['key']}): "
                        f"{d['status']}" + (f" in {d['fixed_version']}"
                                            if d.get("fixed_version") else "")
                        + (" [on the vendor's behalf]" if d.get("on_behalf") else ""))
            case EventType.STATEMENT_CONFIRMED:
                text = (f"statement by {d['vendor_name']} on {d['product']} ({d['key']}) "
                        "confirmed by the vendor")
            case EventType.ADVISORY_PREVIEWED:
                text = (f"advisory draft {d['version']} sent for review until {d['until']} "
                        f"to {len(d['recipients'])} participant(s)")
            case EventType.ADVISORY_PUBLISHED:
                text = (f"advisory version {d['version']} published"
                        + (f" early: {self.reason}" if d.get("early") else "")
                        + (f" ({d['summary']})" if d.get("summary") else ""))
            case EventType.CVE_SUBMITTED:
                text = (f"CVE record {d['cve_id']} "
                        f"{'published' if d['created'] else 'updated'} at CVE Services "
                        f"(sha256 {d['digest'][:16]})")
            case EventType.CVE_SUBMISSION_FAILED:
                text = f"CVE record {d['cve_id']} not submitted: {d['error']}"
            case EventType.OBSERVATION:
                text = f"observed {d['kind']}: {d.get('text', '')}".rstrip(": ")
            case EventType.PARTICIPANT_POLICY:
                text = f"disclosure policy {d['days']} days"
            case EventType.CREDIT:
                text = (f"credit: {d['name']} ({d['role']}) for {d['contribution']}"
                        f" [{'public' if d['public'] else 'not public'}]")
            case EventType.HANDOFF:
                text = f"handed off to {d['coordinator']}: {d['file']}"
            case EventType.RETROSPECTIVE:
                text = "retrospective recorded"
            case EventType.SSVC_ASSESSED:
                text = "SSVC: " + ", ".join(f"{k}={v if v is not None else '(cleared)'}"
                                            for k, v in d["values"].items())
            case EventType.CASE_OPENED:
                text = f"case opened: {d['title']}"
            case _:
                text = d.get("text", "")
        return f"{who} {text}".strip()
