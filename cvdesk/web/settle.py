"""Keep Python's cyclic garbage collector out of the answers' tail (issue 11, speed).

A worker process holds about 140,000 objects that live as long as it does: the modules
of FastAPI, pydantic, SQLAlchemy and cvdesk, the compiled templates, the table mappings.
CPython's collector walks all of them at every full (generation 2) collection, which the
allocations of ordinary pages set off every few seconds: on the benchmark's 2-core
machine each took 100-130 ms of CPU while holding the GIL, 200-500 ms of wall time when
the cores were shared, and every request in flight waited for it (the p99 of even
/healthz was ~300 ms on SQLite with one worker).

So each worker, once built, loads what its pages load lazily, collects once, and
``gc.freeze()``s what is left: frozen objects are never walked again (reference counting
still frees them).  A full collection then walks only what was made since, a few
milliseconds.  After its first ``REFREEZE_AFTER`` requests the worker does the same once
more, for what the first requests loaded that the list below does not name (caches
filled, statements compiled); both are done only when the worker is idle (no request in
flight).  Nothing that is garbage at that time is frozen (collected first); what a cache
drops later is freed by reference counting as before (the views held are acyclic).

The young generation's threshold is raised from 700 to ``YOUNG``: a page allocates tens
of thousands of short-lived objects, most freed by reference counting before a young
collection would look at them.  (Measured over 1,500 pages of the benchmark's mix in one
process: all collections together took 1.3 s with the defaults, the longest 390 ms; 0.65 s
and 14 ms frozen; about 0.3 s and 10-16 ms frozen with 2,000; higher thresholds made
each young collection longer without saving more.)
"""

from __future__ import annotations

import contextlib
import gc
import importlib
from typing import Any

#: Modules the request handlers and services import on first use.
LAZY_MODULES = (
    "sqlalchemy.orm",
    "cvdesk.store.tables",
    "cvdesk.store.portal",
    "cvdesk.store.accounts",
    "cvdesk.store.findings",
    "cvdesk.services.accounts",
    "cvdesk.services.portal",
    "cvdesk.services.portal_views",
    "cvdesk.services.portal_actions",
    "cvdesk.troubleshoot.stored",
    "cvdesk.domain.case",
    "cvdesk.domain.em",
    "cvdesk.domain.events",
    "cvdesk.web.timeline",
)
#: Objects allocated (net) before a young collection; CPython's default is 700.
YOUNG = 2000
#: Requests after which a worker freezes once more what it has settled into.
REFREEZE_AFTER = 200


def settle(renderer: Any = None) -> None:
    """Load, collect, freeze: see the module's docstring.  ``renderer`` (web/render.py)
    has its templates compiled first."""
    for name in LAZY_MODULES:
        importlib.import_module(name)
    from sqlalchemy.orm import configure_mappers

    configure_mappers()
    if renderer is not None:
        from jinja2 import TemplateError

        for template in renderer.env.list_templates(extensions=("html",)):
            # one that does not compile: its page answers with the error, as before
            with contextlib.suppress(TemplateError):
                renderer.env.get_template(template)
    freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG, middle, old)


def freeze() -> None:
    gc.collect()
    gc.freeze()


class Settled:
    """ASGI wrapper that freezes once more after the worker's first requests, at a
    moment when none is in flight (a collection then holds nobody up)."""

    def __init__(self, app: Any, after: int = REFREEZE_AFTER) -> None:
        self.app = app
        self.left = after
        self.busy = 0

    def __getattr__(self, name: str) -> Any:  # .fastapi, .renderer: the app's own
        return getattr(self.app, name)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.left <= 0 or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.busy += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.busy -= 1
            self.left -= 1
            if self.left <= 0:
                if self.busy:
                    self.left = 1  # try again after the next request
                else:
                    freeze()
