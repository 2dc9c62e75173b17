"""Findings as tracked across sweeps, and the sweep index on cases."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from cvdesk.domain.errors import InvalidInput, NotFound
from cvdesk.store.mapping import raw_instant
from cvdesk.store.snapshot import cursor, driver_instant, due_cases, due_count
from cvdesk.store.tables import CaseRow, FindingKindRow, FindingRow
from cvdesk.store.types import without_nul


def json_text(data: dict[str, Any]) -> str:
    """A finding's words as the JSON text the data column stores, NUL replaced as the
    column type would (cvdesk.store.types).  Serializing once here serves both the
    comparison with the stored text and the write; a NUL shows as an escape in the text,
    so it is found without walking the value (text that merely looks like the escape
    takes the same path and comes out unchanged)."""
    text = json.dumps(data)
    return json.dumps(without_nul(data)) if "\\u0000" in text else text


def same_data(stored: Any, text: str) -> bool:
    """Whether a stored data column read untyped (text on SQLite, parsed on PostgreSQL)
    says what ``text`` says."""
    return stored == text if stored.__class__ is str else stored == json.loads(text)


OPEN, ACKNOWLEDGED, SNOOZED, RESOLVED = "open", "acknowledged", "snoozed", "resolved"
UNRESOLVED = (OPEN, ACKNOWLEDGED, SNOOZED)

# ------------------------------------------------------------------ rules' own checks
#
# ``cases.rule_checks`` keeps, per case, when each rule's answer may next change by the
# clock alone, as whole microseconds since 1970 (exact: instants compare as integers,
# with no rounding that could leave a due rule unasked), after a digest of the rules and
# the policy they were asked with: "3f2a...e1 stopped-replying=1795435200000000 ...".

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def micros(at: datetime) -> int:
    """``at`` (aware, any offset) as whole microseconds since 1970 UTC."""
    return (at - _EPOCH) // _MICROSECOND


def from_micros(n: int) -> datetime:
    return _EPOCH + timedelta(microseconds=n)


def rule_checks_text(fingerprint: str, checks: Mapping[str, int]) -> str:
    """The text kept in ``cases.rule_checks``, its entries sorted by name: the same
    checks give the same text whichever order the rules were asked in (a sweep that asks
    some of them goes through a set)."""
    return " ".join([fingerprint, *[f"{name}={at}" for name, at in sorted(checks.items())]])


def read_rule_checks(text: str | None, fingerprint: str) -> dict[str, int] | None:
    """The checks stored by ``rule_checks_text`` under ``fingerprint``; None when there
    are none, or they were stored under other rules or another policy."""
    if not text:
        return None
    head, *items = text.split(" ")
    if head != fingerprint:
        return None
    checks: dict[str, int] = {}
    for item in items:
        name, _, at = item.partition("=")
        checks[name] = int(at)
    return checks


class Stored(NamedTuple):
    """What a sweep needs of an unresolved finding it may keep, update or resolve."""

    id: int
    status: str
    snoozed_until: datetime | None
    severity: int
    data: Any  # untyped: the JSON text on SQLite, parsed on PostgreSQL (see same_data)


@dataclass
class CaseOutcome:
    """One case's sweep outcome, ready to store: the findings by key as (problem,
    severity, JSON text of the stored form), and the unresolved rows of the rules asked
    (kept, updated or resolved by ``findings``).  ``others`` are unresolved rows of rules
    not asked this time: left as they are, only their snoozes count for the next check.
    ``rule_checks`` is the text stored for the rules' own checks (``rule_checks_text``)."""

    case_pk: int
    version: int
    findings: dict[str, tuple[str, int, str]]
    next_check: datetime | None
    existing: dict[str, Stored]
    others: Sequence[Stored] = ()
    rule_checks: str | None = None


