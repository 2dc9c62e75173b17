"""Text from outside never reaches the terminal raw (issue 8, item 1), on both backends.

A case is loaded with escape sequences, carriage returns, C1 controls and bidi overrides
in its title, a participant's name, a message subject, a report field, a directory
entry, an outbox error and a quarantined mail.  Every command that shows them must
print them as visible escapes, with no control or bidi character on stdout or stderr,
in tables, styled lines, errors and JSON alike.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cvdesk.cli.output import json_text, neutralise
from cvdesk.domain.model import (
    Channel,
    ContactKind,
    Direction,
    Report,
    ReporterInfo,
    Role,
)
from cvdesk.services import CaseService
from cvdesk.services.contacts import ContactService
from cvdesk.services.inbound import InboundService
from cvdesk.settings import load_settings
from cvdesk.store.db import Database
from cvdesk.store.tables import CaseRow, OutboxRow
from tests.conftest import Cli, Clock

EVIL = "\x1b[2J\x1b]0;pwned\x07\r\u202eevil\u2066x\u2069\u200f\x9b31m\x7f\x08"
SHOWN = neutralise(EVIL)
# What must never reach the terminal: C0 but newline and tab, DEL, C1, bidi controls.
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def test_neutralise_shows_every_dangerous_character() -> None:
    assert neutralise("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert neutralise("\u202e\u2066\u200e\u061c") == "\\u202e\\u2066\\u200e\\u061c"
    assert neutralise("\r\x00\x7f\x85\x9b") == "\\x0d\\x00\\x7f\\x85\\x9b"
    assert neutralise("line\n\tnext") == "line\n\tnext"
    assert neutralise("line\n\tnext", layout=False) == "line\\x0a\\x09next"
    assert neutralise("Müller 漢字 – ok") == "Müller 漢字 – ok"
    assert not RAW.search(SHOWN)


def test_json_keeps_values_and_hides_nothing() -> None:
    value = {"t" + EVIL: EVIL + "é漢"}
    shown = json_text(value)
    assert not RAW.search(shown)
    assert json.loads(shown) == value
    assert "é漢" in shown  # readable text stays readable


@pytest.fixture
def loaded(db_url: str, cli: Cli):  # type: ignore[no-untyped-def]
    db = Database(db_url)
    clock = Clock(datetime.now(UTC) - timedelta(days=30))
    settings = load_settings(database_url=db_url, actor="t" + EVIL,
                             desk={"email": "cert@example.org"})
    svc = CaseService(db, settings, clock=clock)
    report = Report("Title " + EVIL, "Description " + EVIL, ReporterInfo("Rita " + EVIL))
    cid = svc.submit_report(report).case_id
    pid = svc.add_participant(cid, "Vendor " + EVIL, [Role.VENDOR],
                              organization="Org " + EVIL, email="psirt@acme.example")
    svc.log_message(cid, direction=Direction.INBOUND, channel=Channel.EMAIL,
                    subject="Subject " + EVIL, body="we will sue " + EVIL,
                    participant=str(pid))
    svc.note(cid, "note " + EVIL)
    ContactService(db, settings, clock=clock).add("Org " + EVIL, ContactKind.URL,
                                                  "https://acme.example/" + EVIL)
    with db.transaction() as s:
        case_pk = s.query(CaseRow.id).scalar()
        s.add(OutboxRow(idempotency_key="k", case_pk=case_pk, participant=pid,
                        template="new-case", sender="cert@example.org",
                        recipient="psirt@acme.example", message_id="<m@x>", raw="",
                        status="failed", attempts=1, next_attempt_at=clock.now,
                        created_at=clock.now, worker="", last_error="550 " + EVIL,
                        in_doubt=False, logged=False))
    raw = (f"From: stranger@else.example\r\nSubject: Hello {EVIL}\r\n"
           f"Message-ID: <q1@else.example>\r\n\r\nbody\r\n").encode()
    assert not InboundService(svc).receive(raw, "test").filed
    db.dispose()
    return cid, cli


COMMANDS = [
    ("case", "list"), ("case", "show", "{cid}"), ("case", "timeline", "{cid}"),
    ("doctor",), ("finding", "list"), ("mail", "quarantine"), ("outbox", "list"),
    ("contact", "list"), ("participant", "list", "{cid}"),
]


@pytest.mark.parametrize("json_too", [False, True], ids=["text", "json"])
def test_no_command_prints_control_or_bidi_characters(loaded, json_too: bool) -> None:  # type: ignore[no-untyped-def]
    cid, run = loaded
    shown_somewhere = 0
    for command in COMMANDS:
        args = [a.format(cid=cid) for a in command] + (["--json"] if json_too else [])
        code, out, err = run(*args)
        if json_too and code == 2 and "--json" in err:
            continue  # a command without --json
        assert code == 0, (args, out, err)
        assert not RAW.search(out), (args, RAW.findall(out))
        assert not RAW.search(err), (args, RAW.findall(err))
        escaped = SHOWN if not json_too else json_text(EVIL)[1:-1]
        shown_somewhere += escaped[:20] in out  # tables may wrap or cut the rest
    assert shown_somewhere >= 6  # the text is there, shown, not dropped


def test_the_escaped_text_is_what_each_listing_shows(loaded) -> None:  # type: ignore[no-untyped-def]
    cid, run = loaded
    part = SHOWN[:20]  # table cells wrap (here, after "Title"), and some columns are cut
    for args in (["case", "list"], ["case", "timeline", cid], ["mail", "quarantine"],
                 ["contact", "list"], ["outbox", "list"]):
        assert part in run(*args)[1], args
    assert f"Title {SHOWN}" in run("case", "show", cid)[1]  # its header line is whole
    data = json.loads(run("case", "show", cid, "--json")[1])
    assert data["title"] == f"Title {EVIL}"  # JSON keeps the values


def test_errors_that_quote_input_are_escaped(loaded) -> None:  # type: ignore[no-untyped-def]
    _, run = loaded
    for args in (["case", "show", "CVD-2026-9" + EVIL],            # NotFound from a service
                 ["case", "list", "--status", EVIL],                # InvalidInput
                 ["case", "x" + EVIL],                              # click's own usage error
                 ["case", "list", "--x" + EVIL],
                 ["participant", "list", "CVD" + EVIL]):
        code, out, err = run(*args)
        assert code in (2, 4), (args, err)
        assert not RAW.search(out + err), (args, RAW.findall(err))
        assert "\\x1b[2J" in err, (args, err)


def test_log_lines_are_neutralised(capsys: pytest.CaptureFixture[str]) -> None:
    import logging

    from cvdesk.cli.output import log_to_stderr

    log_to_stderr()
    logging.getLogger("cvdesk.channels.listener").warning("could not store %s", EVIL)
    err = capsys.readouterr().err
    assert SHOWN in err and not RAW.search(err)


def test_an_unexpected_error_shows_a_neutralised_traceback(monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    from cvdesk.cli import main as cli_main

    def broken(argv: list[str] | None = None) -> int:
        raise RuntimeError("bug while showing " + EVIL)
    monkeypatch.setattr(cli_main, "main", broken)
    with pytest.raises(SystemExit) as exit_info:
        cli_main.run()
    err = capsys.readouterr().err
    assert exit_info.value.code == 1
    assert "RuntimeError: bug while showing " + SHOWN in err and not RAW.search(err)


def test_a_title_cannot_print_a_line_of_its_own(db_url: str, cli: Cli) -> None:
    """Newlines stay where text is laid out (a description), but a title printed as a
    heading shows them as \\x0a: else a stranger's title could add a line that reads like
    the desk's own, under the case's real status."""
    service = CaseService(Database(db_url), load_settings(database_url=db_url))
    cid = service.submit_report(Report("Bug\nstatus closed   TLP:CLEAR", "d",
                                       ReporterInfo("R"))).case_id
    shown = cli.ok("case", "show", cid).splitlines()
    assert shown[0].endswith("Bug\\x0astatus closed   TLP:CLEAR")
    assert not [x for x in shown if x.startswith("status closed")]


@given(st.text(), st.booleans())
def test_the_quick_path_changes_nothing(text: str, layout: bool) -> None:
    """``visible`` returns printable ASCII as it is without translating it."""
    from cvdesk.domain.safetext import _LINE, _VISIBLE, visible

    assert visible(text, layout=layout) == text.translate(_LINE if layout else _VISIBLE)
    assert visible(text + "\n", layout=layout).endswith("\n" if layout else "\\x0a")
