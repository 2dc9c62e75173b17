"""Reading the bytes of a form file: hostile and broken files end in FormError, never in a
traceback (RecursionError, Python's int-string limit, YAML constructors, decoding)."""

from __future__ import annotations

import codecs
import json
import sys
from pathlib import Path

import pytest

from cvdesk.intake import FormError, load_report_bytes, load_report_file
from cvdesk.intake.decode import MAX_DEPTH, MAX_FORM_BYTES, DecodeError, Number, load_yaml

FORM = {"title": "t", "description": "d", "reporter": {"name": "n"}}


def refused(raw: bytes, fmt: str) -> str:
    with pytest.raises(FormError) as caught:
        load_report_bytes(raw, fmt, "form")
    assert "Traceback" not in str(caught.value)
    return "\n".join(f"{f}: {m}" for f, m in caught.value.problems)


@pytest.mark.parametrize(("raw", "fmt"), [
    (b"[" * 10_000 + b"]" * 10_000, "json"),
    (b'{"a":' * 10_000 + b"1" + b"}" * 10_000, "json"),
    (b"[" * 10_000 + b"]" * 10_000, "yaml"),
    (b"".join(b"  " * i + b"- \n" for i in range(500)), "yaml"),
    (b"".join(b"  " * i + b"k:\n" for i in range(500)), "yaml"),
    (json.dumps({**FORM, "products": [[[[[[[[[[[[[[[[[[[[["deep"]]]]]]]]]]]]]]]]]]]]]})
     .encode(), "json"),
])
def test_deep_nesting_is_refused(raw: bytes, fmt: str) -> None:
    assert refused(raw, fmt) == f"(file): nested more than {MAX_DEPTH} levels deep"


def test_the_nesting_limit_holds_at_any_stack_depth() -> None:
    """The JSON decoder stops at Python's recursion limit; what is left of the stack must
    not change the answer."""
    def nest(levels: int) -> str:
        if levels:
            return nest(levels - 1)
        return refused(b"[" * 5_000 + b"]" * 5_000, "json")
    assert nest(sys.getrecursionlimit() - 200).endswith("levels deep")


def test_enormous_numbers_are_kept_as_text_or_refused_by_length() -> None:
    assert "title: too long (100,001 characters" in refused(
        b'{"title": 1' + b"0" * 100_000 + b', "description": "d", "reporter": "n"}', "json")
    assert "title: too long" in refused(b"title: 1" + b"0" * 100_000 + b"\n", "yaml")
    report = load_report_bytes(b'{"title": 1e999, "description": -1E-999, "reporter": "n", '
                               b'"tracking_ids": [1' + b"0" * 150 + b"]}", "json")
    assert (report.title, report.description) == ("1e999", "-1E-999")
    assert report.tracking_ids == ("1" + "0" * 150,)
    assert "NaN is not a JSON value" in refused(b'{"title": NaN}', "json")
    assert "Infinity is not a JSON value" in refused(b'{"title": -Infinity}', "json")


def test_a_file_over_the_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    big = b'{"title": ' + b"9" * (5 * 1024 * 1024) + b"}"
    assert refused(big, "json").startswith(f"(file): the file is larger than "
                                           f"{MAX_FORM_BYTES // 1024} KiB")
    path = tmp_path / "big.json"
    path.write_bytes(big)
    with pytest.raises(FormError, match="larger than 1024 KiB"):
        load_report_file(path)


@pytest.mark.parametrize(("raw", "says"), [
    (b"a: &x [1, 2]\nb: [*x, *x]\n", "line 2: aliases (*x) are not supported"),
    (b"title: !!python/object/apply:os.system [echo hi]\n", "the tag !!python/object"),
    (b"title: !!binary aGVsbG8=\n", "the tag !!binary is not supported"),
    (b"title: !custom x\n", "the tag !custom is not supported"),
    (b"title: !!set {a, b}\n", "the tag !!set is not supported"),
    (b"? [a, b]\n: c\n", "a field name must be a plain name"),
    (b"title: a\ntitle: b\n", "title: given more than once (again on line 2)"),
    (b"---\ntitle: a\n---\ntitle: b\n", "expected a single document"),
    (b"title: t\n\tdescription: d\n", "indent with spaces, not tabs"),
    (b"description: Note: it crashes\n", "text containing ': ' must be in quotes"),
    (b"title: \xc2\x85\xc2\x80\n", "invalid YAML"),
])
def test_yaml_features_a_form_never_needs(raw: bytes, says: str) -> None:
    assert says in refused(raw, "yaml")


