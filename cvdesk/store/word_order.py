"""The order of words in the duplicate check's prefixes (guide 6.5; 6.10 row 15).

Prefixes are cut with rare words first (cvdesk.troubleshoot.similarity explains why that
reads fewer entries, and why every prefix must be cut under the same order).  Rarity is a
snapshot, ``report_word_rarity``: how many stored reports used each word when the store
was last refiled.  It never moves on a submit; ``refile`` takes a new snapshot and recuts
every stored prefix under it, in one transaction.

Concurrency.  On SQLite a write transaction holds the database's one write lock from its
start, so a refiling and a submit cannot interleave.  On PostgreSQL a submit reads the
snapshot (``rarity``) before it files its own prefix and holds that table's ACCESS SHARE
lock until it commits; ``refile`` first takes the table's ACCESS EXCLUSIVE lock, so it
waits for submits that read the old snapshot to commit (then recuts their prefixes too),
and submits that come later wait for it and read the new one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from cvdesk.store.tables import ReportFingerprintRow, ReportWordRarityRow, ReportWordRow

_BATCH = 2000


def rarity(session: Session, ids: Collection[int]) -> dict[int, int]:
    """The snapshot's counts for these word ids (absent ones count as 0)."""
    found: dict[int, int] = {}
    conn = session.connection()
    items = sorted(ids)
    for i in range(0, len(items), 900):
        found.update((w, n) for w, n in conn.execute(
            select(ReportWordRarityRow.word_id, ReportWordRarityRow.reports)
            .where(ReportWordRarityRow.word_id.in_(items[i:i + 900]))))
    return found


def _fingerprints(session: Session) -> Iterator[Sequence[Any]]:
    conn = session.connection()
    last = -1
    while rows := conn.execute(
            select(ReportFingerprintRow.report_pk, ReportFingerprintRow.data)
            .where(ReportFingerprintRow.report_pk > last)
            .order_by(ReportFingerprintRow.report_pk).limit(_BATCH)).all():
        yield rows
        last = rows[-1][0]


#: A stored fingerprint's word ids, and its prefix under a snapshot: the rules live in
#: cvdesk.troubleshoot.similarity, which the store does not import (the caller passes them).
IdsOf = Callable[[dict[str, Any]], Iterable[int]]
PrefixOf = Callable[[dict[str, Any], Mapping[int, int]], dict[int, tuple[float, float]]]


def refile(session: Session, ids_of: IdsOf, prefix_of: PrefixOf) -> int:
    """Take a new snapshot of word rarity from every stored report and recut every stored
    prefix under it; returns how many reports were refiled.  Worth running when the store
    has grown several times over since the last one (a migration takes the first); the
    duplicate check finds the same matches before and after, only reading less.  It
    holds the write lock throughout (about 75 s at 100,000 reports), so submits wait
    for it, and on SQLite give up after the busy timeout: run it when the desk is quiet."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("LOCK TABLE report_word_rarity IN ACCESS EXCLUSIVE MODE")
    counts: Counter[int] = Counter()
    reports = 0
    for rows in _fingerprints(session):
        for _, data in rows:
            counts.update(set(ids_of(data)))
            reports += 1
    snapshot = {w: n for w, n in counts.items() if n > 1}
    conn.execute(delete(ReportWordRarityRow))
    items = sorted(snapshot.items())
    for i in range(0, len(items), 10_000):
        conn.execute(insert(ReportWordRarityRow),
                     [{"word_id": w, "reports": n} for w, n in items[i:i + 10_000]])
    conn.execute(delete(ReportWordRow))
    for rows in _fingerprints(session):
        found = [{"word_id": w, "tail": tail, "report_pk": pk, "weight": x}
                 for pk, data in rows
                 for w, (x, tail) in sorted(prefix_of(data, snapshot).items())]
        if found:
            conn.execute(insert(ReportWordRow), found)
    return reports
