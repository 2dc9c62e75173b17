"""Outbound e-mail: queue notifications, run the outbox worker, look at the outbox."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import typer

from cvdesk.cli.context import app_context
from cvdesk.cli.output import emit_json, fmt_time, log_to_stderr, out, table
from cvdesk.cli.progress import progress_bar
from cvdesk.domain.errors import InvalidInput
from cvdesk.services.inbound import InboundService, Outcome

outbox_app = typer.Typer(help="The outbox of messages to send.", no_args_is_help=True)

#: The largest --vendors file: a participant number or name a line, for many thousands.
VENDORS_FILE_BYTES = 10 * 2**20


def notify(
    ctx: typer.Context,
    case_id: str = typer.Argument(...),
    vendors: Path | None = typer.Option(None, "--vendors", help="File with one participant "
                                        "(number or name) per line."),
    all_vendors: bool = typer.Option(False, "--all", help="Every vendor on the case."),
    template: str = typer.Option("new-case", "--template", help="new-case, reminder, "
                                 "embargo-proposal, draft-advisory, publication"),
    key: str = typer.Option("", "--key", help="Makes a repeat of the same notice distinct "
                            "(e.g. a date for reminders)."),
    send: bool = typer.Option(False, "--send", help="Deliver now instead of leaving it to "
                              "a running worker."),
) -> None:
    """Queue a notification to vendors (in the same transaction as the case record)."""
    if vendors is None and not all_vendors:
        raise InvalidInput("--vendors", "give --vendors FILE or --all")
    people = None
    if vendors is not None:
        from cvdesk.cli.files import read_text

        people = [line.strip() for line in read_text(vendors, VENDORS_FILE_BYTES,
                                                     "--vendors").splitlines()
                  if line.strip() and not line.startswith("#")]
    app_ctx = app_context(ctx)
    mail = app_ctx.desk.mail()
    with progress_bar("queueing") as progress:
        queued = mail.queue(case_id, people, template, key=key, progress=progress)
    new = sum(q.new for q in queued)
    out.print(f"queued {new} message(s) on {case_id.upper()}"
              + (f"; {len(queued) - new} already queued before" if len(queued) > new else ""))
    if send and new:
        with progress_bar("sending") as progress:
            stats = app_ctx.desk.worker().run(progress=progress)
        out.print(f"sent {stats.sent}, retry later {stats.retried}, failed {stats.failed}")


def worker(
    ctx: typer.Context,
    batch: int = typer.Option(100, "--batch", min=1, max=10000),
    forever: bool = typer.Option(False, "--forever", help="Keep waiting for new messages."),
) -> None:
    """Deliver the outbox over SMTP (settings: [smtp]); several may run at once."""
    worker = app_context(ctx).desk.worker()
    if forever:  # a service with no end: no bar
        stats = worker.run(batch=batch, until_empty=False)
    else:
        with progress_bar("sending") as progress:
            stats = worker.run(batch=batch, progress=progress)
    out.print(f"sent {stats.sent}, retry later {stats.retried}, failed {stats.failed}, "
              f"in doubt {stats.in_doubt}")


@outbox_app.command("list")
def outbox_list(
    ctx: typer.Context,
    status: str | None = typer.Option(None, "--status"),
    case_id: str | None = typer.Option(None, "--case"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Messages in the outbox with their delivery state."""
    app_ctx = app_context(ctx)
    rows = app_ctx.desk.mail().outbox(status=status, case_id=case_id)
    if as_json:
        emit_json([{"id": o.id, "case_id": o.case_id, "participant": o.participant,
                    "recipient": o.recipient, "template": o.template, "status": o.status,
                    "attempts": o.attempts, "in_doubt": o.in_doubt, "message_id": o.message_id,
                    "last_error": o.last_error, "sent_at": o.sent_at} for o in rows])
        return
    tz = app_ctx.settings.display_timezone
    table(f"{len(rows)} message(s)", ["#", "case", "to", "template", "status", "tries",
                                      "sent", "error"],
          [[o.id, o.case_id, o.recipient, o.template,
            o.status + (" (in doubt)" if o.in_doubt else ""),
            o.attempts, fmt_time(o.sent_at, tz), o.last_error[:60]] for o in rows])


