"""Commands for reports, cases, participants and vulnerabilities."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from cvdesk.cli.context import app_context, parse_time
from cvdesk.cli.output import emit_json, fmt_time, line, out, table
from cvdesk.domain.errors import InvalidInput
from cvdesk.domain.model import Retrospective, Role, Vulnerability

if TYPE_CHECKING:
    from cvdesk.services.views import StatementView

report_app = typer.Typer(help="Take in vulnerability reports.", no_args_is_help=True)
case_app = typer.Typer(help="List, show and follow cases.", no_args_is_help=True)
participant_app = typer.Typer(help="People and organizations on a case.", no_args_is_help=True)
vuln_app = typer.Typer(help="Vulnerabilities of a case.", no_args_is_help=True)

JSON = typer.Option(False, "--json", help="Print JSON for scripts.")
AT = typer.Option(None, "--at", help="When it happened (ISO 8601 with time zone); default now.")
REASON = typer.Option("", "--reason", help="Why (kept in the log).")


@report_app.command("submit")
def report_submit(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="Report form as .json, .yaml or .yml."),
    reporter_not_finder: bool = typer.Option(
        False, "--reporter-not-finder", help="The reporter did not find it themselves."),
    at: str | None = AT,
    as_json: bool = JSON,
) -> None:
    """Open a case for a new report; prints the report's tracking id."""
    from cvdesk.services.cases import read_report_file

    report = read_report_file(file)  # the form's problems first, even without a database
    when = parse_time(at, "--at")
    result = app_context(ctx).cases().submit_report(
        report, at=when, reporter_is_finder=not reporter_not_finder)
    if as_json:
        emit_json({"tracking_id": result.tracking_id, "case_id": result.case_id})
    else:
        out.print(f"{result.tracking_id}  (case {result.case_id})")


@report_app.command("reindex")
def report_reindex(ctx: typer.Context, as_json: bool = JSON) -> None:
    """Re-order the duplicate check's index by how often each word is used now (6.5).

    The check finds the same reports either way; after the store has grown several times
    over, a submit reads fewer index entries.  Holds the write lock while it runs, so
    run it when the desk is quiet."""
    count = app_context(ctx).cases().refile_word_order()
    if as_json:
        emit_json({"refiled": count})
    else:
        out.print(f"re-indexed {count} report(s) for the duplicate check")


@case_app.command("list")
def case_list(
    ctx: typer.Context,
    status: str = typer.Option("open", "--status", help="open, closed or all."),
    as_json: bool = JSON,
) -> None:
    """Cases with their formal states."""
    if status not in ("open", "closed", "all"):
        raise InvalidInput("--status", f"'{status}' is not one of open, closed, all")
    app_ctx = app_context(ctx)
    rows = app_ctx.cases().list_cases(None if status == "all" else status)
    if as_json:
        emit_json(rows.to_json())
        return
    tz = app_ctx.settings.display_timezone
    table(f"{len(rows)} case(s)", ["case", "title", "status", "EM", "embargo ends", "pxa",
                                   "parties", "vendors", "last event"],
          [[r.case_id, r.title[:56], r.status, r.em_state,
            fmt_time(r.embargo_end, tz, date_only=True), r.pxa, r.participants_count,
            r.vendors_count, fmt_time(r.last_event_at, tz, date_only=True)]
           for r in rows])


