"""Commands that move the formal models: RM, EM (with consent), CS events, contact log."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import TypeVar

import typer

from cvdesk.cli.context import app_context, parse_time
from cvdesk.cli.output import emit_json, out
from cvdesk.domain.cs import CSEvent
from cvdesk.domain.em import ConsentTrigger
from cvdesk.domain.errors import InvalidInput
from cvdesk.domain.model import AttemptOutcome, Channel
from cvdesk.domain.rm import RMTrigger

contact_app = typer.Typer(help="Log contact attempts and replies.", no_args_is_help=True)
event_app = typer.Typer(help="Record case-state events (V F D P X A).", no_args_is_help=True)
rm_app = typer.Typer(help="Report management per participant (Vultron RM).",
                     no_args_is_help=True)
embargo_app = typer.Typer(help="Embargo management (Vultron EM) and each participant's "
                          "consent.", no_args_is_help=True)

AT = typer.Option(None, "--at", help="When it happened (ISO 8601 with time zone); default now.")
REASON = typer.Option("", "--reason", help="Why (kept in the log).")
JSON = typer.Option(False, "--json", help="Print JSON for scripts.")
CASE = typer.Argument(..., help="Case id, e.g. CVD-2026-0001.")
PARTICIPANT = typer.Argument(..., help="Participant number (3 or p3) or exact name.")

E = TypeVar("E", bound=StrEnum)


def choice(enum: type[E], value: str, option: str) -> E:
    try:
        return enum(value.strip())
    except ValueError:
        raise InvalidInput(option, f"'{value}' is not one of "
                           f"{', '.join(e.value for e in enum)}") from None


@contact_app.command("attempt")
def contact_attempt(
    ctx: typer.Context, case_id: str = CASE, participant: str = PARTICIPANT,
    channel: str = typer.Option(..., "--channel", help="email, web-form, phone, platform, post"),
    outcome: str = typer.Option("sent", "--outcome",
                                help="sent, bounced, acknowledged, no-reply"),
    address: str = typer.Option("", "--address", help="Where: e-mail address, URL, number."),
    note: str = typer.Option("", "--note"),
    at: str | None = AT, as_json: bool = JSON,
) -> None:
    """Log one attempt to reach a participant (back-date imported history with --at)."""
    ch = choice(Channel, channel, "--channel")
    oc = choice(AttemptOutcome, outcome, "--outcome")
    n = app_context(ctx).cases().contact_attempt(case_id, participant, ch, oc, address=address,
                                                 at=parse_time(at, "--at"), reason=note)
    if as_json:
        emit_json({"case_id": case_id.upper(), "participant": participant, "attempts": n})
    else:
        out.print(f"attempt logged ({n} so far for {participant})")


@contact_app.command("reply")
def contact_reply(
    ctx: typer.Context, case_id: str = CASE, participant: str = PARTICIPANT,
    channel: str = typer.Option("email", "--channel"),
    note: str = typer.Option("", "--note"),
    at: str | None = AT, as_json: bool = JSON,
) -> None:
    """Log a reply received from a participant."""
    ch = choice(Channel, channel, "--channel")
    n = app_context(ctx).cases().contact_reply(case_id, participant, ch,
                                               at=parse_time(at, "--at"), reason=note)
    if as_json:
        emit_json({"case_id": case_id.upper(), "participant": participant, "replies": n})
    else:
        out.print(f"reply logged ({n} so far from {participant})")


@event_app.command("record")
def event_record(
    ctx: typer.Context, case_id: str = CASE,
    event: str = typer.Argument(..., help="V, F, D (per vendor) or P, X, A (case-wide)."),
    vendor: str | None = typer.Option(None, "--vendor", help="Vendor participant, for V F D."),
    reason: str = REASON, at: str | None = AT, as_json: bool = JSON,
) -> None:
    """Record a case-state event; implied events (X -> P -> V) are recorded with it."""
    ev = choice(CSEvent, event.upper(), "EVENT")
    written = app_context(ctx).cases().record_cs(case_id, ev, vendor,
                                                 at=parse_time(at, "--at"), reason=reason)
    if as_json:
        emit_json([{"seq": e.seq, "event": e.data["event"], "participant": e.participant,
                    "implied": e.data["auto"]} for e in written])
        return
    for e in written:
        out.print(f"#{e.seq} {e.summary()}")


def _rm_command(trigger: RMTrigger) -> Callable[..., None]:
    def command(ctx: typer.Context, case_id: str = CASE, participant: str = PARTICIPANT,
                reason: str = REASON, at: str | None = AT) -> None:
        state = app_context(ctx).cases().rm(case_id, participant, trigger,
                                            at=parse_time(at, "--at"), reason=reason)
        out.print(f"{participant}: RM {trigger.value} -> {state}")

    command.__doc__ = f"RM '{trigger.value}' for one participant."
    return command


for _trigger in RMTrigger:
    rm_app.command(_trigger.value)(_rm_command(_trigger))


@embargo_app.command("propose")
def embargo_propose(
    ctx: typer.Context, case_id: str = CASE,
    end: str | None = typer.Option(
        None, "--end", help="End, with time zone (e.g. 2027-01-15T16:00+01:00); default: "
        "the policy's days after the first vendor contact attempt."),
    invite: list[str] = typer.Option(None, "--invite", help="Participants to invite "
                                     "(default: everyone not yet invited or signed)."),
    reason: str = REASON, at: str | None = AT,
) -> None:
    """Propose an embargo, or a revision of the active one."""
    end_at = app_context(ctx).cases().propose_embargo(
        case_id, parse_time(end, "--end"), invite=invite or None, at=parse_time(at, "--at"),
        reason=reason)
    out.print(f"embargo proposed on {case_id.upper()}, ending {end_at.isoformat()}")


def _em_command(action: str, help_text: str) -> Callable[..., None]:
    def command(ctx: typer.Context, case_id: str = CASE, reason: str = REASON,
                at: str | None = AT) -> None:
        state = app_context(ctx).cases().embargo(case_id, action, at=parse_time(at, "--at"),
                                                 reason=reason)
        out.print(f"{case_id.upper()}: EM {action} -> {state}")

    command.__doc__ = help_text
    return command


embargo_app.command("accept")(_em_command("accept", "Accept the proposed embargo or revision."))
embargo_app.command("reject")(_em_command("reject", "Reject the proposed embargo or revision."))
embargo_app.command("terminate")(_em_command(
    "terminate", "End the embargo (publication, leak, exploitation, or expiry)."))


def _consent_command(trigger: ConsentTrigger, help_text: str) -> Callable[..., None]:
    def command(ctx: typer.Context, case_id: str = CASE, participant: str = PARTICIPANT,
                reason: str = REASON, at: str | None = AT) -> None:
        state = app_context(ctx).cases().consent(case_id, participant, trigger,
                                                 at=parse_time(at, "--at"), reason=reason)
        out.print(f"{participant}: embargo {trigger.value} -> {state}")

    command.__doc__ = help_text
    return command


embargo_app.command("invite")(_consent_command(ConsentTrigger.INVITE,
                                               "Invite a participant to the embargo."))
embargo_app.command("sign")(_consent_command(ConsentTrigger.SIGN,
                                             "A participant accepts the embargo."))
embargo_app.command("decline")(_consent_command(ConsentTrigger.DECLINE,
                                                "A participant rejects the embargo."))
embargo_app.command("lapse")(_consent_command(ConsentTrigger.LAPSE,
                                              "A signatory's agreement lapses."))
embargo_app.command("withdraw")(_consent_command(ConsentTrigger.WITHDRAW,
                                                 "Withdraw a participant's invitation."))
