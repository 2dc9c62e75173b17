"""What the web desk runs beside its requests for as long as it serves: the periodic
troubleshooting sweep (services/periodic_sweep.py), started when the application starts
and stopped, after any sweep under way has committed, when it shuts down.  Each worker
process has its own; the database's sweep lease decides which one sweeps."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool

if TYPE_CHECKING:
    from cvdesk.app import Desk


def sweeping(desk: Desk) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        sweep = desk.periodic_sweep()
        if sweep is not None:
            sweep.start()
        try:
            yield
        finally:
            if sweep is not None:
                await run_in_threadpool(sweep.stop)
    return lifespan