@pytest.mark.parametrize("pure_python", [False, True])
def test_both_yaml_readers_use_the_core_schema(pure_python: bool) -> None:
    tree = load_yaml("a: [yes, no, on, off, y, n, True, false, ~, null, '', 1.10, 0x1F, 007, "
                     "2026-10-30, 2027-02-01T18:00:00Z, .inf, 1_000, <<]\n",
                     pure_python=pure_python)
    assert tree == {"a": ["yes", "no", "on", "off", "y", "n", True, False, None, None, "",
                          Number("1.10"), Number("0x1F"), Number("007"), "2026-10-30",
                          "2027-02-01T18:00:00Z", Number(".inf"), "1_000", "<<"]}
    with pytest.raises(DecodeError, match="aliases"):
        load_yaml("a: &x 1\nb: *x\n", pure_python=pure_python)
    with pytest.raises(DecodeError, match="levels deep"):
        load_yaml("[" * 100 + "]" * 100, pure_python=pure_python)


@pytest.mark.parametrize(("raw", "says"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a binary file, not a text form"),
    (bytes(range(256)) * 4, "a binary file, not a text form"),
    (b"title: caf\xe9\n", "not UTF-8 text (byte 10 cannot be read)"),
    (b"\xff\xd8\xff\xe0 jpeg-ish", "not UTF-8 text"),
    (b"title: t\x07\n", "not a text file: control character 0x07 on line 1"),
    (b"", "the file is empty"),
    (b"  \n\n", "the file is empty"),
    (b"# only a comment\n", "the form is empty"),
])
def test_files_that_are_not_text(raw: bytes, says: str) -> None:
    for fmt in ("json", "yaml"):
        if fmt == "json" and says == "the form is empty":
            continue
        assert says in refused(raw, fmt)


def test_byte_order_marks_are_fine() -> None:
    text = json.dumps(FORM)
    for raw in (codecs.BOM_UTF8 + text.encode(), text.encode("utf-16"),
                codecs.BOM_UTF16_BE + text.encode("utf-16-be")):
        assert load_report_bytes(raw, "json").title == "t"
        assert load_report_bytes(raw, "yaml").title == "t"


def test_duplicate_keys_at_any_depth_in_json() -> None:
    raw = (b'{"title": "t", "description": "d", "reporter": {"name": "n"}, "products": '
           b'[{"product": "p", "versions": [{"fixed": "1", "fixed": "2"}]}]}')
    assert refused(raw, "json") == ("products[0].versions[0].fixed: given more than once; "
                                    "keep one")


@pytest.mark.parametrize(("name", "says"), [
    ("missing.yaml", "(file): no such file"), ("form.txt", "unknown format"),
    ("adir.yaml", "(file): is a directory"),
])
def test_files_that_cannot_be_read(tmp_path: Path, name: str, says: str) -> None:
    (tmp_path / "adir.yaml").mkdir()
    (tmp_path / "form.txt").write_text("title: t\n")
    with pytest.raises(FormError) as caught:
        load_report_file(tmp_path / name)
    assert says in str(caught.value)


@pytest.mark.parametrize("pure_python", [False, True])
def test_json_and_yaml_count_nesting_alike(pure_python: bool) -> None:
    from cvdesk.intake.decode import load_json
    fits, too_deep = "[" * MAX_DEPTH + "1" + "]" * MAX_DEPTH, "[" * 21 + "]" * 21
    assert load_json(fits) == load_yaml(fits, pure_python=pure_python)
    for reader in (load_json, lambda t: load_yaml(t, pure_python=pure_python)):
        with pytest.raises(DecodeError, match="nested more than 20 levels deep"):
            reader(too_deep)
