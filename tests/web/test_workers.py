"""Several web workers, each on a listening socket of its own (cvdesk/cli/workers.py;
issue 11, speed): the kernel spreads connections over the workers, and an address
already in use is refused instead of shared."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from cvdesk.cli.workers import listening_sockets


def _close(sockets: list[socket.socket]) -> None:
    for sock in sockets:
        sock.close()


def test_each_worker_gets_a_socket_on_the_same_port() -> None:
    sockets = listening_sockets("127.0.0.1", 0, 3)
    try:
        ports = {s.getsockname()[1] for s in sockets}
        assert len(sockets) == 3 and len(ports) == 1 and 0 not in ports
        for sock in sockets:
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 1
    finally:
        _close(sockets)


def test_an_address_in_use_is_refused_not_shared() -> None:
    with socket.socket() as plain:
        plain.bind(("127.0.0.1", 0))
        plain.listen()
        with pytest.raises(OSError):
            listening_sockets("127.0.0.1", plain.getsockname()[1], 2)
    first = listening_sockets("127.0.0.1", 0, 2)
    try:  # another desk's reuse-port sockets are no welcome either
        with pytest.raises(OSError):
            listening_sockets("127.0.0.1", first[0].getsockname()[1], 2)
    finally:
        _close(first)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _established_inodes(port: int) -> set[str]:
    """Socket inodes of the server side of established connections to ``port``."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        if local_port == port and fields[3] == "01":  # TCP_ESTABLISHED
            inodes.add(fields[9])
    return inodes


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids += [int(c) for c in (task / "children").read_text().split()]
    return kids


def _held_by(pid: int, inodes: set[str]) -> int:
    held = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            held += 1
    return held


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc")
def test_serve_spreads_kept_alive_connections_over_its_workers(
        demo_db_url: str, tmp_path: Path) -> None:
    """The real command with two workers: forty kept-alive connections opened at once
    are served by both workers (from a shared listener one worker took nearly all)."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CVDESK_")}
    env.update(CVDESK_DATABASE_URL=demo_db_url, CVDESK_WEB__SWEEP_MINUTES="0",
               CVDESK_NO_PROGRESS="1", PYTHONUNBUFFERED="1")
    out = tmp_path / "serve.log"
    cvdesk = Path(sys.executable).with_name("cvdesk")
    with out.open("wb") as log:
        proc = subprocess.Popen([str(cvdesk), "serve", "--host", "127.0.0.1", "--port",
                                 str(port), "--workers", "2"], cwd=tmp_path, env=env,
                                stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    conns: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, out.read_text(errors="replace")
            assert time.monotonic() < deadline, out.read_text(errors="replace")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).text == "ok":
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        workers = _children(proc.pid)
        # Forty connections opened at once, as a proxy or a crowd of browsers does: on
        # one shared listener the first worker to wake accepted every one waiting.
        conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(40)]
        for conn in conns:
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: desk\r\n\r\n")
        for conn in conns:
            conn.settimeout(30)
            assert conn.recv(4096).startswith(b"HTTP/1.1 200")
        inodes = _established_inodes(port)
        held = sorted(_held_by(pid, inodes) for pid in workers)
        # (The children are the two workers and multiprocessing's resource tracker.)
        # Forty connections over two sockets by a hash of their addresses: each worker
        # holding at least five fails about once in ten million runs.
        assert sum(held) == 40 and held[-2] >= 5, (held, workers)
        assert "each on its own socket" in out.read_text(errors="replace")
    finally:
        for conn in conns:
            conn.close()
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_serve_refuses_a_port_in_use(demo_db_url: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CVDESK_")}
    env.update(CVDESK_DATABASE_URL=demo_db_url, CVDESK_WEB__SWEEP_MINUTES="0",
               CVDESK_NO_PROGRESS="1")
    cvdesk = Path(sys.executable).with_name("cvdesk")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        done = subprocess.run([str(cvdesk), "serve", "--host", "127.0.0.1", "--port",
                               str(taken.getsockname()[1]), "--workers", "2"],
                              cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode != 0
    assert "cannot listen on 127.0.0.1" in done.stdout + done.stderr
