"""Fuzzing inbound mail: random MIME trees and random bytes, on both databases.

Whatever arrives, no exception escapes, the listener answers 250, and the message is
either filed (a message row and its events) or quarantined whole with a reason, never
half stored: the row counts before and after say which.
"""

from __future__ import annotations

import asyncio
import base64
import quopri
from pathlib import Path
from types import SimpleNamespace

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from cvdesk.channels.inbound import MalformedMail, parse
from cvdesk.channels.listener import Handler
from cvdesk.services import CaseService
from cvdesk.services.inbound import InboundService
from cvdesk.store.tables import EventRow, MessageRow
from tests.conftest import Clock
from tests.mail.test_inbound import desk, open_case, reply
from tests.mail.test_inbound_rules import counts

FUZZ = settings(max_examples=40, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))
FIXTURES = Path(__file__).parent / "fixtures"

CHARSETS = ["utf-8", "iso-8859-1", "us-ascii", "windows-1252", "utf-16", "koi8-r", "utf-7",
            "x-no-such-charset", "", '"', "utf-8\x00x"]
ENCODINGS = ["7bit", "8bit", "binary", "base64", "quoted-printable", "x-uuencode", "bogus",
             ""]
LEAF_TYPES = ["text/plain", "text/html", "application/octet-stream", "image/png",
              "application/pgp-signature", "message/rfc822", "text/x-weird", "nonsense"]
MULTIPART = ["mixed", "mixed", "alternative", "related", "signed", "encrypted", "x-weird"]
HEADER_NAMES = ["X-Anything", "Content-Disposition", "Content-ID", "References", "Subject",
                "Comments", "Received", "X-\x00", "Message-ID"]
DATES = ["Mon, 02 Nov 2026 09:30:00 +0000", "Mon, 01 Jan 0001 00:00:00 +0000",
         "Fri, 31 Dec 9999 23:59:59 -1200", "31 Dec 9999 23:59:59 +1400", "yesterday",
         "Mon, 02 Nov 2026 09:30:00 -0000", "", "Mon, 99 Foo 2026 99:99:99 +9999"]

text = st.text(st.characters(exclude_categories=("Cs",)), max_size=80)


def header(name: str, value: str) -> bytes:
    return name.encode() + b": " + value.encode("utf-8") + b"\r\n"


@st.composite
def message_ids(draw: st.DrawFn, known: list[str]) -> str | None:
    return draw(st.one_of(
        st.none(), st.just(""), st.sampled_from(known),
        st.builds(lambda t: f"<{t}@acme.example>", text),
        st.builds(lambda n: "<" + "x" * n + "@acme.example>", st.integers(200, 3000)),
        st.builds(lambda a, b: f"<{a}\x00{b}@acme.example>", text, text),
        text))


@st.composite
def leaf(draw: st.DrawFn) -> bytes:
    ctype, charset, cte = (draw(st.sampled_from(LEAF_TYPES)), draw(st.sampled_from(CHARSETS)),
                           draw(st.sampled_from(ENCODINGS)))
    payload = draw(st.one_of(st.binary(max_size=300),
                             text.map(lambda t: t.encode("utf-8"))))
    if cte == "base64" and draw(st.booleans()):
        payload = base64.encodebytes(payload)
    elif cte == "quoted-printable" and draw(st.booleans()):
        payload = quopri.encodestring(payload)
    head = header("Content-Type", f"{ctype}; charset=\"{charset}\"" if charset else ctype)
    if cte:
        head += header("Content-Transfer-Encoding", cte)
    if draw(st.booleans()):
        head += header("Content-Disposition", f'attachment; filename="{draw(text)}"')
    for name, value in draw(st.lists(st.tuples(st.sampled_from(HEADER_NAMES), text),
                                     max_size=2)):
        head += header(name, value)
    return head + b"\r\n" + payload


def tree(depth: int = 0) -> st.SearchStrategy[bytes]:
    if depth >= 3:
        return leaf()
    return st.one_of(leaf(), multipart(depth))


@st.composite
def multipart(draw: st.DrawFn, depth: int) -> bytes:
    boundary = draw(st.text("abcXYZ019'()+_,-./:=? ", min_size=1, max_size=70)).encode()
    children = draw(st.lists(tree(depth + 1), max_size=4))
    body = b"".join(b"--" + boundary + b"\r\n" + child + b"\r\n" for child in children)
    if draw(st.booleans()):
        body += b"--" + boundary + b"--\r\n"
    subtype = draw(st.sampled_from(MULTIPART))
    return (header("Content-Type", f'multipart/{subtype}; boundary="{boundary.decode()}"')
            + b"\r\n" + body)


