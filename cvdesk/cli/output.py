"""Printing: Rich tables for people, JSON for scripts, errors on stderr.

Names, titles, subjects and report fields come from strangers and are stored as they
came.  Printed raw, an escape sequence in them could clear the screen, rewrite earlier
lines or retitle the terminal, and a bidi override could make text read differently
from what it is.  So every path to the terminal goes through ``neutralise``: the
consoles below do it for every string they render (table cells and titles included),
JSON output writes those characters as ``\\u`` escapes, and usage errors pass through
``EscapingWriter``.  Command modules print only through this module.
"""

from __future__ import annotations

import logging
import sys
from datetime import datetime
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from cvdesk.domain.codec import to_jsonable
from cvdesk.domain.safetext import json_text, visible


def neutralise(text: str, *, layout: bool = True) -> str:
    """``text`` with control characters (C0, DEL, C1) and bidi controls written as visible
    escapes such as ``\\x1b`` and ``\\u202e``; newline and tab stay when ``layout``
    (domain/safetext.py ``visible``, which published advisories use too)."""
    return visible(text, layout=layout)


def line(text: str) -> str:
    """A one-line field (a title, a name) for a line of its own: its newlines written as
    ``\\x0a`` too, so that a title cannot print a line that looks like the desk's own
    (a "status closed" under the heading)."""
    return neutralise(text, layout=False)


class SafeConsole(Console):
    """A console that neutralises every string it renders (markup is parsed after, so a
    styled line keeps its style)."""

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return super().render_str(neutralise(text), **kwargs)

    def print(self, *objects: Any, **kwargs: Any) -> None:
        super().print(*(_safe_text(o) for o in objects), **kwargs)


def _safe_text(obj: Any) -> Any:
    if isinstance(obj, Text):  # a ready-made Text skips render_str
        plain = obj.plain
        if plain != neutralise(plain):
            return Text(neutralise(plain), style=obj.style)
    return obj


class EscapingWriter:
    """A text stream that neutralises what is written to it (for click's own messages)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(neutralise(text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class SafeLogHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Log lines on stderr, neutralised: a logged error may quote a stranger's mail."""

    def format(self, record: logging.LogRecord) -> str:
        return neutralise(super().format(record))


def log_to_stderr(level: int = logging.WARNING) -> None:
    """Send cvdesk's log (e.g. the mail listener's) to stderr through SafeLogHandler."""
    logger = logging.getLogger("cvdesk")
    if not any(isinstance(h, SafeLogHandler) for h in logger.handlers):
        logger.addHandler(SafeLogHandler())
        logger.setLevel(level)


# Rich assumes 80 columns when stdout is not a terminal; logs and pipes get room instead.
_WIDTH = None if sys.stdout.isatty() else 160
# Markup and emoji codes are off: printed text is data. Styled lines pass markup=True and
# escape what they quote.
out = SafeConsole(highlight=False, soft_wrap=True, width=_WIDTH, markup=False, emoji=False)
err = SafeConsole(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def emit_json(value: Any) -> None:
    """Print JSON for scripts.  A query's result is printed as its view's ``to_json()``
    (cvdesk.services.views), so --json shows the same shape every face gives."""
    print(json_text(to_jsonable(value)))


def fmt_time(value: datetime | None, tz: str = "UTC", *, date_only: bool = False) -> str:
    if value is None:
        return "-"
    local = value.astimezone(ZoneInfo(tz))
    if date_only:
        return local.strftime("%Y-%m-%d")
    return local.strftime("%Y-%m-%d %H:%M %z").replace(" +0000", " UTC")


def table(title: str | None, columns: list[str], rows: list[list[Any]]) -> None:
    t = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)
    for col in columns:
        t.add_column(col)
    for row in rows:
        # Cells are data, never markup (the console's markup is off): "[draft]" prints
        # as written.
        t.add_row(*("" if v is None else neutralise(str(v)) for v in row))
    out.print(t)


def fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}")
