"""The sub-commands of ``cvdesk``, loaded only when one of them runs.

Importing every command module (and through them the services, Alembic, YAML, HTTP and
mail libraries) made ``cvdesk --help`` cost about fifteen times ``import typer``.  The
root group here knows each sub-command by name and short help only (``SHORT_HELP``),
which is all that ``cvdesk --help`` and "did you mean" need; the module that defines a
command is imported when that command is looked up to run or to show its own help.

``SHORT_HELP`` repeats what the modules declare; tests/cli/test_startup.py checks that
it equals the first paragraph of each command's help in the fully built tree, so it
cannot drift from them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from importlib import import_module
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

from cvdesk.cli.helpfmt import plain_help, quick_help_option

#: name -> first paragraph of its help, in the order ``cvdesk --help`` lists them
#: (Typer lists plain commands before groups).
SHORT_HELP: dict[str, str] = {
    "init": "Create the database, or migrate it to this version's schema.",
    "observe": "Record something seen around a case (guide section 6): a leak, press, "
               "a legal letter.",
    "notify": "Queue a notification to vendors (in the same transaction as the case record).",
    "worker": "Deliver the outbox over SMTP (settings: [smtp]); several may run at once.",
    "demo": "Create the database if needed and load the demo dataset (dates relative to "
            "today).",
    "doctor": "Sweep the open cases: store and print the findings, most urgent first.",
    "ssvc": "Show the SSVC decisions of a case (triage, publish, patch priorities).",
    "publish": "Publish the next version of a case's advisory (6.9).",
    "serve": "Run the web desk: pages for coordinators, vendors and reporters, and the "
             "REST API.",
    "audit": "The audit log: web writes, sign-ins and reads of embargoed cases, newest "
             "first.",
    "advisory": "Draft, preview and list the advisory of a case (CSAF, CVE, OSV, "
                "readable).",
    "cve": "Submit CVE records to CVE Services (settings: [cve]).",
    "report": "Take in vulnerability reports.",
    "case": "List, show and follow cases.",
    "participant": "People and organizations on a case.",
    "vuln": "Vulnerabilities of a case.",
    "statement": "Vendor statements: each vendor's status, remediations and own words per "
                 "product and vulnerability.",
    "contact": "Log contact attempts and replies.",
    "message": "Messages exchanged on a case.",
    "outbox": "The outbox of messages to send.",
    "mail": "Inbound e-mail: listen, fetch, quarantine.",
    "coordinator": "Third-party coordinators and case hand-off (6.9).",
    "credit": "Recognize the helpers (6.9).",
    "retro": "Retrospectives: learn from each case (6.9).",
    "event": "Record case-state events (V F D P X A).",
    "rm": "Report management per participant (Vultron RM).",
    "embargo": "Embargo management (Vultron EM) and each participant's consent.",
    "finding": "Acknowledge or snooze troubleshooting findings.",
    "user": "Accounts of the web desk.",
    "metrics": "Measure the desk against chance: skill, timing, plots (6.9).",
    "model": "The formal case-state model itself (Vultron CS).",
}


def _attr(module: str, name: str) -> Callable[[], Any]:
    return lambda: getattr(import_module(f"cvdesk.cli.{module}"), name)


def _contact() -> Any:
    import_module("cvdesk.cli.contacts")  # adds its commands to the contact group
    return _attr("transitions", "contact_app")()


def _metrics() -> Any:
    import_module("cvdesk.cli.metrics_data")  # adds timing and import
    import_module("cvdesk.cli.metrics_plot")  # adds plot
    return _attr("metrics", "metrics_app")()


def _embargo() -> Any:
    from cvdesk.cli import coordination, transitions

    embargo = transitions.embargo_app
    if not any(c.name == "publish-early" for c in embargo.registered_commands):
        embargo.command("publish-early")(coordination.publish_early)
    return embargo


#: name -> what defines it: a Typer (a group) or a function (a command).  ``init`` is
#: defined in cvdesk.cli.main itself.
SOURCES: dict[str, Callable[[], Any]] = {
    "observe": _attr("messages", "observe"),
    "notify": _attr("mail", "notify"),
    "worker": _attr("mail", "worker"),
    "demo": _attr("demo", "demo"),
    "doctor": _attr("doctor", "doctor"),
    "ssvc": _attr("ssvc", "ssvc"),
    "publish": _attr("advisory", "publish"),
    "advisory": _attr("advisory", "advisory_app"),
    "cve": _attr("cve", "cve_app"),
    "report": _attr("cases", "report_app"),
    "case": _attr("cases", "case_app"),
    "participant": _attr("cases", "participant_app"),
    "vuln": _attr("advisory_data", "vuln_app"),  # adds 'vuln update' to the cases group
    "statement": _attr("advisory_data", "statement_app"),
    "contact": _contact,
    "message": _attr("messages", "message_app"),
    "outbox": _attr("mail", "outbox_app"),
    "mail": _attr("mail", "mail_app"),
    "coordinator": _attr("coordination", "coordinator_app"),
    "credit": _attr("coordination", "credit_app"),
    "retro": _attr("coordination", "retro_app"),
    "event": _attr("transitions", "event_app"),
    "rm": _attr("transitions", "rm_app"),
    "embargo": _embargo,
    "finding": _attr("doctor", "finding_app"),
    "serve": _attr("serve", "serve"),
    "audit": _attr("serve", "audit"),
    "user": _attr("serve", "user_app"),
    "metrics": _metrics,
    "model": _attr("metrics", "model_app"),
}


def register(app: typer.Typer, name: str) -> None:
    """Add the sub-command ``name`` to ``app`` the way Typer registers it."""
    source = SOURCES[name]()
    if isinstance(source, typer.Typer):
        app.add_typer(source, name=name)
    else:
        app.command(name=name)(source)


def load(name: str) -> Any:
    """The click command of ``name``, built on its own, with plain help."""
    holder = typer.Typer()
    register(holder, name)
    return plain_help(typer.main.get_group(holder).commands[name])


class LazyCommands(MutableMapping[str, Any]):
    """The root's commands: every name is known, a command is built on first access."""

    def __init__(self, loaded: MutableMapping[str, Any]) -> None:
        self.loaded = dict(loaded)

    def __getitem__(self, name: str) -> Any:
        if name not in self.loaded:
            if name not in SOURCES:
                raise KeyError(name)
            self.loaded[name] = load(name)
        return self.loaded[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self.loaded[name] = command

    def __delitem__(self, name: str) -> None:
        del self.loaded[name]

    def __iter__(self) -> Iterator[str]:
        yield from SHORT_HELP
        yield from (n for n in self.loaded if n not in SHORT_HELP)

    def __len__(self) -> int:
        return len(set(SHORT_HELP) | set(self.loaded))

    def __contains__(self, name: object) -> bool:
        return name in SHORT_HELP or name in self.loaded


class LazyGroup(TyperGroup):
    """Typer's group over ``LazyCommands``; its help lists commands without loading them."""

    def __init__(self, *, commands: Any = None, **attrs: Any) -> None:
        super().__init__(commands=commands, **attrs)
        self.commands = LazyCommands(self.commands)

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)

    def get_help_option(self, ctx: Any) -> Any:
        return quick_help_option(super().get_help_option(ctx))

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        # TyperGroup.format_commands, with a stand-in carrying the short help for each
        # command not loaded yet: the same shortening, so the same text.
        loaded = self.commands.loaded if isinstance(self.commands, LazyCommands) else {}
        commands = [(name, loaded[name] if name in loaded
                     else TyperCommand(name, help=SHORT_HELP[name]))
                    for name in self.list_commands(ctx)]
        commands = [(name, cmd) for name, cmd in commands if not cmd.hidden]
        if commands:
            limit = formatter.width - 6 - max(len(name) for name, _ in commands)
            rows = [(name, cmd.get_short_help_str(limit)) for name, cmd in commands]
            with formatter.section("Commands"):
                formatter.write_dl(rows)
