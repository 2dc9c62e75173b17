"""Shared fixtures: a migrated database per test on SQLite and, when configured, PostgreSQL.

PostgreSQL tests need ``CVDESK_TEST_PG_URL``: a URL of a role that may create
databases (``scripts/test`` starts a throw-away server and sets it).  Under CI
(``CI=true``) a missing server is an error, never a silent skip.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from cvdesk.seed.demo import load_demo
from cvdesk.services import CaseService, init_database
from cvdesk.settings import load_settings
from cvdesk.store.db import Database, normalize_url
from cvdesk.store.tables import Base

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


def _pg_database(template: str, prefix: str = "cvdesk_t_") -> Iterator[str]:
    admin_url = normalize_url(os.environ[PG_ENV])
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"{prefix}{uuid.uuid4().hex[:12]}"
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


#: The time the ``clock`` fixture starts at, and the time the fixed-clock demo was loaded.
TEST_NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(TEST_NOW)


@pytest.fixture
def service(db: Database, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> CaseService:
    for key in list(os.environ):
        if key.startswith("CVDESK_") and key != PG_ENV:
            monkeypatch.delenv(key)
    return CaseService(db, load_settings(actor="tester"), clock=clock)


# ------------------------------------------------------------------ the demo dataset
# Loading the demo takes seconds; each backend loads it once per session into a template
# that every test copies.  Two flavours: dated from TEST_NOW (for tests that drive the
# services with the ``clock`` fixture), and dated from the real clock at the time the
# template is built (for tests through the command line, which always uses the real clock;
# those tests compute their expectations from the stored logs, so minutes of age between
# building the template and running the test change nothing they check).


def _load_demo_into(url: str, tmp_path: Path, *, fixed_clock: bool) -> None:
    """Load the demo as ``cvdesk demo`` does (default settings, real clock), or with the
    ``service`` fixture's settings and a clock at TEST_NOW."""
    with pytest.MonkeyPatch.context() as mp:
        for key in list(os.environ):
            if key.startswith("CVDESK_") and key != PG_ENV:
                mp.delenv(key)
        mp.chdir(tmp_path)  # no ./cvdesk.toml
        db = Database(url)
        try:
            svc = (CaseService(db, load_settings(actor="tester"), clock=Clock(TEST_NOW))
                   if fixed_clock else CaseService(db, load_settings()))
            assert load_demo(svc).cases == 16
        finally:
            db.dispose()  # PostgreSQL copies a template only while nobody is connected


def _sqlite_demo(factory: pytest.TempPathFactory, template: Path, *, fixed_clock: bool) -> Path:
    where = factory.mktemp("demo_template")
    path = where / "demo.db"
    shutil.copyfile(template, path)
    _load_demo_into(f"sqlite:///{path}", where, fixed_clock=fixed_clock)
    return path


def _pg_demo(factory: pytest.TempPathFactory, template: str, *,
             fixed_clock: bool) -> Iterator[str]:
    for url in _pg_database(template, prefix="cvdesk_demo_tpl_"):
        _load_demo_into(url, factory.mktemp("demo_template"), fixed_clock=fixed_clock)
        yield make_url(url).database or ""


