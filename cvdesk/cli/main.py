"""The ``cvdesk`` command: global options, sub-commands, and error handling with exit codes.

Exit codes: 0 done; 1 other failure (the database is missing, not initialised or at an
older schema, a conflicting write); 2 bad input (a field, a file, an option, a database
URL cvdesk does not support, a date outside the years 1970-2200); 3 a transition the
model refuses; 4 something named does not exist.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from cvdesk import __version__
from cvdesk.cli import (
    cases,
    contacts,
    coordination,
    demo,
    doctor,
    mail,
    messages,
    transitions,
)
from cvdesk.cli.context import AppContext, app_context
from cvdesk.cli.helpfmt import plain_help
from cvdesk.cli.output import EscapingWriter, fail, neutralise, out
from cvdesk.domain.errors import DomainError, IllegalTransition, InvalidInput, NotFound
from cvdesk.domain.model import YEARS
from cvdesk.intake import FormError
from cvdesk.services import init_database
from cvdesk.settings import SettingsError

app = typer.Typer(
    name="cvdesk", no_args_is_help=True, pretty_exceptions_enable=False,
    help="A desk for coordinated vulnerability disclosure (CERT guide, Vultron model).",
)


def _version(value: bool) -> None:
    if value:
        print(f"cvdesk {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config: Path | None = typer.Option(None, "--config", help="Settings file (TOML)."),
    database_url: str | None = typer.Option(
        None, "--database-url", help="Overrides CVDESK_DATABASE_URL."),
    actor: str | None = typer.Option(None, "--actor", help="Who is acting (for the log)."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    ctx.obj = AppContext(config=config, database_url=database_url, actor=actor)


@app.command()
def init(ctx: typer.Context) -> None:
    """Create the database, or migrate it to this version's schema."""
    app_ctx = app_context(ctx)
    before, after = init_database(app_ctx.db)
    url = app_ctx.db.engine.url.render_as_string(hide_password=True)
    if before == after:
        out.print(f"database {url} is up to date (schema {after})")
    elif before is None:
        out.print(f"created database {url} (schema {after})")
    else:
        out.print(f"migrated database {url} from schema {before} to {after}")


app.add_typer(cases.report_app, name="report")
app.add_typer(cases.case_app, name="case")
app.add_typer(cases.participant_app, name="participant")
app.add_typer(cases.vuln_app, name="vuln")
assert contacts.contact_app is transitions.contact_app  # commands registered on import
app.add_typer(transitions.contact_app, name="contact")
app.add_typer(messages.message_app, name="message")
app.command(name="observe")(messages.observe)
app.command(name="notify")(mail.notify)
app.command(name="worker")(mail.worker)
app.add_typer(mail.outbox_app, name="outbox")
app.add_typer(mail.mail_app, name="mail")
app.add_typer(coordination.coordinator_app, name="coordinator")
app.add_typer(coordination.credit_app, name="credit")
app.add_typer(coordination.retro_app, name="retro")
transitions.embargo_app.command("publish-early")(coordination.publish_early)
app.add_typer(transitions.event_app, name="event")
app.add_typer(transitions.rm_app, name="rm")
app.add_typer(transitions.embargo_app, name="embargo")
app.command(name="demo")(demo.demo)
app.command(name="doctor")(doctor.doctor)
app.add_typer(doctor.finding_app, name="finding")

EXIT_OTHER, EXIT_INPUT, EXIT_REFUSED, EXIT_NOT_FOUND = 1, 2, 3, 4


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code instead of raising."""
    try:
        command = plain_help(typer.main.get_command(app))
        code = command.main(args=argv, prog_name="cvdesk", standalone_mode=False)
    except SystemExit as exc:  # typer.Exit inside standalone_mode=False
        return int(exc.code or 0)
    except typer.Exit as exc:
        return exc.exit_code
    except (FormError, InvalidInput, SettingsError) as exc:
        fail(str(exc))
        return EXIT_INPUT
    except IllegalTransition as exc:
        fail(str(exc))
        return EXIT_REFUSED
    except NotFound as exc:
        fail(str(exc))
        return EXIT_NOT_FOUND
    except DomainError as exc:
        fail(str(exc))
        return EXIT_OTHER
    except typer.Abort:
        fail("aborted")
        return EXIT_OTHER
    except OverflowError as exc:
        # A safety net: dates and day counts are bounded where they are read (parse_time,
        # days_after); one that slipped through is still bad input, not a crash.
        fail(f"a date or number is out of range ({exc}); dates must fall in the years "
             f"{YEARS[0]}-{YEARS[1]}")
        return EXIT_INPUT
    except Exception as exc:
        # Usage errors come from the click that Typer bundles: they know how to show
        # themselves.  They may quote what was typed, so they pass through neutralise too.
        show, exit_code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(exit_code, int):
            show(file=EscapingWriter(sys.stderr))
            return exit_code
        raise
    return code if isinstance(code, int) else 0


def run() -> None:
    try:
        code = main()
    except Exception:  # a bug: show the traceback, but not raw text from outside in it
        import traceback

        sys.stderr.write(neutralise(traceback.format_exc()))
        code = EXIT_OTHER
    sys.exit(code)


if __name__ == "__main__":
    run()
