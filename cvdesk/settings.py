"""Settings: ``CVDESK_*`` environment variables over an optional TOML file over defaults.

The file is ``--config FILE``, else ``$CVDESK_CONFIG``, else ``./cvdesk.toml`` when present.
Nested keys use ``__`` in the environment: ``CVDESK_POLICY__EMBARGO_DEFAULT_DAYS=60``.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from cvdesk.domain.errors import BadInput
from cvdesk.domain.model import Role
from cvdesk.domain.policy import Policy


class SettingsError(BadInput):
    """Settings that cannot be used; the message names the key and the problem."""


class DeskSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = "cvdesk"
    role: Role = Role.COORDINATOR
    email: str = ""


class FetchSettings(BaseModel):
    """Outbound HTTP. ``allow_loopback`` and ``ca_bundle`` exist for tests on 127.0.0.1."""

    model_config = ConfigDict(extra="forbid")
    allow_loopback: bool = False
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    max_bytes: int = Field(default=64 * 1024, gt=0, le=16 * 1024 * 1024)
    max_redirects: int = Field(default=3, ge=0, le=10)
    ca_bundle: str = ""
    discovery_seconds: float = Field(default=30.0, gt=0, le=600)  # one whole discovery


class SmtpSettings(BaseModel):
    """Outbound mail server and the outbox worker's pacing."""

    model_config = ConfigDict(extra="forbid")
    host: str = "127.0.0.1"
    port: int = Field(default=25, gt=0, lt=65536)
    starttls: bool = False
    ca_bundle: str = ""  # extra CA certificates for STARTTLS, e.g. a private CA
    username: str = ""
    password: str = ""
    timeout_seconds: float = Field(default=30.0, gt=0)
    sender: str = ""  # default: desk.email
    domain: str = ""  # for Message-IDs; default: the sender's domain
    lease_seconds: float = Field(default=120.0, gt=0)
    max_attempts: int = Field(default=8, ge=1)
    retry_base_seconds: float = Field(default=60.0, gt=0)


class ImapSettings(BaseModel):
    """The mailbox ``mail fetch`` reads.  The password is never a command-line option
    (other users see command lines): here, ``CVDESK_IMAP__PASSWORD``,
    ``CVDESK_IMAP_PASSWORD``, or typed at a hidden prompt."""

    model_config = ConfigDict(extra="forbid")
    host: str = ""
    port: int = Field(default=993, gt=0, lt=65536)
    ssl: bool = True
    user: str = ""
    password: str = ""
    mailbox: str = "INBOX"


class MailSettings(BaseModel):
    """Inbound mail: the desk's own OpenPGP key, to read encrypted replies."""

    model_config = ConfigDict(extra="forbid")
    private_key_file: str = ""
    passphrase: str = ""


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cvdesk"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CVDESK_", env_nested_delimiter="__",
                                      extra="forbid")

    database_url: str = "sqlite:///cvdesk.db"
    actor: str = Field(default_factory=_default_actor)
    display_timezone: str = "UTC"
    desk: DeskSettings = DeskSettings()
    fetch: FetchSettings = FetchSettings()
    smtp: SmtpSettings = SmtpSettings()
    mail: MailSettings = MailSettings()
    imap: ImapSettings = ImapSettings()
    policy: Policy = Policy()

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if _config_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=_config_file))
        return tuple(sources)


_config_file: Path | None = None


def config_path(explicit: Path | None = None) -> Path | None:
    if explicit is not None:
        return explicit
    if env := os.environ.get("CVDESK_CONFIG"):
        return Path(env)
    local = Path("cvdesk.toml")
    return local if local.is_file() else None


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """Read settings; raises SettingsError naming each bad key."""
    global _config_file
    path = config_path(config)
    if path is not None and not path.is_file():
        raise SettingsError(f"config file {path}: not found")
    _config_file = path
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
            for err in exc.errors())
        raise SettingsError(f"settings{f' ({path})' if path else ''}: {problems}") from None
    except ValueError as exc:  # e.g. a TOML syntax error
        raise SettingsError(f"settings{f' ({path})' if path else ''}: {exc}") from None
    finally:
        _config_file = None
