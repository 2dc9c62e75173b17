"""Settings: ``CVDESK_*`` environment variables over an optional TOML file over defaults.

The file is ``--config FILE``, else ``$CVDESK_CONFIG``, else ``./cvdesk.toml`` when present.
Nested keys use ``__`` in the environment: ``CVDESK_POLICY__EMBARGO_DEFAULT_DAYS=60``; a
whole section may also be given as a JSON object (``CVDESK_SMTP='{"port": 2525}'``).
Variable names are read without regard to case.

The settings are frozen dataclasses read by the small reader below rather than a
settings library: every command reads them, and pydantic-settings (with pydantic) cost
about 85 ms of each start (issue 9).  The reader takes what that library took (numbers
and yes/no words written as text, which is all the environment can hold), refuses what
it let slip (``port = true`` read as port 1), and reports every problem in one line per
setting, named by its place in the file (``smtp.port: must be less than 65536``).
"""

from __future__ import annotations

import math
import operator
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from enum import Enum
from pathlib import Path
from typing import Any, get_type_hints

from cvdesk.domain.errors import BadInput
from cvdesk.domain.model import Role
from cvdesk.domain.policy import Policy
from cvdesk.domain.safetext import parse_json

ENV_PREFIX = "CVDESK_"
ENV_NESTING = "__"


class SettingsError(BadInput):
    """Settings that cannot be used; the message names the key and the problem."""


def _bounded(default: float, *, gt: float | None = None, ge: float | None = None,
             lt: float | None = None, le: float | None = None) -> Any:
    """A number setting with bounds, checked when the settings are read."""
    bounds = {k: v for k, v in (("gt", gt), ("ge", ge), ("lt", lt), ("le", le))
              if v is not None}
    return field(default=default, metadata={"bounds": bounds})


@dataclass(frozen=True)
class DeskSettings:
    name: str = "cvdesk"
    role: Role = Role.COORDINATOR
    email: str = ""


@dataclass(frozen=True)
class FetchSettings:
    """Outbound HTTP. ``allow_loopback`` and ``ca_bundle`` exist for tests on 127.0.0.1."""

    allow_loopback: bool = False
    timeout_seconds: float = _bounded(10.0, gt=0, le=120)
    max_bytes: int = _bounded(64 * 1024, gt=0, le=16 * 1024 * 1024)
    max_redirects: int = _bounded(3, ge=0, le=10)
    ca_bundle: str = ""
    discovery_seconds: float = _bounded(30.0, gt=0, le=600)  # one whole discovery


@dataclass(frozen=True)
class SmtpSettings:
    """Outbound mail server and the outbox worker's pacing."""

    host: str = "127.0.0.1"
    port: int = _bounded(25, gt=0, lt=65536)
    starttls: bool = False
    ca_bundle: str = ""  # extra CA certificates for STARTTLS, e.g. a private CA
    username: str = ""
    password: str = ""
    timeout_seconds: float = _bounded(30.0, gt=0)
    sender: str = ""  # default: desk.email
    domain: str = ""  # for Message-IDs; default: the sender's domain
    lease_seconds: float = _bounded(120.0, gt=0)
    max_attempts: int = _bounded(8, ge=1)
    retry_base_seconds: float = _bounded(60.0, gt=0)


@dataclass(frozen=True)
class ImapSettings:
    """The mailbox ``mail fetch`` reads.  The password is never a command-line option
    (other users see command lines): here, ``CVDESK_IMAP__PASSWORD``,
    ``CVDESK_IMAP_PASSWORD``, or typed at a hidden prompt."""

    host: str = ""
    port: int = _bounded(993, gt=0, lt=65536)
    ssl: bool = True
    user: str = ""
    password: str = ""
    mailbox: str = "INBOX"


@dataclass(frozen=True)
class MailSettings:
    """Inbound mail: the desk's own OpenPGP key, to read encrypted replies."""

    private_key_file: str = ""
    passphrase: str = ""


#: the CSAF versions publish/ writes (cvdesk.publish.csaf_check.SUPPORTED, which this
#: module does not import: every command reads the settings, few publish)
_CSAF_VERSIONS = ("2.0", "2.1")


@dataclass(frozen=True)
class PublishSettings:
    """Who publishes the advisories and under which names (issue 10).  The publisher
    name and contact default to the desk's own; the namespace is the URL that names
    the publisher in CSAF documents."""

    publisher: str = ""  # default: desk.name
    namespace: str = "https://cvdesk.invalid"
    contact: str = ""  # default: desk.email
    issuing_authority: str = ""
    cve_assigner_org_id: str = "00000000-0000-4000-8000-000000000000"
    cve_assigner_short_name: str = "cvdesk"
    osv_prefix: str = "x_cvdesk"  # OSV ids of unregistered databases start with x_
    base_url: str = ""  # where the CSAF provider directory is served (.../.well-known/csaf)
    csaf_version: str = "2.0"  # of the csaf and csaf-vex documents: "2.0" or "2.1"

    def __post_init__(self) -> None:
        if self.csaf_version not in _CSAF_VERSIONS:  # the reader reports it by its name
            raise ValueError(f"publish.csaf_version: must be one of "
                             f"{', '.join(_CSAF_VERSIONS)}, not {_shown(self.csaf_version)}")


