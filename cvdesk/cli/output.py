"""Printing: Rich tables for people, JSON for scripts, errors on stderr."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cvdesk.domain.codec import to_jsonable

# Rich assumes 80 columns when stdout is not a terminal; logs and pipes get room instead.
_WIDTH = None if sys.stdout.isatty() else 160
# Markup is off: printed text is data. Styled lines pass markup=True and escape what they quote.
out = Console(highlight=False, soft_wrap=True, width=_WIDTH, markup=False)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def emit_json(value: Any) -> None:
    print(json.dumps(to_jsonable(value), indent=2, ensure_ascii=False))


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
        # Cells are data, never markup: a title like "[draft]" must print as written.
        t.add_row(*("" if v is None else escape(str(v)) for v in row))
    out.print(t)


def fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}")