class FindingRepository:
    """Findings across sweeps.  The sweep's reads and writes go through the driver's cursor
    with one statement per kind of change for a whole batch (executemany): they touch
    hundreds of thousands of rows in a cold sweep, where the column types and the
    statement compiler cost more than the database does."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._pg = session.get_bind().dialect.name == "postgresql"
        self._kinds_stored: set[str] | None = None  # names known to be in finding_kinds

    def kinds(self) -> dict[str, dict[str, Any]]:
        """The fixed words of every stored kind of finding, by name (a few dozen rows)."""
        return {name: json.loads(data) for name, data in self.session.execute(
            select(FindingKindRow.id, FindingKindRow.data))}

    def store_kinds(self, kinds: dict[str, str]) -> None:
        """Store the kinds (name: JSON text) not stored yet; a concurrent sweep may store
        the same ones (same name, same words), so a name already there is left alone."""
        known = self._kinds_stored
        if known is None:
            known = self._kinds_stored = set(self.session.scalars(select(FindingKindRow.id)))
        new = [(name, text) for name, text in kinds.items() if name not in known]
        if not new:
            return
        cur = cursor(self.session)
        try:
            cur.executemany(self._sql("INSERT INTO finding_kinds (id, data) VALUES (?, ?) "
                                      "ON CONFLICT (id) DO NOTHING"), new)
        finally:
            cur.close()
        known.update(name for name, _ in new)

    def due_cases(self, now: datetime, case_id: str | None = None,
                  limit: int | None = None, after: int = 0) -> list[tuple[Any, ...]]:
        """Open cases whose log changed since their last sweep or whose check time has come
        (rows of ``mapping.CASE_COLUMNS``, untyped), in order, from the one after the case
        numbered ``after``."""
        return due_cases(self.session, now, case_id, limit, after)

    def due_count(self, now: datetime) -> int:
        return due_count(self.session, now)

    def _sql(self, text: str) -> str:
        """``?`` parameters as the driver writes them, and JSON data typed on PostgreSQL."""
        if self._pg:
            return text.replace("?::json", "CAST(%s AS jsonb)").replace("?", "%s")
        return text.replace("?::json", "?")

    def unresolved_of(self, case_pks: list[int], problems: Mapping[int, Sequence[str]]
                      | None = None) -> dict[int, dict[str, Stored]]:
        """The unresolved findings of the cases, by case and key.  For a case in
        ``problems`` only those of the problems listed there (or of others in the batch's
        lists) and the snoozed ones are read."""
        result: dict[int, dict[str, Stored]] = {pk: {} for pk in case_pks}
        if not case_pks:
            return result
        problems = problems or {}
        whole = [pk for pk in case_pks if pk not in problems]
        ids = ", ".join  # the keys are the sweep's own integers
        where, params = [], []
        if whole:
            where.append(f"case_pk IN ({ids(str(int(pk)) for pk in whole)})")
        if problems:
            names = sorted({name for listed in problems.values() for name in listed})
            where.append(
                f"(case_pk IN ({ids(str(int(pk)) for pk in problems)}) AND "
                f"(status = '{SNOOZED}' OR problem IN ({ids('?' for _ in names) or 'NULL'})))")
            params = names
        cur = cursor(self.session)
        try:
            cur.execute(self._sql(
                "SELECT case_pk, key, id, status, snoozed_until, severity, data FROM findings "
                f"WHERE ({' OR '.join(where)}) "
                f"AND status IN ({', '.join(repr(s) for s in UNRESOLVED)})"), params)
            rows = cur.fetchall()
        finally:
            cur.close()
        for case_pk, key, fid, status, until, severity, data in rows:
            result[case_pk][key] = Stored(fid, status, raw_instant(until), severity, data)
        return result

    def record_batch(self, verdicts: Sequence[CaseOutcome], now: datetime,
                     kinds: dict[str, str] | None = None,
                     older: Callable[[Any, str], bool] | None = None) -> None:
        """Bring each case's findings in line with its latest verdict and re-arm its index,
        with one statement per kind of change for the whole batch.

        Only findings whose stored form, severity or status changed are written; the
        stored form keeps counts of days and hours as facts (troubleshoot/timed.py), so a
        finding is rewritten when something in the case changed, not because a day went
        by.  ``last_seen_at`` is therefore when its words were last written; the case's
        ``swept_at`` says when it was last confirmed.

        Findings come in the short form (troubleshoot/stored.py ``short_text``) with the
        kinds they name (``kinds``: name to JSON text), which are stored first.  A row
        whose stored text differs is asked ``older(data, text)`` (stored.py
        ``same_facts``): a row stored in an older form that says the same is left as it
        is, not rewritten only to change its form.
        """
        kinds = kinds or {}
        self.store_kinds(kinds)
        stamp = driver_instant(self.session, now)
        inserts: list[tuple[Any, ...]] = []
        updates: list[tuple[Any, ...]] = []  # status or severity changed too
        reworded: list[tuple[Any, ...]] = []  # only the stored form changed
        closes: list[tuple[Any, ...]] = []
        rearm: list[tuple[Any, ...]] = []
        for v in verdicts:
            existing = v.existing
            if not existing and not v.others:  # a case never swept (a cold sweep): all new
                pk = v.case_pk
                inserts.extend([(pk, key, problem, level, text, stamp, stamp)
                                for key, (problem, level, text) in v.findings.items()])
                rearm.append((driver_instant(self.session, v.next_check) if v.next_check
                              else None, stamp, v.rule_checks, pk, v.version))
                continue
            for key, row in existing.items():
                if key not in v.findings:
                    closes.append((stamp, row.id))
            for key, (problem, level, text) in v.findings.items():
                row = existing.get(key)
                if row is None:
                    inserts.append((v.case_pk, key, problem, level, text, stamp, stamp))
                    continue
                woke = (row.status == SNOOZED and row.snoozed_until is not None
                        and row.snoozed_until <= now)
                if woke or row.severity != level:
                    updates.append((text, stamp, level, OPEN if woke else row.status, row.id))
                elif not same_data(row.data, text) and not (older and older(row.data, text)):
                    reworded.append((text, stamp, row.id))
            wake = [r.snoozed_until for r in (*existing.values(), *v.others)
                    if r.status == SNOOZED and r.snoozed_until and r.snoozed_until > now]
            checks = [t for t in (v.next_check, *wake) if t is not None]
            rearm.append((driver_instant(self.session, min(checks)) if checks else None,
                          stamp, v.rule_checks, v.case_pk, v.version))
        # Written with the driver's own cursor (no statement compiling, no column types, no
        # engine events): every value here is the sweep's own, the JSON text included (JSON
        # writes a NUL as an escape), so the NUL net of store/db.py has nothing to catch.
        cur, sql = cursor(self.session), self._sql
        try:
            if closes:
                cur.executemany(sql(f"UPDATE findings SET status = '{RESOLVED}', "
                                    "resolved_at = ? WHERE id = ?"), closes)
            if reworded:
                cur.executemany(sql("UPDATE findings SET data = ?::json, last_seen_at = ? "
                                    "WHERE id = ?"), reworded)
            if updates:
                cur.executemany(sql("UPDATE findings SET data = ?::json, last_seen_at = ?, "
                                    "severity = ?, status = ? WHERE id = ?"), updates)
            if inserts:
                cur.executemany(sql(
                    "INSERT INTO findings (case_pk, key, problem, severity, status, data, "
                    "first_seen_at, last_seen_at, handled_by, handled_reason) "
                    f"VALUES (?, ?, ?, ?, '{OPEN}', ?::json, ?, ?, '', '')"), inserts)
            if rearm:
                # Only clear needs_sweep if nobody wrote to the case since we read it.
                cur.executemany(sql("UPDATE cases SET needs_sweep = FALSE, next_check_at = ?, "
                                    "swept_at = ?, rule_checks = ? WHERE id = ? AND version = ?"),
                                rearm)
        finally:
            cur.close()

    def listing(self, *, statuses: Sequence[str], case_id: str | None = None,
                ) -> Sequence[tuple[FindingRow, CaseRow]]:
        stmt = (select(FindingRow, CaseRow).join(CaseRow, CaseRow.id == FindingRow.case_pk)
                .where(FindingRow.status.in_(statuses), CaseRow.status == "open")
                .order_by(FindingRow.severity.desc(), CaseRow.case_id, FindingRow.key))
        if case_id:
            stmt = stmt.where(CaseRow.case_id == case_id.upper())
        return [(f, c) for f, c in self.session.execute(stmt)]

    def get(self, finding_id: int) -> FindingRow:
        # A number no database key can hold names no finding (rather than a driver error).
        row = self.session.get(FindingRow, finding_id) if 0 < finding_id < 2**63 else None
        if row is None:
            raise NotFound(f"no finding #{finding_id}")
        return row

    def handle(self, finding_id: int, status: str, *, actor: str, reason: str,
               until: datetime | None = None) -> FindingRow:
        row = self.get(finding_id)
        if row.status == RESOLVED:
            raise InvalidInput("finding", f"#{finding_id} is resolved already")
        if not reason.strip():
            raise InvalidInput("reason", "say why (it is kept with the finding)")
        row.status, row.handled_by, row.handled_reason = status, actor, reason
        row.snoozed_until = until
        if until is not None:  # wake the case up when the snooze ends
            case = self.session.get(CaseRow, row.case_pk)
            assert case is not None
            if case.next_check_at is None or until < case.next_check_at:
                case.next_check_at = until
        return row
