"""Start-up and the cycle collector (issue 9): a command freezes what start-up made, so
that no full collection walks the modules and SQLAlchemy's tables again (it cost about a
seventh of ``case list``), and the collector runs again for the command's own work."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cvdesk.cli.main import main

_SCRIPT = """
import gc, json, sys
full = []
gc.callbacks.append(lambda phase, info: full.append(1)
                    if phase == "start" and info["generation"] == 2 else None)
from cvdesk.cli.main import main
code = main(["case", "list"])
print(json.dumps([code, gc.get_freeze_count(), gc.isenabled(), len(full)]))
"""


def test_case_list_freezes_start_up_and_leaves_the_collector_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CVDESK_DATABASE_URL", f"sqlite:///{tmp_path / 'desk.db'}")
    monkeypatch.chdir(tmp_path)
    assert main(["init"]) == 0
    done = subprocess.run([sys.executable, "-c", _SCRIPT], cwd=tmp_path, env=dict(os.environ),
                          check=True, capture_output=True, text=True)
    code, frozen, enabled, full = json.loads(done.stdout.splitlines()[-1])
    assert code == 0, done.stderr
    # SQLAlchemy, Typer and cvdesk's modules: tens of thousands of objects.
    assert frozen > 50_000
    assert enabled
    # No full collection walked the start-up heap while it loaded (one after the freeze
    # would only walk what was made since, and none is due in so short a command).
    assert full == 0
