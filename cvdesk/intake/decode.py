"""Bytes of a form file to a plain tree, refusing what a form never needs.

The tree holds dicts, lists, str, bool, None and ``Number``.  Numbers keep the
text they were written as: a form has no numeric fields, so a number is only
ever text someone forgot to quote (a version ``1.10``, a phone ``0612...``), and
keeping the literal means ``1.10`` stays ``1.10`` and a 100,000-digit number is
never converted (Python refuses int strings over 4,300 digits).

YAML is read with the YAML 1.2 core schema: only ``true``/``false`` are
booleans, so ``no``, ``on`` and ``NO`` (Norway) stay text, and dates stay text
for the form to check.  Anchors, aliases and tags are refused (a form needs
none, and aliases let a small file expand into a huge tree).  Duplicate keys
are kept aside on the mapping so the form can name them with their path.
"""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import BaseConstructor
from yaml.events import AliasEvent, MappingStartEvent, SequenceStartEvent
from yaml.nodes import MappingNode, Node, ScalarNode
from yaml.parser import Parser
from yaml.reader import Reader, ReaderError
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from cvdesk.domain.safetext import depth

MAX_FORM_BYTES = 1024 * 1024
MAX_DEPTH = 20  # the deepest real field, vulnerabilities[i].affected[j].versions[k].fixed, is 7


class DecodeError(Exception):
    """The file cannot be read as a form; the message is for the person who wrote it."""


@dataclass(frozen=True)
class Number:
    """A number as written in the file (its literal text, never converted)."""

    text: str


class Mapping(dict):  # type: ignore[type-arg]
    """A decoded mapping that remembers the keys given more than once."""

    def __init__(self, pairs: list[tuple[str, Any]], lines: list[int] | None = None) -> None:
        super().__init__()
        self.duplicates: list[tuple[str, str]] = []  # (key, "line N" or "")
        for i, (key, value) in enumerate(pairs):
            if key in self:
                self.duplicates.append((key, f"line {lines[i]}" if lines else ""))
            else:
                self[key] = value


# ---------------------------------------------------------------- bytes to text
_BAD_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def to_text(raw: bytes) -> str:
    """UTF-8 (a byte-order mark is allowed, and so is UTF-16 with one), no binary."""
    if len(raw) > MAX_FORM_BYTES:
        raise DecodeError(f"the file is larger than {MAX_FORM_BYTES // 1024} KiB "
                          f"({len(raw):,} bytes); attach long material separately")
    if not raw.strip():
        raise DecodeError("the file is empty")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif b"\x00" in raw[:8192]:
        raise DecodeError("a binary file, not a text form (it contains NUL bytes)")
    else:
        encoding = "utf-8-sig"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DecodeError(f"not UTF-8 text (byte {exc.start} cannot be read); "
                          "save the file as UTF-8") from None
    bad = _BAD_CONTROL.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        raise DecodeError(f"not a text file: control character {ord(bad.group()):#04x} "
                          f"on line {line}")
    return text


# ---------------------------------------------------------------- JSON
_TOO_DEEP = object()


def _json_constant(name: str) -> Any:
    raise DecodeError(f"invalid JSON: {name} is not a JSON value")


def _json_pairs(pairs: list[tuple[str, Any]]) -> Mapping:
    return Mapping(pairs)


def load_json(text: str) -> Any:
    try:
        tree = json.loads(text, parse_int=Number, parse_float=Number,
                          parse_constant=_json_constant, object_pairs_hook=_json_pairs)
    except json.JSONDecodeError as exc:
        raise DecodeError(f"invalid JSON at line {exc.lineno} column {exc.colno}: "
                          f"{exc.msg}") from None
    except RecursionError:  # the decoder stops at Python's recursion limit, cleanly
        tree = _TOO_DEEP
    if tree is _TOO_DEEP or depth(tree) > MAX_DEPTH:
        raise DecodeError(f"nested more than {MAX_DEPTH} levels deep")
    return tree


# ---------------------------------------------------------------- YAML (1.2 core schema)
class _Resolver(BaseResolver):
    pass


_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"))
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"))
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+.0123456789"))


def _where(node: Node) -> str:
    return f"line {node.start_mark.line + 1}"


