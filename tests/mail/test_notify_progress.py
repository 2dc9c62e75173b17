"""Progress while notifying many vendors (issue 9): the queue and a one-shot delivery run
report (done, total) to a listener; the CLI draws a bar only on a terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cvdesk.services import CaseService
from cvdesk.services.mail import PROGRESS_EVERY, MailService
from cvdesk.services.worker import Worker
from cvdesk.settings import load_settings
from cvdesk.store.db import Database
from tests.cli.test_progress import _run_on_a_terminal
from tests.conftest import Cli, Clock
from tests.mail.conftest import Recorder
from tests.mail.test_outbox import case_with_vendors, mail_service


def _checked(heard: list[tuple[int, int]], n: int) -> None:
    """Counts only go up, never past the total, and end at (n, n)."""
    assert heard, "no progress reported"
    assert heard[-1] == (n, n)
    assert all(0 <= done <= total for done, total in heard)
    assert [d for d, _ in heard] == sorted(d for d, _ in heard)


def test_queue_reports_progress_every_so_often_and_ends_at_all(
        service: CaseService, smtp_server: tuple[Recorder, int]) -> None:
    _, port = smtp_server
    svc = mail_service(service, port)
    n = 2 * PROGRESS_EVERY + 7
    cid = case_with_vendors(svc, n)
    heard: list[tuple[int, int]] = []
    queued = MailService(svc).queue(cid, None, "new-case",
                                    progress=lambda d, t: heard.append((d, t)))
    assert len(queued) == n
    _checked(heard, n)
    assert {t for _, t in heard} == {n}
    # Throttled: the start, every PROGRESS_EVERY participants, the end; not one per vendor.
    assert heard == [(0, n), (PROGRESS_EVERY, n), (2 * PROGRESS_EVERY, n), (n, n)]

    # A repeat queues nothing new and still ends at (n, n).
    again: list[tuple[int, int]] = []
    assert not any(q.new for q in MailService(svc).queue(
        cid, None, "new-case", progress=lambda d, t: again.append((d, t))))
    _checked(again, n)


def test_a_delivery_run_reports_each_message(service: CaseService, clock: Clock,
                                             smtp_server: tuple[Recorder, int]) -> None:
    recorder, port = smtp_server
    svc = mail_service(service, port)
    n = 12
    cid = case_with_vendors(svc, n)
    MailService(svc).queue(cid, None, "new-case")
    heard: list[tuple[int, int]] = []
    stats = Worker(svc.db, svc.settings, clock=clock).run(
        batch=5, progress=lambda d, t: heard.append((d, t)))
    assert stats.sent == n and len(recorder.messages) == n
    _checked(heard, n)
    assert heard[0] == (0, n)  # the total is known before the first message goes
    assert [d for d, _ in heard] == list(range(n + 1))


def test_a_refused_message_counts_too(service: CaseService, clock: Clock,
                                      smtp_server: tuple[Recorder, int]) -> None:
    recorder, port = smtp_server
    recorder.refuse["psirt1@vendor1.example"] = "550 no such user"
    svc = mail_service(service, port)
    cid = case_with_vendors(svc, 3)
    MailService(svc).queue(cid, None, "new-case")
    heard: list[tuple[int, int]] = []
    stats = Worker(svc.db, svc.settings, clock=clock).run(
        progress=lambda d, t: heard.append((d, t)))
    assert (stats.sent, stats.failed) == (2, 1)
    _checked(heard, 3)


def _notify_setup(cli: Cli, port: int, vendors: int) -> str:
    """A case with ``vendors`` vendors in the CLI's database (migrated by the fixture)."""
    assert cli.url is not None
    db = Database(cli.url)
    try:
        settings = load_settings(database_url=cli.url, desk={"email": "cert@example.org"},
                                 smtp={"port": port})
        return case_with_vendors(CaseService(db, settings), vendors)
    finally:
        db.dispose()


def test_notify_piped_shows_no_bar(cli: Cli, smtp_server: tuple[Recorder, int]) -> None:
    recorder, port = smtp_server
    cid = _notify_setup(cli, port, 7)
    cli.monkeypatch.setenv("CVDESK_SMTP__PORT", str(port))
    cli.monkeypatch.setenv("CVDESK_DESK__EMAIL", "cert@example.org")
    code, out, err = cli("notify", cid, "--all", "--send")
    assert code == 0, (out, err)
    assert len(recorder.messages) == 7
    assert out.splitlines() == [f"queued 7 message(s) on {cid}",
                                "sent 7, retry later 0, failed 0"]
    assert err == ""  # no bar, no escape codes
    assert "\x1b" not in out and "queueing" not in out and "sending" not in out

    cli("notify", cid, "--all", "--template", "reminder")
    code, out, err = cli("worker")
    assert code == 0 and err == "" and "\x1b" not in out
    assert out.startswith("sent 7,")


@pytest.mark.slow
def test_notify_on_a_terminal_shows_the_bars(tmp_path: Path,
                                             smtp_server: tuple[Recorder, int]) -> None:
    recorder, port = smtp_server
    url = f"sqlite:///{tmp_path / 'n.db'}"
    script = str(Path(sys.executable).with_name("cvdesk"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CVDESK_")}
    env |= {"CVDESK_DATABASE_URL": url, "CVDESK_SMTP__PORT": str(port),
            "CVDESK_DESK__EMAIL": "cert@example.org", "COLUMNS": "100", "TERM": "xterm"}
    subprocess.run([script, "init"], env=env, check=True, capture_output=True, timeout=120)
    db = Database(url)
    try:
        cid = case_with_vendors(CaseService(db, load_settings(database_url=url)), 60)
    finally:
        db.dispose()
    shown = _run_on_a_terminal([script, "notify", cid, "--all", "--send"], env)
    assert "queueing" in shown and "60/60" in shown and "sending" in shown
    assert "sent 60, retry later 0, failed 0" in shown
    assert len(recorder.messages) == 60
