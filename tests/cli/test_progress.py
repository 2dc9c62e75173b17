"""Progress bars (issue 9): drawn on a terminal, silent for scripts and JSON."""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

from cvdesk.cli.progress import progress_bar, wanted


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_bar_is_drawn_on_a_terminal() -> None:
    stream = FakeTerminal()
    with progress_bar("loading", stream=stream) as progress:
        for i in range(5):
            progress(i + 1, 5)
    text = stream.getvalue()
    assert "loading" in text and "5/5" in text


@pytest.mark.parametrize("terminal, json_output, env, drawn", [
    (False, False, "", False),
    (True, True, "", False),
    (True, False, "1", False),
    (True, False, "", True),
])
def test_the_bar_is_quiet_unless_a_person_watches(monkeypatch: pytest.MonkeyPatch,
                                                  terminal: bool, json_output: bool,
                                                  env: str, drawn: bool) -> None:
    monkeypatch.setenv("CVDESK_NO_PROGRESS", env)
    if not env:
        monkeypatch.delenv("CVDESK_NO_PROGRESS")
    stream = FakeTerminal() if terminal else io.StringIO()
    assert wanted(stream, json_output=json_output) is drawn
    with progress_bar("work", stream=stream, json_output=json_output) as progress:
        progress(1, 2)
        progress(2, 2)
    assert (stream.getvalue() != "") is drawn


def _run_on_a_terminal(args: list[str], env: dict[str, str]) -> str:
    """Run the real console script with stdout and stderr on a pseudo-terminal."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(args, stdout=slave, stderr=slave, stdin=subprocess.DEVNULL,
                            env=env, close_fds=True)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            proc.kill()
            break
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(master)
    assert proc.returncode == 0, b"".join(chunks)
    return b"".join(chunks).decode("utf-8", "replace")


def test_demo_load_shows_a_bar_on_a_terminal_and_nothing_when_piped(tmp_path: Path) -> None:
    script = str(Path(sys.executable).with_name("cvdesk"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CVDESK_")}
    env |= {"CVDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}", "COLUMNS": "100",
            "TERM": "xterm"}
    shown = _run_on_a_terminal([script, "demo"], env)
    assert "loading the demo cases" in shown and "15/15" in shown
    assert "loaded 16 demo cases" in shown

    env["CVDESK_DATABASE_URL"] = f"sqlite:///{tmp_path / 'b.db'}"
    piped = subprocess.run([script, "demo"], env=env, capture_output=True, text=True,
                           check=True, timeout=120)
    assert piped.stderr == ""
    assert piped.stdout.startswith("loaded 16 demo cases")


def test_a_cold_sweep_shows_a_bar_on_a_terminal(tmp_path: Path) -> None:
    script = str(Path(sys.executable).with_name("cvdesk"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CVDESK_")}
    env |= {"CVDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}", "COLUMNS": "100",
            "TERM": "xterm"}
    subprocess.run([script, "demo"], env=env, capture_output=True, check=True, timeout=120)
    shown = _run_on_a_terminal([script, "doctor"], env)
    assert "sweeping the open cases" in shown and "14/14" in shown
    piped = subprocess.run([script, "doctor", "--json"], env=env, capture_output=True,
                           text=True, check=True, timeout=120)
    assert piped.stderr == "" and piped.stdout.startswith("{")
