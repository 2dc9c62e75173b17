"""Account mail (issue 11): names and titles from outside cannot add headers, and the
message is plain text with the link whole on its line."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_string, policy

from cvdesk.channels.account_mail import compose_account_mail, render_account_mail


def test_a_name_with_line_breaks_cannot_add_headers() -> None:
    link = "https://desk.example/invite/" + "A" * 43
    subject, body = render_account_mail("account-invite", {
        "desk": "Desk\r\nBcc: victim@example.org", "name": "Eve\nBcc: x@y.example",
        "email": "e@vendor.example", "case_id": "CVD-2026-0001", "title": "T\r\nX-Evil: 1",
        "hours": "72", "link": link})
    _, raw = compose_account_mail(sender="cert@desk.example", recipient="e@vendor.example",
                                  subject=subject, body=body,
                                  at=datetime(2026, 11, 2, tzinfo=UTC), domain="desk.example")
    msg = message_from_string(raw, policy=policy.default)
    assert msg["Bcc"] is None and msg["X-Evil"] is None
    assert msg["Auto-Submitted"] == "auto-generated"
    assert link in msg.get_content()
