"""``cvdesk doctor`` and ``cvdesk finding``: what goes wrong in each open case, and what
each role should do (CERT guide section 6)."""

from __future__ import annotations

from itertools import groupby

import typer
from rich.markup import escape

from cvdesk.cli.context import app_context, days_after, parse_time
from cvdesk.cli.output import emit_json, fmt_time, out, table
from cvdesk.cli.progress import progress_bar
from cvdesk.domain.errors import InvalidInput
from cvdesk.services.doctor import DoctorService, FindingAction
from cvdesk.services.views import ShownFinding, SweepResult

finding_app = typer.Typer(help="Acknowledge or snooze troubleshooting findings.",
                          no_args_is_help=True)

_STYLE = {"critical": "bold white on red", "high": "bold red", "medium": "yellow",
          "low": "cyan", "info": "dim"}
#: More findings of one problem in one case than this are shown as one group.
GROUP_OVER = 3


def _service(ctx: typer.Context) -> DoctorService:
    return app_context(ctx).desk.doctor()


def doctor(
    ctx: typer.Context,
    case_id: str | None = typer.Option(None, "--case", help="Only this case."),
    at: str | None = typer.Option(None, "--at", help="Judge the cases open at this time "
                                  "(ISO 8601 with time zone), closed-since ones included, "
                                  "from their logs, without storing anything."),
    show_all: bool = typer.Option(False, "--all", help="Include acknowledged and snoozed "
                                  "findings."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Sweep the open cases: store and print the findings, most urgent first."""
    svc = _service(ctx)
    when = parse_time(at, "--at")
    if when is not None:
        result = svc.preview(at=when, case_id=case_id)
    else:
        with progress_bar("sweeping the open cases", json_output=as_json) as progress:
            result = svc.sweep(case_id=case_id, show_handled=show_all, progress=progress)
    if as_json:
        emit_json(result.to_json())
        return
    _print_result(result, app_context(ctx).settings.display_timezone, preview=when is not None)


def _print_result(result: SweepResult, tz: str, *, preview: bool) -> None:
    by_case = {cid: list(group) for cid, group in groupby(
        sorted(result.findings, key=lambda f: (_case_rank(result, f.case_id), f.case_id)),
        key=lambda f: f.case_id)}
    mode = f"as of {fmt_time(result.at, tz)} (preview, nothing stored)" if preview else (
        f"at {fmt_time(result.at, tz)}; {result.swept} case(s) re-checked")
    out.print(f"[bold]cvdesk doctor[/] {mode}: {len(result.findings)} finding(s) in "
              f"{len(by_case)} of {result.open_cases} open case(s)\n", markup=True)
    for cid, findings in by_case.items():
        out.print(f"[bold]{cid}[/]  {escape(findings[0].case_title)}", markup=True)
        findings.sort(key=lambda f: (-f.data["severity_level"], f.data["problem"],
                                     f.data["subject"] or 0))
        for _, group in groupby(findings, key=lambda f: f.data["problem"]):
            items = list(group)
            if len(items) > GROUP_OVER:
                _print_group(items)
            else:
                for f in items:
                    _print_finding(f)
        nxt = result.next_checks.get(cid)
        if nxt:
            out.print(f"  [dim]next check {fmt_time(nxt, tz)}[/]", markup=True)
        out.print()
    quiet = [c for c in result.next_checks if c not in by_case]
    if quiet:
        out.print(f"[dim]no open findings: {', '.join(quiet)}[/]", markup=True)


def _case_rank(result: SweepResult, case_id: str) -> int:
    return -max(f.data["severity_level"] for f in result.findings if f.case_id == case_id)


def _header(f: ShownFinding, title: str) -> None:
    d = f.data
    ident = f"#{f.id} " if f.id is not None else ""
    status = "" if f.status in ("open", "preview") else f" [dim]({f.status}: " \
        f"{escape(f.handled_reason)})[/]"
    out.print(f"  [{_STYLE[d['severity']]}]{d['severity']:>8}[/]  {ident}[bold]{d['problem']}"
              f"[/]  (guide {d['section']})  {escape(title)}{status}", markup=True)
    out.print(f"            concerns: {', '.join(d['concerns'])}   phase: {d['phase']}")


def _print_finding(f: ShownFinding) -> None:
    _header(f, f.data["title"])
    for line in f.data["evidence"]:
        out.print(f"            [dim]evidence:[/] {escape(line)}", markup=True)
    for a in f.data["actions"]:
        out.print(f"            [green]{a['role']} ->[/] {escape(a['text'])}", markup=True)


def _print_group(items: list[ShownFinding]) -> None:
    first = items[0]
    names = [f.data["subject_name"] for f in items]
    shown = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
    _header(first, f"{len(items)} participants: {shown}")
    out.print(f"            [dim]evidence (first, {escape(first.data['subject_name'])}):[/]",
              markup=True)
    for line in first.data["evidence"]:
        out.print(f"              {line}")
    for a in first.data["actions"]:
        out.print(f"            [green]{a['role']} ->[/] {escape(a['text'])}", markup=True)
    ids = [f.id for f in items if f.id is not None]
    if ids:
        out.print(f"            [dim]findings #{min(ids)}..#{max(ids)}; "
                  f"--json lists each one[/]", markup=True)


@finding_app.command("list")
def finding_list(
    ctx: typer.Context,
    case_id: str | None = typer.Option(None, "--case"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Stored findings of open cases (open, acknowledged and snoozed), from the last sweep."""
    result = _service(ctx).current(at=app_context(ctx).cases().clock(), case_id=case_id,
                                   show_handled=True)
    if as_json:
        emit_json([f.to_json() for f in result.findings])
        return
    tz = app_context(ctx).settings.display_timezone
    table(f"{len(result.findings)} finding(s)", ["#", "case", "severity", "problem", "title",
                                                 "status", "since"],
          [[f.id, f.case_id, f.data["severity"], f.data["problem"], f.data["title"],
            f.status, fmt_time(f.first_seen_at, tz, date_only=True)]
           for f in result.findings])


@finding_app.command("ack")
def finding_ack(
    ctx: typer.Context,
    finding_id: int = typer.Argument(..., help="Finding number (#N in doctor's output)."),
    reason: str = typer.Option(..., "--reason", help="What is being done about it."),
) -> None:
    """Acknowledge a finding: hidden until its cause is resolved (see doctor --all)."""
    app_ctx = app_context(ctx)
    f = _service(ctx).handle(finding_id, FindingAction.ACKNOWLEDGE, reason=reason,
                             actor=app_ctx.settings.actor)
    out.print(f"#{f.id} {f.data['problem']} on {f.case_id}: acknowledged")


@finding_app.command("snooze")
def finding_snooze(
    ctx: typer.Context,
    finding_id: int = typer.Argument(...),
    until: str | None = typer.Option(None, "--until", help="ISO 8601 with time zone."),
    days: int | None = typer.Option(None, "--days", help="Or: this many days from now."),
    reason: str = typer.Option(..., "--reason"),
) -> None:
    """Hide a finding until a time; it comes back then if its cause is still there."""
    app_ctx = app_context(ctx)
    svc = _service(ctx)
    if (until is None) == (days is None):
        raise InvalidInput("--until", "give exactly one of --until and --days")
    end = parse_time(until, "--until") if until else days_after(svc.clock(), days or 0, "--days")
    f = svc.handle(finding_id, FindingAction.SNOOZE, reason=reason, actor=app_ctx.settings.actor,
                   until=end)
    out.print(f"#{f.id} {f.data['problem']} on {f.case_id}: snoozed until "
              f"{fmt_time(f.snoozed_until, app_ctx.settings.display_timezone)}")
