"""The string-built message (channels/mail.py ``_plain``) must be exactly what the email
package writes (``_compose``), or not be used at all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from cvdesk.channels import mail
from cvdesk.channels.mail import compose, render

ATOM = st.text("abcXYZ019.-_+=?{}'!", min_size=1, max_size=12)
ADDRESS = st.one_of(
    st.builds(lambda a, d: f"{a}@{d}", ATOM, st.from_regex(r"[a-z0-9-]{1,10}(\.[a-z]{2,4})?",
                                                          fullmatch=True)),
    st.text(min_size=1, max_size=30))
TEXT = st.one_of(
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=120),
    st.text(max_size=120),
    st.sampled_from(["Vendor 1", "Müller GmbH", "=?utf-8?q?x?=", "a  b", " lead", "trail ",
                     "x" * 200, "line\nbreak", "tab\there", ".dot"]))
WHEN = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1),
                    timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5))]))


def headers(sender: str, recipient: str, subject: str, at: datetime) -> dict[str, str]:
    from email.utils import format_datetime
    return {"From": sender, "To": recipient, "Subject": f"[CVD-2026-0001] [TLP:AMBER] {subject}",
            "Date": format_datetime(at), "Message-ID": "<0123abcd.cvd-2026-0001@example.org>",
            "References": "<cvd-2026-0001@example.org>",
            "In-Reply-To": "<cvd-2026-0001@example.org>", "X-CVD-Case": "CVD-2026-0001",
            "X-TLP": "AMBER"}


@settings(max_examples=300, deadline=None)
@given(ADDRESS, ADDRESS, TEXT, TEXT, TEXT, WHEN, st.sampled_from(sorted(mail.TEMPLATES)))
def test_fast_path_writes_what_the_email_package_writes(
        sender: str, recipient: str, name: str, title: str, extra: str, at: datetime,
        template: str) -> None:
    subject, body = render(template, {"name": name, "desk": "CERT", "title": title,
                                      "advisory": extra})
    text = f"TLP:AMBER\n\n{body}\n-- \nCVD-2026-0001 | TLP:AMBER\n"
    h = headers(sender, recipient, subject, at)
    fast = mail._plain(text, h)
    if fast is not None:
        assert fast == mail._compose(text, h, "")


def test_fast_path_covers_the_usual_notice() -> None:
    subject, body = render("new-case", {"name": "Vendor 7", "desk": "CERT", "title": "Bug"})
    text = f"TLP:AMBER\n\n{body}\n-- \nCVD-2026-0001 | TLP:AMBER\n"
    h = headers("cert@example.org", "psirt@vendor7.example", subject, datetime.now(UTC))
    assert mail._plain(text, h) is not None
    assert mail._plain(text, h) == mail._compose(text, h, "")


def test_non_ascii_subject_and_name_fall_back_and_are_encoded() -> None:
    subject, body = render("new-case", {"name": "Müller", "desk": "CERT", "title": "Überlauf"})
    mid, raw = compose(sender="cert@example.org", recipient="psirt@m.example",
                       case_id="CVD-2026-0001", tlp="AMBER", subject=subject, body=body,
                       at=datetime.now(UTC), domain="example.org")
    assert "=?utf-8?" in raw and "Überlauf" not in raw and mid in raw


PLAIN_ADDRESS = st.from_regex(r"[a-z0-9._+-]{1,12}@[a-z0-9-]{1,10}\.[a-z]{2,4}", fullmatch=True)
ASCII = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=100)


@settings(max_examples=200, deadline=None)
@given(PLAIN_ADDRESS, PLAIN_ADDRESS, ASCII, ASCII, st.one_of(ASCII, st.text(max_size=300)),
       WHEN, st.sampled_from(sorted(mail.TEMPLATES)))
def test_fast_path_on_ascii_notices(sender: str, recipient: str, name: str, title: str,
                                    extra: str, at: datetime, template: str) -> None:
    """Same check, with inputs the fast path mostly takes (long lines, dots, any body)."""
    test_fast_path_writes_what_the_email_package_writes.hypothesis.inner_test(
        sender, recipient, name, title, extra, at, template)


def test_tricky_header_text_is_left_to_the_email_package() -> None:
    """Encoded-word look-alikes are decoded by the email package, so the two paths would
    differ: the fast path must not take them (nor long or non-ASCII text)."""
    for title in ("=?utf-8?q?x?=", "caf=?iso-8859-1?q?=E9?=", "x" * 950, "Überlauf",
                  "two  spaces", " lead"):
        subject, body = render("reminder", {"name": "V", "desk": "CERT", "title": title})
        text = f"TLP:AMBER\n\n{body}\n-- \nCVD-2026-0001 | TLP:AMBER\n"
        h = headers("cert@example.org", "psirt@v.example", subject, datetime.now(UTC))
        fast = mail._plain(text, h)
        assert fast is None or fast == mail._compose(text, h, ""), title
    h = headers("cert@example.org", "psirt@v.example", "=?utf-8?q?x?=", datetime.now(UTC))
    assert mail._plain("hi\n", h) is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80), st.sampled_from(sorted(mail.TEMPLATES)))
def test_a_title_with_line_breaks_stays_in_the_subject(title: str, template: str) -> None:
    """A case title is a stranger's text, stored as received: line breaks or control
    characters in it made the email package refuse the Subject header (a traceback,
    and no notice for the case); they become spaces, so no header of the stranger's
    choosing can start."""
    subject, body = render(template, {"name": "V", "desk": "CERT", "title": title})
    assert len(subject.splitlines()) <= 1
    _, raw = compose(sender="cert@example.org", recipient="psirt@v.example",
                     case_id="CVD-2026-0001", tlp="AMBER", subject=subject, body=body,
                     at=datetime(2026, 12, 1, tzinfo=UTC), domain="example.org")
    head = raw.split("\n\n", 1)[0]  # continuation lines start with a space
    assert [line.split(":")[0] for line in head.split("\n") if not line[:1].isspace()] == [
        "Content-Type", "Content-Transfer-Encoding", "MIME-Version", "From", "To",
        "Subject", "Date", "Message-ID", "References", "In-Reply-To", "X-CVD-Case",
        "X-TLP"]


def test_a_bcc_in_a_title_is_not_a_header() -> None:
    subject, body = render("new-case", {"name": "V", "desk": "CERT",
                                        "title": "Bug\r\nBcc: x@evil.example\u2028X: y"})
    assert subject.endswith("Bug Bcc: x@evil.example X: y")
    _, raw = compose(sender="cert@example.org", recipient="psirt@v.example",
                     case_id="CVD-2026-0001", tlp="AMBER", subject=subject, body=body,
                     at=datetime(2026, 12, 1, tzinfo=UTC), domain="example.org")
    head = raw.split("\n\n", 1)[0]
    assert "\nBcc:" not in head and "\nX: y" not in head
