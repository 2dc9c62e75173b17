"""The application factory uvicorn starts (``cvdesk serve``, every worker process): the
desk is built from the settings in the environment, as the command line left them, and
the worker settles before it serves (web/settle.py: the garbage collector's pauses)."""

from __future__ import annotations

from typing import Any


def app() -> Any:
    from cvdesk.app import Desk
    from cvdesk.settings import load_settings
    from cvdesk.web.app import create_app
    from cvdesk.web.settle import Settled, settle

    built = create_app(Desk(load_settings()), sweep=True)  # services/periodic_sweep.py
    settle(built.renderer)
    return Settled(built)
