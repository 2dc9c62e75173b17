"""Learning from experience (guide 6.9; issue 12): the case-state model's histories, the
chance baseline and measured skill.  Timing, import and plots add their commands to the
same group from cvdesk.cli.metrics_data and cvdesk.cli.metrics_plot."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from cvdesk.services.metrics import SkillReport

metrics_app = typer.Typer(help="Measure the desk against chance: skill, timing, plots "
                               "(6.9).", no_args_is_help=True)
model_app = typer.Typer(help="The formal case-state model itself (Vultron CS).",
                        no_args_is_help=True)


#: The period and vendor every metrics command is limited to (skill, timing, plot).
SINCE = typer.Option(None, "--since", help="First day a case was opened (YYYY-MM-DD, UTC).")
UNTIL = typer.Option(None, "--until", help="Last day a case was opened (YYYY-MM-DD, UTC; "
                     "that whole day counts).")
VENDOR = typer.Option(None, "--vendor", help="Only this vendor (organization or name).")


@model_app.command("histories")
def histories(as_json: bool = typer.Option(False, "--json")) -> None:
    """Every order of the six events V F D P X A the case-state model allows.

    Found by walking the model's transitions from the empty state; each letter is an
    event, first to last (V vendor aware, F fix ready, D fix deployed, P public aware,
    X exploit public, A attacks observed)."""
    from cvdesk.cli.output import emit_json, out
    from cvdesk.services.metrics import MetricsService

    found = MetricsService.histories()
    if as_json:
        emit_json({"count": len(found), "histories": list(found)})
        return
    out.print(f"{len(found)} histories the case-state model allows:")
    for start in range(0, len(found), 10):
        out.print("  " + " ".join(found[start:start + 10]))


@metrics_app.command("baseline")
def baseline(as_json: bool = typer.Option(False, "--json")) -> None:
    """How often each desideratum holds by chance alone.

    Every transition the case-state model enables is taken as equally likely from each
    state; the numbers are computed from the model, not typed in."""
    from cvdesk.cli.output import emit_json, table
    from cvdesk.services.metrics import MetricsService

    chance = MetricsService.baseline()
    if as_json:
        emit_json(chance)
        return
    table("chance that each desideratum holds (every enabled transition equally likely)",
          ["desideratum", "chance"], [[name, f"{p:.4f}"] for name, p in chance.items()])


def _num(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def show_skill(report: SkillReport) -> None:
    from cvdesk.cli.output import out, table

    scope = report.scope
    period = (f"cases opened {scope.get('since') or 'any time'} to "
              f"{scope.get('until') or 'now'}")
    who = f", vendor {scope['vendor']}" if scope.get("vendor") else ""
    unit = "vendor" if report.unit == "vendor" else "case"
    rows = [[d.desideratum, f"{d.held}/{d.counted}", _num(d.observed), _num(d.chance),
             _num(d.alpha),
             "-" if d.low is None else f"[{d.low:.3f}, {d.high:.3f}]"]
            for d in report.desiderata]
    table(f"skill against chance, one history per {unit} ({period}{who})",
          ["desideratum", "held/counted", "observed", "chance", "alpha", "95% CI"], rows)
    out.print(f"{report.histories} histor{'y' if report.histories == 1 else 'ies'} "
              "counted")
    left = sum(report.left_out.values())
    if left:
        why = "; ".join(f"{reason}: {n}" for reason, n in report.left_out.items())
        out.print(f"{left} desideratum check{'s' if left != 1 else ''} left out, "
                  f"undecided ({why})")
    else:
        out.print("no desideratum check left out")


@metrics_app.command("skill")
def skill(
    ctx: typer.Context,
    since: str | None = SINCE,
    until: str | None = UNTIL,
    vendor: str | None = VENDOR,
    per: str = typer.Option("vendor", "--per", help="One history per vendor in a case "
                            "(vendor) or per case, V F D when the last vendor reached "
                            "them (case)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """How often each desideratum held in the desk's cases, against chance.

    alpha = (observed - chance) / (1 - chance): 0 is luck, 1 is every case right; the
    95% interval is Wilson's for the observed share.  An open case counts for an
    ordering once it is decided (one event happened, the other not yet); the checks
    still undecided are left out and counted."""
    from cvdesk.cli.context import app_context
    from cvdesk.cli.output import emit_json
    from cvdesk.services.metrics_period import parse_scope

    scope = parse_scope(since, until, vendor)
    report = app_context(ctx).desk.metrics().skill(since=scope.since, until=scope.until,
                                                   vendor=scope.vendor,
                                                   unit=per.strip().lower())
    if as_json:
        emit_json(report.to_json())
    else:
        show_skill(report)
