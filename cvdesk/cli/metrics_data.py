"""``metrics timing`` and ``metrics import``: added to the metrics group (issue 12)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from cvdesk.cli.context import app_context
from cvdesk.cli.metrics import SINCE, UNTIL, VENDOR, metrics_app
from cvdesk.cli.output import emit_json, out, table

if TYPE_CHECKING:
    from cvdesk.services.metrics_timing import Distribution, TimingReport


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _cell(d: Distribution) -> str:
    """median / p90 (n) of one group and measure."""
    return "-" if not d.count else f"{_num(d.median)} / {_num(d.p90)} ({d.count})"


def _by_group(rows: tuple[Distribution, ...], title: str, kind: str) -> None:
    measures = list(dict.fromkeys(d.measure for d in rows))
    groups: dict[str, dict[str, Distribution]] = {}
    for d in rows:
        groups.setdefault(d.group, {})[d.measure] = d
    shown = {g: ds for g, ds in groups.items() if any(d.count for d in ds.values())}
    left = len(groups) - len(shown)
    note = f"; {left} {kind}(s) with no values not shown" if left else ""
    table(f"{title}: median / p90 days (count){note}", [kind, *measures],
          [[g, *(_cell(ds[m]) if m in ds else "-" for m in measures)]
           for g, ds in shown.items()])


def show_timing(report: TimingReport) -> None:
    table("Days from the report (case opened)", ["measure", "count", "median", "p90"],
          [[d.measure, str(d.count), _num(d.median), _num(d.p90)] for d in report.overall])
    _by_group(report.per_vendor, "Per vendor", "vendor")
    _by_group(report.per_coordinator, "Per coordinator", "coordinator")
    e = report.embargoes
    table("Embargoes", ["kept", "extended", "broken"],
          [[str(e.kept), str(e.extended), str(e.broken)]])
    table(f"Findings raised per problem ({sum(n for _, n in report.findings)})",
          ["problem", "count"], [[p, str(n)] for p, n in report.findings])


@metrics_app.command("timing")
def timing(
    ctx: typer.Context,
    since: str | None = SINCE,
    until: str | None = UNTIL,
    vendor: str | None = VENDOR,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Time to acknowledgement, first vendor reply, fix ready and publication (median and
    90th percentile, per vendor and per coordinator); embargoes kept, extended and broken;
    findings raised per problem (6.9)."""
    from cvdesk.services.metrics_period import parse_scope

    scope = parse_scope(since, until, vendor)
    report = app_context(ctx).desk.timing().timing(since=scope.since, until=scope.until,
                                                   vendor=scope.vendor)
    if as_json:
        emit_json(report.to_json())
        return
    show_timing(report)


@metrics_app.command("import")
def import_history(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="CSV (header row) or JSON (list of objects) of "
                                "past cases and the dates of their events."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check the file and say what "
                                 "would be imported; write nothing."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Import past cases so that skill and timing count them; every bad row is named and
    nothing is imported when any row is bad.  References imported before are skipped."""
    result = app_context(ctx).desk.history_import().run(file, dry_run=dry_run)
    if as_json:
        emit_json(result.to_json())
        return
    verb = "would import" if dry_run else "imported"
    heading = f"{verb} {len(result.imported)} past case(s) from {result.source}"
    if result.imported:
        table(heading, ["reference", "case", "title", "vendors", "closed"],
              [[c.reference, c.case_id or "-", c.title, str(c.vendors),
                "yes" if c.closed else "no"] for c in result.imported])
    else:
        out.print(heading)
    if result.skipped:
        out.print(f"skipped {len(result.skipped)} reference(s) imported before: "
                  + ", ".join(f"{r} ({c})" for r, c in result.skipped))
    for note in result.notes:
        out.print(f"note: {note}")
