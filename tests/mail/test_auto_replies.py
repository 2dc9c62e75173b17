"""An out-of-office answer or a bounce is filed on its case but is not the vendor's reply.

Counting it as one would tell the rules that the vendor is aware and answering (V, RM
received), which hides an unreachable or unresponsive vendor (6.1, 6.2)."""

from __future__ import annotations

import pytest

from cvdesk.domain.events import EventType
from cvdesk.services import CaseService
from cvdesk.services.inbound import InboundService
from tests.conftest import Clock
from tests.mail.test_inbound import desk, open_case, reply


@pytest.mark.parametrize(("header", "value"), [
    ("Auto-Submitted", "auto-replied"),
    ("Auto-Submitted", "auto-generated"),
    ("X-Autoreply", "yes"),
    ("Precedence", "auto_reply"),
])
def test_an_auto_reply_is_kept_but_is_not_a_reply(service: CaseService, clock: Clock,
                                                   header: str, value: str) -> None:
    svc = desk(service)
    cid, sent_id = open_case(svc)
    msg = reply(clock, to=sent_id, subject="Out of office", body="I am away until Monday.")
    msg[header] = value
    out = InboundService(svc).receive(msg.as_bytes(), "test")
    assert (out.filed, out.case_id, out.participant) == (True, cid, 3)
    case = svc.replay(cid)
    acme = case.participants[3]
    assert (acme.replies, acme.rm.value, acme.last_reply_at) == (0, "start", None)
    assert "V" not in {e.value for e in acme.vfd}
    [event] = [e for e in svc.timeline(cid)
               if e.type is EventType.MESSAGE and e.data.get("direction") == "in"]
    assert event.data["automatic"].startswith(header)


def test_auto_submitted_no_is_a_person(service: CaseService, clock: Clock) -> None:
    svc = desk(service)
    cid, sent_id = open_case(svc)
    msg = reply(clock, to=sent_id)
    msg["Auto-Submitted"] = "no"
    assert InboundService(svc).receive(msg.as_bytes(), "test").filed
    assert svc.replay(cid).participants[3].replies == 1
