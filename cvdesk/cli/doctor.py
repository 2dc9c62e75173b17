"""``cvdesk doctor``: what is going wrong in each open case, and what each role should do."""

from __future__ import annotations

import typer
from rich.markup import escape

from cvdesk.cli.context import app_context, parse_time
from cvdesk.cli.output import emit_json, fmt_time, out
from cvdesk.services.doctor import DoctorService
from cvdesk.troubleshoot import Finding, Severity

_STYLE = {Severity.CRITICAL: "bold white on red", Severity.HIGH: "bold red",
          Severity.MEDIUM: "yellow", Severity.LOW: "cyan", Severity.INFO: "dim"}


def doctor(
    ctx: typer.Context,
    case_id: str | None = typer.Option(None, "--case", help="Only this case."),
    at: str | None = typer.Option(None, "--at", help="Judge as of this time (ISO 8601 with "
                                  "time zone); default now."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Run the troubleshooting rules (CERT guide section 6) over every open case."""
    app_ctx = app_context(ctx)
    app_ctx.cases()  # checks that the database is ready
    svc = DoctorService(app_ctx.db, app_ctx.settings)
    results = svc.sweep(at=parse_time(at, "--at"), case_id=case_id)
    if as_json:
        emit_json([{"case_id": d.case_id, "title": title, "next_check": d.next_check,
                    "findings": [_finding_json(f) for f in d.findings]}
                   for title, d in results])
        return
    tz = app_ctx.settings.display_timezone
    total = sum(len(d.findings) for _, d in results)
    out.print(f"[bold]cvdesk doctor[/]: {total} finding(s) in "
              f"{sum(1 for _, d in results if d.findings)} of {len(results)} open case(s)\n")
    for title, d in results:
        if not d.findings:
            continue
        out.print(f"[bold]{d.case_id}[/]  {escape(title)}")
        for f in d.findings:
            _print_finding(f)
        if d.next_check:
            out.print(f"  [dim]next check {fmt_time(d.next_check, tz)}[/]")
        out.print()
    quiet = [d.case_id for _, d in results if not d.findings]
    if quiet:
        out.print(f"[dim]no findings: {', '.join(quiet)}[/]")


def _print_finding(f: Finding) -> None:
    style = _STYLE[f.severity]
    out.print(f"  [{style}]{f.severity.label:>8}[/]  [bold]{f.problem}[/]  "
              f"(guide {f.section})  {escape(f.title)}")
    out.print(f"            concerns: {', '.join(r.value for r in f.concerns)}   "
              f"phase: {f.phase.value}")
    for line in f.evidence:
        out.print(f"            [dim]evidence:[/] {escape(line)}")
    for a in f.actions:
        out.print(f"            [green]{a.role.value} ->[/] {escape(a.text)}")


def _finding_json(f: Finding) -> dict[str, object]:
    return {"problem": f.problem, "key": f.key, "title": f.title, "section": f.section,
            "severity": f.severity.label, "case_id": f.case_id, "phase": f.phase.value,
            "concerns": [r.value for r in f.concerns], "subject": f.subject,
            "subject_name": f.subject_name, "evidence": list(f.evidence),
            "actions": [{"role": a.role.value, "text": a.text} for a in f.actions]}
