"""A file of past cases (CSV or JSON) read and checked before anything is imported
(issue 12: "measure its past before adopting the desk").

One vendor per CSV row: several rows with the same reference are one case with several
vendors, and their case-wide columns (title, reported, acknowledged, P, X, A, closed)
must agree or be left empty on the later rows.  In JSON a case is one object with
either ``vendor`` (one) or ``vendors`` (a list of objects with ``name``, ``replied``,
``V``, ``F``, ``D``), or several objects with the same reference, as in CSV.

Columns: ``reference`` (or ``id``), ``title``, ``vendor``, ``reported`` are required;
``acknowledged``, ``replied`` (the vendor's first reply), ``V``, ``F``, ``D`` (per
vendor), ``P``, ``X``, ``A`` (per case) and ``closed`` are optional.  A date is
2023-05-01 (midnight UTC) or an ISO 8601 date-time (UTC when it has no offset).

Every row is checked before any is accepted, and every problem is named (CSV rows are
counted as a spreadsheet shows them: the header is row 1; JSON objects as entry 1, 2
...).  The order of the events must be one the case-state model allows (Vultron CS:
V before F before D; P needs V before it or right after it; X needs P before it or right
after it); equal dates are taken in the model's order V F D P X A.  Where the model
makes one event bring another at once (the public knowing makes the vendor aware, a
public exploit makes the vulnerability public, a reply shows the vendor knew), the
desk records the implied event then, as it does for live cases; a later date given for
it is noted, not kept."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from cvdesk.domain.cs import CS_MACHINE, ORDER, CSEvent, CSState, forced_next
from cvdesk.domain.errors import InvalidInput
from cvdesk.domain.model import YEARS
from cvdesk.domain.safetext import parse_json

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 20_000
#: A reference is stored as the key that keeps a case from being imported twice.
MAX_REFERENCE = 200
CASE_DATES = ("reported", "acknowledged", "P", "X", "A", "closed")
VENDOR_DATES = ("replied", "V", "F", "D")
COLUMNS = ("reference", "title", "vendor", *CASE_DATES, *VENDOR_DATES)
REQUIRED = ("reference", "title", "vendor", "reported")
_ALIASES = {"id": "reference", "ref": "reference", "name": "vendor"}
_LETTERS = {e.value.lower(): e.value for e in CSEvent}


class HistoryFileError(InvalidInput):
    """A file of past cases with problems: ``problems`` holds (where, field, problem)."""

    def __init__(self, source: str, problems: list[tuple[str, str, str]]) -> None:
        self.problems = problems
        rows = len({w for w, _, _ in problems})
        problems = sorted(problems, key=lambda x: _place(x[0]))
        lines = "\n  ".join(f"{w}, {f}: {p}" for w, f, p in problems)
        super().__init__(source, f"{rows} bad row(s), nothing imported\n  {lines}")


def _place(where: str) -> tuple[int, ...]:
    """Rows in file order: "file" first, then row 1, 2 ... (entry 3, vendors[2] as 3, 2)."""
    return tuple(int(n) for n in re.findall(r"\d+", where))


def show(at: datetime) -> str:
    """A date as the file would give it: the day alone at midnight UTC."""
    if at.utcoffset() == timedelta(0) and at.time() == time():
        return at.date().isoformat()
    return at.isoformat()


@dataclass
class PastVendor:
    name: str
    where: str
    dates: dict[str, datetime] = field(default_factory=dict)  # replied V F D


@dataclass
class PastCase:
    """One past case as the file gives it; ``where`` names its first row, ``origin``
    the row each case-wide field came from, ``notes`` the implied events' dates."""

    reference: str
    where: str
    title: str = ""
    dates: dict[str, datetime] = field(default_factory=dict)  # reported ... closed
    origin: dict[str, str] = field(default_factory=dict)
    vendors: list[PastVendor] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    bad: set[str] = field(default_factory=set)  # fields named already (unreadable)


class _Problems(list[tuple[str, str, str]]):
    def add(self, where: str, name: str, problem: str) -> None:
        self.append((where, name, problem))


# ------------------------------------------------------------------ values
def parse_date(text: str) -> datetime:
    """A date (midnight UTC) or an ISO 8601 date-time (UTC when it has no offset)."""
    text = text.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"'{text}' is not a date (2023-05-01) or an ISO 8601 date-time "
                         "(2023-05-01T14:00+02:00)") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _column(name: str) -> str | None:
    key = name.strip()
    if key.lower() in _LETTERS:
        return _LETTERS[key.lower()]
    key = _ALIASES.get(key.lower(), key.lower())
    return key if key in COLUMNS else None