@st.composite
def mails(draw: st.DrawFn, cid: str, sent: str) -> bytes:
    head = b""
    odd = draw(st.integers(0, 9)) >= 7  # mostly the vendor, so that much gets filed
    sender = draw(st.sampled_from(["rita@finder.example", "", "\x00@\x00"]) | text if odd
                  else st.sampled_from(["psirt@acme.example", "Acme PSIRT <psirt@acme.example>",
                                        "=?utf-8?q?Acme_=C3=BC?= <psirt@acme.example>"]))
    if sender is not None:
        head += header("From", sender)
    subject = draw(st.one_of(text, st.builds(lambda t: f"[{cid}] {t}", text),
                             st.just("=?utf-8?b?W0NWRC0yMDI2LTAwMDFdIMOkw7bDvA==?="),
                             st.just("=?x-bogus?q?=FF=00?=")))
    head += header("Subject", subject)
    message_id = draw(message_ids([sent, f"<{cid.lower()}@example.org>"]))
    if message_id is not None:
        head += header("Message-ID", message_id)
    in_reply_to = draw(st.sampled_from([sent, sent, sent, "<other@x>", "", None]))
    if in_reply_to is not None:
        head += header("In-Reply-To", in_reply_to)
    date = draw(st.one_of(st.sampled_from(DATES), text))
    if date:
        head += header("Date", date)
    head += header("MIME-Version", "1.0")
    return head + draw(tree())


def nul_safe(text: str) -> str:
    """As the store keeps text: NUL becomes U+FFFD (cvdesk.store.types)."""
    return text.replace("\x00", "\ufffd")


def check_one(svc: CaseService, inbound: InboundService, raw: bytes) -> None:
    before = counts(svc)
    answer = asyncio.run(Handler(lambda data: outcomes.append(inbound.receive(data, "fuzz")))
                         .handle_DATA(None, None, SimpleNamespace(original_content=raw,
                                                                  content=raw)))
    assert answer.startswith("250"), answer
    out = outcomes.pop()
    event("duplicate" if out.duplicate else "filed" if out.filed
          else f"quarantined: {out.reason.split(':')[0][:30]}")
    after = counts(svc)
    if out.duplicate:  # only a true copy: never another message under a taken id
        assert after == before
        mail = parse(raw)
        with svc.db.sessions() as s:
            body, actor = s.execute(
                select(MessageRow.body, EventRow.actor).join(
                    EventRow, (EventRow.case_pk == MessageRow.case_pk)
                    & (EventRow.type == "message.logged")
                    & (EventRow.participant == MessageRow.participant))
                .where(MessageRow.message_id == mail.message_id)
                .order_by(EventRow.seq.desc())).first()
        assert (body, actor) == (nul_safe(mail.text), nul_safe(f"mail:{mail.sender}"))
    elif out.filed:
        assert after["messages"] == before["messages"] + 1
        assert after["events"] > before["events"]
        assert after["quarantine"] == before["quarantine"]
    else:
        assert out.reason
        assert after == {**before, "quarantine": before["quarantine"] + 1}
        last = inbound.quarantined()[-1]
        # the store keeps text NUL-free (U+FFFD, cvdesk.store.types); the bytes stay whole
        assert last.raw == raw
        assert last.reason.startswith(nul_safe(out.reason))


outcomes: list = []  # type: ignore[type-arg]


def test_random_mime_trees_are_filed_or_quarantined(service: CaseService,
                                                    clock: Clock) -> None:
    svc = desk(service)
    cid, sent = open_case(svc)
    inbound = InboundService(svc)

    @FUZZ
    @given(raw=mails(cid, sent))
    def check(raw: bytes) -> None:
        check_one(svc, inbound, raw)

    check()


def test_random_bytes_are_filed_or_quarantined(service: CaseService, clock: Clock) -> None:
    svc = desk(service)
    cid, sent = open_case(svc)
    inbound = InboundService(svc)
    valid = reply(clock, to=sent, subject=f"[{cid}] x", attach=b"\x00\x01").as_bytes()

    @FUZZ
    @given(raw=st.one_of(
        st.binary(max_size=2000),
        st.tuples(st.integers(0, len(valid)), st.binary(max_size=40)).map(
            lambda cut: valid[:cut[0]] + cut[1] + valid[cut[0] + len(cut[1]):])))
    def check(raw: bytes) -> None:
        check_one(svc, inbound, raw)

    check()


@settings(max_examples=12, deadline=None, database=None)
@given(data=st.data())
def test_damaged_gnupg_messages_fail_with_a_reason(data: st.DataObject) -> None:
    """Flipped bytes in real GnuPG output: PGPy's many exceptions all become a reason."""
    raw = (FIXTURES / "gpg-signed-encrypted.eml").read_bytes()
    start = raw.index(b"-----BEGIN PGP MESSAGE-----") + 40
    end = raw.index(b"-----END PGP MESSAGE-----")
    at = data.draw(st.integers(start, end - 1))
    junk = data.draw(st.binary(min_size=1, max_size=8))
    damaged = raw[:at] + junk + raw[at + len(junk):]
    key = (FIXTURES / "desk-secret.asc").read_text()
    try:
        parse(damaged, [(key, "cvdesk-test-only")])
    except MalformedMail as exc:
        assert str(exc)
