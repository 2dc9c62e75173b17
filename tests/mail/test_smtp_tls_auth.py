"""The worker with STARTTLS and SMTP AUTH, against aiosmtpd requiring both."""

from __future__ import annotations

import ssl
from pathlib import Path

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from cvdesk.domain.model import Report, ReporterInfo, Role
from cvdesk.services import CaseService
from cvdesk.services.mail import MailService
from cvdesk.services.worker import Worker
from cvdesk.settings import load_settings
from tests.conftest import Clock
from tests.mail.conftest import Recorder, free_port


def authenticator(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
    ok = isinstance(auth_data, LoginPassword) and \
        (auth_data.login, auth_data.password) == (b"desk", b"s3cret")
    return AuthResult(success=ok)


def test_starttls_and_auth(service: CaseService, clock: Clock, tmp_path: Path) -> None:
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(context)
    recorder, port = Recorder(), free_port()
    server = Controller(recorder, hostname="127.0.0.1", port=port, tls_context=context,
                        require_starttls=True, authenticator=authenticator,
                        auth_required=True)
    server.start()
    try:
        base = {"port": port, "starttls": True, "ca_bundle": str(ca_file),
                "username": "desk", "max_attempts": 1}
        settings = load_settings(database_url=service.db.url, desk={"email": "cert@example.org"},
                                 smtp=base)
        svc = CaseService(service.db, settings, clock=clock)
        cid = svc.submit_report(Report("TLS case", "d", ReporterInfo("Rita"))).case_id
        svc.add_participant(cid, "Acme", [Role.VENDOR], email="psirt@acme.example")
        MailService(svc).queue(cid, None, "new-case")
        wrong = load_settings(database_url=service.db.url,
                              smtp={**base, "password": "nope", "timeout_seconds": 2})
        assert Worker(svc.db, wrong, clock=clock).run().failed == 1  # refused login
        assert recorder.messages == []
        MailService(svc).queue(cid, None, "new-case", key="again")
        good = load_settings(database_url=service.db.url, smtp={**base, "password": "s3cret"})
        assert Worker(svc.db, good, clock=clock).run().sent == 1
        assert len(recorder.messages) == 1
    finally:
        server.stop()
