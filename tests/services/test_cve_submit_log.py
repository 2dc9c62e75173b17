"""A CVE record submitted to CVE Services is logged on its case (issue 10; 6.9: the record
is public once taken): ``cve.submitted`` with the digest of what was sent, or
``cve.submission_failed`` with the reason.  CVE Services is only ever the small HTTPS
server on 127.0.0.1 of tests/services/test_cve_submit.py."""
# ruff: noqa: F811 (the fixture cve_services is imported from there)

from __future__ import annotations

from pathlib import Path

import pytest

from cvdesk.domain.errors import InvalidInput
from cvdesk.domain.events import EventType
from cvdesk.services.cases import CaseService
from cvdesk.services.publication_cve import container_digest
from tests.conftest import Cli, table_counts
from tests.services.test_cve_submit import (  # noqa: F401 (cve_services is a fixture)
    CVE,
    FREE,
    FakeCveServices,
    _pub,
    _published_with_cve,
    cve_services,
)


def _cve_events(svc: CaseService) -> list[tuple[EventType, dict[str, object], str]]:
    return [(e.type, e.data, e.summary()) for e in svc.timeline(FREE)
            if e.type in (EventType.CVE_SUBMITTED, EventType.CVE_SUBMISSION_FAILED)]


def test_a_submission_is_logged_with_the_digest_of_what_was_sent(
        demo_service: CaseService, cve_services: tuple[FakeCveServices, Path]) -> None:
    fake, ca_path = cve_services
    pub = _pub(demo_service, fetch={"allow_loopback": True, "ca_bundle": str(ca_path)},
               cve={"api_url": fake.url, "org": "o", "user": "u", "api_key": "k"})
    _published_with_cve(pub)
    first = pub.submit_cve(FREE, "V1")
    second = pub.submit_cve(FREE, CVE)  # published already: updated
    [(kind1, data1, line1), (kind2, data2, line2)] = _cve_events(pub.cases)
    assert kind1 is kind2 is EventType.CVE_SUBMITTED
    sent = fake.requests[0][3]["cnaContainer"]
    assert data1["digest"] == first.digest == container_digest(sent)
    assert first.to_json()["digest"] == first.digest
    assert (data1["cve_id"], data1["key"], data1["created"]) == (CVE, CVE, True)
    assert (data2["created"], data2["digest"]) == (False, second.digest)
    assert "created" in str(data1["answer"])
    assert line1 == f"CVE record {CVE} published at CVE Services (sha256 {first.digest[:16]})"
    assert line2.startswith(f"CVE record {CVE} updated at CVE Services")
    timeline = [e for e in pub.cases.timeline(FREE) if e.type is EventType.CVE_SUBMITTED]
    assert timeline[0].at == pub.cases.clock() and timeline[0].actor == "tester"


def test_a_failed_submission_is_logged_with_the_reason_and_still_refused(
        demo_service: CaseService, cve_services: tuple[FakeCveServices, Path]) -> None:
    fake, _ = cve_services
    # The server's certificate is not trusted: the request fails before any answer.
    pub = _pub(demo_service, fetch={"allow_loopback": True},
               cve={"api_url": fake.url, "org": "o", "user": "u", "api_key": "k"})
    _published_with_cve(pub)
    with pytest.raises(InvalidInput) as failed:
        pub.submit_cve(FREE, CVE)
    assert failed.value.field == "cve.api_url" and f"recorded on {FREE}" in str(failed.value)
    [(kind, data, line)] = _cve_events(pub.cases)
    assert kind is EventType.CVE_SUBMISSION_FAILED
    assert data["cve_id"] == CVE and "could not be reached" in str(data["error"])
    assert line.startswith(f"CVE record {CVE} not submitted: CVE Services could not be")


def test_refusals_before_any_request_log_nothing(
        demo_service: CaseService, cve_services: tuple[FakeCveServices, Path]) -> None:
    fake, ca_path = cve_services
    pub = _pub(demo_service, fetch={"allow_loopback": True, "ca_bundle": str(ca_path)},
               cve={"api_url": fake.url, "org": "o", "user": "u", "api_key": "k"})
    pub.cases.update_vulnerability(FREE, "V1", cve=CVE,
                                   references=["https://vendor.example/advisories/1"])
    before = table_counts(pub.cases.db.url)
    with pytest.raises(InvalidInput, match="not public"):
        pub.submit_cve(FREE, CVE)
    assert table_counts(pub.cases.db.url) == before and fake.requests == []


def test_a_closed_case_still_logs_its_submission(
        demo_service: CaseService, cve_services: tuple[FakeCveServices, Path]) -> None:
    fake, ca_path = cve_services
    pub = _pub(demo_service, fetch={"allow_loopback": True, "ca_bundle": str(ca_path)},
               cve={"api_url": fake.url, "org": "o", "user": "u", "api_key": "k"})
    _published_with_cve(pub)
    pub.cases.close(FREE, reason="published")
    assert pub.submit_cve(FREE, CVE).created
    assert [k for k, _, _ in _cve_events(pub.cases)] == [EventType.CVE_SUBMITTED]


def test_cli_timeline_shows_the_submission(
        demo_cli: Cli, monkeypatch: pytest.MonkeyPatch,
        cve_services: tuple[FakeCveServices, Path]) -> None:
    fake, ca_path = cve_services
    for name, value in (("CVE__API_URL", fake.url), ("CVE__ORG", "o"), ("CVE__USER", "u"),
                        ("CVE__API_KEY", "k"), ("FETCH__ALLOW_LOOPBACK", "true"),
                        ("FETCH__CA_BUNDLE", str(ca_path)),
                        ("DESK__EMAIL", "cert@example.org")):
        monkeypatch.setenv(f"CVDESK_{name}", value)
    demo_cli.ok("vuln", "update", FREE, "V1", "--cve", CVE,
                "--reference", "https://vendor.example/advisories/1")
    demo_cli.ok("publish", FREE, "--format", "csaf")
    view = demo_cli.json("cve", "publish", FREE, CVE)
    timeline = demo_cli.ok("case", "timeline", FREE)
    assert "cve.submitted" in timeline and f"CVE record {CVE} published" in timeline
    assert view["digest"][:16] in timeline
    again = demo_cli.ok("cve", "publish", FREE, "V1")
    assert f"{CVE} ({FREE} V1): updated" in again and "logged on the case" in again
    assert f"CVE record {CVE} updated" in demo_cli.ok("case", "timeline", FREE)
