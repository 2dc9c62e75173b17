"""``cvdesk user invite``: invite a participant's contact to its case on the web desk.

The invitation (a one-time link to set a password, or a notice to an account that has
one) goes through the outbox; ``cvdesk worker`` delivers it."""

from __future__ import annotations

import typer

from cvdesk.cli.context import app_context
from cvdesk.cli.output import emit_json, out


def invite(ctx: typer.Context,
           case_id: str = typer.Argument(..., help="The case, e.g. CVD-2026-0001."),
           participant: str = typer.Argument(..., help="Its number ('3', 'p3') or name."),
           email: str | None = typer.Option(
               None, "--email", help="The contact's address (default: the participant's)."),
           as_json: bool = typer.Option(False, "--json")) -> None:
    """Invite a participant's contact to its case on the web desk (mail via the outbox)."""
    done = app_context(ctx).desk.invitations().invite(None, case_id, participant, email)
    if as_json:
        emit_json(done.to_json())
        return
    what = ("invitation queued (new account)" if done.new_account
            else "invitation queued (account exists; a link to set its password)"
            if done.template == "account-invite"
            else "existing account linked to the participant; notice queued")
    out.print(f"{done.case_id} p{done.participant}: {what} for {done.email}")
