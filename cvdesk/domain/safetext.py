"""JSON text safe to show a person: shared by every face and by the exports, so a file
written by one face reads the same as what another prints."""

from __future__ import annotations

import json
from typing import Any

# Bidirectional embeddings, overrides and isolates, and the direction marks.
BIDI = (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)
_JSON = {c: f"\\u{c:04x}" for c in (0x7F, *range(0x80, 0xA0), *BIDI)}


def json_text(value: Any, *, indent: int | None = 2) -> str:
    """JSON whose strings show control and bidi characters as ``\\u`` escapes: the same
    values for a program, nothing hidden from a person reading it.  Other non-ASCII text
    stays readable."""
    # json escapes C0 itself; DEL, C1 and bidi can only occur inside strings, where a
    # \\u escape is the same character.
    return json.dumps(value, indent=indent, ensure_ascii=False).translate(_JSON)