@pytest.fixture(scope="session")
def sqlite_demo_template(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Path:
    return _sqlite_demo(tmp_path_factory, sqlite_template, fixed_clock=True)


@pytest.fixture(scope="session")
def pg_demo_template(tmp_path_factory: pytest.TempPathFactory, pg_template: str) -> Iterator[str]:
    yield from _pg_demo(tmp_path_factory, pg_template, fixed_clock=True)


@pytest.fixture(scope="session")
def sqlite_live_demo_template(tmp_path_factory: pytest.TempPathFactory,
                              sqlite_template: Path) -> Path:
    return _sqlite_demo(tmp_path_factory, sqlite_template, fixed_clock=False)


@pytest.fixture(scope="session")
def pg_live_demo_template(tmp_path_factory: pytest.TempPathFactory,
                          pg_template: str) -> Iterator[str]:
    yield from _pg_demo(tmp_path_factory, pg_template, fixed_clock=False)


def _demo_url(request: pytest.FixtureRequest, tmp_path: Path, flavour: str) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "cvdesk.db"
        shutil.copyfile(request.getfixturevalue(f"sqlite_{flavour}template"), path)
        yield f"sqlite:///{path}"
    else:
        yield from _pg_database(request.getfixturevalue(f"pg_{flavour}template"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def demo_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Like ``db_url``, but already holding the demo dataset loaded at TEST_NOW."""
    yield from _demo_url(request, tmp_path, "demo_")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def live_demo_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Like ``db_url``, holding the demo as ``cvdesk demo`` loaded it (real clock) once
    this session; for tests through the command line."""
    yield from _demo_url(request, tmp_path, "live_demo_")


@pytest.fixture
def demo_service(demo_db_url: str, clock: Clock,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[CaseService]:
    """``service`` on a copy of the demo; ``clock`` starts where the demo was loaded."""
    for key in list(os.environ):
        if key.startswith("CVDESK_") and key != PG_ENV:
            monkeypatch.delenv(key)
    database = Database(demo_db_url)
    yield CaseService(database, load_settings(actor="tester"), clock=clock)
    database.dispose()


# ------------------------------------------------------------------ the command line
class Cli:
    """``cvdesk`` run in-process through its entry point (cvdesk.cli.main.main), with no
    CVDESK_* variables but the ones a test sets, actor ``tester``, and a working directory
    without a settings file.  ``url`` is the database it was given, if any."""

    def __init__(self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                 tmp_path: Path, url: str | None = None) -> None:
        self.capsys = capsys
        self.monkeypatch = monkeypatch
        self.url = url
        for key in list(os.environ):
            if key.startswith("CVDESK_") and key != PG_ENV:
                monkeypatch.delenv(key)
        monkeypatch.setenv("CVDESK_ACTOR", "tester")
        monkeypatch.chdir(tmp_path)
        if url:
            monkeypatch.setenv("CVDESK_DATABASE_URL", url)

    def __call__(self, *args: str) -> tuple[int, str, str]:
        """(exit code, stdout, stderr) of one command."""
        from cvdesk.cli.main import main

        self.capsys.readouterr()
        code = main(list(args))
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err

    def ok(self, *args: str) -> str:
        code, out, err = self(*args)
        assert code == 0, (args, out, err)
        return out

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json"))

    def counts(self) -> dict[str, int]:
        """Rows per table: refusal tests compare them before and after."""
        assert self.url, "this runner has no database"
        return table_counts(self.url)


def table_counts(url: str) -> dict[str, int]:
    engine = create_engine(normalize_url(url))
    try:
        with engine.connect() as conn:
            return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                    for t in Base.metadata.sorted_tables}
    finally:
        engine.dispose()


def until_blocked(db: Database) -> None:
    """Return once another transaction of ``db`` waits on a lock: on PostgreSQL, when
    pg_stat_activity shows a backend of this database waiting on one (fails after 30 s);
    SQLite cannot tell, so a short pause lets the other thread reach its BEGIN."""
    if db.backend != "postgresql":
        time.sleep(0.3)
        return
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with db.engine.connect() as conn:
            if conn.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()")).scalar_one():
                return
        time.sleep(0.05)
    raise AssertionError("no transaction waited on a lock")


def held_race(db: Database, first: Any, second: Any) -> tuple[object, object]:
    """Two writers that meet: ``first(session)`` runs in a transaction that is held open
    while ``second(session)`` runs in a transaction of its own in another thread; once
    the second waits on a lock (``until_blocked``) the first commits.  Returns what each
    returned, or the exception it raised."""
    import threading

    results: list[object] = [None, None]
    done_first, release = threading.Event(), threading.Event()

    def run(index: int, body: Any) -> None:
        try:
            with db.transaction() as session:
                results[index] = body(session)
                if index == 0:
                    done_first.set()
                    if not release.wait(30):
                        raise AssertionError("never released")
        except Exception as exc:  # the test looks at what it was
            results[index] = exc
        finally:
            done_first.set()

    a = threading.Thread(target=run, args=(0, first))
    a.start()
    assert done_first.wait(30)
    b = threading.Thread(target=run, args=(1, second))
    b.start()
    try:
        until_blocked(db)
    finally:
        release.set()
        a.join(30)
        b.join(30)
    return results[0], results[1]


@pytest.fixture
def cli_runner(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
               tmp_path: Path) -> Cli:
    """The command line with no database configured (tests pass --database-url or set it)."""
    return Cli(capsys, monkeypatch, tmp_path)


@pytest.fixture
def cli(db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> Cli:
    """The command line on a fresh migrated database (both backends)."""
    return Cli(capsys, monkeypatch, tmp_path, db_url)


@pytest.fixture
def demo_cli(live_demo_db_url: str, capsys: pytest.CaptureFixture[str],
             monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Cli:
    """The command line on a copy of the demo as ``cvdesk demo`` loaded it this session."""
    return Cli(capsys, monkeypatch, tmp_path, live_demo_db_url)
