"""report word rarity: prefixes cut with rare words first

The duplicate check (guide 6.5; 6.10 row 15) files each report under the first words of
its prefix.  0009 ordered words longest first, as a stand-in for rarity; this revision
keeps a snapshot of how many stored reports use each word (``report_word_rarity``, words
used by two or more) and recuts every stored prefix with the rarest words first, which
reads fewer entries per submit (cvdesk.troubleshoot.similarity says why any one order
finds the same matches).  Downgrading recuts them under 0009's order, which is this
order with an empty snapshot.  The rules are copied here as they stand at this revision;
tests/store/test_word_order.py checks the copy against the live code.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 06:30:00
"""

import hashlib
import math
from collections import Counter

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

_BATCH = 1000


def _digest(word: str) -> bytes:
    return hashlib.blake2b(word.encode(), digest_size=8).digest()


def _id(digest: bytes) -> int:
    return int.from_bytes(digest, "big") >> 1


def prefix_of(words: dict[str, int], rarity: dict[int, int],
              ) -> dict[int, tuple[float, float]]:
    """Word id -> (count / length, tail from that word on) for the words of the prefix
    (fewest reports in the snapshot first, then longest, then by a fixed hash) while at
    least a quarter of the sum of squared counts is left."""
    total = sum(n * n for n in words.values())
    rest, length = total, math.sqrt(total)
    out: dict[int, tuple[float, float]] = {}
    keyed = {w: _digest(w) for w in words}
    for w in sorted(words, key=lambda w: (rarity.get(_id(keyed[w]), 0), -len(w), keyed[w])):
        if 4 * rest < total:
            break
        wid, n = _id(keyed[w]), words[w]
        weight, tail = out.get(wid, (0.0, 0.0))
        out[wid] = (weight + n / length, max(tail, math.sqrt(rest / total)))
        rest -= n * n
    return out


def _tables() -> tuple[sa.Table, sa.Table]:
    json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
    prints = sa.table('report_fingerprints', sa.column('report_pk', sa.Integer()),
                      sa.column('data', json))
    words = sa.table('report_words', sa.column('word_id', sa.BigInteger()),
                     sa.column('tail', sa.Float()), sa.column('report_pk', sa.Integer()),
                     sa.column('weight', sa.Float()))
    return prints, words


def _batches(bind: sa.Connection, prints: sa.Table):
    last = -1
    while rows := bind.execute(sa.select(prints.c.report_pk, prints.c.data)
                               .where(prints.c.report_pk > last)
                               .order_by(prints.c.report_pk).limit(_BATCH)).all():
        yield [(pk, (data or {}).get('words') or {}) for pk, data in rows]
        last = rows[-1][0]


def _refile(bind: sa.Connection, rarity: dict[int, int]) -> None:
    prints, words = _tables()
    bind.execute(sa.delete(words))
    for rows in _batches(bind, prints):
        found = [{'word_id': w, 'tail': tail, 'report_pk': pk, 'weight': x}
                 for pk, counts in rows
                 for w, (x, tail) in sorted(prefix_of(counts, rarity).items())]
        if found:
            bind.execute(sa.insert(words), found)


def upgrade() -> None:
    table = op.create_table(
        'report_word_rarity',
        sa.Column('word_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('reports', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('word_id'))
    bind = op.get_bind()
    prints, _ = _tables()
    counts: Counter[int] = Counter()
    for rows in _batches(bind, prints):
        for _, words in rows:
            counts.update({_id(_digest(w)) for w in words})
    rarity = {w: n for w, n in counts.items() if n > 1}
    items = sorted(rarity.items())
    for i in range(0, len(items), 10_000):
        bind.execute(sa.insert(table), [{'word_id': w, 'reports': n}
                                        for w, n in items[i:i + 10_000]])
    _refile(bind, rarity)


def downgrade() -> None:
    _refile(op.get_bind(), {})
    op.drop_table('report_word_rarity')
