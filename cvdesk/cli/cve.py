"""``cvdesk cve``: submit CVE records to CVE Services (issue 10)."""

from __future__ import annotations

import typer

from cvdesk.cli.context import app_context
from cvdesk.cli.output import emit_json, out

cve_app = typer.Typer(help="Submit CVE records to CVE Services (settings: [cve]).",
                      no_args_is_help=True)


@cve_app.command("publish")
def publish(
    ctx: typer.Context,
    case_id: str = typer.Argument(..., help="Case id, e.g. CVD-2026-0001."),
    key: str = typer.Argument(..., help="The vulnerability: its CVE id, or V1, V2 ..."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Submit the CVE record of one vulnerability of a published case (its CNA
    container, validated first) with the desk's CVE Services account; an already
    published record is updated.  The outcome is logged on the case (case timeline),
    a failure too."""
    view = app_context(ctx).desk.publication().submit_cve(case_id, key)
    if as_json:
        emit_json(view.to_json())
        return
    out.print(f"{view.cve_id} ({view.case_id} {view.key}): "
              + ("published" if view.created else "updated")
              + (f"; CVE Services: {view.message}" if view.message else "")
              + f"; logged on the case (sha256 {view.digest[:16]})", markup=False)
