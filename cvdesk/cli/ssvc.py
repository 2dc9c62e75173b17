"""``cvdesk ssvc``: the SSVC decisions of a case, and the decision points people judge."""

from __future__ import annotations

import typer

from cvdesk.cli.context import app_context, parse_time
from cvdesk.cli.output import emit_json, fmt_time, out, table
from cvdesk.domain.errors import InvalidInput
from cvdesk.services.ssvc import SsvcPointView, SsvcView


def _values(items: list[str]) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InvalidInput("decision point", f"'{item}' is not point=value "
                               "(e.g. automatable=yes)")
        key = name.strip()
        if key in values:
            raise InvalidInput(key, "given twice")
        values[key] = value.strip() or None
    return values


def _source(p: SsvcPointView) -> str:
    if p.source == "case":
        text = "case: " + "; ".join(p.evidence)
        if p.set_aside:
            text += f" (given value {p.set_aside} set aside: the case decides)"
        return text
    if p.source == "given":
        text = f"given by {p.given_by} at {fmt_time(p.given_at)}"
        return text + (f": {p.given_reason}" if p.given_reason else "")
    if p.source == "table":
        return "table: " + "; ".join(p.evidence)
    if p.origin == "table":
        return "needs its inputs"
    why = "; ".join(p.evidence)
    how = f"give one of {', '.join(p.choices)}"
    if p.origin == "case":
        how = p.hint
    return "needed: " + "; ".join(x for x in (why, how) if x)


def show(view: SsvcView) -> None:
    table(f"{view.case_id} SSVC decisions (as of {fmt_time(view.at)})",
          ["decision", "outcome"],
          [[d.name, d.outcome_name if d.outcome_name else "needs: " + ", ".join(d.needs)]
           for d in view.decisions])
    table("decision points", ["point", "value", "source"],
          [[p.name, p.value or "-", _source(p)] for p in view.points])
    if any(d.needs for d in view.decisions):
        out.print(f"give the missing points with: cvdesk ssvc {view.case_id} "
                  "--set point=value")


def ssvc(
    ctx: typer.Context,
    case_id: str = typer.Argument(...),
    set_: list[str] = typer.Option(
        [], "--set", help="A decision point you judged, as point=value (repeatable), "
        "e.g. automatable=yes; an empty value forgets one given before."),
    reason: str = typer.Option("", "--reason", help="Kept in the log with the values."),
    at: str | None = typer.Option(None, "--at", help="When they were judged (with time zone)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Show the SSVC decisions of a case (triage, publish, patch priorities).

    Exploitation, report public and the supplier points come from the case log; the
    others are given with --set and kept in the log with who and when."""
    service = app_context(ctx).desk.ssvc()
    if not set_ and (at is not None or reason):
        raise InvalidInput("--at" if at is not None else "--reason",
                           "goes with --set (it dates or explains the values given)")
    if set_:
        view = service.assess(case_id, _values(set_), at=parse_time(at, "--at"),
                              reason=reason)
    else:
        view = service.decisions(case_id)
    if as_json:
        emit_json(view.to_json())
    else:
        show(view)