@dataclass(frozen=True)
class CveSettings:
    """The desk's CVE Services account, to submit CVE records through cvelib (issue 10).
    ``api_url`` is e.g. https://cveawg.mitre.org/api/ (or the -test/-dev hosts); the
    key belongs in the environment (``CVDESK_CVE__API_KEY``), not in a file."""

    api_url: str = ""
    org: str = ""  # the CNA's short name
    user: str = ""
    api_key: str = ""


@dataclass(frozen=True)
class WebSettings:
    """The web desk (``cvdesk serve``, issue 11).  ``base_url`` is the address people
    reach the desk at, for the links in e-mails; ``https`` marks cookies Secure (set it
    behind a TLS-terminating proxy).  ``secret_key`` signs the CSRF cookie: give every
    worker the same one (``cvdesk serve`` makes one per start when it is empty).
    ``sweep_minutes`` is how often the desk re-checks its open cases while it serves."""

    host: str = "127.0.0.1"
    port: int = _bounded(8000, gt=0, lt=65536)
    base_url: str = ""
    https: bool = False
    secret_key: str = ""
    session_hours: float = _bounded(12.0, gt=0, le=24 * 30)
    link_hours: float = _bounded(72.0, gt=0, le=24 * 30)
    token_days: int = _bounded(90, ge=1, le=3650)
    max_failed_sign_ins: int = _bounded(5, ge=1, le=100)
    lockout_minutes: float = _bounded(15.0, gt=0, le=24 * 60)
    # The troubleshooting sweep ``cvdesk serve`` runs in the background, every this many
    # minutes (0: never; services/periodic_sweep.py says which process sweeps).
    sweep_minutes: float = _bounded(15.0, ge=0, le=24 * 60)


def _default_actor() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cvdesk"


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///cvdesk.db"
    actor: str = field(default_factory=_default_actor)
    display_timezone: str = "UTC"
    desk: DeskSettings = field(default_factory=DeskSettings)
    fetch: FetchSettings = field(default_factory=FetchSettings)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    mail: MailSettings = field(default_factory=MailSettings)
    imap: ImapSettings = field(default_factory=ImapSettings)
    publish: PublishSettings = field(default_factory=PublishSettings)
    cve: CveSettings = field(default_factory=CveSettings)
    web: WebSettings = field(default_factory=WebSettings)
    policy: Policy = field(default_factory=Policy)


def config_path(explicit: Path | None = None) -> Path | None:
    if explicit is not None:
        return explicit
    if env := os.environ.get("CVDESK_CONFIG"):
        return Path(env)
    local = Path("cvdesk.toml")
    return local if local.is_file() else None


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """Read settings: ``overrides`` (the command line's) over the environment over the file
    over the defaults; raises SettingsError naming each bad key."""
    path = config_path(config)
    where = f"settings ({path})" if path else "settings"
    data: dict[str, Any] = {}
    if path is not None:
        if not path.is_file():
            raise SettingsError(f"config file {path}: not found")
        import tomllib

        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SettingsError(f"{where}: {exc}") from None
        except OSError as exc:
            raise SettingsError(f"config file {path}: cannot be read ({exc.strerror})") from None
    problems: list[str] = []
    _merge(data, _from_environment(os.environ, problems))
    _merge(data, overrides)
    settings = _build(Settings, data, "", problems)
    if not problems:
        problems += _text_problems(settings)
    if problems:
        raise SettingsError(f"{where}: {'; '.join(problems)}")
    return settings


#: A host name as a Message-ID's right-hand side needs it: letters, digits, dots, hyphens.
_HOST_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")


def _text_problems(settings: Settings) -> list[str]:
    """Text settings that must name something: the addresses mail goes out from (a line
    break in one made every notice a traceback), the mail domain, the time zone."""
    from cvdesk.domain.model import EMAIL_RE

    problems = []
    for name, value in (("desk.email", settings.desk.email),
                        ("smtp.sender", settings.smtp.sender)):
        if value and not EMAIL_RE.fullmatch(value):
            problems.append(f"{name}: {value!r} is not an e-mail address")
    domain = settings.smtp.domain
    if domain and not _HOST_NAME.fullmatch(domain):
        problems.append(f"smtp.domain: {domain!r} is not a host name (e.g. desk.example.org)")
    zone = _zone_problem(settings.display_timezone)
    if zone:
        problems.append(zone)
    return problems


