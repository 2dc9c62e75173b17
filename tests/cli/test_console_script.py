"""The installed ``cvdesk`` console script, in a subprocess (slow: a new interpreter each)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CVDESK = Path(sys.executable).parent / "cvdesk"
pytestmark = pytest.mark.slow


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CVDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}"}
    return subprocess.run([str(CVDESK), *args], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=120, check=False)


def test_console_script(tmp_path: Path) -> None:
    assert run(tmp_path, "--version").stdout.strip() == "cvdesk 0.1.0"
    assert run(tmp_path, "init").returncode == 0
    assert "loaded 16 demo cases" in run(tmp_path, "demo").stdout
    cases = json.loads(run(tmp_path, "case", "list", "--json").stdout)
    assert len(cases) == 14  # open ones
    bad = run(tmp_path, "rm", "close", cases[0]["case_id"], "p3")
    assert bad.returncode == 3
    assert "RM (report management)" in bad.stderr and "allowed from" in bad.stderr
    doctor = run(tmp_path, "doctor")
    assert doctor.returncode == 0 and "vendor-unresponsive" in doctor.stdout
    assert "Traceback" not in doctor.stderr
