"""Reading option values without building a pydantic validator for each one.

Typer 0.29 converts every option value through a pydantic ``TypeAdapter``, built the first
time the option is read, even when the value is absent.  Importing pydantic and building
those adapters cost about a fifth of ``cvdesk case list`` (issue 9: start-up), for values
that need no conversion at all: text that stays text, a plain whole number, a list of
texts.  ``QuickParam`` returns such values itself, exactly as the adapter would, and hands
every other value (a path, a number with bounds, anything unusual) to Typer's own
conversion, built only then, so errors and odd cases read exactly as Typer words them.
tests/cli/test_params.py holds the quick answers equal to Typer's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from typer._coercion import RuntimeParam, build_runtime_param

# At most 18 digits, no leading zero, no sign but '-', no spaces or underscores: read the
# same by int() and by pydantic, whatever its leniencies.
_PLAIN_INT = re.compile(r"-?(?:0|[1-9][0-9]{0,17})")


@dataclass(frozen=True)
class QuickParam(RuntimeParam):
    """Typer's runtime conversion for one parameter, with the plain cases answered here."""

    descriptor: Any = None
    _typer: list[RuntimeParam] = field(default_factory=list, compare=False, repr=False)

    def typer_param(self) -> RuntimeParam:
        """Typer's own conversion for this parameter, built on first need."""
        if not self._typer:
            self._typer.append(build_runtime_param(self.descriptor))
        return self._typer[0]

    def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
        if self.annotation is str or self.annotation == list[str]:
            check_text(value, param)
        quick = quick_value(self.annotation, self.parameter_info, value)
        if quick is not _TYPER:
            return quick
        return self.typer_param()._coerce_value(value, param=param, ctx=ctx)


_TYPER = object()

#: A lone surrogate: what Python makes of a byte in the command line that is not UTF-8.
_UNDECODED = re.compile("[\ud800-\udfff]")


def check_text(value: Any, param: Any) -> None:
    """Refuse a text value holding bytes that are not UTF-8 (a terminal in another
    encoding, a pasted file name): no database can store them, and replacing them would
    store something other than what was typed.  A path is not text here: its own
    conversion keeps such bytes, as file names may hold them."""
    from typer._click.exceptions import BadParameter

    for text in (value,) if type(value) is str else value if isinstance(
            value, list | tuple) else ():
        if type(text) is str and not text.isascii() and _UNDECODED.search(text):
            raise BadParameter("not UTF-8 text: a byte could not be read (check the "
                               "terminal's encoding)", param=param)


def quick_value(annotation: Any, info: Any, value: Any) -> Any:
    """``value`` converted for ``annotation`` when that needs no judgement, else _TYPER."""
    if info.parser is not None:
        return _TYPER
    if annotation is str:
        return value if type(value) is str else _TYPER
    if annotation is int:
        if info.min is not None or info.max is not None:
            return _TYPER
        if type(value) is int:
            return value
        if type(value) is str and _PLAIN_INT.fullmatch(value):
            return int(value)
        return _TYPER
    if annotation == list[str]:
        if isinstance(value, list | tuple) and all(type(v) is str for v in value):
            return list(value)
        return _TYPER
    return _TYPER


def quick_param(param: Any) -> RuntimeParam:
    """The runtime conversion for a Typer parameter: quick where it can be."""
    descriptor = param.type_descriptor
    if descriptor.file_annotation is not None:
        return build_runtime_param(descriptor)
    return QuickParam(parameter_info=descriptor.parameter_info,
                      annotation=descriptor.annotation, descriptor=descriptor)
