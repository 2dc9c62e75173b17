"""An address with a final newline passed every check anchored with '$' (Python's '$'
also matches before a last newline), and the email package writes such a header as it
is: the blank line ended the headers, and the subject, date and Message-ID fell into the
body.  Every check now takes the whole text, and an address on file from before is
refused when a notice is composed, naming the participant; nothing is queued."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from cvdesk.domain.errors import InvalidInput
from cvdesk.domain.model import Report, ReporterInfo, Role, check_email
from cvdesk.intake.values import Bad
from cvdesk.intake.values import email as form_email
from cvdesk.services.cases import CaseService
from cvdesk.services.mail import MailService
from cvdesk.settings import load_settings
from cvdesk.store.tables import EventRow, OutboxRow


@pytest.mark.parametrize("value", ["psirt@acme.example\n", "psirt@acme.example\r\n",
                                   "psirt@acme.example\nBcc: x@y.example"])
def test_an_address_with_a_line_break_is_not_an_address(value: str) -> None:
    with pytest.raises(InvalidInput):
        check_email(value)
    with pytest.raises(Bad):
        form_email(value)
    assert check_email("psirt@acme.example") == "psirt@acme.example"


def test_the_service_checks_a_participants_address(service: CaseService) -> None:
    cid = service.submit_report(Report("Bug", "d", ReporterInfo("R"))).case_id
    with pytest.raises(InvalidInput) as refused:
        service.add_participant(cid, "Acme", [Role.VENDOR], email="psirt@acme.example\n")
    assert refused.value.field == "email"


def test_an_address_on_file_with_a_newline_stops_the_notice(service: CaseService) -> None:
    settings = load_settings(database_url=service.db.url, actor="tester",
                             desk={"name": "Example CSIRT", "email": "cert@example.org"})
    svc = CaseService(service.db, settings, clock=service.clock)
    cid = svc.submit_report(Report("Bug", "d", ReporterInfo("R"))).case_id
    with svc.case(cid) as case:  # as a version without the whole-text check stored it
        case.add_participant("Fine", [Role.VENDOR], at=svc.clock(), actor="t",
                             email="psirt@fine.example")
        case.add_participant("Acme", [Role.VENDOR], at=svc.clock(), actor="t",
                             email="psirt@acme.example\n")

    def counts() -> tuple[int, int]:
        with svc.db.sessions() as s:
            return (s.scalar(select(func.count()).select_from(OutboxRow)) or 0,
                    s.scalar(select(func.count()).select_from(EventRow)) or 0)

    before = counts()
    with pytest.raises(InvalidInput) as refused:
        MailService(svc).queue(cid, None, "new-case")
    assert refused.value.field == "email"
    assert "holds a line break" in refused.value.problem and "Acme" in refused.value.problem
    assert counts() == before
