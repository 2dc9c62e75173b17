"""Import of past cases (issue 12): good CSV and JSON files become real cases that timing
counts; every bad row is named and nothing is written; a second run adds nothing."""

from __future__ import annotations

import json
import random
import string
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from cvdesk.domain.errors import Conflict
from cvdesk.intake.history_file import HistoryFileError, parse_history
from cvdesk.services.cases import CaseService
from cvdesk.services.history_import import HistoryImport
from cvdesk.services.metrics_timing import MetricsTiming
from cvdesk.store.tables import CaseRow, EventRow, ParticipantRow
from tests.conftest import Cli, table_counts, until_blocked

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOW = datetime(2026, 11, 2, tzinfo=UTC)
HEADER = "reference,title,vendor,reported,acknowledged,replied,V,F,D,P,X,A,closed\n"


def by(report_part, measure, group="all"):  # type: ignore[no-untyped-def]
    return next(d for d in report_part if d.measure == measure and d.group == group)


def test_csv_import_makes_real_cases_that_timing_counts(service: CaseService) -> None:
    result = HistoryImport(service).run(EXAMPLES / "past-cases.csv")
    assert [c.reference for c in result.imported] == [
        "VU-2023-001", "VU-2023-002", "VU-2023-003", "VU-2023-004", "VU-2024-001",
        "VU-2024-002"]
    assert result.imported[1].vendors == 2 and not result.imported[-1].closed
    with service.db.sessions() as s:
        rows = {r.case_id: r for r in s.scalars(select(CaseRow))}
        first = rows[result.imported[0].case_id or ""]
        assert first.status == "closed" and first.pxa == "Pxa"
        assert first.pxa_times["P"].startswith("2023-03-22")
        vfd = s.execute(select(ParticipantRow.name, ParticipantRow.vfd_times)
                        .where(ParticipantRow.case_pk == first.id,
                               ParticipantRow.is_vendor.is_(True))).all()
        assert vfd[0][0] == "Initech" and vfd[0][1]["F"].startswith("2023-03-20")
        opened = s.execute(select(EventRow.actor, EventRow.reason).where(
            EventRow.case_pk == first.id, EventRow.type == "case.opened")).one()
        assert opened == ("import", "imported from past-cases.csv; reference VU-2023-001")
    report = MetricsTiming(service.db, service.settings).timing(until=date(2024, 12, 31))
    # acknowledged after 1, 0, 1, 1, 0, 2 days
    ack = by(report.overall, "acknowledgement")
    assert (ack.count, ack.median) == (6, 1.0)
    assert by(report.overall, "first reply").count == 6  # Vandelay never replied
    assert by(report.per_vendor, "fix ready", "Hooli").days == (70.0,)
    assert by(report.per_coordinator, "publication", "import").count == 5


def test_json_import_with_a_vendors_list(service: CaseService) -> None:
    result = HistoryImport(service).run(EXAMPLES / "past-cases.json")
    assert [(c.reference, c.vendors) for c in result.imported] == [
        ("PSIRT-2022-17", 2), ("PSIRT-2022-21", 1), ("PSIRT-2023-04", 1)]
    report = MetricsTiming(service.db, service.settings).timing(vendor="massive dynamic")
    assert by(report.per_vendor, "first reply", "Massive Dynamic").days == (8.0,)
    assert by(report.overall, "publication").days == (52.0,)
    # 16:30 at +02:00 on the day reported is 0.6 days after midnight UTC
    assert by(report.overall, "acknowledgement").days == (pytest.approx(14.5 / 24),)