@case_app.command("show")
def case_show(ctx: typer.Context, case_id: str = typer.Argument(...),
              as_json: bool = JSON) -> None:
    """One case: states, embargo, participants with their contact summary."""
    app_ctx = app_context(ctx)
    view = app_ctx.cases().show(case_id)
    c = view.case
    if as_json:
        emit_json(view.to_json())
        return
    tz = app_ctx.settings.display_timezone
    out.print(f"[bold]{c.case_id}[/]  {escape(line(c.title))}", markup=True)
    out.print(f"status {c.status}   TLP:{c.tlp}   opened {fmt_time(c.opened_at, tz)}")
    embargo = f"EM {c.em_state}"
    if c.embargo_end_text:
        embargo += f", ends {c.embargo_end_text}"
    if c.proposed_end_text:
        embargo += f", proposed end {c.proposed_end_text}"
    out.print(f"{embargo}   case state pxa: {c.pxa}")
    for r in view.reports:
        out.print(f"report {r.tracking_id} received {fmt_time(r.received_at, tz)}")
    for v in view.vulnerabilities:
        out.print(f"vulnerability {v.key}: {line(v.title)}")
        show_scores(v.scores, v.references)
    statements_table(view.statements, tz)
    shown = view.participants[:60]
    table(None, ["#", "name", "roles", "RM", "embargo", "vfd", "attempts", "channels",
                 "first attempt", "last reply"],
          [[f"p{p.pid}", p.name, p.roles, p.rm_state, p.consent,
            p.vfd if p.is_vendor else "", p.attempts, p.channels,
            fmt_time(p.first_attempt_at, tz), fmt_time(p.last_reply_at, tz)] for p in shown])
    if len(view.participants) > len(shown):
        out.print(f"... and {len(view.participants) - len(shown)} more participants "
                  "(use --json for all)")


def show_scores(scores: list[dict[str, Any]], references: list[str]) -> None:
    for s in scores:
        out.print(f"  CVSS {s['version']} {s['base_score']} {s['severity']}  {s['vector']}")
    for url in references:
        out.print(f"  reference {url}")


def statements_table(statements: tuple[StatementView, ...], tz: str) -> None:
    """Each vendor's word per product and vulnerability; one entered by the coordinator
    and not yet confirmed by the vendor says so."""
    if not statements:
        return
    table("vendor statements", ["vuln", "vendor", "product", "status", "remediations",
                                "vendor's words", "given", "by"],
          [[s.vulnerability, s.vendor, s.product,
            s.status + (f": {s.justification}" if s.justification else "")
            + (f" in {s.fixed_version}" if s.fixed_version else ""),
            "; ".join(r["kind"] + (f": {r['text']}" if r["text"] else "")
                      + (f" <{r['url']}>" if r["url"] else "") for r in s.remediations),
            s.statement, fmt_time(s.at, tz, date_only=True),
            "ON BEHALF" if s.on_behalf else "vendor"]
           for s in statements])
    if any(s.on_behalf for s in statements):
        out.print("ON BEHALF: entered by the coordinator for the vendor, not yet confirmed "
                  "(cvdesk statement confirm)")


@case_app.command("timeline")
def case_timeline(ctx: typer.Context, case_id: str = typer.Argument(...),
                  as_json: bool = JSON) -> None:
    """The case log in time order."""
    app_ctx = app_context(ctx)
    events = app_ctx.cases().timeline(case_id)
    if as_json:
        emit_json(events.to_json())
        return
    tz = app_ctx.settings.display_timezone
    table(f"{events.case_id}: {len(events)} event(s)", ["#", "when", "event", "what", "actor",
                                                         "reason"],
          [[e.seq, fmt_time(e.at, tz), e.type, e.summary(), e.actor, e.reason]
           for e in events])


@case_app.command("close")
def case_close(ctx: typer.Context, case_id: str = typer.Argument(...),
               reason: str = REASON, at: str | None = AT,
               retro: bool = typer.Option(True, "--retro/--no-retro",
                                          help="Ask the retrospective questions.")) -> None:
    """Close a case, then record its retrospective (asked on a terminal)."""
    svc = app_context(ctx).cases()
    svc.close(case_id, at=parse_time(at, "--at"), reason=reason)
    out.print(f"{case_id.upper()} closed")
    if retro and sys.stdin.isatty():
        from cvdesk.cli.coordination import ask_three_questions

        answers = ask_three_questions()
        if any(a.strip() for a in answers):
            app_context(ctx).desk.coordination().add_retrospective(case_id,
                                                                  Retrospective(*answers))
            out.print("retrospective recorded")
            return
    out.print(f"learn from it: cvdesk retro add {case_id.upper()} --went-well ... "
              "--went-wrong ... --do-differently ...")


