"""What every command needs: settings, database and services, built once per run."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from cvdesk.domain.errors import InvalidInput
from cvdesk.domain.model import MAX_DAYS, check_year

if TYPE_CHECKING:
    from cvdesk.app import Desk
    from cvdesk.services.cases import CaseService
    from cvdesk.settings import Settings

# The settings and the desk (database and services, cvdesk/app.py) are imported where they
# are first needed, so that a command that needs none of them (or only some) starts quickly.


@dataclass
class AppContext:
    config: Path | None = None
    database_url: str | None = None
    actor: str | None = None

    @cached_property
    def settings(self) -> Settings:
        if self.database_url and _has_password(self.database_url):
            # A command line is visible to every local user (ps) and kept in shell history.
            raise InvalidInput("--database-url", "holds a password; put the URL in "
                               "CVDESK_DATABASE_URL or the settings file (database_url), or "
                               "the password in ~/.pgpass or PGPASSWORD")
        overrides = {"database_url": self.database_url} if self.database_url else {}
        if self.actor:
            overrides["actor"] = self.actor
        from cvdesk.settings import load_settings

        return load_settings(self.config, **overrides)

    @cached_property
    def desk(self) -> Desk:
        from cvdesk.app import Desk

        return Desk(self.settings)

    def cases(self) -> CaseService:
        with _loading():
            return self.desk.cases()


#: Start-up steps already frozen in this process (see _loading).
_FROZEN: set[str] = set()


def _freeze_once(step: str) -> None:
    if step not in _FROZEN:
        _FROZEN.add(step)
        gc.freeze()


@contextmanager
def _loading() -> Iterator[None]:
    """Load the service modules (SQLAlchemy with them) without the cycle collector, then
    freeze what start-up made.

    A command's start-up makes a few hundred thousand objects that live as long as the
    process (modules, classes, SQLAlchemy's and Typer's tables).  Left to the collector,
    they were walked by young collections during the imports, by a full collection that
    fell on whatever ran next (the table ``case list`` prints), and once more at exit:
    about 50 ms of a 350 ms ``case list`` (issue 9).  Frozen, later collections, the one
    at exit included, skip them; what the command itself makes is collected as usual.
    Only the first load of a process does this: a process that runs many commands (the
    tests) freezes its start-up once, not each command's leftovers."""
    if "services" in _FROZEN:
        yield
        return
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        _freeze_once("services")
        if enabled:
            gc.enable()


def _has_password(url: str) -> bool:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return bool(make_url(url).password)
    except ArgumentError:
        return False  # not a URL at all: the database layer says what is wrong


def app_context(ctx: typer.Context) -> AppContext:
    root = ctx.find_root()
    if not isinstance(root.obj, AppContext):
        # The command's module is loaded by now: what start-up made so far need not be
        # walked again by the collector (see _loading).
        _freeze_once("command")
        root.obj = AppContext()
    return root.obj


def parse_time(value: str | None, option: str) -> datetime | None:
    """ISO 8601 with a time zone, e.g. 2026-09-01T14:00+02:00 or 2026-09-01T12:00Z."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(option, f"'{value}' is not an ISO 8601 date-time "
                           "(e.g. 2026-09-01T14:00+02:00)") from None
    if parsed.tzinfo is None:
        raise InvalidInput(option, f"'{value}' has no time zone; add one, e.g. "
                           f"{value}+00:00 or {value}Z")
    check_year(parsed, option, value)
    return parsed


def days_after(start: datetime, days: int, option: str) -> datetime:
    """``start`` plus ``days``, for options such as --days: 0 to MAX_DAYS, else
    InvalidInput naming ``option`` (never an OverflowError)."""
    if not 0 <= days <= MAX_DAYS:
        raise InvalidInput(option, f"{days} is not between 0 and {MAX_DAYS} days")
    return check_year(start + timedelta(days=days), option)
