"""Several web workers, each on a listening socket of its own (cvdesk/cli/workers.py;
issue 11, speed): the kernel spreads connections over the workers, and an address
already in use is refused instead of shared."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from cvdesk.cli.workers import listening_sockets
from tests.web.serve_process import free_port, serve_command, serve_env, start_serve, stop


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


def _serve(db_url: str, tmp_path: Path, port: int) -> tuple[subprocess.Popen[bytes], Path]:
    proc, out = start_serve(db_url, tmp_path, port)
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, out.read_text(errors="replace")
        assert time.monotonic() < deadline, out.read_text(errors="replace")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).text == "ok":
                return proc, out
        except httpx.HTTPError:
            time.sleep(0.2)


def _connect_at_once(port: int, count: int) -> list[socket.socket]:
    """``count`` connections opened at once, as a proxy or a crowd of browsers does (on
    one shared listener the first worker to wake accepted every one waiting), each
    answered once and kept open."""
    conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
    for conn in conns:
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: desk\r\n\r\n")
    for conn in conns:
        conn.settimeout(30)
        assert conn.recv(4096).startswith(b"HTTP/1.1 200")
    return conns


def _held(workers: list[int], port: int) -> list[int]:
    inodes = _established_inodes(port)
    return sorted(_held_by(pid, inodes) for pid in workers)


def _wait_for(predicate: Any, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


LINUX = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc")


@LINUX
def test_serve_spreads_kept_alive_connections_over_its_workers(
        demo_db_url: str, tmp_path: Path) -> None:
    """The real command with two workers: forty kept-alive connections opened at once
    are served by both workers (from a shared listener one worker took nearly all)."""
    port = free_port()
    proc, out = _serve(demo_db_url, tmp_path, port)
    conns: list[socket.socket] = []
    try:
        workers = _children(proc.pid)
        conns = _connect_at_once(port, 40)
        held = _held(workers, port)
        # (The children are the two workers and multiprocessing's resource tracker.)
        # Forty connections over two sockets by a hash of their addresses: each worker
        # holding at least five fails about once in ten million runs.
        assert sum(held) == 40 and held[-2] >= 5, (held, workers)
        assert "each on its own socket" in out.read_text(errors="replace")
    finally:
        for conn in conns:
            conn.close()
        stop(proc)


@LINUX
def test_a_worker_added_or_removed_by_signal_brings_or_takes_its_socket(
        demo_db_url: str, tmp_path: Path) -> None:
    """SIGTTIN adds a worker with a socket of its own, which gets its share; SIGTTOU
    stops one and closes its socket, so no new connection waits for a worker gone."""
    port = free_port()
    proc, out = _serve(demo_db_url, tmp_path, port)
    conns: list[socket.socket] = []
    try:
        proc.send_signal(signal.SIGTTIN)
        _wait_for(lambda: len(_children(proc.pid)) == 4, "a third worker")  # + tracker
        _wait_for(lambda: httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).text
                  == "ok", "answers")
        time.sleep(2)  # the new worker's start-up
        conns = _connect_at_once(port, 60)
        held = _held(_children(proc.pid), port)
        # Sixty over three: each at least five fails about once in a million runs.
        assert sum(held) == 60 and held[-3] >= 5, held
        for conn in conns:
            conn.close()
        conns = []
        proc.send_signal(signal.SIGTTOU)
        _wait_for(lambda: len(_children(proc.pid)) == 3, "back to two workers")
        conns = _connect_at_once(port, 40)  # every one answered: none waits for ever
        assert sum(_held(_children(proc.pid), port)) == 40
        text = out.read_text(errors="replace")
        assert "one worker more" in text and "one worker fewer" in text, text
    finally:
        for conn in conns:
            conn.close()
        stop(proc)


def test_serve_refuses_a_port_in_use(demo_db_url: str, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        done = subprocess.run(serve_command(taken.getsockname()[1]), cwd=tmp_path,
                              env=serve_env(demo_db_url), capture_output=True, text=True,
                              timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode != 0
    assert "cannot listen on 127.0.0.1" in done.stdout + done.stderr