# ------------------------------------------------------------------ reading
def read_history_file(path: Path, *, now: datetime) -> list[PastCase]:
    """The past cases of a .csv or .json file, checked; HistoryFileError names every
    bad row.  ``now``: no event may be later (these are past cases)."""
    source = path.name
    try:
        with path.open("rb") as handle:  # no more than the limit is read, whatever the size
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise InvalidInput("file", f"{path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:
        raise InvalidInput("file", f"{source} is larger than {MAX_BYTES // 1024 // 1024} MB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("file", f"{source} is not UTF-8 text") from None
    as_json = path.suffix.lower() == ".json" or (
        path.suffix.lower() != ".csv" and text.lstrip().startswith("["))
    return parse_history(text, source, as_json=as_json, now=now)


def parse_history(text: str, source: str, *, as_json: bool, now: datetime) -> list[PastCase]:
    problems = _Problems()
    rows = _json_rows(text, problems) if as_json else _csv_rows(text, problems)
    if len(rows) > MAX_ROWS:
        raise InvalidInput("file", f"{source} has more than {MAX_ROWS} rows")
    if not rows and not problems:
        problems.add("file", "rows", "no past cases in the file")
    cases = _group(rows, problems, now)
    for case in cases:
        _check_case(case, problems)
    if problems:
        raise HistoryFileError(source, problems)
    return cases


Row = tuple[str, dict[str, Any]]  # (where, values by column)


def _csv_rows(text: str, problems: _Problems) -> list[Row]:
    # strict: a quote left open, or text after a closing quote, is an error rather than
    # a cell that runs on to the end of the file
    reader = csv.reader(io.StringIO(text), strict=True)
    try:
        return _csv_cells(reader, problems)
    except csv.Error as exc:  # that, or a cell longer than csv's limit (128 KiB)
        problems.add(f"row {reader.line_num}", "file", f"not readable as CSV ({exc})")
        return []


def _csv_cells(reader: Any, problems: _Problems) -> list[Row]:
    header = next(reader, None)
    if header is None:
        return []
    names: list[str | None] = []
    for raw in header:
        name = _column(raw)
        if name is None and raw.strip():
            problems.add("row 1", raw.strip(), "unknown column (known: "
                         f"{', '.join(COLUMNS)})")
        if name is not None and name in names:
            problems.add("row 1", name, "column given twice")
        names.append(name)
    for need in REQUIRED:
        if need not in names:
            problems.add("row 1", need, "missing column")
    rows: list[Row] = []
    for number, cells in enumerate(reader, 2):
        if not any(c.strip() for c in cells):
            continue
        where = f"row {number}"
        if len(cells) > len(names):
            problems.add(where, "columns", f"{len(cells)} cells, the header has {len(names)}")
        rows.append((where, {n: c for n, c in zip(names, cells, strict=False) if n}))
    return rows


def _json_rows(text: str, problems: _Problems) -> list[Row]:
    try:
        data = parse_json(text)
    except ValueError as exc:
        problems.add("file", "JSON", f"not valid JSON ({exc})")
        return []
    if not isinstance(data, list):
        problems.add("file", "JSON", "must be a list of objects, one per case or vendor")
        return []
    rows: list[Row] = []
    for number, item in enumerate(data, 1):
        where = f"entry {number}"
        if not isinstance(item, dict):
            problems.add(where, "entry", "must be an object")
            continue
        values: dict[str, Any] = {}
        vendors = item.get("vendors")
        for key, value in item.items():
            name = _column(str(key))
            if key == "vendors":
                continue
            if name is None:
                problems.add(where, str(key), f"unknown field (known: {', '.join(COLUMNS)},"
                             " vendors)")
            else:
                values[name] = value
        if vendors is None:
            rows.append((where, values))
            continue
        if "vendor" in values or any(k in values for k in VENDOR_DATES):
            problems.add(where, "vendors", "give either vendors or vendor with its dates, "
                         "not both")
            continue
        if not isinstance(vendors, list) or not vendors:
            problems.add(where, "vendors", "must be a non-empty list of objects")
            continue
        for i, vendor in enumerate(vendors, 1):
            at = f"{where}, vendors[{i}]"
            if not isinstance(vendor, dict):
                problems.add(at, "vendor", "must be an object")
                continue
            one = dict(values)
            for key, value in vendor.items():
                name = _column(str(key))
                if name not in ("vendor", *VENDOR_DATES):
                    problems.add(at, str(key), "unknown field (known: name, "
                                 f"{', '.join(VENDOR_DATES)})")
                else:
                    one[name] = value
            rows.append((at, one))
    return rows


# ------------------------------------------------------------------ checking
def _text(value: Any, where: str, name: str, problems: _Problems) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        problems.add(where, name, "must be text")
        return ""
    return value.strip()


def _date(value: str, where: str, name: str, problems: _Problems,
          now: datetime) -> datetime | None:
    try:
        at = parse_date(value)
    except ValueError as exc:
        problems.add(where, name, str(exc))
        return None
    low, high = YEARS
    if not low <= at.year <= high:
        problems.add(where, name, f"'{value}' is outside the years {low}-{high} that a "
                     "disclosure date can fall in")
        return None
    if at > now:
        problems.add(where, name, f"'{value}' is in the future; these are past cases")
        return None
    return at


def _group(rows: Iterable[Row], problems: _Problems, now: datetime) -> list[PastCase]:
    cases: dict[str, PastCase] = {}
    for where, values in rows:
        text = {n: _text(values.get(n), where, n, problems) for n in COLUMNS}
        reference = text["reference"]
        if not reference:
            problems.add(where, "reference", "missing; every row names its case")
            continue
        if len(reference) > MAX_REFERENCE or any(
                unicodedata.category(ch) == "Cc" for ch in reference):
            problems.add(where, "reference", f"must be at most {MAX_REFERENCE} characters "
                         "without control characters (the desk keeps it to know the case "
                         "again)")
            continue
        case = cases.get(reference)
        if case is None:
            case = cases[reference] = PastCase(reference, where)
        if text["title"]:
            if case.title and case.title != text["title"]:
                problems.add(where, "title", f"differs from {case.origin['title']} (same "
                             f"reference '{reference}')")
            elif not case.title:
                case.title, case.origin["title"] = text["title"], where
        for name in CASE_DATES:
            if not text[name]:
                continue
            at = _date(text[name], where, name, problems, now)
            if at is None:
                case.bad.add(name)
                continue
            if name in case.dates and case.dates[name] != at:
                problems.add(where, name, f"differs from {case.origin[name]} (same "
                             f"reference '{reference}')")
            elif name not in case.dates:
                case.dates[name], case.origin[name] = at, where
        if not text["vendor"]:
            problems.add(where, "vendor", "missing; name the vendor of this row")
            continue
        twin = next((v for v in case.vendors
                     if v.name.casefold() == text["vendor"].casefold()), None)
        if twin is not None:
            problems.add(where, "vendor", f"'{text['vendor']}' is already on {twin.where} "
                         f"of case '{reference}'")
            continue
        vendor = PastVendor(text["vendor"], where)
        for name in VENDOR_DATES:
            if text[name]:
                at = _date(text[name], where, name, problems, now)
                if at is not None:
                    vendor.dates[name] = at
        case.vendors.append(vendor)
    return list(cases.values())


def _check_case(case: PastCase, problems: _Problems) -> None:
    if not case.title:
        problems.add(case.where, "title", f"missing for case '{case.reference}'")
    reported = case.dates.get("reported")
    if reported is None:
        if "reported" not in case.bad:
            problems.add(case.where, "reported", f"missing for case '{case.reference}'")
        return
    closed = case.dates.get("closed")
    dated = [(case.origin[n], n, t) for n, t in case.dates.items() if n != "reported"]
    dated += [(v.where, n, t) for v in case.vendors for n, t in v.dates.items()]
    for where, name, at in dated:
        if at < reported:
            problems.add(where, name, f"{show(at)} is before the case was reported "
                         f"({show(reported)}); the case begins with the report")
        if closed is not None and name != "closed" and at > closed:
            problems.add(where, name, f"{show(at)} is after the case was closed "
                         f"({show(closed)})")
    for vendor in case.vendors:
        replied, aware = vendor.dates.get("replied"), vendor.dates.get("V")
        if replied is not None and aware is not None and replied < aware:
            problems.add(vendor.where, "replied", f"{show(replied)} is before V "
                         f"({show(aware)}); a vendor that replied knew of it")
        for name, problem in walk(vendor, case):
            problems.add(vendor.where if name in VENDOR_DATES else case.origin[name],
                         name, problem)


_WHY = {CSEvent.F: "fix ready (F) needs the vendor aware (V) first",
        CSEvent.D: "fix deployed (D) needs the fix ready (F) first"}


def walk(vendor: PastVendor, case: PastCase) -> list[tuple[str, str]]:
    """One vendor's history (its V F D with the case's P X A) run through the case-state
    model in date order: the problems as (field, text), and the implied events' dates
    noted on the case."""
    given: dict[CSEvent, datetime] = {}
    for name in ("V", "F", "D", "P", "X", "A"):
        at = (vendor.dates if name in VENDOR_DATES else case.dates).get(name)
        if at is not None:
            given[CSEvent(name)] = at
    replied = vendor.dates.get("replied")
    if replied is not None and CSEvent.V not in given:
        given[CSEvent.V] = replied  # a reply shows the vendor knew (V at the reply)
    state: CSState = frozenset()
    implied: dict[CSEvent, datetime] = {}
    for event, at in sorted(given.items(), key=lambda x: (x[1], ORDER.index(x[0]))):
        if event in state:
            if at != implied[event]:
                case.notes.append(
                    f"{case.reference}: {event.value} ({event.title}) taken as "
                    f"{show(implied[event])}, when the model implies it, not the "
                    f"{show(at)} given" + (f" (vendor {vendor.name})"
                                                 if event.value in VENDOR_DATES else ""))
            continue
        if not CS_MACHINE.can(state, event):
            return [(event.value, f"{show(at)}: {_WHY.get(event, 'not allowed here')}"
                     f"; the case-state model does not allow this order")]
        state = CS_MACHINE.table[(state, event)]
        while (forced := forced_next(state)) is not None:
            implied[forced] = at
            state = CS_MACHINE.table[(state, forced)]
    return []
