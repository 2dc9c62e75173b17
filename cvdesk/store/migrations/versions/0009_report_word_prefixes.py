"""report word prefixes: the 0.6 word bar adds up shared early words, not single words

Each stored report is filed under the words of its prefix (cvdesk.troubleshoot.similarity
``word_prefix``: its words in one fixed order until less than half its length is left),
each with its share of the report's length and what is left from it on; the store adds
up what two reports share early in their orders (guide 6.5; 6.10 row 15).  The "w:" keys of 0008 (every word of every report) are no
longer read and are removed.  The rules are copied here as they stand at this revision
(a migration must keep meaning what it meant); tests/store/test_fingerprints.py checks
the copy against the live code.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 01:00:00
"""

import hashlib
import math

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

_BATCH = 1000


def _digest(word: str) -> bytes:
    return hashlib.blake2b(word.encode(), digest_size=8).digest()


def prefix_of(words: dict[str, int]) -> dict[int, tuple[float, float]]:
    """Word id -> (count / length, tail from that word on) for the words of the prefix
    (longest first, then by a fixed hash) while at least a quarter of the sum of squared
    counts is left."""
    total = sum(n * n for n in words.values())
    rest, length = total, math.sqrt(total)
    out: dict[int, tuple[float, float]] = {}
    for w in sorted(words, key=lambda w: (-len(w), _digest(w))):
        if 4 * rest < total:
            break
        wid, n = int.from_bytes(_digest(w), "big") >> 1, words[w]
        weight, tail = out.get(wid, (0.0, 0.0))
        out[wid] = (weight + n / length, max(tail, math.sqrt(rest / total)))
        rest -= n * n
    return out


def _tables() -> tuple[sa.Table, sa.Table]:
    json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
    prints = sa.table('report_fingerprints', sa.column('report_pk', sa.Integer()),
                      sa.column('data', json))
    keys = sa.table('report_keys', sa.column('report_pk', sa.Integer()),
                    sa.column('key', sa.Text()))
    return prints, keys


def _batches(bind: sa.Connection, prints: sa.Table):
    last = 0
    while rows := bind.execute(sa.select(prints.c.report_pk, prints.c.data)
                               .where(prints.c.report_pk > last)
                               .order_by(prints.c.report_pk).limit(_BATCH)).all():
        yield rows
        last = rows[-1][0]


def upgrade() -> None:
    words = op.create_table(
        'report_words',
        sa.Column('word_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('tail', sa.Float(), nullable=False),
        sa.Column('report_pk', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('weight', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['report_pk'], ['reports.id'], ),
        sa.PrimaryKeyConstraint('word_id', 'tail', 'report_pk'),
        sqlite_with_rowid=False)
    bind = op.get_bind()
    prints, keys = _tables()
    for rows in _batches(bind, prints):
        found = [{'word_id': w, 'tail': tail, 'report_pk': pk, 'weight': x}
                 for pk, data in rows
                 for w, (x, tail) in prefix_of(data.get('words') or {}).items()]
        if found:
            bind.execute(sa.insert(words), found)
    bind.execute(sa.delete(keys).where(keys.c.key.like('w:%')))


def downgrade() -> None:
    bind = op.get_bind()
    prints, keys = _tables()
    for rows in _batches(bind, prints):
        found = [{'report_pk': pk, 'key': f'w:{w}'}
                 for pk, data in rows for w in sorted(data.get('words') or {})]
        if found:
            bind.execute(sa.insert(keys), found)
    op.drop_table('report_words')
