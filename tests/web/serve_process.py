"""``cvdesk serve`` as a real process for the tests that need one (several workers,
signals, the periodic sweep, the browser): a free port, the environment, the command,
and stopping it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_env(db_url: str, **more: str) -> dict[str, str]:
    """This process's environment without any CVDESK_ setting, then the database and
    ``more`` (no periodic sweep unless ``more`` asks for one; no progress bars)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CVDESK_")}
    env.update(CVDESK_DATABASE_URL=db_url, CVDESK_WEB__SWEEP_MINUTES="0",
               CVDESK_NO_PROGRESS="1", PYTHONUNBUFFERED="1")
    env.update(more)
    return env


def serve_command(port: int, workers: int = 2) -> list[str]:
    cvdesk = Path(sys.executable).with_name("cvdesk")
    return [str(cvdesk), "serve", "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers)]


def start_serve(db_url: str, where: Path, port: int, **more: str
                ) -> tuple[subprocess.Popen[bytes], Path]:
    """The command started in ``where``, its output going to ``where/serve.log``."""
    out = where / "serve.log"
    with out.open("wb") as log:
        proc = subprocess.Popen(serve_command(port), cwd=where, env=serve_env(db_url, **more),
                                stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    return proc, out


def stop(proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """SIGTERM, then SIGKILL when the process has not ended within ``timeout`` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
