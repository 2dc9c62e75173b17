"""Pages are Jinja2 templates with autoescaping on for every template: whatever came from
outside (titles, names, report text) is shown as text, never as markup."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse

from cvdesk.domain.wording import state_words

if TYPE_CHECKING:
    from cvdesk.app import Desk
    from cvdesk.domain.accounts import Principal

HERE = Path(__file__).parent
STATIC = HERE / "static"
TEMPLATES = HERE / "templates"

TLP_CLASS = {"CLEAR": "tlp-clear", "GREEN": "tlp-green", "AMBER": "tlp-amber",
             "AMBER+STRICT": "tlp-amber", "RED": "tlp-red"}


def when(value: datetime | None, zone: str = "UTC", *, date_only: bool = False) -> str:
    """A time in the viewer's zone, followed by UTC when that differs."""
    if value is None:
        return "—"
    fmt = "%Y-%m-%d" if date_only else "%Y-%m-%d %H:%M"
    utc = value.astimezone(UTC)
    try:
        tz = ZoneInfo(zone)
    except (KeyError, ValueError):
        tz = ZoneInfo("UTC")
    local = value.astimezone(tz)
    if zone in ("UTC", "Etc/UTC") or local.utcoffset() == utc.utcoffset():
        return f"{utc.strftime(fmt)} UTC"
    return f"{local.strftime(fmt)} {local.tzname()} ({utc.strftime(fmt)} UTC)"


class Renderer:
    def __init__(self, desk: Desk) -> None:
        from jinja2 import Environment, FileSystemLoader, StrictUndefined

        self.desk = desk
        self.env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True,
                               undefined=StrictUndefined, trim_blocks=True,
                               lstrip_blocks=True)
        self.env.globals.update(desk_name=desk.settings.desk.name, state_words=state_words,
                                tlp_class=lambda t: TLP_CLASS.get(str(t).upper(), "tlp-amber"))
        self.env.filters["when"] = when

    def page(self, request: Request, template: str, principal: Principal | None, *,
             http_status: int = 200, zone: str = "UTC", **values: Any) -> HTMLResponse:
        csrf = request.scope.get("csrftoken")
        text = self.env.get_template(template).render(
            request=request, me=principal, zone=zone,
            csrftoken=csrf() if callable(csrf) else "", **values)
        return HTMLResponse(text, status_code=http_status)
