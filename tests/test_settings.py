"""Settings (cvdesk/settings.py): every setting, default and variable name of the
pydantic-settings model it replaced, the same order of sources, and one clear line per
problem naming the setting."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cvdesk.domain.model import Role
from cvdesk.domain.policy import Policy
from cvdesk.settings import Settings, SettingsError, load_settings

#: The defaults of the model this replaced (cvdesk 0.1 with pydantic-settings).
DEFAULTS: dict[str, Any] = {
    "database_url": "sqlite:///cvdesk.db",
    "display_timezone": "UTC",
    "desk": {"name": "cvdesk", "role": Role.COORDINATOR, "email": ""},
    "fetch": {"allow_loopback": False, "timeout_seconds": 10.0, "max_bytes": 65536,
              "max_redirects": 3, "ca_bundle": "", "discovery_seconds": 30.0},
    "smtp": {"host": "127.0.0.1", "port": 25, "starttls": False, "ca_bundle": "",
             "username": "", "password": "", "timeout_seconds": 30.0, "sender": "",
             "domain": "", "lease_seconds": 120.0, "max_attempts": 8,
             "retry_base_seconds": 60.0},
    "mail": {"private_key_file": "", "passphrase": ""},
    "imap": {"host": "", "port": 993, "ssl": True, "user": "", "password": "",
             "mailbox": "INBOX"},
    # issue 10: who publishes advisories
    "publish": {"publisher": "", "namespace": "https://cvdesk.invalid", "contact": "",
                "issuing_authority": "",
                "cve_assigner_org_id": "00000000-0000-4000-8000-000000000000",
                "cve_assigner_short_name": "cvdesk", "osv_prefix": "x_cvdesk",
                "base_url": "", "csaf_version": "2.0"},
    "cve": {"api_url": "", "org": "", "user": "", "api_key": ""},
    "web": {"host": "127.0.0.1", "port": 8000, "base_url": "", "https": False,
            "secret_key": "", "session_hours": 12.0, "link_hours": 72.0, "token_days": 90,
            "max_failed_sign_ins": 5, "lockout_minutes": 15.0,
            "sweep_minutes": 15.0},  # issue 11: the periodic sweep of cvdesk serve
}


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(os.environ):
        if key.upper().startswith("CVDESK_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)  # no ./cvdesk.toml


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cvdesk.toml"
    path.write_text(text)
    return path


def _fails(*args: Any, **kwargs: Any) -> str:
    with pytest.raises(SettingsError) as caught:
        load_settings(*args, **kwargs)
    return str(caught.value)


def test_every_setting_and_default_of_the_old_model() -> None:
    s = load_settings()
    for name, value in DEFAULTS.items():
        got = getattr(s, name)
        if isinstance(value, dict):
            assert dataclasses.asdict(got) == value, name
        else:
            assert got == value, name
    assert s.policy == Policy()
    assert s.actor  # the login name, or "cvdesk"
    assert {f.name for f in dataclasses.fields(Settings)} == {*DEFAULTS, "actor", "policy"}


def test_settings_are_frozen_values() -> None:
    s = load_settings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.actor = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.smtp.port = 1  # type: ignore[misc]


def test_sources_in_order_command_line_environment_file_defaults(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = _toml(tmp_path, 'actor = "file"\ndisplay_timezone = "Europe/Paris"\n'
                             '[smtp]\nhost = "mail.example"\nport = 2525\n'
                             '[policy]\ncourtesy_copy_days = 4\n')
    monkeypatch.setenv("CVDESK_ACTOR", "env")
    monkeypatch.setenv("CVDESK_SMTP__PORT", "26")
    monkeypatch.setenv("CVDESK_POLICY__STALLED_DAYS", "20")
    s = load_settings(config, actor="cli", policy={"embargo_default_days": 60})
    assert s.actor == "cli" and s.display_timezone == "Europe/Paris"
    assert (s.smtp.host, s.smtp.port) == ("mail.example", 26)  # tables merge key by key
    assert (s.policy.courtesy_copy_days, s.policy.stalled_days,
            s.policy.embargo_default_days) == (4, 20, 60)
    assert load_settings(config).actor == "env"


def test_the_file_from_cvdesk_config_or_the_working_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _toml(tmp_path, 'actor = "local"\n')
    assert load_settings().actor == "local"
    other = tmp_path / "other.toml"
    other.write_text('actor = "named"\n')
    monkeypatch.setenv("CVDESK_CONFIG", str(other))
    assert load_settings().actor == "named"


def test_environment_names_any_case_json_sections_and_other_variables(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("cvdesk_actor", "lower")
    monkeypatch.setenv("CVDESK_Desk__Email", "cert@example.org")
    monkeypatch.setenv("CVDESK_SMTP", '{"host": "json.example", "port": 2525}')
    monkeypatch.setenv("CVDESK_SMTP__STARTTLS", "yes")
    monkeypatch.setenv("CVDESK_FETCH__ALLOW_LOOPBACK", "1")
    monkeypatch.setenv("CVDESK_FETCH__TIMEOUT_SECONDS", "2.5")
    monkeypatch.setenv("CVDESK_POLICY__ORGANIZATIONS", '{"Acme": {"stalled_days": "3"}}')
    # Not settings: read elsewhere, or by nobody.
    for name in ("CVDESK_IMAP_PASSWORD", "CVDESK_NO_PROGRESS", "CVDESK_TEST_PG_URL",
                 "CVDESK_WHATEVER"):
        monkeypatch.setenv(name, "x")
    s = load_settings()
    assert s.actor == "lower" and s.desk.email == "cert@example.org"
    assert (s.smtp.host, s.smtp.port, s.smtp.starttls) == ("json.example", 2525, True)
    assert s.fetch.allow_loopback is True and s.fetch.timeout_seconds == 2.5
    assert s.policy.for_party("acme").stalled_days == 3


def test_numbers_and_words_read_as_before(tmp_path: Path) -> None:
    s = load_settings(_toml(tmp_path, '[smtp]\nport = "26"\ntimeout_seconds = 5\n'
                                      '[policy]\nstalled_days = 3.0\n'
                                      '[desk]\nrole = "vendor"\n'))
    assert s.smtp.port == 26 and isinstance(s.smtp.timeout_seconds, float)
    assert s.policy.stalled_days == 3 and isinstance(s.policy.stalled_days, int)
    assert s.desk.role is Role.VENDOR


@pytest.mark.parametrize(("text", "says"), [
    ("[policy]\nembargo_default_days = 200\n",
     "policy.embargo_default_days: must not exceed embargo_max_days"),
    ("[smtp]\nport = 70000\n", "smtp.port: must be less than 65536 (got 70000)"),
    ("[fetch]\nmax_bytes = 0\n", "fetch.max_bytes: must be greater than 0 (got 0)"),
    ("[fetch]\nmax_redirects = 11\n", "fetch.max_redirects: must be at most 10 (got 11)"),
    ("[smtp]\nport = 25.5\n", "smtp.port: must be a whole number, not 25.5"),
    ("[smtp]\nport = true\n", "smtp.port: must be a whole number, not True"),
    ("[smtp]\nhost = 5\n", "smtp.host: must be text (in quotes), not 5"),
    ("[imap]\nssl = \"maybe\"\n", "imap.ssl: must be true or false, not 'maybe'"),
    ("[desk]\nrole = \"boss\"\n", "desk.role: must be one of finder, reporter, vendor, "
                                   "coordinator, deployer, other, not 'boss'"),
    ("[smtp]\nprot = 1\n", "smtp.prot: unknown setting; did you mean 'port'?"),
    ("bogus = 1\n", "bogus: unknown setting"),
    ("smtp = 5\n", "smtp: must be a table of settings ([smtp] in the file), not 5"),
    ("[policy.organizations.Acme]\nstaled_days = 3\n",
     "policy.organizations.Acme.staled_days: not a policy setting; did you mean "
     "'stalled_days'?"),
    ("[policy.organizations.Acme]\nstalled_days = \"x\"\n",
     "policy.organizations.Acme.stalled_days: must be a whole number, not 'x'"),
    ("[smtp\n", "Expected ']'"),
])
def test_file_problems_name_the_setting(tmp_path: Path, text: str, says: str) -> None:
    config = _toml(tmp_path, text)
    message = _fails(config)
    assert message.startswith(f"settings ({config}): ") and says in message, message
    for internal in ("Input should", "pydantic", "Value error", "ValidationError"):
        assert internal not in message


def test_every_problem_at_once(tmp_path: Path) -> None:
    message = _fails(_toml(tmp_path, "[smtp]\nport = 0\n[fetch]\nmax_redirects = 11\n"))
    assert "fetch.max_redirects" in message and "smtp.port" in message


def test_environment_problems_name_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CVDESK_POLICY__STALLED_DAYS", "-3")
    assert "policy.stalled_days: must not be negative (got -3)" in _fails()
    monkeypatch.delenv("CVDESK_POLICY__STALLED_DAYS")
    monkeypatch.setenv("CVDESK_SMTP__BOGUS", "1")
    assert "smtp.bogus: unknown setting" in _fails()
    monkeypatch.delenv("CVDESK_SMTP__BOGUS")
    monkeypatch.setenv("CVDESK_SMTP", "port=26")
    assert "CVDESK_SMTP must be a JSON object" in _fails()
    monkeypatch.setenv("CVDESK_SMTP", "[" * 50_000 + "]" * 50_000)  # not a RecursionError
    assert "CVDESK_SMTP must be a JSON object" in _fails()
    monkeypatch.delenv("CVDESK_SMTP")
    # a byte that is not UTF-8 (Python reads it as a lone surrogate): was a traceback later,
    # where the value was stored
    monkeypatch.setenv("CVDESK_ACTOR", "x\udcff")
    assert "actor: CVDESK_ACTOR is not UTF-8 text" in _fails()


def test_a_missing_or_unreadable_file(tmp_path: Path) -> None:
    assert "not found" in _fails(tmp_path / "none.toml")
    (tmp_path / "bad.toml").write_bytes(b"actor = \"\xff\"\n")
    assert "settings (" in _fails(tmp_path / "bad.toml")


def test_overrides_given_in_code_are_not_changed(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CVDESK_POLICY__ORGANIZATIONS__ACME__STALLED_DAYS", "5")
    given = {"organizations": {"acme": {"courtesy_copy_days": 2}}}
    load_settings(policy=given)
    assert given == {"organizations": {"acme": {"courtesy_copy_days": 2}}}


def test_reading_settings_loads_no_pydantic() -> None:
    # pydantic-settings and pydantic cost about 85 ms of every command (issue 9).
    code = ("import sys\nfrom cvdesk.settings import load_settings\nload_settings()\n"
            "print(sorted(m for m in sys.modules if m.startswith('pydantic')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env={k: v for k, v in os.environ.items()
                                           if not k.startswith("CVDESK_")})
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("zone", ["../../etc/passwd", "/etc/localtime", "Europe/Nowhere",
                                  "", "A" * 5000])
def test_a_display_time_zone_that_is_none_is_named(zone: str) -> None:
    """Was a traceback (ValueError, OSError, ZoneInfoNotFoundError) where a time was first
    shown."""
    message = _fails(display_timezone=zone)
    assert "display_timezone: '" in message and "is not an IANA time zone" in message
    assert len(message) < 300


def test_a_real_display_time_zone_is_taken() -> None:
    assert load_settings(display_timezone="Europe/Amsterdam").display_timezone == \
        "Europe/Amsterdam"


@pytest.mark.parametrize(("setting", "value", "says"), [
    ("desk", {"email": "cert@desk.example\r\nBcc: x@y.example"}, "desk.email: "),
    ("smtp", {"sender": "not an address"}, "smtp.sender: 'not an address' is not an e-mail"),
    ("smtp", {"sender": "cert@desk.example\n"}, "smtp.sender: "),
    ("smtp", {"domain": "x\r\ny"}, "smtp.domain: 'x\\r\\ny' is not a host name"),
])
def test_the_addresses_mail_goes_out_from_are_checked(setting: str, value: dict[str, str],
                                                      says: str) -> None:
    """A line break in the sender made every notice a traceback ('Header values may not
    contain linefeed'); 'not an address' was queued and refused by the mail server
    later.  (These checks came with commit 961d83c; this test with the next one.)"""
    message = _fails(**{setting: value})
    assert says in message, message
    assert load_settings(smtp={"sender": "cert@desk.example", "domain": "desk.example"})