class _Composer(Composer):
    _depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(AliasEvent):
            event = self.peek_event()
            raise DecodeError(f"line {event.start_mark.line + 1}: aliases (*{event.anchor}) "
                              "are not supported; write the value out")
        if not self.check_event(SequenceStartEvent, MappingStartEvent):
            return super().compose_node(parent, index)
        self._depth += 1  # counted like JSON: lists and mappings, not scalars
        try:
            if self._depth > MAX_DEPTH:
                raise DecodeError(f"nested more than {MAX_DEPTH} levels deep")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _Constructor(BaseConstructor):
    def construct_undefined(self, node: Node) -> Any:
        tag = str(node.tag).replace("tag:yaml.org,2002:", "!!")
        raise DecodeError(f"{_where(node)}: the tag {tag} is not supported; remove it")

    def construct_str(self, node: Node) -> str:
        return str(node.value)

    def construct_null(self, node: Node) -> None:
        return None

    def construct_bool(self, node: Node) -> bool:
        return str(node.value).lower() == "true"

    def construct_number(self, node: Node) -> Number:
        return Number(str(node.value))

    def construct_seq(self, node: Node) -> list[Any]:
        return [self.construct_object(child, deep=True) for child in node.value]

    def construct_map(self, node: Node) -> Mapping:
        assert isinstance(node, MappingNode)
        pairs: list[tuple[str, Any]] = []
        lines: list[int] = []
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise DecodeError(f"{_where(key_node)}: a field name must be a plain name, "
                                  "not a list or a mapping")
            pairs.append((str(key_node.value), self.construct_object(value_node, deep=True)))
            lines.append(key_node.start_mark.line + 1)
        return Mapping(pairs, lines)


_Constructor.add_constructor("tag:yaml.org,2002:str", _Constructor.construct_str)
_Constructor.add_constructor("tag:yaml.org,2002:null", _Constructor.construct_null)
_Constructor.add_constructor("tag:yaml.org,2002:bool", _Constructor.construct_bool)
_Constructor.add_constructor("tag:yaml.org,2002:int", _Constructor.construct_number)
_Constructor.add_constructor("tag:yaml.org,2002:float", _Constructor.construct_number)
_Constructor.add_constructor("tag:yaml.org,2002:seq", _Constructor.construct_seq)
_Constructor.add_constructor("tag:yaml.org,2002:map", _Constructor.construct_map)
_Constructor.add_constructor(None, _Constructor.construct_undefined)


class _Loader(Reader, Scanner, Parser, _Composer, _Constructor, _Resolver):
    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        _Composer.__init__(self)
        _Constructor.__init__(self)
        _Resolver.__init__(self)


try:
    from yaml._yaml import CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    CParser = None

if CParser is not None:
    class _FastLoader(CParser, _Composer, _Constructor, _Resolver):  # type: ignore[misc]
        """libyaml scans and parses (fast); the nodes are still composed here, where
        depth and aliases are checked."""

        get_single_node = _Composer.get_single_node
        get_node = _Composer.get_node
        check_node = _Composer.check_node

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _Composer.__init__(self)
            _Constructor.__init__(self)
            _Resolver.__init__(self)

    _LOADER: type[Any] = _FastLoader
else:  # pragma: no cover
    _LOADER = _Loader

_HINTS = {
    "mapping values are not allowed here": " (text containing ': ' must be in quotes)",
    "mapping values are not allowed in this context":
        " (text containing ': ' must be in quotes)",
    "found character '\\t' that cannot start any token": " (indent with spaces, not tabs)",
    "found character that cannot start any token":
        " (indent with spaces, not tabs; text starting with @ or ` goes in quotes)",
}


def load_yaml(text: str, *, pure_python: bool = False) -> Any:
    """``pure_python`` uses PyYAML's own scanner, as on a machine without libyaml."""
    loader = (_Loader if pure_python else _LOADER)(text)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = exc.problem or exc.context or "unreadable"
        hint = _HINTS.get(problem, "")
        if "tab character" in problem:
            hint = " (indent with spaces, not tabs)"
        if exc.context and problem.startswith("but "):
            problem = f"{exc.context}, {problem}"
        raise DecodeError(f"invalid YAML{where}: {problem}{hint}") from None
    except ReaderError as exc:
        raise DecodeError(f"invalid YAML: character U+{exc.character:04X} at position "
                          f"{exc.position} is not allowed in YAML") from None
    except yaml.YAMLError as exc:
        raise DecodeError(f"invalid YAML: {exc}") from None
    except RecursionError:
        raise DecodeError(f"nested more than {MAX_DEPTH} levels deep") from None
    finally:
        loader.dispose()
