"""Reading one field of a decoded form, with problems said in the file's own terms.

A problem names the field by its path in the file (``products[1].versions[0]``)
and says what was expected in plain words (text, true or false, a list, field:
value pairs); it never names a Python type.  Reading goes on after a problem, so
one pass over the file lists every mistake, one line each.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

from cvdesk.intake.decode import Mapping, Number

Path = tuple[str | int, ...]
MAX_PROBLEMS = 30

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]{1,40}")
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class Bad(Exception):
    """Raised by a value check: the message says what is wrong with the value."""


def show(value: str, limit: int = 60) -> str:
    """A value quoted for a message: shortened, with control characters made visible."""
    short = value if len(value) <= limit else value[:limit] + "..."
    return "'" + _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}"
                                  if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}",
                                  short) + "'"


def path_text(path: Path) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            name = part if _PLAIN_KEY.fullmatch(part) else show(part, 40)
            out += f".{name}" if out else name
    return out or "(file)"


def describe(value: Any) -> str:
    """What a value is, in words a person who wrote the file would use."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Number | int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "field: value pairs"
    return "a value of another kind"


class Problems:
    """The problems found so far, each (field path, message)."""

    def __init__(self) -> None:
        self.items: list[tuple[Path, str]] = []

    def add(self, path: Path, message: str) -> None:
        self.items.append((path, message))

    @property
    def count(self) -> int:
        return len(self.items)

    def listing(self, data: Any) -> list[tuple[str, str]]:
        """The problems in the order their fields appear in the file, at most MAX_PROBLEMS
        of them, each with its path as text."""
        positions: dict[int, dict[str, int]] = {}
        ordered = sorted(self.items, key=lambda item: _file_order(data, item[0], positions))
        out = [(path_text(path), message) for path, message in ordered[:MAX_PROBLEMS]]
        if len(ordered) > MAX_PROBLEMS:
            out.append(("(file)", f"... and {len(ordered) - MAX_PROBLEMS} more problem(s)"))
        return out

    def __bool__(self) -> bool:
        return bool(self.items)


def _file_order(data: Any, path: Path, positions: dict[int, dict[str, int]]
                ) -> tuple[int, ...]:
    """Where a path sits in the file: the position of each of its steps.  Fields that are
    missing sort after the ones given, in the order they were read."""
    order: list[int] = []
    node = data
    for step in path:
        if isinstance(node, dict) and isinstance(step, str) and step in node:
            if id(node) not in positions:
                positions[id(node)] = {key: i for i, key in enumerate(node)}
            order.append(positions[id(node)][step])
            node = node[step]
        elif isinstance(node, list) and isinstance(step, int) and step < len(node):
            order.append(step)
            node = node[step]
        else:
            order.append(1 << 30)
            break
    return tuple(order)


def _as_text(value: Any) -> str:
    """A scalar as the text it stands for; raises Bad when it is not text."""
    if isinstance(value, str):
        return value
    if isinstance(value, Number):
        return value.text
    if isinstance(value, bool):
        raise Bad(f"expected text, found {describe(value)}; put it in quotes")
    if isinstance(value, int):
        try:
            return str(value)
        except ValueError:  # longer than Python will print
            raise Bad("expected text, found a number with too many digits") from None
    if isinstance(value, float):
        raise Bad("expected text, found a number; put it in quotes so it keeps its digits")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        raise Bad("expected text, not a list")
    if isinstance(value, dict):
        raise Bad("expected text, not field: value pairs (put text containing ': ' in "
                  "quotes)")
    raise Bad(f"expected text, found {describe(value)}")


def text(problems: Problems, value: Any, path: Path, max_len: int, *,
         required: bool = False, check: Callable[[str], str] | None = None) -> str:
    """A text field; '' when absent (or when it has a problem, which is recorded)."""
    try:
        result = _as_text(value).strip() if value is not None else ""
        if "\x00" in result:
            raise Bad("contains a NUL character")
        if _SURROGATE.search(result):
            raise Bad("contains an invalid character (an unpaired UTF-16 surrogate)")
        if len(result) > max_len:
            raise Bad(f"too long ({len(result):,} characters; at most {max_len:,})")
        if not result:
            if required:
                raise Bad("required field is missing" if value is None
                          else "must not be empty")
            return ""
        return check(result) if check else result
    except Bad as exc:
        problems.add(path, str(exc))
        return ""


_FLAG_WORDS = {"true", "false", "yes", "no", "on", "off", "y", "n", "1", "0"}


def flag(problems: Problems, value: Any, path: Path) -> bool | None:
    """A yes/no field: only true and false themselves.  None when absent or wrong."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        problems.add(path, f"write true or false without quotes (found the text {show(value)})")
    elif isinstance(value, str) and value.strip().lower() in _FLAG_WORDS:
        problems.add(path, f"write true or false (found {show(value)}, which is read as text)")
    else:
        problems.add(path, f"expected true or false, found {describe(value)}")
    return None


def items(problems: Problems, value: Any, path: Path, max_items: int,
          what: str = "items") -> list[tuple[Path, Any]]:
    """The entries of a list field with their paths.  A single entry written without the
    list brackets counts as a list of one (its path is the field's own)."""
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        return [(path, value)]
    if len(value) > max_items:
        problems.add(path, f"too many {what} ({len(value):,}; at most {max_items:,})")
        return []
    out: list[tuple[Path, Any]] = []
    for i, item in enumerate(value):
        if item is None:
            problems.add((*path, i), "empty entry; remove it or fill it in")
        else:
            out.append(((*path, i), item))
    return out


def _snake(key: str) -> str:
    key = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key.strip())
    return re.sub(r"[\s\-.]+", "_", key).lower()


def suggestion(key: str, known: Iterable[str], synonyms: dict[str, str]) -> str | None:
    known = list(known)
    plain = _snake(key)
    if plain in known:
        return plain
    if plain in synonyms:
        return synonyms[plain]
    close = difflib.get_close_matches(plain, known, n=1, cutoff=0.7)
    return close[0] if close else None


def fields(problems: Problems, value: Any, path: Path, known: Iterable[str], *,
           what: str, synonyms: dict[str, str] | None = None) -> dict[str, Any] | None:
    """The field: value pairs of an object.  Unknown names and names given twice are
    problems (with the nearest known name); None when the value is not pairs at all."""
    if not isinstance(value, dict):
        problems.add(path, f"expected {what} as field: value pairs, found {describe(value)}")
        return None
    known = tuple(known)
    for key, where in value.duplicates if isinstance(value, Mapping) else ():
        at = f" (again on {where})" if where else ""
        problems.add((*path, key), f"given more than once{at}; keep one")
    out: dict[str, Any] = {}
    moved: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            problems.add(path, f"field names must be text, found {describe(key)}")
        elif key in known:
            out[key] = item
        else:
            near = suggestion(key, known, synonyms or {})
            problems.add((*path, key), f"unknown field; did you mean '{near}'?" if near
                         else "unknown field")
            if near in known and near not in value:
                moved.setdefault(near, item)
    # A misspelt name is read as the name it resembles: the form is refused already, and
    # this way its value is still checked and the field does not also count as missing.
    return {**moved, **out}
