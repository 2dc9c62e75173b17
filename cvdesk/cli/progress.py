"""A progress bar for long commands, on the terminal only.

It is drawn on stderr, and only when stderr is a terminal and the command is not
writing JSON: piped output, logs and scripts see nothing of it.  The bar is removed
when the work ends, so the command's own output reads as before.
``CVDESK_NO_PROGRESS=1`` turns it off on a terminal too.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from cvdesk.services.progress import Progress, quiet


def wanted(stream: TextIO, *, json_output: bool = False) -> bool:
    if json_output or os.environ.get("CVDESK_NO_PROGRESS"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


@contextmanager
def progress_bar(label: str, *, json_output: bool = False,
                 stream: TextIO | None = None) -> Iterator[Progress]:
    """Yield a (done, total) callback that draws a bar, or one that does nothing."""
    stream = sys.stderr if stream is None else stream
    if not wanted(stream, json_output=json_output):
        yield quiet
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.progress import Progress as Bar

    from cvdesk.cli.output import SafeConsole

    console = SafeConsole(file=stream, force_terminal=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TimeRemainingColumn())
    with Bar(*columns, console=console, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update
