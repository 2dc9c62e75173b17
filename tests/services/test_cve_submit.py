"""Submitting a CVE record to CVE Services through cvelib (issue 10), only ever against
a small HTTPS server on 127.0.0.1 that answers the two calls cvelib makes to publish a
CNA container (POST) or update a published one (PUT)."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import trustme

from cvdesk.domain.errors import InvalidInput
from cvdesk.services.cases import CaseService
from cvdesk.services.publication import PublicationService
from cvdesk.settings import load_settings
from tests.conftest import Cli

FREE = "CVD-2026-0014"  # a demo case without embargo: publishable now
CVE = "CVE-2026-50001"


class FakeCveServices:
    """Remembers each request; answers POST as for a reserved id, or with the
    "record exists" error once ``published`` is set, and PUT as an update."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        self.published = False
        self.port = 0
        self.raw: tuple[int, bytes] | None = None  # answer every call with this instead

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/api/"


@pytest.fixture
def cve_services(tmp_path: Path) -> Iterator[tuple[FakeCveServices, Path]]:
    authority = trustme.CA()
    ca_path = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_path))
    fake = FakeCveServices()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _take(self) -> Any:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length)) if length else None
            fake.requests.append((self.command, self.path, dict(self.headers), body))
            return body

        def do_POST(self) -> None:
            body = self._take()
            if fake.raw is not None:
                status, data = fake.raw
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            if fake.published:
                self._answer(403, {"error": "CVE_RECORD_EXISTS", "message": "exists"})
                return
            fake.published = True
            self._answer(200, {"message": f"{CVE} record was successfully created.",
                               "created": body})

        def do_PUT(self) -> None:
            body = self._take()
            self._answer(200, {"message": f"{CVE} record was successfully updated.",
                               "updated": body})

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    fake.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake, ca_path
    server.shutdown()
    server.server_close()


def _pub(demo_service: CaseService, **more: Any) -> PublicationService:
    settings = load_settings(database_url=demo_service.db.url, actor="tester",
                             desk={"name": "Example CSIRT", "email": "cert@example.org"},
                             **more)
    return PublicationService(CaseService(demo_service.db, settings,
                                          clock=demo_service.clock))


def _published_with_cve(pub: PublicationService) -> None:
    pub.cases.update_vulnerability(FREE, "V1", cve=CVE,
                                   references=["https://vendor.example/advisories/1"])
    pub.publish(FREE, ["csaf"])


def test_submits_the_validated_cna_container_then_updates_it(
        demo_service: CaseService, cve_services: tuple[FakeCveServices, Path]) -> None:
    from cvdesk.domain.advisory import AdvisoryStatus
    from cvdesk.publish.build import advisory_from_case, revisions_of
    from cvdesk.publish.cve import write_cve

    fake, ca_path = cve_services
    pub = _pub(demo_service, fetch={"allow_loopback": True, "ca_bundle": str(ca_path)},
               cve={"api_url": fake.url, "org": "examplecsirt", "user": "cna@example.org",
                    "api_key": "secret-key"})
    _published_with_cve(pub)
    first = pub.submit_cve(FREE, CVE)
    assert first.created and first.cve_id == CVE and "created" in first.message
    [(method, path, headers, body)] = fake.requests
    assert (method, path) == ("POST", f"/api/cve/{CVE}/cna")
    assert (headers["CVE-API-ORG"], headers["CVE-API-USER"], headers["CVE-API-KEY"]) == (
        "examplecsirt", "cna@example.org", "secret-key")
    # What arrived is the CNA container of the record write_cve validated, with the
    # tool named (so cvelib adds nothing of its own).
    case = pub.cases.replay(FREE)
    adv = advisory_from_case(case, publisher=pub.publisher(), revisions=revisions_of(case),
                             status=AdvisoryStatus.FINAL, now=pub.cases.clock())
    record = json.loads(write_cve(  # validated against the CVE record schema
        adv, CVE, assigner_org_id=pub.settings.publish.cve_assigner_org_id,
        assigner_short_name=pub.settings.publish.cve_assigner_short_name).content)
    expected = {**record["containers"]["cna"], "x_generator": {"engine": "cvdesk"}}
    assert body == {"cnaContainer": expected} == {"cnaContainer": first.container}
    from cvelib.cve_api import CveRecord

    CveRecord.validate(body["cnaContainer"], CveRecord.Schemas.CNA_PUBLISHED)

    second = pub.submit_cve(FREE, CVE)  # already published: POST refused, then PUT
    assert not second.created and "updated" in second.message
    assert [(m, p) for m, p, _, _ in fake.requests[1:]] == [
        ("POST", f"/api/cve/{CVE}/cna"), ("PUT", f"/api/cve/{CVE}/cna")]
    assert fake.requests[2][3] == {"cnaContainer": second.container}


