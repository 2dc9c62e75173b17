"""The ``cvdesk demo`` command."""

from __future__ import annotations

import typer

from cvdesk.cli.context import app_context
from cvdesk.cli.output import out
from cvdesk.cli.progress import progress_bar


def demo(ctx: typer.Context,
         force: bool = typer.Option(False, "--force",
                                    help="Load even if the database already has cases.")) -> None:
    """Create the database if needed and load the demo dataset (dates relative to today)."""
    app_ctx = app_context(ctx)
    with progress_bar("loading the demo cases") as progress:
        summary = app_ctx.desk.load_demo(force=force, progress=progress)
    out.print(f"loaded {summary.cases} demo cases with {summary.participants} participants "
              f"and {summary.events} events")
