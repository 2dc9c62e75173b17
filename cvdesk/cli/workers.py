"""Several web workers, each accepting on a listening socket of its own (SO_REUSEPORT).

uvicorn's ``--workers N`` binds one socket and lets every worker accept from it.  A
worker woken by a new connection accepts every connection waiting (asyncio takes up to
the backlog at once), so a burst of clients, or a reverse proxy opening its kept-alive
connections, mostly lands on one worker, which then serves those connections for as
long as they live.  In the web benchmark (issue 11, speed) one of two workers served
four fifths of the requests and the tail of every page grew with its queue.

Here each worker gets its own socket bound to the same address with SO_REUSEPORT, and
the kernel spreads new connections over the sockets by a hash of their addresses, so
each worker gets about its share whatever the others are doing.  The supervision
(health pings, restarting a dead worker, signals) is uvicorn's own
(``uvicorn.supervisors.Multiprocess``); only the socket each worker is given differs.
A worker restarted after a crash takes over the socket of the one it replaces:
connections that arrived meanwhile wait in that socket's queue.  SIGTTIN adds a worker
with a socket of its own; SIGTTOU stops the last one and closes its socket.

Before binding, the address is taken once without SO_REUSEPORT, so that a desk or any
other server already listening there makes start-up fail ("address in use") instead of
silently sharing the port with it.
"""

from __future__ import annotations

import logging
import socket
import sys
from typing import Any

from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.supervisors.multiprocess import Multiprocess, Process

logger = logging.getLogger("uvicorn.error")


def _reuse_port_socket(family: socket.AddressFamily, host: str, port: int,
                       backlog: int) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(backlog)
        sock.set_inheritable(True)
    except OSError:
        sock.close()
        raise
    return sock


def listening_sockets(host: str, port: int, count: int, backlog: int = 2048
                      ) -> list[socket.socket]:
    """``count`` sockets listening on ``host:port`` with SO_REUSEPORT (port 0: the port
    the first one gets).  OSError when the address is taken or cannot be bound."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))  # EADDRINUSE if anyone listens there, reuse-port or not
        if port == 0:
            port = probe.getsockname()[1]
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sockets.append(_reuse_port_socket(family, host, port, backlog))
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


class SpreadWorkers(Multiprocess):
    """uvicorn's supervisor, handing worker ``i`` the socket ``sockets[i]`` only."""

    def _start(self, index: int) -> Process:
        process = Process(self.config, [self.sockets[index]])
        process.start()
        return process

    def init_processes(self) -> None:
        self.processes = [self._start(i) for i in range(len(self.sockets))]

    def keep_subprocess_alive(self) -> None:
        # uvicorn's loop, starting the replacement on the dead worker's own socket.
        for index, process in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                logger.error(f"Worker [{process.pid}] failed to start; stopping.")
                self.should_exit.set()
                return
            logger.info(f"Worker [{process.pid}] died; starting another")
            self.processes[index] = self._start(index)

    def restart_all(self) -> None:
        # SIGHUP: each worker replaced in turn, the new one on the old one's socket.
        for index, old in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            new = self._start(index)
            if not new.wait_until_ready(self.config.timeout_worker_healthcheck,
                                        self.should_exit):
                new.kill()
                new.join()
                logger.error(f"Worker [{new.pid}] was not ready in time; keeping "
                             f"[{old.pid}] and stopping the restart.")
                return
            old.terminate()
            old.join()
            self.processes[index] = new

    def handle_ttin(self) -> None:
        # One worker more, on a socket of its own (uvicorn's would share all of them).
        first = self.sockets[0]
        try:
            sock = _reuse_port_socket(first.family, *first.getsockname()[:2],
                                      self.config.backlog)
        except OSError as exc:
            logger.error(f"Received SIGTTIN; no worker added: {exc.strerror or exc}")
            return
        logger.info("Received SIGTTIN: one worker more, on a socket of its own.")
        self.sockets.append(sock)
        self.processes_num = len(self.sockets)
        self.processes.append(self._start(len(self.sockets) - 1))

    def handle_ttou(self) -> None:
        # One worker fewer, and its socket closed with it: a socket left without a
        # worker would keep the connections the kernel hands it waiting for ever.
        if len(self.processes) <= 1:
            logger.info("Received SIGTTOU; one worker is the fewest.")
            return
        logger.info("Received SIGTTOU: one worker fewer.")
        process = self.processes.pop()
        process.terminate()
        process.join()
        self.sockets.pop().close()
        self.processes_num = len(self.sockets)


def run_workers(app: str, *, host: str, port: int, workers: int, **options: Any) -> None:
    """Serve ``app`` (an import string) as uvicorn does, with ``workers`` processes each
    on its own socket; one worker is plain ``uvicorn.run``."""
    import uvicorn

    if workers <= 1:
        uvicorn.run(app, host=host, port=port, **options)
        return
    config = Config(app, host=host, port=port, workers=workers, **options)  # logging too
    try:
        sockets = listening_sockets(host, port, workers, config.backlog)
    except OSError as exc:
        logger.error(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
        sys.exit(STARTUP_FAILURE)
    bound = sockets[0].getsockname()
    logger.info(f"listening on http://{host}:{bound[1]} with {workers} workers, each on "
                f"its own socket (Press CTRL+C to quit)")
    try:
        SpreadWorkers(config, sockets).run()
    finally:
        for sock in sockets:
            sock.close()
