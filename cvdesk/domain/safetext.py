"""JSON text safe to show a person: shared by every face and by the exports, so a file
written by one face reads the same as what another prints."""

from __future__ import annotations

import json
from typing import Any

# Bidirectional embeddings, overrides and isolates, and the direction marks.
BIDI = (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)
_JSON = {c: f"\\u{c:04x}" for c in (0x7F, *range(0x80, 0xA0), *BIDI)}


_CONTROLS = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]
_LAYOUT = {0x09, 0x0A}  # tab and newline are kept where they lay text out
_VISIBLE = {c: f"\\x{c:02x}" for c in _CONTROLS} | {c: f"\\u{c:04x}" for c in BIDI}
_LINE = {c: v for c, v in _VISIBLE.items() if c not in _LAYOUT}


def visible(text: str, *, layout: bool = True) -> str:
    """``text`` with control characters (C0, DEL, C1) and bidi controls written as visible
    escapes such as ``\\x1b`` and ``\\u202e``; newline and tab stay when ``layout``.  What
    a terminal (cvdesk/cli/output.py) and a published advisory (cvdesk/publish/readable.py)
    show of a stranger's text: an escape sequence cannot act, a bidi override cannot make
    text read as something else."""
    if text.isascii() and text.isprintable():  # most text: nothing to change (80 ns, not 1 µs)
        return text
    return text.translate(_LINE if layout else _VISIBLE)


def json_text(value: Any, *, indent: int | None = 2) -> str:
    """JSON whose strings show control and bidi characters as ``\\u`` escapes: the same
    values for a program, nothing hidden from a person reading it.  Other non-ASCII text
    stays readable."""
    # json escapes C0 itself; DEL, C1 and bidi can only occur inside strings, where a
    # \\u escape is the same character.
    return json.dumps(value, indent=indent, ensure_ascii=False).translate(_JSON)


#: How deeply JSON from outside may nest (lists and objects): deeper than any document
#: cvdesk reads (a CSAF provider's metadata, a contact's details, a file of past
#: cases), and far below the interpreter's own limit, so that whatever is stored can
#: also be written out again.
MAX_JSON_DEPTH = 64


def depth(tree: Any, limit: int | None = None) -> int:
    """How deeply lists and mappings nest (0 for a scalar), without recursion; once past
    ``limit``, the walk stops and says ``limit + 1``."""
    deepest, todo = 0, [(tree, 1)]
    while todo:
        node, level = todo.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            deepest = max(deepest, level)
            if limit is not None and deepest > limit:
                return limit + 1
            todo.extend((child, level + 1) for child in node)
    return deepest


def parse_json(text: str | bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` for text from outside: any problem is a ``ValueError`` (as invalid
    JSON is), a document nested deeper than ``max_depth`` too.  Python's decoder stops
    at its recursion limit with a ``RecursionError``, which callers that expect only
    ``ValueError`` would let through as a crash."""
    try:
        tree = json.loads(text)
    except RecursionError:
        tree = None
    else:
        if depth(tree, max_depth) <= max_depth:
            return tree
    raise ValueError(f"nested more than {max_depth} levels deep")
