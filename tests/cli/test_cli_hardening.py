"""Issue 8, items 2 and 4-6, through the entry point: private files, no passwords on the
command line, dates and day counts far out of range, database URLs, and --help."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from cvdesk.cli.main import app
from cvdesk.store.db import Database
from tests.conftest import Cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def run(cli_runner: Cli) -> Cli:
    return cli_runner


@pytest.fixture
def desk(run, db_url: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A migrated database with one case (p3 is the vendor Contoso Home)."""
    monkeypatch.setenv("CVDESK_DATABASE_URL", db_url)
    code, out, err = run("report", "submit", str(EXAMPLES / "report.yaml"), "--json")
    assert code == 0, err
    return run, json.loads(out)["case_id"]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ------------------------------------------------------------------ 2. files and secrets
def test_a_new_sqlite_database_is_private(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    old = os.umask(0o022)
    try:
        db_file = tmp_path / "new" / "deeper" / "desk.db"
        url = f"sqlite:///{db_file}"
        assert run("--database-url", url, "init")[0] == 0
        assert run("--database-url", url, "report", "submit",
                   str(EXAMPLES / "report.yaml"))[0] == 0
        assert mode(db_file) == 0o600
        assert mode(db_file.parent) == mode(db_file.parent.parent) == 0o700
        db = Database(url)  # hold a connection open so that -wal and -shm exist
        with db.engine.connect() as conn:
            conn.exec_driver_sql("SELECT count(*) FROM cases").scalar_one()
            for suffix in ("-wal", "-shm"):
                side = Path(f"{db_file}{suffix}")
                assert side.exists() and mode(side) == 0o600, suffix
        db.dispose()
    finally:
        os.umask(old)


def test_handoff_package_and_export_are_private(desk, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run, cid = desk
    old = os.umask(0o022)
    try:
        code, _, err = run("coordinator", "handoff", cid, "--to", "CERT/CC",
                           "--out", str(tmp_path / "h.json"))
        assert code == 0, err
        assert mode(tmp_path / "h.json") == 0o600
        (tmp_path / "loose.json").write_text("old")
        os.chmod(tmp_path / "loose.json", 0o644)  # an existing file is tightened
        code, _, err = run("coordinator", "handoff", cid, "--to", "CERT/CC",
                           "--out", str(tmp_path / "loose.json"))
        assert code == 0, err
        assert mode(tmp_path / "loose.json") == 0o600
        code, _, err = run("contact", "export", "--out", str(tmp_path / "dir.json"))
        assert code == 0, err
        assert mode(tmp_path / "dir.json") == 0o600
    finally:
        os.umask(old)


def test_outputs_that_cannot_be_written_are_named_not_crashed_on(desk, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                 ) -> None:
    """A directory that cannot be made or a file that cannot be written is refused
    naming the output (exit 2), for every command that writes one."""
    run, cid = desk
    (tmp_path / "a-file").write_text("x")
    missing = tmp_path / "no" / "such" / "dir"
    for args in (["contact", "export", "--out", str(missing / "dir.json")],
                 ["coordinator", "handoff", cid, "--to", "CERT/CC", "--out",
                  str(missing / "h.json")],
                 ["metrics", "plot", "--out", str(tmp_path / "a-file" / "charts")],
                 ["advisory", "draft", cid, "--out", str(tmp_path / "a-file" / "x")]):
        code, _, err = run(*args)
        assert code == 2 and "Traceback" not in err, (args, err)
        assert "output" in err and str(tmp_path) in err, (args, err)


def _params(command: Any, path: str = "cvdesk") -> Iterator[tuple[str, Any]]:
    for param in command.params:
        yield path, param
    for name, sub in getattr(command, "commands", {}).items():
        yield from _params(sub, f"{path} {name}")


def test_no_option_takes_a_password_or_passphrase() -> None:
    tree = typer.main.get_command(app)
    secret = [(where, opt) for where, p in _params(tree) for opt in getattr(p, "opts", [])
              if any(w in opt.lower() for w in ("password", "passphrase", "secret"))]
    assert secret == []


def test_imap_password_from_environment_settings_or_nothing(run, db_url: str,  # type: ignore[no-untyped-def]
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CVDESK_DATABASE_URL", db_url)
    code, _, err = run("mail", "fetch", "--host", "127.0.0.1", "--user", "u",
                       "--password", "s3cret")
    assert code == 2 and "--password" in err  # no such option
    with open(os.devnull) as devnull:  # not a terminal: cannot prompt
        monkeypatch.setattr("sys.stdin", devnull)
        code, _, err = run("mail", "fetch", "--host", "127.0.0.1", "--user", "u")
    assert code == 2 and "password" in err and "CVDESK_IMAP_PASSWORD" in err


def test_a_password_in_database_url_option_is_refused(run) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run("--database-url", "postgresql://desk:s3cret@127.0.0.1/x", "case", "list")
    assert code == 2 and "--database-url" in err and "s3cret" not in err


# ------------------------------------------------------------------ 4. dates and days
@pytest.mark.parametrize("at", ["0001-01-01T00:00Z", "9999-12-31T23:59-05:00",
                                "1969-12-31T23:59Z", "2201-01-01T00:00Z"])
def test_far_dates_are_bad_input_naming_the_option(desk, at: str) -> None:  # type: ignore[no-untyped-def]
    run, cid = desk
    for args in (["case", "note", cid, "x", "--at", at], ["doctor", "--at", at],
                 ["embargo", "propose", cid, "--end", at]):
        code, _, err = run(*args)
        assert code == 2, (args, err)
        opt = "--end" if "--end" in args else "--at"
        assert f"{opt}:" in err and "1970-2200" in err and "Traceback" not in err, err


def test_huge_day_counts_are_bad_input(desk) -> None:  # type: ignore[no-untyped-def]
    run, cid = desk
    code, _, err = run("participant", "policy", cid, "p3", "--days", "99999999999")
    assert code == 2 and "days: 99999999999 is not a number of days" in err, err
    code, _, err = run("finding", "snooze", "1", "--days", "99999999999", "--reason", "x")
    assert code == 2 and "--days: 99999999999 is not between" in err, err
    code, _, err = run("participant", "policy", cid, "p3", "--days", "90")
    assert code == 0, err


def test_an_overflow_that_slips_through_is_bad_input_not_a_traceback(desk) -> None:  # type: ignore[no-untyped-def]
    run, _ = desk
    run("doctor")
    code, _, err = run("finding", "snooze", "1", "--days", str(10**11), "--reason", "r")
    assert code in (2, 4), err  # 4 when there is no finding #1
    assert "Traceback" not in err


def test_a_finding_number_no_key_can_hold_is_not_found(desk) -> None:  # type: ignore[no-untyped-def]
    """Was the overflow safety net's generic 'a date or number is out of range'."""
    run, _ = desk
    for number in (str(10**22), str(2**63)):
        code, _, err = run("finding", "snooze", number, "--days", "3", "--reason", "r")
        assert code == 4 and f"no finding #{number}" in err, err


def test_an_outbox_state_that_does_not_exist_is_refused(desk) -> None:  # type: ignore[no-untyped-def]
    """A typo in --status listed nothing and exited 0, as if the outbox were empty."""
    run, _ = desk
    code, _, err = run("outbox", "list", "--status", "snet")
    assert code == 2
    assert "status: 'snet' is not one of pending, sending, committed, sent, failed" in err
    code, _, err = run("outbox", "list", "--status", "sent")
    assert code == 0, err


def test_findings_of_a_case_that_does_not_exist_are_refused(desk) -> None:  # type: ignore[no-untyped-def]
    """'0 finding(s)' for a mistyped case id read as if the case were fine."""
    run, cid = desk
    code, _, err = run("finding", "list", "--case", "CVD-2099-0001")
    assert code == 4 and "no case 'CVD-2099-0001'" in err, err
    code, _, err = run("finding", "list", "--case", cid.lower())
    assert code == 0, err


def test_a_logged_message_body_is_bounded(desk, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """--body-file read the whole file: /dev/zero never ended, and a 30 MB file went into
    the case log (carried by every later read of the case)."""
    from cvdesk.services.cases import MAX_LOGGED_BODY

    run, cid = desk
    big = tmp_path / "big.txt"
    big.write_text("a" * (MAX_LOGGED_BODY + 1), encoding="utf-8")
    for source in (str(big), "/dev/zero"):
        code, _, err = run("message", "log", cid, "--participant", "p3", "--subject", "s",
                           "--body-file", source)
        assert code == 2 and "body: longer than 1,000,000 characters" in err, err
    fits = tmp_path / "fits.txt"
    fits.write_text("a" * MAX_LOGGED_BODY, encoding="utf-8")
    code, _, err = run("message", "log", cid, "--participant", "p3", "--subject", "s",
                       "--body-file", str(fits))
    assert code == 0, err


def test_files_named_on_the_command_line_are_read_with_a_limit(desk, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """check-securitytxt, its --key and notify --vendors read whole files: /dev/zero never
    ended.  Now each reads at most its limit (the checker still says 'too_large')."""
    run, cid = desk
    code, out, err = run("contact", "check-securitytxt", "/dev/zero", "--json")
    assert code == 1, err
    assert [p["code"] for p in json.loads(out)["problems"]] == ["too_large"]
    good = tmp_path / "security.txt"
    good.write_text("Contact: mailto:psirt@example.org\nExpires: 2030-01-01T00:00:00Z\n",
                    encoding="utf-8")
    code, _, err = run("contact", "check-securitytxt", str(good), "--key", "/dev/zero")
    assert code == 2 and "--key: /dev/zero: larger than 512 KiB" in err, err
    code, _, err = run("notify", cid, "--vendors", "/dev/zero")
    assert code == 2 and "--vendors: /dev/zero: larger than 10 MiB" in err, err
    latin = tmp_path / "vendors.txt"
    latin.write_bytes(b"Soci\xe9t\xe9\n")
    code, _, err = run("notify", cid, "--vendors", str(latin))
    assert code == 2 and "not UTF-8 text (byte 4)" in err, err


def test_serve_refuses_a_host_it_cannot_listen_on(run, db_url: str,  # type: ignore[no-untyped-def]
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """uvicorn said "Name or service not known" only after the desk had started.  The
    names here fail before any look-up (no traffic leaves the machine)."""
    monkeypatch.setenv("CVDESK_DATABASE_URL", db_url)
    code, _, err = run("serve", "--host", "bad..host")
    assert code == 2 and "--host: 'bad..host' is not an address to listen on" in err, err
    monkeypatch.setenv("CVDESK_WEB__HOST", "-" * 70)
    code, _, err = run("serve")
    assert code == 2 and "web.host: '" in err and "not a host name" in err, err


def test_days_after_and_check_year() -> None:
    from datetime import UTC, datetime

    from cvdesk.cli.context import days_after
    from cvdesk.domain.errors import InvalidInput

    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert days_after(start, 3, "--days") == datetime(2026, 1, 4, tzinfo=UTC)
    for days in (-1, 36501, 10**11):
        with pytest.raises(InvalidInput, match="--days"):
            days_after(start, days, "--days")


# ------------------------------------------------------------------ 5. database URLs
@pytest.mark.parametrize("url", ["mysql://x", "foo", "sqlite:", "sqlite://",
                                 "postgresql+asyncpg://u@h/d", "oracle://u:pw@h/d"])
def test_an_unsupported_url_names_the_supported_ones(run, url: str) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run("--database-url", url.replace(":pw", ""), "case", "list")
    assert code == 2, err
    assert "database URL" in err and "sqlite:///PATH" in err and "postgresql://" in err
    code, _, err = run("init", "--help")
    assert code == 0


@pytest.mark.parametrize("command", [["case", "list"], ["case", "show", "CVD-2026-0001"],
                                     ["doctor"], ["finding", "list"], ["outbox", "list"],
                                     ["mail", "quarantine"]])
def test_reading_a_missing_sqlite_file_creates_nothing(run, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                      command: list[str]) -> None:
    db_file = tmp_path / "absent" / "desk.db"
    code, out, err = run("--database-url", f"sqlite:///{db_file}", *command)
    assert code == 1, (out, err)
    assert "cvdesk init" in err and str(db_file) in err
    assert not db_file.parent.exists()


def test_init_then_read(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'd.db'}"
    assert run("--database-url", url, "init")[0] == 0
    code, out, _ = run("--database-url", url, "case", "list")
    assert code == 0 and "0 case(s)" in out


# ------------------------------------------------------------------ 6. --help
def _leaves(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    subs = getattr(command, "commands", None)
    if not subs:
        yield path
        return
    yield path
    for name, sub in subs.items():
        yield from _leaves(sub, (*path, name))


def test_help_reads_like_a_command_line(run) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run("--help")
    assert code == 0 and "Usage: cvdesk [OPTIONS] COMMAND [ARGS]..." in out
    assert "--database-url DATABASE_URL" in out
    code, out, _ = run("case", "show", "--help")
    assert "Usage: cvdesk case show [OPTIONS] CASE_ID" in out
    assert "CASE_ID  The case, e.g. CVD-2026-0001." in out
    code, out, _ = run("worker", "--help")
    assert "(settings: [smtp])" in out and "--forever " in out
    code, out, _ = run("finding", "snooze", "--help")
    assert "--days DAYS" in out and "--until UNTIL" in out


def test_no_help_page_shows_type_noise_or_boxes(run) -> None:  # type: ignore[no-untyped-def]
    pages = 0
    for path in _leaves(typer.main.get_command(app)):
        code, out, err = run(*path, "--help")
        assert code == 0, (path, err)
        pages += 1
        for noise in ("<str>", "<int>", "<bool>", "<path>", "{", "╭", "CASE_ID_",
                      "settings: \n", "settings: )"):
            assert noise not in out, (path, noise, out)
        assert "\n\n\n" not in out, (path, out)  # no empty section
    assert pages > 40


def test_imap_password_sources(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from cvdesk.cli.mail import _imap_password
    from cvdesk.settings import load_settings

    monkeypatch.delenv("CVDESK_IMAP_PASSWORD", raising=False)
    config = tmp_path / "cvdesk.toml"
    config.write_text('[imap]\nhost = "imap.example"\nuser = "desk"\npassword = "from-file"\n')
    imap = load_settings(config).imap
    assert _imap_password(imap.password, "desk@imap.example") == "from-file"
    monkeypatch.setenv("CVDESK_IMAP_PASSWORD", "from-env")
    assert _imap_password(imap.password, "desk@imap.example") == "from-env"