@case_app.command("reopen")
def case_reopen(ctx: typer.Context, case_id: str = typer.Argument(...),
                reason: str = REASON, at: str | None = AT) -> None:
    """Reopen a closed case."""
    app_context(ctx).cases().close(case_id, reopen=True, at=parse_time(at, "--at"),
                                   reason=reason)
    out.print(f"{case_id.upper()} reopened")


@case_app.command("note")
def case_note(ctx: typer.Context, case_id: str = typer.Argument(...),
              text: str = typer.Argument(...), at: str | None = AT) -> None:
    """Add a note to the case log."""
    app_context(ctx).cases().note(case_id, text, at=parse_time(at, "--at"))
    out.print("noted")


@participant_app.command("add")
def participant_add(
    ctx: typer.Context,
    case_id: str = typer.Argument(...),
    name: str = typer.Option(..., "--name", help="Person or organization."),
    role: list[str] = typer.Option(..., "--role", help="finder, reporter, vendor, "
                                   "coordinator, deployer or other; repeat for several."),
    organization: str = typer.Option("", "--org"),
    email: str = typer.Option("", "--email"),
    phone: str = typer.Option("", "--phone"),
    reason: str = REASON,
    at: str | None = AT,
    as_json: bool = JSON,
) -> None:
    """Add a participant to a case."""
    roles = []
    for r in role:
        try:
            roles.append(Role(r.strip().lower()))
        except ValueError:
            raise InvalidInput("--role", f"'{r}' is not one of "
                               f"{', '.join(x.value for x in Role)}") from None
    if email:
        from cvdesk.domain.model import check_email

        check_email(email, "--email")
    pid = app_context(ctx).cases().add_participant(
        case_id, name, roles, organization=organization, email=email, phone=phone,
        at=parse_time(at, "--at"), reason=reason)
    if as_json:
        emit_json({"case_id": case_id.upper(), "participant": pid})
    else:
        out.print(f"added p{pid} {name} to {case_id.upper()}")


@participant_app.command("list")
def participant_list(ctx: typer.Context, case_id: str = typer.Argument(...),
                     as_json: bool = JSON) -> None:
    """Participants of a case with RM state and contact summary."""
    app_ctx = app_context(ctx)
    view = app_ctx.cases().show(case_id)
    if as_json:
        emit_json([p.to_json() for p in view.participants])
        return
    tz = app_ctx.settings.display_timezone
    table(f"{view.case.case_id}: {len(view.participants)} participant(s)",
          ["#", "name", "roles", "RM", "embargo", "vfd", "attempts", "last attempt",
           "last reply"],
          [[f"p{p.pid}", p.name, p.roles, p.rm_state, p.consent, p.vfd if p.is_vendor else "",
            p.attempts, fmt_time(p.last_attempt_at, tz), fmt_time(p.last_reply_at, tz)]
           for p in view.participants])


@vuln_app.command("add")
def vuln_add(
    ctx: typer.Context,
    case_id: str = typer.Argument(...),
    title: str = typer.Option(..., "--title"),
    cve: str = typer.Option("", "--cve"),
    cwe: list[str] = typer.Option([], "--cwe", help="CWE id; repeat for several."),
    reason: str = REASON,
    at: str | None = AT,
) -> None:
    """Record a vulnerability on a case."""
    vuln = Vulnerability(title=title, cve=cve.strip().upper(),
                         cwes=tuple(c.strip().upper() for c in cwe))
    app_context(ctx).cases().add_vulnerability(case_id, vuln, at=parse_time(at, "--at"),
                                               reason=reason)
    out.print(f"recorded {vuln.cve or 'vulnerability'} on {case_id.upper()}")


@participant_app.command("policy")
def participant_policy(
    ctx: typer.Context,
    case_id: str = typer.Argument(...),
    participant: str = typer.Argument(..., help="Participant number (3 or p3) or name."),
    days: int = typer.Option(..., "--days",
                             help="Days from report to publication."),
    reason: str = REASON,
    at: str | None = AT,
) -> None:
    """Record a participant's own disclosure policy (compared across vendors, 6.10 row 18)."""
    app_context(ctx).cases().set_policy(case_id, participant, days, at=parse_time(at, "--at"),
                                        reason=reason)
    out.print(f"{participant}: disclosure policy {days} days")
