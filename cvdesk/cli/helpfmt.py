"""``--help`` the way command lines usually show it.

Typer's own help draws boxes, writes ``<str>``/``<bool>`` after every option, shows a
required argument as ``{case_id}``, and reads docstrings as Rich markup (so
"settings: [smtp]" lost its "[smtp]").  ``plain_help`` walks the built command tree
once per run and switches it to click's plain layout: ``--until UNTIL``, flags with no
value, arguments as ``CASE_ID``.  It touches help and usage text, and how a value is
converted only where that needs no pydantic validator (cvdesk.cli.params); parsing is
Typer's.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from cvdesk.cli.params import quick_param

#: Help for arguments that several commands share and that carry none of their own.
ARGUMENT_HELP = {
    "case_id": "The case, e.g. CVD-2026-0001.",
    "participant": "Participant number (3 or p3) or exact name.",
    "finding_id": "Finding number (#N in doctor's output).",
    "tracking_id": "The report's tracking id, e.g. VR-2026-ABC234.",
    "domain": "The organization's domain, e.g. example.org.",
}


def _name(param: Any) -> str:
    return param.metavar or (param.name or "").upper()


class QuickArgument(TyperArgument):
    """Typer's argument, its value read without pydantic where that changes nothing."""

    def get_runtime_param(self) -> Any:
        if self._runtime_param is None:
            self._runtime_param = quick_param(self)
        return self._runtime_param


class QuickOption(TyperOption):
    """Typer's option, its value read without pydantic where that changes nothing."""

    def get_runtime_param(self) -> Any:
        if self._runtime_param is None:
            self._runtime_param = quick_param(self)
        return self._runtime_param


def quick_help_option(option: Any) -> Any:
    """A command's ``--help`` option (made on its first use) as a QuickOption."""
    if type(option) is TyperOption:
        option.__class__ = QuickOption
    return option


# The classes a command is switched to keep Typer's object layout (no new base before
# Typer's own), so that plain_help can switch them in place.
class PlainCommand(TyperCommand):
    __slots__ = ()

    def get_help_option(self, ctx: Any) -> Any:
        return quick_help_option(super().get_help_option(ctx))


class PlainGroup(TyperGroup):
    __slots__ = ()

    def get_help_option(self, ctx: Any) -> Any:
        return quick_help_option(super().get_help_option(ctx))


class PlainArgument(QuickArgument):
    """An argument shown as CASE_ID in usage, help and errors."""

    @property
    def display_name_raw(self) -> str:
        return _name(self)

    def _usage_display_name(self) -> str:
        name = _name(self) + ("..." if self.nargs != 1 else "")
        return name if self.required else f"[{name}]"

    def get_help_record(self, ctx: Any) -> tuple[str, str] | None:
        if self.hidden:
            return None
        return (_name(self) + ("..." if self.nargs != 1 else ""),
                self.help or ARGUMENT_HELP.get(self.name or "", ""))


class PlainOption(QuickOption):
    """An option shown as ``--until UNTIL``; a flag takes no value and shows none."""

    def display_type_rich(self, ctx: Any) -> str | None:
        if self.metavar is not None:
            return self.metavar
        longest = max(self.opts, key=len).lstrip("-")
        return longest.replace("-", "_").upper() + ("..." if self.nargs != 1 else "")


def plain_help(command: Any, *, width: int = 120) -> Any:
    """Give ``command`` and its sub-commands plain help (in place); returns it."""
    command.context_settings.setdefault("max_content_width", width)
    stack = [command]
    while stack:
        cmd = stack.pop()
        cmd.rich_markup_mode = None  # click's plain layout; docstrings are not markup
        if type(cmd) is TyperCommand:
            cmd.__class__ = PlainCommand
        elif type(cmd) is TyperGroup:
            cmd.__class__ = PlainGroup
        for param in cmd.params:
            if type(param) is TyperArgument:
                param.__class__ = PlainArgument
            elif type(param) is TyperOption:
                param.__class__ = PlainOption
        children = getattr(cmd, "commands", {})
        # A lazy group's commands not loaded yet get plain help when they are loaded.
        stack.extend(getattr(children, "loaded", children).values())
    return command
