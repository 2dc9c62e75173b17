"""The application factory uvicorn starts (``cvdesk serve``, every worker process): the
desk is built from the settings in the environment, as the command line left them."""

from __future__ import annotations

from typing import Any


def app() -> Any:
    from cvdesk.app import Desk
    from cvdesk.settings import load_settings
    from cvdesk.web.app import create_app

    return create_app(Desk(load_settings()))
