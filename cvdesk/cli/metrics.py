"""Learning from experience (guide 6.9; issue 12): the case-state model's histories, the
chance baseline and measured skill.  Timing, import and plots add their commands to the
same group from cvdesk.cli.metrics_data and cvdesk.cli.metrics_plot."""

from __future__ import annotations

import typer

metrics_app = typer.Typer(help="Measure the desk against chance: skill, timing, plots "
                               "(6.9).", no_args_is_help=True)
model_app = typer.Typer(help="The formal case-state model itself (Vultron CS).",
                        no_args_is_help=True)
