"""JSON from outside (a directory file, a contact's details, a CSAF provider's metadata,
a file of past cases, a settings variable) is read with ``parse_json``: bad or too
deeply nested text is a ValueError, which every reader already turns into a problem
that names its field, and never Python's RecursionError."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cvdesk.domain.safetext import MAX_JSON_DEPTH, depth, parse_json

values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30)


@given(values)
def test_what_json_writes_reads_back(value: object) -> None:
    assert parse_json(json.dumps(value)) == value
    assert parse_json(json.dumps(value).encode()) == value


@given(st.text(max_size=200) | st.binary(max_size=200))
def test_any_text_is_a_value_or_a_value_error(text: str | bytes) -> None:
    try:
        expected = json.loads(text)
    except ValueError:
        with pytest.raises(ValueError):
            parse_json(text)
    else:  # compared as JSON text: NaN is not equal to itself
        assert json.dumps(parse_json(text)) == json.dumps(expected)


def nested(levels: int, opening: str = "[", closing: str = "]") -> str:
    return opening * levels + closing * levels


@pytest.mark.parametrize("levels", [MAX_JSON_DEPTH + 1, 5_000, 200_000])
def test_deep_nesting_is_a_value_error(levels: int) -> None:
    with pytest.raises(ValueError, match=f"nested more than {MAX_JSON_DEPTH} levels deep"):
        parse_json(nested(levels))
    objects = '{"a":' * levels + "1" + "}" * levels
    with pytest.raises(ValueError, match="levels deep"):
        parse_json(objects)


def test_the_limit_itself_is_read() -> None:
    assert depth(parse_json(nested(MAX_JSON_DEPTH))) == MAX_JSON_DEPTH
    assert parse_json(nested(3), max_depth=3) == [[[]]]
    with pytest.raises(ValueError):
        parse_json(nested(4), max_depth=3)


def test_depth_counts_lists_and_objects_and_stops_early() -> None:
    assert depth(1) == 0
    assert depth([]) == 1
    assert depth({"a": [1, {"b": []}]}) == 4
    assert depth(json.loads(nested(500)), limit=10) == 11