def _zone_problem(name: str) -> str | None:
    """Why ``display_timezone`` names no time zone (a traceback later, where a time was
    first shown), or None."""
    if name == "UTC" or is_time_zone(name):  # UTC, the default: nothing to look up
        return None
    shown = name if len(name) <= 64 else name[:64] + "..."
    return f"display_timezone: '{shown}' is not an IANA time zone (e.g. Europe/Amsterdam)"


def is_time_zone(name: str) -> bool:
    """Whether ``name`` is a time zone the zone database knows: for the desk's display
    zone here and for each account's zone (services/accounts.py).  The longest IANA names
    have about 30 characters and the account column holds 64; a longer name is refused
    before the database is asked (looked up as a file it failed with "File name too
    long"), as are paths and unknown names."""
    if len(name) > 64:
        return False
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(name)
    except (ValueError, OSError, KeyError):  # a path, no such zone (KeyError's subclass)
        return False
    return True


# ------------------------------------------------------------------ reading the sources
def _from_environment(environ: Mapping[str, str], problems: list[str]) -> dict[str, Any]:
    """The ``CVDESK_*`` variables that name a setting, as nested keys.  Other variables
    with the prefix (CVDESK_CONFIG, CVDESK_IMAP_PASSWORD, ...) are not settings."""
    top = {f.name for f in fields(Settings)}
    found: dict[str, Any] = {}
    # Whole sections given as JSON first, so that a nested variable refines them.
    for name, value in sorted(environ.items(), key=lambda kv: kv[0].count(ENV_NESTING)):
        if not name.upper().startswith(ENV_PREFIX):
            continue
        keys = name[len(ENV_PREFIX):].lower().split(ENV_NESTING)
        if keys[0] not in top or not all(keys):
            continue
        try:  # Python reads a byte that is not UTF-8 as a lone surrogate
            value.encode("utf-8")
        except UnicodeEncodeError:
            problems.append(f"{'.'.join(keys)}: {name} is not UTF-8 text (a byte of it "
                            "could not be read)")
            continue
        if _is_table(_kind_at(keys)):
            try:
                value = parse_json(value)
            except ValueError:
                problems.append(f"{'.'.join(keys)}: {name} must be a JSON object, e.g. "
                                f"'{{\"key\": 1}}' (or set {name}{ENV_NESTING}KEY)")
                continue
        nested: dict[str, Any] = {keys[-1]: value}
        for key in reversed(keys[:-1]):
            nested = {key: nested}
        _merge(found, nested)
    return found


def _kind_at(keys: list[str]) -> Any:
    """The type of the setting at ``keys`` (None when there is no such setting)."""
    kind: Any = Settings
    for key in keys:
        if isinstance(kind, type) and is_dataclass(kind):
            kind = _hints(kind).get(key)
        elif getattr(kind, "__origin__", None) is dict:
            kind = kind.__args__[1]
        else:
            return None
    return kind


def _is_table(kind: Any) -> bool:
    return (isinstance(kind, type) and is_dataclass(kind)) or \
        getattr(kind, "__origin__", None) is dict


def _merge(into: dict[str, Any], more: Mapping[str, Any]) -> None:
    """Deep-merge ``more`` into ``into``; ``more`` wins, tables merge key by key."""
    for key, value in more.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value
            if isinstance(value, Mapping):  # a copy: later sources must not change the caller's
                into[key] = {}
                _merge(into[key], value)


# ------------------------------------------------------------------ checking the values
_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = get_type_hints(cls)
    return _HINTS[cls]


def _build(cls: type, data: Any, where: str, problems: list[str]) -> Any:
    """An instance of the dataclass ``cls`` from ``data`` (a table), every problem added to
    ``problems`` (then the defaults stand in, so that one run lists them all)."""
    if isinstance(data, cls):
        return data
    if not isinstance(data, Mapping):
        problems.append(f"{where or 'settings'}: must be a table of settings "
                        f"([{where}] in the file), not {_shown(data)}")
        return cls()
    names = [f.name for f in fields(cls) if f.init]
    for key in data:
        if key not in names:
            problems.append(f"{where}{'.' if where else ''}{key}: unknown setting"
                            f"{_did_you_mean(key, names)}")
    values: dict[str, Any] = {}
    before = len(problems)
    hints = _hints(cls)
    for f in fields(cls):
        if f.name not in data:
            continue
        path = f"{where}.{f.name}" if where else f.name
        value = _value(hints[f.name], data[f.name], path, problems)
        if value is not _BAD:
            bounds = f.metadata.get("bounds", {})
            problem = _out_of_bounds(value, bounds)
            if problem:
                problems.append(f"{path}: {problem}")
            else:
                values[f.name] = value
    if len(problems) > before:
        return cls()
    try:
        return cls(**values)
    except ValueError as exc:  # Policy checks its numbers against each other
        problems.append(str(exc))
        return cls()