def test_three_bad_rows_are_all_named_and_nothing_is_written(
        service: CaseService, db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(HEADER
                    + "OK-1,Fine,Acme,2023-01-05,,,2023-01-06,2023-02-01,,,,,\n"
                    + "BAD-1,Fix first,Acme,2023-01-05,,,,2023-01-09,,,,,\n"
                    + "BAD-2,Bad date,Acme,2023-02-30,,,,,,,,,\n"
                    + "OK-2,Fine too,Beta,2023-03-01,,,,,,,,,\n"
                    + "BAD-3,,Acme,2023-01-05,,,2023-01-04,,,,,,2023-01-03\n",
                    encoding="utf-8")
    before = table_counts(db_url)
    with pytest.raises(HistoryFileError) as caught:
        HistoryImport(service).run(path)
    rows = {where for where, _, _ in caught.value.problems}
    assert rows == {"row 3", "row 4", "row 6"}
    text = str(caught.value)
    assert "3 bad row(s), nothing imported" in text
    assert "row 3, F: 2023-01-09: fix ready (F) needs the vendor aware (V) first" in text
    assert "row 4, reported: '2023-02-30' is not a date" in text
    assert "row 6, title: missing" in text
    assert "row 6, V: 2023-01-04 is before the case was reported" in text
    assert "row 6, V: 2023-01-04 is after the case was closed (2023-01-03)" in text
    assert table_counts(db_url) == before


def test_importing_twice_adds_nothing(service: CaseService, db_url: str) -> None:
    first = HistoryImport(service).run(EXAMPLES / "past-cases.csv")
    counts = table_counts(db_url)
    again = HistoryImport(service).run(EXAMPLES / "past-cases.csv")
    assert again.imported == ()
    assert [r for r, _ in again.skipped] == [c.reference for c in first.imported]
    assert [c for _, c in again.skipped] == [c.case_id for c in first.imported]
    assert table_counts(db_url) == counts


def test_dry_run_writes_nothing(service: CaseService, db_url: str) -> None:
    before = table_counts(db_url)
    result = HistoryImport(service).run(EXAMPLES / "past-cases.json", dry_run=True)
    assert len(result.imported) == 3 and all(c.case_id is None for c in result.imported)
    assert table_counts(db_url) == before


def test_a_refusal_of_the_domain_is_named_by_row(service: CaseService,
                                                 tmp_path: Path) -> None:
    """The desk's own name as the vendor: the model refuses two participants of one
    party, and the import names the row instead of failing half-way."""
    path = tmp_path / "desk.json"
    path.write_text(json.dumps([{"id": "R1", "title": "t", "vendor": "cvdesk",
                                 "reported": "2024-01-01"}]), encoding="utf-8")
    with pytest.raises(HistoryFileError, match=r"entry 1, name: 'cvdesk' is already"):
        HistoryImport(service).run(path)


def _parse(text: str, *, as_json: bool = False):  # type: ignore[no-untyped-def]
    return parse_history(text, "t", as_json=as_json, now=NOW)


def test_equal_dates_and_implied_events() -> None:
    same_day = _parse(HEADER + "R,T,Acme,2023-01-05,,,2023-01-05,2023-01-05,2023-01-05,"
                      "2023-01-05,2023-01-05,2023-01-05,2023-01-05\n")
    assert same_day[0].notes == []
    # X before P: the public exploit makes it public then, and the vendor aware
    implied = _parse(HEADER + "R,T,Acme,2023-01-05,,,2023-01-09,,,2023-01-07,2023-01-06,,\n")
    assert [n.split(" taken as ")[0] for n in implied[0].notes] == [
        "R: P (public aware)", "R: V (vendor aware)"]
    # no V given: a reply shows the vendor knew
    assert _parse(HEADER + "R,T,Acme,2023-01-05,,2023-01-06,,2023-01-08,,,,,\n")


def test_file_level_problems() -> None:
    with pytest.raises(HistoryFileError) as caught:
        _parse("reference,title,vendor,reported,fixed\n")
    assert ("row 1", "fixed", "unknown column (known: reference, title, vendor, reported, "
            "acknowledged, P, X, A, closed, replied, V, F, D)") in caught.value.problems
    with pytest.raises(HistoryFileError, match="no past cases"):
        _parse(HEADER)
    with pytest.raises(HistoryFileError, match="entry 1, vendors: give either"):
        _parse(json.dumps([{"id": "R", "title": "t", "reported": "2024-01-01",
                            "vendor": "A", "vendors": [{"name": "B"}]}]), as_json=True)
    with pytest.raises(HistoryFileError, match="row 3, title: differs from row 2"):
        _parse(HEADER + "R,T,A,2023-01-05,,,,,,,,,\nR,U,B,,,,,,,,,,\n")
    with pytest.raises(HistoryFileError, match="row 3, vendor: 'a' is already on row 2"):
        _parse(HEADER + "R,T,A,2023-01-05,,,,,,,,,\nR,,a,,,,,,,,,,\n")
    with pytest.raises(HistoryFileError, match="in the future"):
        _parse(HEADER + "R,T,A,2027-01-05,,,,,,,,,\n")
    with pytest.raises(HistoryFileError, match="outside the years"):
        _parse(HEADER + "R,T,A,1901-01-05,,,,,,,,,\n")
    with pytest.raises(HistoryFileError, match="row 2, replied: 2023-01-06 is before V"):
        _parse(HEADER + "R,T,A,2023-01-05,,2023-01-06,2023-01-07,,,,,,\n")


def test_cli_exit_code_2_names_the_row_and_field(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "R,T,Acme,2023-01-05,,,,,2023-01-09,,,,\n", encoding="utf-8")
    before = cli.counts()
    code, out, err = cli("metrics", "import", str(path))
    assert code == 2, (out, err)
    assert "row 2, D: 2023-01-09" in err and "nothing imported" in err
    assert cli.counts() == before
    done = cli.json("metrics", "import", str(EXAMPLES / "past-cases.json"))
    assert [c["reference"] for c in done["imported"]] == [
        "PSIRT-2022-17", "PSIRT-2022-21", "PSIRT-2023-04"]
    timing = cli.json("metrics", "timing", "--until", "2023-12-31")
    assert timing["overall"][3] == {"measure": "publication", "group": "all", "count": 3,
                                    "median": 52.0, "p90": pytest.approx(72.0)}
    assert "publication" in cli.ok("metrics", "timing")


def test_two_imports_at_once_add_each_case_once(service: CaseService,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The first import holds its transaction open after filing its first reference
    while a second import of the same file runs.  On PostgreSQL the second reads the
    references as new, waits on the first one's key and is refused as a Conflict when
    the first commits; on SQLite it waits for the write lock and then skips them all.
    Either way every case is there once."""
    from cvdesk.services import history_import

    original = history_import.file_reference
    filed, release = threading.Event(), threading.Event()
    first_thread: list[threading.Thread] = []

    def held(conn, reference, case_pk):  # type: ignore[no-untyped-def]
        original(conn, reference, case_pk)
        if threading.current_thread() is first_thread[0] and not filed.is_set():
            filed.set()
            assert release.wait(30)

    monkeypatch.setattr(history_import, "file_reference", held)
    results: dict[str, object] = {}

    def run(name: str) -> None:
        try:
            results[name] = HistoryImport(service).run(EXAMPLES / "past-cases.csv")
        except Exception as exc:
            results[name] = exc

    first = threading.Thread(target=run, args=("first",))
    first_thread.append(first)
    first.start()
    assert filed.wait(30)
    second = threading.Thread(target=run, args=("second",))
    second.start()
    postgres = service.db.backend == "postgresql"
    until_blocked(service.db)  # on PostgreSQL: the second waits on the first one's key
    release.set()
    first.join(30)
    second.join(30)
    assert len(results["first"].imported) == 6  # type: ignore[union-attr]
    if postgres:
        assert isinstance(results["second"], Conflict), results["second"]
        assert "VU-2023-001" in str(results["second"]) and "run it again" in str(
            results["second"])
    else:
        assert results["second"].imported == ()  # type: ignore[union-attr]
        assert len(results["second"].skipped) == 6  # type: ignore[union-attr]
    with service.db.sessions() as s:
        opened = s.scalars(select(EventRow.reason).where(
            EventRow.type == "case.opened", EventRow.actor == "import")).all()
    assert len(opened) == len(set(opened)) == 6
    again = HistoryImport(service).run(EXAMPLES / "past-cases.csv")
    assert again.imported == () and len(again.skipped) == 6


def test_a_reference_must_be_short_and_without_control_characters() -> None:
    long = "R" * 201
    with pytest.raises(HistoryFileError) as refused:
        _parse(HEADER + f"{long},T,Acme,2023-01-05,,,,,,,,,\n"
               + "A\tB,T,Acme,2023-01-05,,,,,,,,,\n"
               + "A\x00B,T,Acme,2023-01-05,,,,,,,,,\n")
    text = str(refused.value)
    assert "row 2, reference: must be at most 200 characters without control" in text
    assert "row 3, reference" in text and "row 4, reference" in text
    # what a spreadsheet writes is kept: a no-break space, letters of any script
    fine = _parse(HEADER + "VU\u00a02023 \u8106\u5f31\u6027,T,Acme,2023-01-05,,,,,,,,,\n")
    assert fine[0].reference == "VU\u00a02023 \u8106\u5f31\u6027"


def test_the_migration_files_references_imported_before(service: CaseService) -> None:
    """A database upgraded to 0016 keeps the imports made before it: their references
    are read from the cases' opening reasons, and the file is not imported again."""
    from alembic import command

    from cvdesk.store import migrate
    from cvdesk.store.cases import CaseRepository
    from cvdesk.store.tables import ImportedReferenceRow

    first = HistoryImport(service).run(EXAMPLES / "past-cases.csv")
    # An import before 0016 took references of any length: one of 6,000 characters that
    # do not compress (over PostgreSQL's B-tree key limit) is filed too.
    [past] = _parse(HEADER + "LONG,T,Acme,2023-01-05,,,,,,,,,\n")
    long = "".join(random.Random(1).choices(string.ascii_letters + string.digits, k=6000))
    past.reference = long
    with service.db.transaction() as s:
        repo = CaseRepository(s)
        long_id = repo.new_case_id(2023)
        repo.add(HistoryImport(service).build(past, long_id, "old.csv"))
    cfg = migrate.alembic_config(service.db)
    with service.db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0015")
    assert migrate.current_revision(service.db) == "0015"
    assert migrate.upgrade(service.db) == ("0015", "0016")
    with service.db.sessions() as s:
        kept = dict(s.execute(select(ImportedReferenceRow.reference, CaseRow.case_id)
                              .join(CaseRow, CaseRow.id == ImportedReferenceRow.case_pk)).all())
    assert kept == {**{c.reference: c.case_id for c in first.imported}, long: long_id}
    assert HistoryImport(service).run(EXAMPLES / "past-cases.csv").imported == ()


def test_a_huge_file_is_refused_without_reading_it_whole(tmp_path: Path) -> None:
    """A 4 GiB file (sparse: no disk is used) is refused by its size, having read no
    more than the limit."""
    import tracemalloc

    from cvdesk.domain.errors import InvalidInput
    from cvdesk.intake.history_file import MAX_BYTES, read_history_file

    path = tmp_path / "past.csv"
    with path.open("wb") as f:
        f.truncate(4 * 2**30)
    tracemalloc.start()
    try:
        with pytest.raises(InvalidInput, match="larger than 20 MB"):
            read_history_file(path, now=NOW)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * MAX_BYTES


def test_a_deeply_nested_json_file_is_a_problem_not_a_crash(cli: Cli, tmp_path: Path) -> None:
    """Python's JSON reader gives up at its recursion limit with a RecursionError; a file
    of past cases nested that deep is refused like any other bad JSON."""
    with pytest.raises(HistoryFileError, match="nested more than 64 levels deep"):
        _parse("[" * 100_000 + "]" * 100_000, as_json=True)
    path = tmp_path / "deep.json"
    path.write_text("[" * 5_000 + "]" * 5_000, encoding="utf-8")
    before = cli.counts()
    code, out, err = cli("metrics", "import", str(path))
    assert code == 2, (out, err)
    assert "nested more than 64 levels deep" in err and "Traceback" not in err
    assert cli.counts() == before


@pytest.mark.parametrize(("text", "says"), [
    (HEADER + "R," + "t" * 200_000 + ",A,2023-01-05,,,,,,,,,\n",
     ("row 2", "file", "not readable as CSV (field larger than field limit (131072))")),
    (HEADER + 'R,"T,A,2023-01-05,,,,,,,,,\nS,U,B,2023-01-05,,,,,,,,,\n',
     ("row 3", "file", "not readable as CSV (unexpected end of data)")),
])
def test_csv_that_cannot_be_read_is_named(text: str, says: tuple[str, str, str]) -> None:
    with pytest.raises(HistoryFileError) as caught:
        _parse(text)
    assert caught.value.problems == [says]
