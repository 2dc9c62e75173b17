"""The troubleshooting sweep while the desk serves (issue 11): every
``web.sweep_minutes`` one process per database sweeps (a lease: an advisory lock on
PostgreSQL, a file lock beside an SQLite database), logs what it swept and raised, and
stops cleanly when the application shuts down.  Both backends, short intervals."""

from __future__ import annotations

import logging
import os
import re
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from cvdesk.app import Desk
from cvdesk.settings import load_settings
from cvdesk.store.periodic_sweep import SweepLease
from cvdesk.web.app import create_app
from tests.conftest import PG_ENV, TEST_NOW, Clock
from tests.web.serve_process import free_port, start_serve

SWEPT = re.compile(r"periodic sweep: (\d+) case\(s\) swept, (\d+) finding\(s\) raised "
                   r"\(process (\d+)\)")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("CVDESK_") and key != PG_ENV:
            monkeypatch.delenv(key)


def _desk(url: str, minutes: float) -> Desk:
    return Desk(load_settings(database_url=url, actor="tester",
                              web={"sweep_minutes": minutes}), clock=Clock(TEST_NOW))


def _sweep_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "cvdesk-sweep"]


def test_one_lease_holder_per_database(db_url: str, clean_env: None) -> None:
    first, second = SweepLease(_desk(db_url, 1).db.url), SweepLease(_desk(db_url, 1).db.url)
    try:
        assert first.hold() and first.hold()  # holding it, it stays held
        assert not second.hold()
        first.release()
        assert second.hold() and not first.hold()
    finally:
        first.release()
        second.release()


def test_the_app_sweeps_while_it_serves_and_stops_on_shutdown(
        demo_db_url: str, clean_env: None, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="cvdesk.sweep")
    desk = _desk(demo_db_url, 0.005)  # every 0.3 s
    other = _desk(demo_db_url, 0.005)  # a second desk on the same database
    try:
        with TestClient(create_app(desk, sweep=True)) as client:
            assert client.get("/healthz").status_code == 200
            deadline = time.monotonic() + 30
            while not [r for r in caplog.records if SWEPT.search(r.getMessage())]:
                assert time.monotonic() < deadline, "no periodic sweep within 30 s"
                time.sleep(0.05)
            first = next(SWEPT.search(r.getMessage()) for r in caplog.records
                         if SWEPT.search(r.getMessage()))
            assert first is not None and int(first[1]) > 0 and int(first[2]) > 0
            assert _sweep_threads()
            # the other desk stands by while this one holds the lease
            standby = other.periodic_sweep()
            assert standby is not None and standby.sweep_once() is None
            standby.lease.release()
        assert not _sweep_threads()  # stopped with the application
        assert any(r.getMessage() == "periodic sweep: stopped" for r in caplog.records)
        # and the lease went with it: the other desk sweeps now
        taken = other.periodic_sweep()
        assert taken is not None
        done = taken.sweep_once()
        taken.lease.release()
        assert done is not None and done.swept == 0  # nothing came due since
    finally:
        desk.close()
        other.close()


def test_no_sweep_when_the_setting_is_zero(db_url: str, clean_env: None) -> None:
    desk = _desk(db_url, 0)
    try:
        assert desk.periodic_sweep() is None
        with TestClient(create_app(desk, sweep=True)) as client:
            assert client.get("/healthz").status_code == 200
            assert not _sweep_threads()
    finally:
        desk.close()


def test_the_interval_setting(clean_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from cvdesk.settings import SettingsError

    assert load_settings().web.sweep_minutes == 15
    monkeypatch.setenv("CVDESK_WEB__SWEEP_MINUTES", "0")
    assert load_settings().web.sweep_minutes == 0
    with pytest.raises(SettingsError) as refused:
        load_settings(web={"sweep_minutes": -1})
    assert "sweep_minutes" in str(refused.value)


def test_serve_with_two_workers_sweeps_in_one_and_stops_cleanly(
        live_demo_db_url: str, tmp_path: Path) -> None:
    """The real command: uvicorn, two worker processes, one sweeping, a clean exit on
    Ctrl-C (SIGINT) with every worker's sweep stopped."""
    port = free_port()
    proc, out = start_serve(live_demo_db_url, tmp_path, port,
                            CVDESK_WEB__SWEEP_MINUTES="0.01", COLUMNS="200")
    try:
        deadline = time.monotonic() + 90
        while True:
            text = out.read_text(errors="replace")
            sweeps = SWEPT.findall(text)
            if len(sweeps) >= 3 and "stands by" in text:
                break
            assert proc.poll() is None, f"serve exited with {proc.returncode}:\n{text}"
            assert time.monotonic() < deadline, f"no sweeps within 90 s:\n{text}"
            time.sleep(0.2)
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).text == "ok"
        assert len({pid for _, _, pid in sweeps}) == 1, text  # one process sweeps
        assert int(sweeps[0][0]) > 0  # the live demo's cases were due
        assert "sweep every 0.01 minutes" in text
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = out.read_text(errors="replace")
    assert text.count("periodic sweep: stopped") == 2, text
    assert "Traceback" not in text, text