def test_loopback_is_refused_unless_allowed_and_nothing_is_sent(
        demo_service: CaseService, cve_services: tuple[FakeCveServices, Path]) -> None:
    fake, ca_path = cve_services
    pub = _pub(demo_service, fetch={"ca_bundle": str(ca_path)},
               cve={"api_url": fake.url, "org": "o", "user": "u", "api_key": "k"})
    _published_with_cve(pub)
    with pytest.raises(InvalidInput) as refused:
        pub.submit_cve(FREE, CVE)
    assert refused.value.field == "cve.api_url" and "127.0.0.1" in refused.value.problem
    assert fake.requests == []


@pytest.mark.parametrize("status", [200, 403])
def test_an_answer_nested_too_deeply_is_a_recorded_failure(
        demo_service: CaseService, cve_services: tuple[FakeCveServices, Path],
        status: int) -> None:
    """CVE Services (or whatever answers at its address) sends JSON nested 50,000 levels
    deep, as a success or as an error: Python's reader stops with a RecursionError,
    which is reported like any other unreadable answer, and the failure is logged."""
    fake, ca_path = cve_services
    fake.raw = (status, b"[" * 50_000 + b"]" * 50_000)
    pub = _pub(demo_service, fetch={"allow_loopback": True, "ca_bundle": str(ca_path)},
               cve={"api_url": fake.url, "org": "o", "user": "u", "api_key": "k"})
    _published_with_cve(pub)
    with pytest.raises(InvalidInput) as refused:
        pub.submit_cve(FREE, CVE)
    assert refused.value.field == "cve.api_url"
    assert ("nested too deeply" in refused.value.problem if status == 200
            else "HTTP 403" in refused.value.problem), refused.value.problem
    assert f"recorded on {FREE}" in refused.value.problem
    assert [m for m, _, _, _ in fake.requests] == ["POST"]


def test_a_case_not_yet_public_is_refused(
        demo_service: CaseService, cve_services: tuple[FakeCveServices, Path]) -> None:
    fake, ca_path = cve_services
    pub = _pub(demo_service, fetch={"allow_loopback": True, "ca_bundle": str(ca_path)},
               cve={"api_url": fake.url, "org": "o", "user": "u", "api_key": "k"})
    pub.cases.update_vulnerability(FREE, "V1", cve=CVE,
                                   references=["https://vendor.example/advisories/1"])
    with pytest.raises(InvalidInput) as refused:
        pub.submit_cve(FREE, CVE)
    assert refused.value.field == "case" and "not public" in refused.value.problem
    assert fake.requests == []


def test_cli_without_configuration_names_the_missing_setting(
        demo_cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = demo_cli("cve", "publish", FREE, "V1")
    assert code == 2 and "cve.api_url" in err and "cve.api_key" in err
    monkeypatch.setenv("CVDESK_CVE__API_URL", "https://cveawg-test.mitre.org/api/")
    monkeypatch.setenv("CVDESK_CVE__ORG", "o")
    monkeypatch.setenv("CVDESK_CVE__USER", "u")
    code, _, err = demo_cli("cve", "publish", FREE, "V1")
    assert code == 2 and "cve.api_key" in err and "CVDESK_CVE__API_KEY" in err