mail_app = typer.Typer(help="Inbound e-mail: listen, fetch, quarantine.", no_args_is_help=True)


def _inbound(ctx: typer.Context) -> InboundService:
    return app_context(ctx).desk.inbound()


@mail_app.command("receive")
def mail_receive(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(2525, "--port"),
    lmtp: bool = typer.Option(False, "--lmtp", help="Speak LMTP (for a local MTA) instead "
                              "of SMTP."),
) -> None:
    """Listen for mail and file each message on its case (until interrupted)."""
    svc = _inbound(ctx)
    log_to_stderr()
    with svc.listening(host=host, port=port, lmtp=lmtp, on_outcome=_report):
        out.print(f"listening for {'LMTP' if lmtp else 'SMTP'} on {host}:{port}; Ctrl-C stops")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


def _report(outcome: Outcome) -> None:
    if outcome.filed:
        out.print(f"filed {outcome.message_id} on {outcome.case_id or '(duplicate)'}")
    else:
        out.print(f"quarantined {outcome.message_id or '(no id)'}: {outcome.reason}")


@mail_app.command("fetch")
def mail_fetch(
    ctx: typer.Context,
    host: str | None = typer.Option(None, "--host", help="Default: [imap] host."),
    port: int | None = typer.Option(None, "--port", help="Default: [imap] port, 993."),
    user: str | None = typer.Option(None, "--user", help="Default: [imap] user."),
    mailbox: str | None = typer.Option(None, "--mailbox", help="Default: INBOX."),
    use_ssl: bool | None = typer.Option(None, "--ssl/--no-ssl", help="Default: --ssl."),
) -> None:
    """Fetch unread mail over IMAP and file each message (marked seen once stored).

    The password comes from CVDESK_IMAP_PASSWORD, the settings ([imap] password,
    CVDESK_IMAP__PASSWORD), or a prompt that does not echo.
    """
    imap = app_context(ctx).settings.imap
    host, user = host or imap.host, user or imap.user
    if not host:
        raise InvalidInput("--host", "give the IMAP server (--host, or [imap] host)")
    if not user:
        raise InvalidInput("--user", "give the IMAP user (--user, or [imap] user)")
    port = port or imap.port
    mailbox = mailbox or imap.mailbox
    use_ssl = imap.ssl if use_ssl is None else use_ssl
    svc = _inbound(ctx)
    password = _imap_password(imap.password, f"{user}@{host}")
    outcomes = svc.fetch_imap(host=host, port=port, user=user, password=password,
                              mailbox=mailbox, use_ssl=use_ssl, on_outcome=_report)
    filed = sum(o.filed for o in outcomes)
    out.print(f"fetched {len(outcomes)}: {filed} filed, {len(outcomes) - filed} quarantined")


def _imap_password(configured: str, account: str) -> str:
    """The IMAP password, never from the command line (other users can read that)."""
    password = os.environ.get("CVDESK_IMAP_PASSWORD") or configured
    if password:
        return password
    if sys.stdin.isatty():
        return typer.prompt(f"IMAP password for {account}", hide_input=True)
    raise InvalidInput("password", "no IMAP password: set CVDESK_IMAP_PASSWORD or [imap] "
                       "password in the settings file (a command-line option would be "
                       "visible to other users)")


@mail_app.command("quarantine")
def mail_quarantine(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """Mail that could not be filed, with the reason."""
    rows = _inbound(ctx).quarantine()
    if as_json:
        emit_json([{"id": r.id, "received_at": r.received_at, "source": r.source,
                    "reason": r.reason, "message_id": r.message_id, "sender": r.sender,
                    "subject": r.subject, "size": r.size} for r in rows])
        return
    tz = app_context(ctx).settings.display_timezone
    table(f"{len(rows)} quarantined", ["#", "received", "from", "subject", "reason"],
          [[r.id, fmt_time(r.received_at, tz), r.sender, r.subject[:40], r.reason]
           for r in rows])
