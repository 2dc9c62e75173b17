"""A bulk notice composes its messages with one ``Composer`` (issue 9, notify): each
message must be what ``compose`` writes for it alone, and the 7-bit body taken without
the email package must be the one the email package gives."""

from __future__ import annotations

import itertools
import re
import uuid
from datetime import UTC, datetime, timedelta, timezone
from email import policy
from email.contentmanager import _encode_text  # type: ignore[attr-defined]

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cvdesk.channels import mail
from cvdesk.channels.mail import Attachment, Composer, compose, render

LINES = st.lists(st.one_of(
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=90),
    st.text(max_size=20), st.sampled_from(["", "x" * 78, "x" * 79, "a\rb", "é", "\x0b",
                                           "\x1c", "\u2028"])), max_size=8)


@settings(max_examples=300, deadline=None)
@given(LINES, st.sampled_from(["\n", "", "\n\n", "\r\n"]))
@example(["x" * 78], "\n")
@example(["x" * 79], "\n")
@example([], "")
@example(["a\x0bb", "c\x1cd"], "\n")
def test_the_seven_bit_body_is_the_email_packages(lines: list[str], end: str) -> None:
    text = "\n".join(lines) + end
    fast = mail._seven_bit(text)
    if fast is not None:
        assert ("7bit", fast) == _encode_text(text, "utf-8", None, policy.default)


def test_the_usual_notice_takes_the_seven_bit_path() -> None:
    _, body = render("new-case", {"name": "Vendor 7", "desk": "CERT", "title": "Bug"})
    assert mail._seven_bit(f"TLP:AMBER\n\n{body}\n-- \nCVD-2026-0001 | TLP:AMBER\n")


NAMES = st.one_of(st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
                  st.text(max_size=40),
                  st.sampled_from(["Vendor 1", "Müller GmbH", "=?utf-8?q?x?=", "x" * 120]))
ADDRESSES = st.one_of(st.from_regex(r"[a-z0-9._+-]{1,12}@[a-z0-9-]{1,10}\.[a-z]{2,4}",
                                    fullmatch=True),
                      st.sampled_from(["Desk <cert@example.org>", "a..b@example.org", "é@x"]))
WHEN = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1),
                    timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5))]))


@settings(max_examples=150, deadline=None)
@given(sender=ADDRESSES, title=NAMES, at=WHEN, template=st.sampled_from(sorted(mail.TEMPLATES)),
       people=st.lists(st.tuples(NAMES, ADDRESSES), min_size=1, max_size=4))
def test_one_composer_writes_what_compose_writes_for_each(
        sender: str, title: str, at: datetime, template: str,
        people: list[tuple[str, str]]) -> None:
    ids = [uuid.UUID(int=n, version=4) for n in range(1, 2 * len(people) + 1)]
    composer = Composer(sender=sender, case_id="CVD-2026-0001", tlp="AMBER", at=at,
                        domain="example.org")
    with pytest.MonkeyPatch.context() as mp:
        fresh = itertools.chain(ids)
        mp.setattr(uuid, "uuid4", lambda: next(fresh))
        for name, address in people:
            subject, body = render(template, {"name": name, "desk": "CERT", "title": title})
            try:
                alone = compose(sender=sender, recipient=address, case_id="CVD-2026-0001",
                                tlp="AMBER", subject=subject, body=body, at=at,
                                domain="example.org")
            except ValueError as refused:  # e.g. a line break in a header: refused alike
                with pytest.raises(type(refused), match=re.escape(str(refused))):
                    composer.message(recipient=address, subject=subject, body=body)
                continue
            batch = composer.message(recipient=address, subject=subject, body=body)
            assert batch[1] == alone[1].replace(alone[0], batch[0])
            assert batch[0] != alone[0] and batch[0] in batch[1]


def test_attachments_and_keys_still_take_the_email_package() -> None:
    at = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
    composer = Composer(sender="cert@example.org", case_id="CVD-2026-0001", tlp="AMBER",
                        at=at, domain="example.org")
    _, raw = composer.message(recipient="psirt@v.example", subject="s", body="b\n",
                              attachments=[Attachment("a.json", b"{}", "application/json")])
    assert "multipart/mixed" in raw and 'filename="a.json"' in raw
