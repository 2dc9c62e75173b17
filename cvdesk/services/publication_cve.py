"""Submitting a case's CVE record to CVE Services (issue 10), and logging the outcome on
the case.

The request cannot share a transaction with the log (CVE Services is not part of it), so
it is made first and its outcome recorded after: ``cve.submitted`` with the record's
digest, or ``cve.submission_failed`` with the reason.  A failure is committed before it is
reported, so the case shows the attempt even though the command exits with an error.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from cvdesk.domain.advisory import AdvisoryStatus
from cvdesk.domain.cs import CSEvent
from cvdesk.domain.errors import InvalidInput
from cvdesk.services.publication_views import CveSubmissionView

if TYPE_CHECKING:
    from cvdesk.services.publication import PublicationService


def submit_cve(pub: PublicationService, case_id: str, key: str) -> CveSubmissionView:
    """The work of ``PublicationService.submit_cve``."""
    from cvdesk.channels.cve_services import CveServicesError, submit_cna
    from cvdesk.channels.fetch import FetchPolicy
    from cvdesk.publish.build import advisory_from_case, revisions_of
    from cvdesk.publish.cve import write_cve

    c = pub.settings.cve
    missing = [f"cve.{name}" for name in ("api_url", "org", "user", "api_key")
               if not getattr(c, name).strip()]
    if missing:
        raise InvalidInput(missing[0], "submitting to CVE Services needs the desk's "
                           "account: set " + ", ".join(missing) + " in the settings "
                           "(the key as CVDESK_CVE__API_KEY)")
    now = pub.cases.when(None)
    who = pub.cases.actor(None)
    case = pub.cases.replay(case_id)
    if CSEvent.P not in case.pxa:
        raise InvalidInput("case", f"{case.case_id} is not public yet (P not "
                           "recorded): publish the advisory before its CVE record")
    adv = advisory_from_case(case, publisher=pub.publisher(),
                             revisions=revisions_of(case), status=AdvisoryStatus.FINAL,
                             now=now)
    # "V1" names the first vulnerability even after it got its CVE id, which is then
    # its key in the advisory.
    vuln = case.vulnerability_key(case.find_vulnerability(key))
    p = pub.settings.publish
    record = write_cve(adv, vuln, assigner_org_id=p.cve_assigner_org_id,
                       assigner_short_name=p.cve_assigner_short_name)
    full = json.loads(record.content)
    cve_id = full["cveMetadata"]["cveId"]
    f = pub.settings.fetch
    policy = FetchPolicy(allow_loopback=f.allow_loopback,
                         timeout_seconds=f.timeout_seconds, ca_bundle=f.ca_bundle)
    try:
        done = submit_cna(cve_id, full["containers"]["cna"], api_url=c.api_url.strip(),
                          org=c.org.strip(), user=c.user.strip(), api_key=c.api_key,
                          policy=policy)
    except CveServicesError as exc:
        with pub.cases.case(case.case_id) as logged:
            logged.record_cve_submission_failure(vuln, cve_id, error=str(exc), at=now,
                                                 actor=who)
        raise InvalidInput("cve.api_url", f"{exc} (recorded on {case.case_id})") from None
    digest = container_digest(done.sent)
    with pub.cases.case(case.case_id) as logged:
        logged.record_cve_submission(vuln, cve_id, digest=digest, created=done.created,
                                     answer=done.message, at=now, actor=who)
    return CveSubmissionView(case.case_id, key, cve_id, done.created, done.message,
                             done.sent, digest)


def container_digest(container: object) -> str:
    """SHA-256 of the CNA container as sent, over its canonical JSON (sorted keys, no
    spaces): the same container gives the same digest, whichever order it was built in."""
    text = json.dumps(container, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
