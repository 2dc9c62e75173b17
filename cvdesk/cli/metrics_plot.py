"""``metrics plot``: added to the metrics group.

matplotlib is imported only when the command runs (by the charts service), so the
other metrics commands and ``cvdesk --help`` do not pay for it."""

from __future__ import annotations

from pathlib import Path

import typer

from cvdesk.cli.context import app_context
from cvdesk.cli.metrics import SINCE, UNTIL, VENDOR, metrics_app


@metrics_app.command("plot")
def plot(
    ctx: typer.Context,
    out_dir: Path = typer.Option(..., "--out", help="Directory to write the charts into "
                                 "(made if missing; files of the same name are replaced)."),
    since: str | None = SINCE,
    until: str | None = UNTIL,
    vendor: str | None = VENDOR,
    formats: list[str] = typer.Option([], "--format", help="png or svg (repeatable); "
                                      "both when not given."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Write the charts (PNG and SVG): alpha per desideratum with its 95% interval,
    timing distributions and findings per month (6.9)."""
    from cvdesk.cli.output import emit_json, out
    from cvdesk.services.metrics_charts import MetricsCharts, parse_formats
    from cvdesk.services.metrics_period import parse_scope

    chosen = parse_formats(formats)  # a bad format is refused before any reading
    scope = parse_scope(since, until, vendor)
    written = MetricsCharts(app_context(ctx).desk).write(out_dir, scope, chosen)
    if as_json:
        emit_json({"written": [str(p) for p in written]})
        return
    for path in written:
        out.print(str(path))
