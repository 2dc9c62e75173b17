"""The ``cvdesk`` command: global options, sub-commands, and error handling with exit codes.

Exit codes come from the domain's one table (cvdesk.domain.errors.ERROR_CODES): 0 done;
1 other failure (the database is missing, not initialised or at an older schema); 2 bad
input (a field, a file, an option, a database URL cvdesk does not support, a date outside
the years 1970-2200); 3 a transition the model refuses; 4 something named does not
exist; 5 a conflicting write (someone changed the case first: run it again).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from cvdesk import __version__
from cvdesk.cli.commands import SHORT_HELP, LazyGroup, register
from cvdesk.cli.helpfmt import plain_help

# Start-up cost: the sub-commands, the services and their libraries load only when a
# command runs (cvdesk.cli.commands); what this module needs for one run is imported
# where it is used.

HELP = "A desk for coordinated vulnerability disclosure (CERT guide, Vultron model)."


def _version(value: bool) -> None:
    if value:
        print(f"cvdesk {__version__}")
        raise typer.Exit()


def root(
    ctx: typer.Context,
    config: Path | None = typer.Option(None, "--config", help="Settings file (TOML)."),
    database_url: str | None = typer.Option(
        None, "--database-url", help="Overrides CVDESK_DATABASE_URL."),
    actor: str | None = typer.Option(None, "--actor", help="Who is acting (for the log)."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    from cvdesk.cli.context import AppContext

    ctx.obj = AppContext(config=config, database_url=database_url, actor=actor)


def init(ctx: typer.Context) -> None:
    """Create the database, or migrate it to this version's schema."""
    from cvdesk.cli.context import app_context
    from cvdesk.cli.output import out

    desk = app_context(ctx).desk
    before, after = desk.init_database()
    url = desk.database_label()
    if before == after:
        out.print(f"database {url} is up to date (schema {after})")
    elif before is None:
        out.print(f"created database {url} (schema {after})")
    else:
        out.print(f"migrated database {url} from schema {before} to {after}")


def _typer(*, lazy: bool) -> typer.Typer:
    built = typer.Typer(name="cvdesk", no_args_is_help=True, pretty_exceptions_enable=False,
                        help=HELP, cls=LazyGroup if lazy else None)
    built.callback()(root)
    built.command()(init)
    return built


def full_app() -> typer.Typer:
    """The whole command tree, every module loaded: for tests and tools that walk it."""
    app = _typer(lazy=False)
    for name in SHORT_HELP:
        if name != "init":
            register(app, name)
    return app


def __getattr__(name: str) -> Any:
    # ``cvdesk.cli.main.app`` (the whole tree) is built on first use, not on import.
    if name == "app":
        globals()["app"] = app = full_app()
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


EXIT_OTHER, EXIT_INPUT = 1, 2


def _exit_code(exc: Exception) -> int | None:
    """The exit code of an error cvdesk reports in one line (the domain's one table,
    ``ERROR_CODES``); None for anything else.  Every error a command can raise derives from
    DomainError, so when its module is not loaded no such error was raised."""
    errors = sys.modules.get("cvdesk.domain.errors")
    found = errors.codes(exc) if errors is not None else None
    return found[0] if found else None


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code instead of raising."""
    try:
        command = plain_help(typer.main.get_command(_typer(lazy=True)))
        code = command.main(args=argv, prog_name="cvdesk", standalone_mode=False)
    except SystemExit as exc:  # typer.Exit inside standalone_mode=False
        return int(exc.code or 0)
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        from cvdesk.cli.output import fail

        fail("aborted")
        return EXIT_OTHER
    except Exception as exc:
        from cvdesk.cli.output import EscapingWriter, fail

        exit_code = _exit_code(exc)
        if exit_code is not None:
            fail(str(exc))
            return exit_code
        if isinstance(exc, OverflowError):
            from cvdesk.domain.model import YEARS

            # A safety net: dates and day counts are bounded where they are read
            # (parse_time, days_after); one that slipped through is still bad input, not
            # a crash.
            fail(f"a date or number is out of range ({exc}); dates must fall in the years "
                 f"{YEARS[0]}-{YEARS[1]}")
            return EXIT_INPUT
        # Usage errors come from the click that Typer bundles: they know how to show
        # themselves.  They may quote what was typed, so they pass through neutralise too.
        show, status = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(status, int):
            show(file=EscapingWriter(sys.stderr))
            return status
        raise
    return code if isinstance(code, int) else 0


def run() -> None:
    try:
        code = main()
    except Exception:  # a bug: show the traceback, but not raw text from outside in it
        import traceback

        from cvdesk.cli.output import neutralise

        sys.stderr.write(neutralise(traceback.format_exc()))
        code = EXIT_OTHER
    sys.exit(code)


if __name__ == "__main__":
    run()
