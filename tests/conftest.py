"""Shared fixtures: a migrated database per test on SQLite and, when configured, PostgreSQL.

PostgreSQL tests need ``CVDESK_TEST_PG_URL``: a URL of a role that may create
databases (``scripts/test`` starts a throw-away server and sets it).  Under CI
(``CI=true``) a missing server is an error, never a silent skip.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from cvdesk.services import CaseService, init_database
from cvdesk.settings import load_settings
from cvdesk.store.db import Database, normalize_url

PG_ENV = "CVDESK_TEST_PG_URL"


class Clock:
    """A settable clock for services: tests say what 'now' is."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database(f"sqlite:///{path}")
    init_database(db)
    db.dispose()
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    admin_url = os.environ.get(PG_ENV)
    if not admin_url:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{PG_ENV} is not set: CI must run the PostgreSQL tests")
        pytest.skip(f"{PG_ENV} is not set (scripts/test starts a PostgreSQL server)")
    admin = create_engine(normalize_url(admin_url), isolation_level="AUTOCOMMIT")
    name = f"cvdesk_tpl_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalize_url(admin_url)).set(database=name)
    db = Database(url.render_as_string(hide_password=False))
    init_database(db)
    db.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _pg_database(template: str) -> Iterator[str]:
    admin_url = normalize_url(os.environ[PG_ENV])
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"cvdesk_t_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """A URL of a fresh, migrated database; every test using it runs on both backends."""
    if request.param == "sqlite":
        path = tmp_path / "cvdesk.db"
        shutil.copyfile(sqlite_template, path)
        yield f"sqlite:///{path}"
    else:
        yield from _pg_database(request.getfixturevalue("pg_template"))


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
def service(db: Database, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> CaseService:
    for key in list(os.environ):
        if key.startswith("CVDESK_") and key != PG_ENV:
            monkeypatch.delenv(key)
    return CaseService(db, load_settings(actor="tester"), clock=clock)
