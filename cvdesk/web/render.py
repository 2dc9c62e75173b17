"""Pages are Jinja2 templates with autoescaping on for every template: whatever came from
outside (titles, names, report text) is shown as text, never as markup."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse

from cvdesk.domain.safetext import visible
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
    utc = value.astimezone(UTC)
    tz = _zone(zone)
    if tz is None:
        return f"{_fmt(utc, date_only)} UTC"
    local = utc.astimezone(tz)
    if local.utcoffset() == utc.utcoffset():
        return f"{_fmt(utc, date_only)} UTC"
    return f"{_fmt(local, date_only)} {local.tzname()} ({_fmt(utc, date_only)} UTC)"


def _fmt(t: datetime, date_only: bool) -> str:
    # what strftime("%Y-%m-%d %H:%M") gives, at a fraction of its cost (a page shows
    # a hundred times or more)
    day = f"{t.year:04d}-{t.month:02d}-{t.day:02d}"
    return day if date_only else f"{day} {t.hour:02d}:{t.minute:02d}"


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo | None:
    """The zone of that name; None for UTC itself and for a name that is not a zone."""
    if name in ("UTC", "Etc/UTC"):
        return None
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError):  # OSError: a name too long for a file
        return None


@lru_cache(maxsize=64)
def state_title(letters: str) -> str:
    """A state's letters in words, one phrase per letter (a tooltip): a list shows the
    same few states on every row."""
    return "; ".join(words for _, _, words in state_words(letters))


def shown(value: Any) -> Any:
    """What a page shows of a value: text with its control and bidi characters as visible
    escapes (``\\u202e``), as the command line and the published advisories show them, so
    that a stranger's name cannot read as another in the desk's own pages (autoescaping
    stops markup, not a right-to-left override).  Newlines and tabs stay; HTML the desk
    made itself (``Markup``) is left alone."""
    if isinstance(value, str) and not hasattr(value, "__html__"):
        return visible(value)
    return value


class Renderer:
    def __init__(self, desk: Desk) -> None:
        from jinja2 import Environment, FileSystemLoader, StrictUndefined

        self.desk = desk
        # Templates are compiled once per process and not looked at again (auto_reload
        # off: no file check per page); a changed template needs a restart.
        self.env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True,
                               undefined=StrictUndefined, trim_blocks=True,
                               lstrip_blocks=True, auto_reload=False, finalize=shown)
        from cvdesk.web.forms import Forms

        self.env.globals.update(desk_name=desk.settings.desk.name, state_words=state_words,
                                forms=Forms,
                                state_title=state_title,
                                tlp_class=lambda t: TLP_CLASS.get(str(t).upper(), "tlp-amber"))
        self.env.filters["when"] = when

    def page(self, request: Request, template: str, principal: Principal | None, *,
             http_status: int = 200, zone: str = "UTC", **values: Any) -> HTMLResponse:
        csrf = request.scope.get("csrftoken")
        text = self.env.get_template(template).render(
            request=request, me=principal, zone=zone,
            csrftoken=csrf() if callable(csrf) else "", **values)
        return HTMLResponse(text, status_code=http_status)
