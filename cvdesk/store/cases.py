"""Case repository: loads a case by replaying its log, saves new events and projections.

``save`` writes the pending events and, in the same transaction, every row that
is a projection of them (case summary, participants with their contact
summary, reports, vulnerabilities, messages).  A version column on the case
row refuses a write based on a stale read.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Iterator, Sequence
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import Session

from cvdesk.domain.case import Case, ParticipantState
from cvdesk.domain.errors import Conflict, NotFound
from cvdesk.domain.events import Event, EventType
from cvdesk.store.directory import DirectoryRepository, OrganizationFacts
from cvdesk.store.mapping import case_values, participant_values
from cvdesk.store.tables import (
    CaseRow,
    CounterRow,
    EventRow,
    MessageRow,
    ParticipantRow,
    ReportFingerprintRow,
    ReportKeyRow,
    ReportRow,
    ReportWordRow,
    RetrospectiveRow,
    VulnerabilityRow,
)
from cvdesk.store.upsert import upsert

_TRACKING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
#: Event types by stored text: a dictionary look-up per event instead of an Enum call.
_EVENT_TYPES = {m.value: m for m in EventType}


class ConcurrentUpdate(Conflict):
    """Another writer changed the case between our read and our write; retry."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


class CaseRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # ------------------------------------------------------------ identifiers
    def next_number(self, name: str) -> int:
        """The next number of counter ``name`` (1 for a new counter), in one statement:
        two transactions that both start a counter (the first case of a year, submitted
        twice at once on PostgreSQL) would otherwise both insert it, and the second
        fail on its key.  The row stays locked until the transaction ends, so numbers
        are handed out in commit order, without gaps."""
        stmt = upsert(self.session, CounterRow).values(name=name, value=1).on_conflict_do_update(
            index_elements=[CounterRow.name],
            set_={"value": CounterRow.__table__.c.value + 1},
        ).returning(CounterRow.value)
        return int(self.session.execute(stmt).scalar_one())

    def new_case_id(self, year: int) -> str:
        return f"CVD-{year}-{self.next_number(f'case-{year}'):04d}"

    def new_tracking_id(self, at: datetime) -> str:
        """A report's tracking id, given to the reporter: not guessable from other ids."""
        while True:
            suffix = "".join(secrets.choice(_TRACKING_ALPHABET) for _ in range(6))
            tid = f"VR-{at:%y%m}-{suffix}"
            taken = select(ReportRow.id).where(ReportRow.tracking_id == tid)
            if self.session.scalar(taken) is None:
                return tid

    # ------------------------------------------------------------ reading
    def case_row(self, case_id: str, *, for_update: bool = False) -> CaseRow:
        stmt = select(CaseRow).where(CaseRow.case_id == case_id.upper())
        if for_update:
            stmt = stmt.with_for_update()
        row = self.session.scalar(stmt)
        if row is None:
            raise NotFound(f"no case '{case_id}'")
        return row

    def events(self, case_pk: int) -> list[Event]:
        """The case's log in order.  Read as plain columns (still through the column
        types): an ORM object per event cost more than the replay itself, and a case that
        notified a thousand vendors has several thousand events to load before each write."""
        rows = self.session.execute(
            select(EventRow.type, EventRow.at, EventRow.actor, EventRow.reason,
                   EventRow.participant, EventRow.data, EventRow.seq)
            .where(EventRow.case_pk == case_pk).order_by(EventRow.seq))
        types = _EVENT_TYPES
        return [Event(types.get(t) or EventType(t), at, actor, reason, participant, data, seq)
                for t, at, actor, reason, participant, data, seq in rows]

    def load(self, case_id: str) -> tuple[CaseRow, Case]:
        row = self.case_row(case_id, for_update=True)
        return row, Case.replay(row.case_id, self.events(row.id))

    def list_cases(self, status: str | None = None) -> Sequence[CaseRow]:
        stmt = select(CaseRow).order_by(CaseRow.opened_at, CaseRow.id)
        if status:
            stmt = stmt.where(CaseRow.status == status)
        return self.session.scalars(stmt).all()

    def participants(self, case_pk: int) -> Sequence[ParticipantRow]:
        return self.session.scalars(select(ParticipantRow).where(
            ParticipantRow.case_pk == case_pk).order_by(ParticipantRow.pid)).all()

    def reports(self, case_pk: int) -> Sequence[ReportRow]:
        return self.session.scalars(select(ReportRow).where(
            ReportRow.case_pk == case_pk).order_by(ReportRow.received_at)).all()

    def vulnerabilities(self, case_pk: int) -> Sequence[VulnerabilityRow]:
        return self.session.scalars(select(VulnerabilityRow).where(
            VulnerabilityRow.case_pk == case_pk).order_by(VulnerabilityRow.id)).all()

    def report_by_tracking_id(self, tracking_id: str) -> ReportRow:
        row = self.session.scalar(select(ReportRow).where(ReportRow.tracking_id == tracking_id))
        if row is None:
            raise NotFound(f"no report '{tracking_id}'")
        return row

    def open_report_forms(self, exclude: str = "") -> list[tuple[str, str, dict[str, Any]]]:
        """(case id, tracking id, form) of every report on an open case."""
        stmt = (select(CaseRow.case_id, ReportRow.tracking_id, ReportRow.form)
                .join(ReportRow, ReportRow.case_pk == CaseRow.id)
                .where(CaseRow.status == "open", CaseRow.case_id != exclude)
                .order_by(CaseRow.id))
        return [(c, t, f) for c, t, f in self.session.execute(stmt)]

    # ------------------------------------------------------------ report fingerprints
    def add_fingerprint(self, tracking_id: str, data: dict[str, Any], keys: Collection[str],
                        words: dict[int, tuple[float, float]]) -> None:
        """File a stored report's fingerprint, product keys and word prefix (guide 6.5).

        These and the look-ups below run on the session's connection without the ORM:
        they are plain rows, and a submit writes and reads a hundred or so of them."""
        pk = self.report_by_tracking_id(tracking_id).id
        conn = self.session.connection()
        conn.execute(insert(ReportFingerprintRow), [{"report_pk": pk, "data": data}])
        if keys:
            conn.execute(insert(ReportKeyRow), [{"report_pk": pk, "key": k} for k in sorted(keys)])
        if words:
            conn.execute(insert(ReportWordRow), [
                {"word_id": w, "tail": tail, "report_pk": pk, "weight": x}
                for w, (x, tail) in sorted(words.items())])

    def key_counts(self, keys: Collection[str], cap: int = 64) -> dict[str, int]:
        """How many stored reports are filed under each key, counted up to ``cap``: only
        the rarest key is wanted, and counting a key every report has (a gram such as
        "model") would read the whole list on every submit."""
        counts: dict[str, int] = {}
        conn = self.session.connection()
        for chunk in _chunks(sorted(keys), 100):
            params: dict[str, Any] = {f"k{i}": k for i, k in enumerate(chunk)}
            params["cap"] = cap
            row = conn.execute(text("SELECT " + ", ".join(
                f"(SELECT count(*) FROM (SELECT 1 FROM report_keys WHERE key = :k{i} "
                f"LIMIT :cap) AS c{i})" for i in range(len(chunk)))), params).one()
            counts.update((k, n) for k, n in zip(chunk, row, strict=True) if n)
        return counts

    def word_rarity(self, ids: Collection[int]) -> dict[int, int]:
        """The word-rarity snapshot's counts for these word ids (cvdesk.store.word_order)."""
        from cvdesk.store.word_order import rarity

        return rarity(self.session, ids)

    def reports_sharing_words(self, probe: Collection[tuple[int, float, float]],
                              bound: float) -> set[int]:
        """Reports whose prefix entries add at least ``bound`` to the cosine with the new
        report, counting for each (word id, least tail, new weight) of ``probe`` only the
        entries of that word with at least that tail (cvdesk.troubleshoot.similarity
        ``prefix_overlap`` computes the same; its comment says why that is exact).  One
        range per word is read, so the cost follows how many reports use the new report's
        words early in their own order, not how many are stored.  The statement is
        written out in the driver's own placeholders and run as it is: its shape changes
        with every report, and having SQLAlchemy parse a statement of a hundred parameters
        cost more (about 0.4 ms a submit) than SQLite takes to run it on a small store."""
        items = sorted(probe)
        total: dict[int, float] = {}
        conn = self.session.connection()
        mark = "?" if conn.dialect.name == "sqlite" else "%s"
        part = (f"SELECT report_pk, weight * {mark} AS part FROM report_words "
                f"WHERE word_id = {mark} AND tail >= {mark}")
        for chunk in _chunks(items, 300):  # SQLite takes up to 500 parts in a UNION
            params: list[Any] = []
            for w, floor, x in chunk:
                params += (x, w, floor)
            # One statement: let the store keep only the passing reports; else add up.
            having = f" HAVING SUM(part) >= {mark}" if len(items) <= 300 else ""
            if having:
                params.append(bound)
            for pk, x in conn.exec_driver_sql(
                    f"SELECT report_pk, SUM(part) FROM ({' UNION ALL '.join([part] * len(chunk))})"
                    f" AS found GROUP BY report_pk{having}", tuple(params)):
                total[pk] = total.get(pk, 0.0) + x
        return {pk for pk, x in total.items() if x >= bound}

    def reports_under_all(self, groups: Collection[Collection[str]]) -> set[int]:
        """Reports filed under every key of at least one of ``groups`` (open or not)."""
        found = self.reports_under({k for g in groups if len(g) == 1 for k in g})
        for group in (g for g in groups if len(g) > 1):
            keys = sorted(group)
            both = self.reports_under([keys[0]])
            for key in keys[1:]:
                both &= self.reports_under([key]) if both else set()
            found |= both
        return found

    def reports_under(self, keys: Collection[str]) -> set[int]:
        """Reports filed under any of ``keys`` (open or not: ``fingerprints`` filters)."""
        found: set[int] = set()
        conn = self.session.connection()
        for chunk in _chunks(sorted(keys)):
            found.update(conn.execute(
                select(ReportKeyRow.report_pk).where(ReportKeyRow.key.in_(chunk))).scalars())
        return found

    def product_keys(self, report_pks: Collection[int]) -> dict[int, list[str]]:
        """The product keys of these reports' fingerprints, without their word counts (a
        report found by a product key often turns out to share none: cheaper to see that
        first)."""
        conn = self.session.connection()
        found: dict[int, list[str]] = {}
        products = ReportFingerprintRow.data["products"]
        for chunk in _chunks(sorted(report_pks)):
            found.update((pk, list(keys or [])) for pk, keys in conn.execute(
                select(ReportFingerprintRow.report_pk, products)
                .where(ReportFingerprintRow.report_pk.in_(chunk))))
        return found

    def fingerprints(self, report_pks: Collection[int], exclude: str = "",
                     ) -> list[tuple[str, str, dict[str, Any]]]:
        """(case id, tracking id, fingerprint) of these reports on open cases, in the order
        ``open_report_forms`` gives (by case)."""
        conn = self.session.connection()
        found: list[tuple[int, int, str, dict[str, Any]]] = []
        for chunk in _chunks(sorted(report_pks)):
            found += ((c, r, t, d) for r, c, t, d in conn.execute(
                select(ReportRow.id, ReportRow.case_pk, ReportRow.tracking_id,
                       ReportFingerprintRow.data)
                .join(ReportFingerprintRow, ReportFingerprintRow.report_pk == ReportRow.id)
                .where(ReportRow.id.in_(chunk))))
        cases: dict[int, str] = {}
        for chunk in _chunks(sorted({c for c, _, _, _ in found})):
            cases.update((pk, cid) for pk, cid in conn.execute(
                select(CaseRow.id, CaseRow.case_id)
                .where(CaseRow.id.in_(chunk), CaseRow.status == "open",
                       CaseRow.case_id != exclude)))
        found.sort(key=lambda x: (x[0], x[1]))
        return [(cases[c], t, d) for c, _, t, d in found if c in cases]

    def count(self, table: type) -> int:
        return self.session.scalar(select(func.count()).select_from(table)) or 0

    # ------------------------------------------------------------ writing
    def add(self, case: Case) -> CaseRow:
        """Insert a new case (its pending events include case.opened)."""
        row = CaseRow(case_id=case.case_id, version=0)
        self._project_case(row, case)
        self.session.add(row)
        self.session.flush()
        self.save(row, case, expected_version=0)
        return row

    def save(self, row: CaseRow, case: Case, *, expected_version: int | None = None) -> None:
        """Append the pending events and update every projection, or raise ConcurrentUpdate
        (and write nothing) when the case changed since it was read."""
        if not case.pending:
            return
        s = self.session
        expected = row.version if expected_version is None else expected_version
        first = case.pending[0].seq
        if first != expected + 1:
            raise ConcurrentUpdate(f"{case.case_id}: log position {first - 1}, "
                                   f"stored version {expected}")
        # Claim the new version first: the row lock (PostgreSQL) or the write lock (SQLite)
        # then holds until commit, and a stale writer stops here before inserting anything.
        values = case_values(case)
        with s.no_autoflush:
            result = s.execute(update(CaseRow).where(CaseRow.id == row.id,
                                                     CaseRow.version == expected)
                               .values(version=case.seq, **values)
                               .execution_options(synchronize_session=False))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise ConcurrentUpdate(f"{case.case_id} was changed by someone else; try again")
        recorded = _utcnow()
        # Plain multi-row INSERTs (here and in the projections): an ORM object per row costs
        # more than the write itself when one command logs hundreds of events, as a notice
        # to every vendor of a large case does.
        from sqlalchemy import insert

        s.execute(insert(EventRow.__table__), [
            {"case_pk": row.id, "seq": e.seq, "type": e.type.value, "at": e.at,
             "actor": e.actor, "reason": e.reason, "participant": e.participant,
             "data": e.data, "recorded_at": recorded} for e in case.pending])
        self._project_side_tables(row, case.pending)
        # A logged message names its participant but changes nothing on the participant's
        # row (cvdesk.domain.state ``_on_message``): a notice to a thousand vendors need not
        # compare a thousand rows that cannot have changed.
        self._project_participants(row, case, {
            e.participant for e in case.pending
            if e.participant is not None and e.type is not EventType.MESSAGE})
        s.flush()
        s.expire(row)  # the UPDATE above bypassed the ORM; reload when next read
        case.pending.clear()

    # ------------------------------------------------------------ projections
    @staticmethod
    def _project_case(row: CaseRow, case: Case) -> None:
        for key, value in case_values(case).items():
            setattr(row, key, value)

    def _project_participants(self, row: CaseRow, case: Case, pids: set[int]) -> None:
        """Bring the rows of these participants in line with the log: a new one is
        inserted (with its directory organization), one whose columns changed is updated,
        the others are left alone.  Each kind is one statement for all of them."""
        if not pids:
            return
        from sqlalchemy import bindparam, insert

        s, table = self.session, ParticipantRow.__table__
        wanted = {pid: participant_values(case.participants[pid]) for pid in sorted(pids)}
        names = list(next(iter(wanted.values())))
        stored: dict[int, dict[str, Any]] = {}
        for chunk in _chunks(sorted(pids)):
            for r in s.execute(select(*(table.c[n] for n in names)).where(
                    table.c.case_pk == row.id, table.c.pid.in_(chunk))):
                old = dict(zip(names, r, strict=True))
                stored[old["pid"]] = old
        new: list[dict[str, Any]] = []
        # Changed rows, grouped by the columns that changed (a contact attempt changes
        # the same few on every vendor): one executemany per group, setting only those.
        changed: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for pid, values in wanted.items():
            old = stored.get(pid)
            if old is None:
                new.append(values | {"case_pk": row.id})
                continue
            columns = tuple(k for k, v in values.items() if old[k] != v)
            if columns:
                changed.setdefault(columns, []).append(
                    {k: values[k] for k in columns} | {"b_case": row.id, "b_pid": pid})
        for params in changed.values():
            # executemany: the SET clause is the columns of the parameter sets.
            s.execute(table.update().where(table.c.case_pk == bindparam("b_case"),
                                           table.c.pid == bindparam("b_pid")), params)
        if changed:
            # A row object of these participants already in the session is now stale.
            stale = {p["b_pid"] for params in changed.values() for p in params}
            for obj in list(s.identity_map.values()):
                if (isinstance(obj, ParticipantRow) and obj.__dict__.get("case_pk") == row.id
                        and obj.__dict__.get("pid") in stale):
                    s.expire(obj)
        if new:
            orgs = self._organization_ids([case.participants[v["pid"]] for v in new])
            for v, org in zip(new, orgs, strict=True):
                v["organization_id"] = org
            s.execute(insert(table), new)

    def _organization_ids(self, ps: Sequence[ParticipantState]) -> list[int | None]:
        """The directory organization of each participant (a vendor is its own
        organization), created or completed with the participant's e-mail and phone by the
        directory's one upsert, so a case and the contact commands agree on who is who.
        All in one batch: a report naming thousands of vendors adds them in one save."""
        names = [p.organization or (p.name if p.is_vendor else "") for p in ps]
        facts = [OrganizationFacts(name, emails=(p.email,), phones=(p.phone,))
                 for p, name in zip(ps, names, strict=True) if name.strip()]
        ids = iter(DirectoryRepository(self.session).upsert_organizations(
            facts, now=_utcnow()) if facts else ())
        return [next(ids) if name.strip() else None for name in names]

    def _project_side_tables(self, row: CaseRow, events: Sequence[Event]) -> None:
        """The rows some events add besides the log (reports, vulnerabilities,
        retrospectives, messages), one multi-row INSERT per table, in log order."""
        from sqlalchemy import insert

        rows: dict[Any, list[dict[str, Any]]] = {}
        for e in events:
            d = e.data
            if e.type is EventType.REPORT_RECEIVED:
                rows.setdefault(ReportRow.__table__, []).append(dict(
                    tracking_id=d["tracking_id"], case_pk=row.id, received_at=e.at,
                    title=d["report"]["title"], tlp=d["report"]["tlp"], form=d["report"]))
            elif e.type is EventType.VULNERABILITY:
                rows.setdefault(VulnerabilityRow.__table__, []).append(dict(
                    case_pk=row.id, cve=d.get("cve") or None, title=d["title"], data=d))
            elif e.type is EventType.RETROSPECTIVE:
                rows.setdefault(RetrospectiveRow.__table__, []).append(dict(
                    case_pk=row.id, went_well=d["went_well"], went_wrong=d["went_wrong"],
                    do_differently=d["do_differently"], author=e.actor, created_at=e.at))
            elif e.type is EventType.MESSAGE:
                rows.setdefault(MessageRow.__table__, []).append(dict(
                    message_id=d["message_id"], case_pk=row.id, participant=e.participant,
                    direction=d["direction"], channel=d["channel"], at=e.at,
                    subject=d["subject"], body=d["body"], tlp=d["tlp"]))
        for table, values in rows.items():
            self.session.execute(insert(table), values)
        # A vulnerability changed after intake (issue 10): its row takes the changed
        # fields, found by its place on the case (rows are inserted in log order).
        updates = [e.data for e in events if e.type is EventType.VULNERABILITY_UPDATED]
        if updates:
            table = VulnerabilityRow.__table__
            found = self.session.execute(select(table.c.id, table.c.data).where(
                table.c.case_pk == row.id).order_by(table.c.id)).all()
            current = {place: (pk, dict(data)) for place, (pk, data) in enumerate(found, 1)}
            for u in updates:
                current[u["vulnerability"]][1].update(u["changes"])
            for place in sorted({u["vulnerability"] for u in updates}):
                pk, data = current[place]
                self.session.execute(table.update().where(table.c.id == pk).values(
                    cve=data.get("cve") or None, title=data["title"], data=data))


def _chunks(items: Sequence[Any], size: int = 900) -> Iterator[list[Any]]:
    """IN lists of bounded length (SQLite limits the parameters of one statement)."""
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk
