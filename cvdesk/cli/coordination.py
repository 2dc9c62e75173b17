"""Commands for the actions the troubleshooting advice leads to (guide 6.9)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.markup import escape

from cvdesk.cli.context import app_context
from cvdesk.cli.output import emit_json, fmt_time, out, table
from cvdesk.cli.transitions import choice
from cvdesk.domain.codec import to_jsonable
from cvdesk.domain.model import Retrospective, Role
from cvdesk.services.coordination import COORDINATOR_KINDS, CoordinationService

coordinator_app = typer.Typer(help="Third-party coordinators and case hand-off (6.9).",
                              no_args_is_help=True)
credit_app = typer.Typer(help="Recognize the helpers (6.9).", no_args_is_help=True)
retro_app = typer.Typer(help="Retrospectives: learn from each case (6.9).",
                        no_args_is_help=True)


def _svc(ctx: typer.Context) -> CoordinationService:
    return app_context(ctx).desk.coordination()


@coordinator_app.command("list")
def coordinator_list(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """The coordinator directory."""
    coordinators = _svc(ctx).coordinators()
    if as_json:
        emit_json([c.to_json() for c in coordinators])
        return
    table(f"{len(coordinators)} coordinator(s)",
          ["name", "kind", "country", "email", "url", "notes"],
          [[c.name, c.kind, c.country, c.email, c.url, c.notes] for c in coordinators])


@coordinator_app.command("add")
def coordinator_add(
    ctx: typer.Context,
    name: str = typer.Option(..., "--name"),
    kind: str = typer.Option("coordinator", "--kind", help=", ".join(COORDINATOR_KINDS)),
    country: str = typer.Option("", "--country"),
    email: str = typer.Option("", "--email"),
    url: str = typer.Option("", "--url"),
    notes: str = typer.Option("", "--notes"),
) -> None:
    """Add a coordinator to the directory."""
    added = _svc(ctx).add_coordinator(name, kind, country=country, email=email, url=url,
                                      notes=notes)
    out.print(f"added {added.name} ({added.kind})")


@coordinator_app.command("remove")
def coordinator_remove(ctx: typer.Context, name: str = typer.Argument(...)) -> None:
    """Remove a coordinator from the directory."""
    _svc(ctx).remove_coordinator(name)
    out.print(f"removed {name}")


@coordinator_app.command("handoff")
def coordinator_handoff(
    ctx: typer.Context,
    case_id: str = typer.Argument(...),
    to: str = typer.Option(..., "--to", help="Coordinator name from the directory."),
    out_file: Path | None = typer.Option(None, "--out", help="Where to write the package."),
    reason: str = typer.Option("", "--reason"),
) -> None:
    """Write a hand-off package (report, timeline, contact attempts) and log the hand-off."""
    path, digest = _svc(ctx).handoff(case_id, to, out_file, reason=reason)
    out.print(f"wrote {path} (sha256 {digest[:16]}...); hand-off logged on {case_id.upper()}")


def publish_early(
    ctx: typer.Context,
    case_id: str = typer.Argument(...),
    reason: str = typer.Option(..., "--reason", help="Why coordination failed or the date "
                               "moved."),
    public: bool = typer.Option(False, "--public", help="Also record public awareness (P) now."),
) -> None:
    """End the embargo now and publish (6.9 "consider publishing early")."""
    state = _svc(ctx).publish_early(case_id, reason=reason, public=public)
    out.print(f"{case_id.upper()}: embargo {state}; send the advisory to vendors and the "
              "reporter as a courtesy before it goes out")


@credit_app.command("add")
def credit_add(
    ctx: typer.Context,
    case_id: str = typer.Argument(...),
    name: str = typer.Option(..., "--name", help="Name as it should be credited."),
    role: str = typer.Option("finder", "--role"),
    contribution: str = typer.Option(..., "--for", help="What they did."),
    public: bool = typer.Option(..., "--public/--private",
                                help="Consent to public credit, or not."),
    participant: str | None = typer.Option(None, "--participant"),
) -> None:
    """Record who helped and whether they agree to be credited publicly."""
    credit = _svc(ctx).add_credit(case_id, name, choice(Role, role, "--role"), contribution,
                                  public=public, participant=participant)
    out.print(f"credited {credit.name} ({credit.role.value}) on {case_id.upper()}"
              f"{'' if credit.public else ' (not public)'}")


@credit_app.command("list")
def credit_list(ctx: typer.Context, case_id: str = typer.Argument(...),
                as_json: bool = typer.Option(False, "--json")) -> None:
    """Credits on a case."""
    credits = _svc(ctx).credits(case_id)
    if as_json:
        emit_json(to_jsonable(credits))
        return
    table(f"{len(credits)} credit(s)", ["name", "role", "for", "public"],
          [[c.name, c.role.value, c.contribution, "yes" if c.public else "no"]
           for c in credits])


@retro_app.command("add")
def retro_add(
    ctx: typer.Context,
    case_id: str = typer.Argument(...),
    went_well: str | None = typer.Option(None, "--went-well"),
    went_wrong: str | None = typer.Option(None, "--went-wrong"),
    do_differently: str | None = typer.Option(None, "--do-differently"),
) -> None:
    """Record a retrospective; asks the three questions when none is given on a terminal."""
    if went_well is None and went_wrong is None and do_differently is None \
            and sys.stdin.isatty():
        went_well, went_wrong, do_differently = ask_three_questions()
    retro = Retrospective(went_well or "", went_wrong or "", do_differently or "")
    _svc(ctx).add_retrospective(case_id, retro)
    out.print(f"retrospective recorded on {case_id.upper()}")


def ask_three_questions() -> tuple[str, str, str]:
    return (typer.prompt("What went well?", default="", show_default=False),
            typer.prompt("What went wrong?", default="", show_default=False),
            typer.prompt("What would you do differently?", default="", show_default=False))


@retro_app.command("list")
def retro_list(
    ctx: typer.Context,
    query: str = typer.Argument("", help="Words to look for (all must appear)."),
    case_id: str | None = typer.Option(None, "--case"),
    missing: bool = typer.Option(False, "--missing", help="Closed cases with none."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Search retrospectives, or list closed cases that still need one."""
    svc = _svc(ctx)
    if missing:
        cases = svc.closed_without_retrospective()
        if as_json:
            # A list of case ids, as scripts have read it since the command was written.
            emit_json([c.case_id for c in cases])
        else:
            table(f"{len(cases)} closed case(s) without a retrospective", ["case", "title"],
                  [[c.case_id, c.title] for c in cases])
        return
    found = svc.retrospectives(case_id=case_id, query=query)
    if as_json:
        emit_json([r.to_json() for r in found])
        return
    tz = app_context(ctx).settings.display_timezone
    for r in found:
        out.print(f"[bold]{escape(r.case_id)}[/] {fmt_time(r.created_at, tz)} by "
                  f"{escape(r.author)}", markup=True)
        out.print(f"  went well:       {r.went_well}")
        out.print(f"  went wrong:      {r.went_wrong}")
        out.print(f"  do differently:  {r.do_differently}")
    if not found:
        out.print("no retrospectives match")


@retro_app.command("search")
def retro_search(
    ctx: typer.Context,
    query: str = typer.Argument("", help="Words to look for (all must appear)."),
    problem: str | None = typer.Option(None, "--problem", help="Only cases whose findings "
                                       "raised this problem (e.g. vendor-unresponsive)."),
    case_id: str | None = typer.Option(None, "--case"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Search retrospectives by words and by the problems their cases raised (6.9)."""
    found = _svc(ctx).search_retrospectives(query, problem=problem, case_id=case_id)
    if as_json:
        emit_json([f.to_json() for f in found])
        return
    tz = app_context(ctx).settings.display_timezone
    for f in found:
        r = f.retrospective
        out.print(f"[bold]{escape(r.case_id)}[/] {fmt_time(r.created_at, tz)} by "
                  f"{escape(r.author)}", markup=True)
        out.print(f"  problems:        {', '.join(f.problems) or '-'}")
        out.print(f"  went well:       {r.went_well}")
        out.print(f"  went wrong:      {r.went_wrong}")
        out.print(f"  do differently:  {r.do_differently}")
    if not found:
        out.print("no retrospectives match")


@retro_app.command("themes")
def retro_themes(
    ctx: typer.Context,
    problem: str | None = typer.Option(None, "--problem", help="Only this problem."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Recurring themes: what went wrong or should be done differently in two or more
    cases that raised the same problem (6.9 "learn from it")."""
    themes = _svc(ctx).retrospective_themes(problem=problem)
    if as_json:
        emit_json([t.to_json() for t in themes])
        return
    if not themes:
        out.print("0 recurring themes: no word or pair of words recurs in the "
                  "retrospectives of two or more cases with the same problem")
        return
    table(f"{len(themes)} recurring theme(s)", ["problem", "theme", "cases", "case ids"],
          [[t.problem, t.term, str(t.count), ", ".join(t.cases)] for t in themes])
