"""Option values read without pydantic (cvdesk.cli.params) come out exactly as Typer's own
conversion gives them, and everything else still goes through Typer's conversion."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from typer._coercion import build_runtime_param, resolve_type_descriptor
from typer.models import OptionInfo

from cvdesk.cli.params import _TYPER, QuickParam, quick_value

CASES = [(str, OptionInfo()), (int, OptionInfo()), (list[str], OptionInfo())]


def _typer_value(annotation: Any, info: OptionInfo, value: Any) -> Any:
    """What Typer's own conversion makes of ``value`` (its pydantic adapter)."""
    from pydantic import ValidationError

    param = build_runtime_param(resolve_type_descriptor(annotation, info))
    try:
        return param.adapter.validate_python(value)  # type: ignore[attr-defined]
    except ValidationError:
        return "refused"


def _agree(annotation: Any, info: OptionInfo, value: Any) -> None:
    quick = quick_value(annotation, info, value)
    if quick is not _TYPER:
        expected = _typer_value(annotation, info, value)
        assert quick == expected and type(quick) is type(expected), (annotation, value)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(), st.from_regex(r"-?[0-9]{1,25}", fullmatch=True),
                 st.integers(), st.from_regex(r"\s*[+-]?[0-9_]{1,5}\s*", fullmatch=True)))
def test_quick_values_equal_typers(value: Any) -> None:
    for annotation, info in CASES:
        _agree(annotation, info, value)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=5), max_size=4).map(tuple))
def test_quick_lists_equal_typers(value: tuple[str, ...]) -> None:
    _agree(list[str], OptionInfo(), value)


@pytest.mark.parametrize(("annotation", "info", "value"), [
    (int, OptionInfo(min=0, max=5), "3"),   # bounds are Typer's to check
    (int, OptionInfo(), "1_000"),           # pydantic's own leniency
    (int, OptionInfo(), " 7"),
    (int, OptionInfo(), "007"),
    (bool, OptionInfo(), "yes"),
    (str, OptionInfo(parser=str.upper), "x"),
])
def test_what_is_not_plain_goes_to_typer(annotation: Any, info: OptionInfo, value: Any) -> None:
    assert quick_value(annotation, info, value) is _TYPER


def test_a_bad_number_is_still_typers_error(cli) -> None:  # type: ignore[no-untyped-def]
    code, _, err = cli("participant", "policy", "CVD-2026-0001", "p3", "--days", "soon")
    assert code == 2 and "--days" in err and "valid integer" in err


def test_typer_conversion_is_built_only_when_needed() -> None:
    descriptor = resolve_type_descriptor(int, OptionInfo())
    quick = QuickParam(parameter_info=descriptor.parameter_info,
                       annotation=descriptor.annotation, descriptor=descriptor)
    assert quick._coerce_value("12", param=None, ctx=None) == 12
    assert quick._typer == []
    with pytest.raises(typer.BadParameter):
        quick._coerce_value("twelve", param=None, ctx=None)
    assert len(quick._typer) == 1


# What Python makes of the bytes 0xff and 0xfe in a command line (surrogateescape).
UNREAD = "V\udcff"


@pytest.mark.parametrize("args", [
    ("participant", "add", "CVD-2026-0001", "--name", UNREAD, "--role", "vendor"),
    ("participant", "add", "CVD-2026-0001", "--name", "V", "--role", "vendor",
     "--reason", "r\udcfe"),
    ("contact", "add", "Org\udcfe", "--kind", "email", "--value", "a@b.example"),
    ("case", "note", "CVD-2026-0001", "bad \udcff byte"),
    ("--actor", "y\udcfe", "case", "note", "CVD-2026-0001", "hi"),
])
def test_text_that_is_not_utf8_is_refused_naming_the_option(demo_cli, args) -> None:  # type: ignore[no-untyped-def]
    """A byte that is not UTF-8 in the command line (a terminal in another encoding) was
    a UnicodeEncodeError traceback where the value was stored: no database stores it.
    Now the option or argument is named and nothing is written."""
    before = demo_cli.counts()
    code, _, err = demo_cli(*args)
    assert code == 2, err
    assert "Invalid value for" in err and "not UTF-8 text" in err and "Traceback" not in err
    assert demo_cli.counts() == before


def test_a_path_may_hold_such_bytes(demo_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """File names are bytes on Linux: a path argument keeps them (its file is read)."""
    import json
    import os

    name = os.fsdecode(bytes(tmp_path) + b"/r\xff.json")
    with open(name, "w", encoding="utf-8") as f:
        json.dump({"title": "Bug", "description": "d", "reporter": {"name": "R"}}, f)
    code, out, err = demo_cli("report", "submit", name)
    assert "CVD-" in out
    assert code == 0, err
