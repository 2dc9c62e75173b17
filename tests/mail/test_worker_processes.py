"""Workers as real processes: killed with SIGKILL mid-batch and restarted, and two at once.
Slow: each starts a new interpreter."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from cvdesk.cli.main import main
from cvdesk.domain.model import Report, ReporterInfo, Role
from cvdesk.services import CaseService
from cvdesk.services.mail import MailService
from cvdesk.settings import load_settings
from cvdesk.store.tables import OutboxRow
from tests.mail.conftest import Recorder

pytestmark = pytest.mark.slow
CVDESK = Path(sys.executable).parent / "cvdesk"


def setup(service: CaseService, port: int, vendors: int) -> tuple[CaseService, str, dict]:
    env = {"CVDESK_DATABASE_URL": service.db.url, "CVDESK_SMTP__PORT": str(port),
           "CVDESK_SMTP__LEASE_SECONDS": "1", "CVDESK_DESK__EMAIL": "cert@example.org"}
    settings = load_settings(database_url=service.db.url, desk={"email": "cert@example.org"},
                             smtp={"port": port})
    svc = CaseService(service.db, settings)
    cid = svc.submit_report(Report("Bulk case", "d", ReporterInfo("Rita"))).case_id
    with svc.case(cid) as case:
        for i in range(vendors):
            case.add_participant(f"Vendor {i}", [Role.VENDOR], at=svc.clock(), actor="t",
                                 email=f"psirt@vendor{i}.example")
    assert len(MailService(svc).queue(cid, None, "new-case")) == vendors
    return svc, cid, {**os.environ, **env}


def start_worker(env: dict, batch: int = 20) -> subprocess.Popen[str]:
    return subprocess.Popen([str(CVDESK), "worker", "--batch", str(batch)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def outbox(svc: CaseService) -> list[OutboxRow]:
    with svc.db.sessions() as s:
        return list(s.scalars(select(OutboxRow).order_by(OutboxRow.id)))


def test_sigkill_mid_batch_loses_nothing_and_sends_nothing_twice(
        service: CaseService, smtp_server: tuple[Recorder, int]) -> None:
    recorder, port = smtp_server
    total = 400
    svc, cid, env = setup(service, port, total)
    rng = random.Random(2026)
    kills = 0
    for _ in range(4):
        before = len(recorder.messages)
        worker = start_worker(env)
        deadline = time.monotonic() + 20
        while len(recorder.messages) <= before + 5 and time.monotonic() < deadline \
                and worker.poll() is None:
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.05))
        if worker.poll() is None:
            os.kill(worker.pid, signal.SIGKILL)
            kills += 1
        worker.wait(10)
    delivered_during_kills = len(recorder.messages)
    assert kills >= 3 and delivered_during_kills < total  # the kills landed mid-queue
    time.sleep(1.2)  # let the dead workers' leases run out
    final = start_worker(env)
    _out, err = final.communicate(timeout=120)
    assert final.returncode == 0, err
    ids = recorder.message_ids()
    assert [i for i, n in Counter(ids).items() if n > 1] == []  # never twice
    rows = outbox(svc)
    assert {r.status for r in rows} == {"sent"}
    in_doubt = [r for r in rows if r.in_doubt]
    assert len(in_doubt) <= kills
    confirmed = {r.message_id for r in rows if not r.in_doubt}
    assert confirmed <= set(ids)  # every confirmed message really arrived
    assert len(ids) >= total - len(in_doubt)
    case = svc.replay(cid)
    assert all(p.attempts == 1 for p in case.vendors)  # one logged attempt per message
    print(f"kills={kills} delivered={len(ids)} in_doubt={len(in_doubt)}")


def test_two_workers_share_the_queue(service: CaseService,
                                     smtp_server: tuple[Recorder, int]) -> None:
    recorder, port = smtp_server
    svc, _, env = setup(service, port, 300)
    workers = [start_worker(env, batch=10) for _ in range(2)]
    for w in workers:
        _, err = w.communicate(timeout=120)
        assert w.returncode == 0, err
    ids = recorder.message_ids()
    assert len(ids) == 300 and len(set(ids)) == 300
    rows = outbox(svc)
    assert {r.status for r in rows} == {"sent"} and not any(r.in_doubt for r in rows)
    assert len({r.worker for r in rows}) >= 1


def test_notify_command(service: CaseService, smtp_server: tuple[Recorder, int],
                        monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                        capsys: pytest.CaptureFixture[str]) -> None:
    recorder, port = smtp_server
    svc, cid, env = setup(service, port, 0)
    with svc.case(cid) as case:
        for i in range(3):
            case.add_participant(f"V{i}", [Role.VENDOR], at=svc.clock(), actor="t",
                                 email=f"v{i}@example.net")
    for k in ("CVDESK_DATABASE_URL", "CVDESK_SMTP__PORT", "CVDESK_DESK__EMAIL"):
        monkeypatch.setenv(k, env[k])
    listing = tmp_path / "vendors.txt"
    listing.write_text("# first two\nV0\np4\n")
    assert main(["notify", cid, "--vendors", str(listing)]) == 0
    assert "queued 2 message(s)" in capsys.readouterr().out
    assert main(["notify", cid, "--all", "--send"]) == 0
    out = capsys.readouterr().out
    assert "queued 1 message(s)" in out and "2 already queued before" in out
    assert "sent 3" in out and len(recorder.messages) == 3
    assert main(["outbox", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in rows] == ["sent"] * 3
    assert main(["notify", cid]) == 2
    assert main(["notify", cid, "--all", "--template", "spam"]) == 2