def _did_you_mean(key: object, names: list[str]) -> str:
    from difflib import get_close_matches

    near = get_close_matches(str(key), names, n=1)
    return f"; did you mean '{near[0]}'?" if near else ""


_BAD = object()
_TRUE = {"1", "true", "t", "yes", "y", "on"}
_FALSE = {"0", "false", "f", "no", "n", "off"}


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _value(kind: Any, raw: Any, path: str, problems: list[str]) -> Any:
    """``raw`` read as ``kind``, or _BAD (with the problem added)."""
    if isinstance(kind, type) and is_dataclass(kind):
        if kind is Policy:
            return _policy(raw, path, problems)
        return _build(kind, raw, path, problems)
    if getattr(kind, "__origin__", None) is dict:
        if not isinstance(raw, Mapping):
            problems.append(f"{path}: must be a table, not {_shown(raw)}")
            return _BAD
        return dict(raw)
    convert = _CONVERTERS.get(kind)
    if convert is None and isinstance(kind, type) and issubclass(kind, Enum):
        convert = _enum(kind)
    assert convert is not None, f"no reader for settings of type {kind!r}"
    try:
        return convert(raw)
    except ValueError as exc:
        problems.append(f"{path}: {exc}")
        return _BAD


def _text(raw: Any) -> str:
    if not isinstance(raw, str):
        raise ValueError(f"must be text (in quotes), not {_shown(raw)}")
    return raw


def _flag(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
        return raw.strip().lower() in _TRUE
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    raise ValueError(f"must be true or false, not {_shown(raw)}")


def _number(raw: Any) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise ValueError(f"must be a number, not {_shown(raw)}")
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"must be a number, not {_shown(raw)}") from None
    if not math.isfinite(value):
        raise ValueError(f"must be a finite number, not {_shown(raw)}")
    return value


def _whole(raw: Any) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        try:
            return int(raw.strip())
        except ValueError:
            pass
    try:
        value = _number(raw)
    except ValueError:
        raise ValueError(f"must be a whole number, not {_shown(raw)}") from None
    if not value.is_integer():
        raise ValueError(f"must be a whole number, not {_shown(raw)}")
    return int(value)


def _enum(kind: type[Enum]) -> Callable[[Any], Any]:
    def convert(raw: Any) -> Any:
        try:
            return kind(raw.strip().lower() if isinstance(raw, str) else raw)
        except ValueError:
            names = ", ".join(str(m.value) for m in kind)
            raise ValueError(f"must be one of {names}, not {_shown(raw)}") from None
    return convert


_CONVERTERS: dict[Any, Callable[[Any], Any]] = {str: _text, bool: _flag, int: _whole,
                                                float: _number}


_BOUNDS = (("gt", operator.gt, "greater than"), ("ge", operator.ge, "at least"),
           ("lt", operator.lt, "less than"), ("le", operator.le, "at most"))


def _out_of_bounds(value: Any, bounds: Mapping[str, float]) -> str | None:
    for key, holds, words in _BOUNDS:
        limit = bounds.get(key)
        if limit is not None and not holds(value, limit):
            return f"must be {words} {_plain(limit)} (got {_plain(value)})"
    return None


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def _policy(raw: Any, where: str, problems: list[str]) -> Any:
    """The policy: its numbers read like other settings, and each organization's overrides
    read the same way, named by their place (``policy.organizations.Acme.stalled_days``)."""
    if isinstance(raw, Policy):
        return raw
    if isinstance(raw, Mapping) and "organizations" in raw:
        orgs = raw["organizations"]
        if isinstance(orgs, Mapping):
            hints = _hints(Policy)
            names = [f.name for f in fields(Policy) if f.name != "organizations"]
            read: dict[str, dict[str, Any]] = {}
            for org, values in orgs.items():
                path = f"{where}.organizations.{org}"
                if not isinstance(values, Mapping):
                    problems.append(f"{path}: must be a table of policy settings, "
                                    f"not {_shown(values)}")
                    continue
                read[org] = {}
                for key, value in values.items():
                    if key not in names:
                        problems.append(f"{path}.{key}: not a policy setting"
                                        f"{_did_you_mean(key, names)}")
                        continue
                    converted = _value(hints[key], value, f"{path}.{key}", problems)
                    if converted is not _BAD:
                        read[org][key] = converted
            raw = {**raw, "organizations": read}
    before = len(problems)
    built = _build(Policy, raw, where, problems)
    return _BAD if len(problems) > before else built
