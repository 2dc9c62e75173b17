"""The case commands that send the advisory out (issue 10): the draft shared for review
before publication, and each publication of the advisory (guide 6.9; 6.10 rows 8, 19).

Each published version is one ``advisory.published`` event, so the advisory's revision
history is read from the log like everything else.  Publishing is also where the case
becomes public: the command records P (once) and ends an embargo in force, in the same
command, so the log never says "published" while the embargo still binds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from cvdesk.domain import cs
from cvdesk.domain.em import EM, EM_IN_FORCE
from cvdesk.domain.errors import IllegalTransition, InvalidInput
from cvdesk.domain.events import EventType
from cvdesk.domain.model import check_aware
from cvdesk.domain.state import CaseState, Publication


class EmbargoInForce(IllegalTransition):
    """Publishing before the agreed embargo end without saying why (6.9: an embargo
    ends early only for a reason: the vulnerability is public or exploited, a party
    leaked it ...).  A refused transition: exit code 3, HTTP 409."""

    def __init__(self, case_id: str, end: datetime, state: str) -> None:
        self.model, self.state, self.trigger = "EM (embargo management)", state, "publish"
        self.allowed, self.subject, self.end = ["terminate"], case_id, end
        Exception.__init__(
            self, f"{case_id} is under embargo until {end.isoformat()}: the advisory may "
            "not be published before that date; an early publication must be marked as "
            "early and give the reason (the vulnerability is public or exploited, the "
            "embargo leaked, all vendors agree ...)")


class PublicationCommands(CaseState):
    """Preview and publish; each command checks, then emits."""

    # Supplied by cvdesk.domain.case.Case:
    def _check_open(self, what: str) -> None:
        raise NotImplementedError

    def _emit(self, type_: EventType, at: datetime, actor: str, reason: str, *,
              participant: int | None = None, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def terminate_embargo(self, *, at: datetime, actor: str, reason: str = "") -> None:
        raise NotImplementedError

    def reject_embargo(self, *, at: datetime, actor: str, reason: str = "") -> None:
        raise NotImplementedError

    def record_cs(self, event: cs.CSEvent, vendor: int | None, *, at: datetime, actor: str,
                  reason: str = "") -> None:
        raise NotImplementedError

    # ----------------------------------------------------------------- queries
    @property
    def advisory_version(self) -> int:
        """The last published version; 0 before the first publication."""
        return self.publications[-1].version if self.publications else 0

    def publication_date(self) -> datetime | None:
        """When the advisory is planned to go out: the end of the embargo in force, else
        the end proposed; None when no date is set."""
        if self.em in EM_IN_FORCE and self.embargo_end is not None:
            return self.embargo_end
        return self.proposed_end

    # ----------------------------------------------------------------- commands
    def preview_advisory(self, recipients: Iterable[int], *, until: datetime, digest: str,
                         at: datetime, actor: str, reason: str = "") -> None:
        """Record that the draft (``digest``: the SHA-256 of what was sent) went to
        ``recipients`` for review, corrections asked for by ``until`` (6.10: share the
        draft 1-2 weeks before publication)."""
        self._check_open("advisory preview")
        check_aware(at, "at")
        check_aware(until, "until")
        if until <= at:
            raise InvalidInput("until", f"the review deadline {until.isoformat()} is not in "
                               f"the future (now is {at.isoformat()})")
        planned = self.publication_date()
        if planned is not None and until > planned:
            raise InvalidInput("until", f"the review deadline {until.isoformat()} is after "
                               f"the planned publication ({planned.isoformat()}); "
                               "corrections must arrive before the advisory goes out")
        pids = sorted({self.participant(pid).pid for pid in recipients})
        if not pids:
            raise InvalidInput("recipients", "nobody to send the draft to: no vendor or "
                               "reporter with an e-mail address")
        self._emit(EventType.ADVISORY_PREVIEWED, at, actor, reason,
                   data={"version": self.advisory_version + 1, "digest": digest,
                         "until": until.isoformat(), "recipients": pids})

    def publish_advisory(self, *, at: datetime, actor: str, summary: str,
                         formats: Iterable[str], digests: Mapping[str, str],
                         early: bool = False, reason: str = "") -> Publication:
        """Publish the next version of the advisory.  Before the end of an embargo in
        force this is refused unless it is marked early and says why; publishing ends the
        embargo (or drops a proposal nobody accepted yet) and records P once."""
        self._check_open("publish")
        check_aware(at, "at")
        end = self.embargo_end
        before_end = self.em in EM_IN_FORCE and end is not None and at < end
        if before_end:
            assert end is not None
            if not early:
                raise EmbargoInForce(self.case_id, end, self.em.value)
            if not reason.strip():
                raise InvalidInput("reason", f"publishing before the embargo end "
                                   f"({end.isoformat()}) needs the reason it ends early")
        version = self.advisory_version + 1
        text = summary.strip() or ("Initial public release." if version == 1
                                   else f"Revision {version}.")
        self._emit(EventType.ADVISORY_PUBLISHED, at, actor, reason.strip(),
                   data={"version": version, "summary": text, "formats": list(formats),
                         "digests": dict(digests), "early": before_end})
        why = f"advisory version {version} published"
        if self.em in EM_IN_FORCE:
            self.terminate_embargo(at=at, actor=actor, reason=why)
        elif self.em is EM.PROPOSED:
            self.reject_embargo(at=at, actor=actor, reason=f"{why}; the proposal is moot")
        if cs.CSEvent.P not in self.pxa:
            self.record_cs(cs.CSEvent.P, None, at=at, actor=actor, reason=why)
        return self.publications[-1]

    def record_cve_submission(self, key: str, cve_id: str, *, digest: str, created: bool,
                              answer: str, at: datetime, actor: str) -> None:
        """Record that CVE Services took the CVE record of vulnerability ``key``: published
        (``created``) or updated, ``digest`` the SHA-256 of the CNA container sent.  A
        record goes public the moment it is taken (6.9), so the log says when and what.
        Recorded on a closed case too: the submission happened whatever the case's
        status, and a log that refused it would hide a public record."""
        check_aware(at, "at")
        self.find_vulnerability(key)
        self._emit(EventType.CVE_SUBMITTED, at, actor, "",
                   data={"key": key, "cve_id": cve_id, "digest": digest,
                         "created": created, "answer": answer[:500]})

    def record_cve_submission_failure(self, key: str, cve_id: str, *, error: str,
                                      at: datetime, actor: str) -> None:
        """Record a submission to CVE Services that failed or was refused, with the
        reason, so a record that never went out is seen in the case and not assumed."""
        check_aware(at, "at")
        self.find_vulnerability(key)
        self._emit(EventType.CVE_SUBMISSION_FAILED, at, actor, "",
                   data={"key": key, "cve_id": cve_id, "error": error[:1000]})


def review_warnings(case: PublicationCommands, at: datetime, min_days: int) -> list[str]:
    """What the review window lacks: the guide asks for the draft 1-2 weeks before
    publication (6.10), and a shorter window leaves the vendors little time to correct it.
    A warning, not a refusal: a late draft is still better than none."""
    planned = case.publication_date()
    if planned is None:
        return ["no publication date is set (no embargo end agreed or proposed)"]
    left = planned - at
    if left < timedelta(days=min_days):
        days = max(left.days, 0)
        return [f"the planned publication ({planned.isoformat()}) is {days} day"
                f"{'' if days == 1 else 's'} away, less than the {min_days} days of review "
                "the policy asks for (draft_share_min_days)"]
    return []
