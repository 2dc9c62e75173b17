"""Commands for messages on a case (notes of what was said, by whom, when) and stored reports."""

from __future__ import annotations

from pathlib import Path

import typer

from cvdesk.cli.context import app_context, parse_time
from cvdesk.cli.output import emit_json, out
from cvdesk.cli.transitions import choice
from cvdesk.domain.errors import InvalidInput
from cvdesk.domain.model import TLP, Channel, Direction, SignalKind

message_app = typer.Typer(help="Messages exchanged on a case.", no_args_is_help=True)


@message_app.command("log")
def message_log(
    ctx: typer.Context,
    case_id: str = typer.Argument(...),
    participant: str | None = typer.Option(None, "--participant",
                                           help="Who sent it (in) or got it (out)."),
    direction: str = typer.Option("in", "--direction", help="in or out."),
    channel: str = typer.Option("email", "--channel"),
    subject: str = typer.Option("", "--subject"),
    body: str | None = typer.Option(None, "--body", help="The text; or use --body-file."),
    body_file: Path | None = typer.Option(None, "--body-file"),
    tlp: str = typer.Option("AMBER", "--tlp"),
    at: str | None = typer.Option(None, "--at"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Record a message exchanged with a participant."""
    if (body is None) == (body_file is None):
        raise InvalidInput("--body", "give exactly one of --body and --body-file")
    if body_file is not None:
        from cvdesk.services.cases import MAX_LOGGED_BODY

        try:  # one character more than the limit, whatever the file's size (/dev/zero too)
            with body_file.open(encoding="utf-8") as handle:
                body = handle.read(MAX_LOGGED_BODY + 1)
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput("--body-file", f"{body_file}: {exc}") from None
    message = app_context(ctx).cases().log_message(
        case_id, direction=choice(Direction, direction, "--direction"),
        channel=choice(Channel, channel, "--channel"), subject=subject, body=body or "",
        participant=participant, tlp=choice(TLP, tlp.upper(), "--tlp"),
        at=parse_time(at, "--at"))
    if as_json:
        emit_json({"case_id": case_id.upper(), "message_id": message.message_id})
    else:
        out.print(f"message {message.message_id} logged on {case_id.upper()}")



def observe(
    ctx: typer.Context,
    case_id: str = typer.Argument(...),
    kind: str = typer.Argument(..., help="leak, media-attention, out-of-scope, "
                               "finder-needs-handoff, downstream-affected, unknown-downstream, "
                               "legal-threat, hostile-tone, hype, possible-duplicate"),
    text: str = typer.Option("", "--text", help="What was seen."),
    url: str = typer.Option("", "--url", help="Where."),
    participant: str | None = typer.Option(None, "--participant", help="Who it concerns."),
    at: str | None = typer.Option(None, "--at"),
) -> None:
    """Record something seen around a case (guide section 6): a leak, press, a legal letter."""
    app_context(ctx).cases().observe(
        case_id, choice(SignalKind, kind, "KIND"), text=text, url=url, participant=participant,
        at=parse_time(at, "--at"))
    out.print(f"observed {kind} on {case_id.upper()}")
