"""report fingerprints: the duplicate check looks reports up by key instead of reading all

Every stored report gets its fingerprint (product keys and word counts, guide 6.5) and
the keys it is found under (cvdesk.troubleshoot.similarity ``stored_keys``).  The
rules are copied here as they stand at this revision, because a migration must compute
what its own schema means even after the live code changes (and the store layer may not
import the troubleshooting layer).  tests/store/test_fingerprints.py checks the copy
against the live code.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 23:10:00
"""

import re
from collections import Counter
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from cvdesk.domain.codec import report_from_dict

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

_WORD = re.compile(r"[a-z0-9][a-z0-9_.+-]*[a-z0-9]|[a-z0-9]")
_STOP = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "in",
    "into", "is", "it", "its", "of", "on", "or", "that", "the", "this", "to", "was", "were",
    "will", "with", "via", "when", "which", "who", "can", "could", "may", "not", "no",
    "all", "any", "our", "your", "their", "they", "them", "we", "you", "i", "he", "she",
    "vulnerability", "vulnerable", "issue", "bug", "found",
})
_GRAM = 5
_BATCH = 1000


def _norm(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def fingerprint_of_form(form: dict[str, Any]) -> tuple[list[str], dict[str, int]]:
    """(sorted product keys, word counts) of a stored report form."""
    report = report_from_dict(form)
    products: set[str] = set()
    for p in [*report.products, *(a for v in report.vulnerabilities for a in v.affected)]:
        if p.purl:
            products.add(p.purl.split("@")[0].lower())
        if p.cpe:
            products.add(":".join(p.cpe.lower().split(":")[3:5]))
        products.add(_norm(p.product))
        if p.vendor:
            products.add(_norm(f"{p.vendor} {p.product}"))
    words = Counter(w for w in _WORD.findall(f"{report.title} {report.description}".lower())
                    if w not in _STOP and len(w) > 1)
    return sorted(x for x in products if x), dict(sorted(words.items()))


def keys_of(products: list[str], words: dict[str, int]) -> set[str]:
    keys = {f"w:{w}" for w in words}
    for key in products:
        if len(key) > 4:
            keys |= {f"g:{key[i:i + _GRAM]}" for i in range(len(key) - _GRAM + 1)}
            keys.add(f"t:{key[-_GRAM:]}")
        else:
            keys.add(f"p:{key}")
    return keys


def upgrade() -> None:
    json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
    fingerprints = op.create_table(
        'report_fingerprints',
        sa.Column('report_pk', sa.Integer(), nullable=False),
        sa.Column('data', json, nullable=False),
        sa.ForeignKeyConstraint(['report_pk'], ['reports.id'], ),
        sa.PrimaryKeyConstraint('report_pk'))
    keys = op.create_table(
        'report_keys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('report_pk', sa.Integer(), nullable=False),
        sa.Column('key', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['report_pk'], ['reports.id'], ),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_report_keys_report_pk', 'report_keys', ['report_pk'], unique=False)
    op.create_index('ix_report_keys_key', 'report_keys', ['key'], unique=False,
                    postgresql_using='hash')
    # Data: the fingerprint of every report already stored, a batch at a time.
    bind = op.get_bind()
    reports = sa.table('reports', sa.column('id', sa.Integer()), sa.column('form', json))
    last = 0
    while True:
        rows = bind.execute(sa.select(reports.c.id, reports.c.form)
                            .where(reports.c.id > last).order_by(reports.c.id)
                            .limit(_BATCH)).all()
        if not rows:
            break
        prints, found = [], []
        for pk, form in rows:
            products, words = fingerprint_of_form(form)
            prints.append({'report_pk': pk, 'data': {'products': products, 'words': words}})
            found += [{'report_pk': pk, 'key': k} for k in sorted(keys_of(products, words))]
        bind.execute(sa.insert(fingerprints), prints)
        if found:
            bind.execute(sa.insert(keys), found)
        last = rows[-1][0]


def downgrade() -> None:
    op.drop_index('ix_report_keys_key', table_name='report_keys')
    op.drop_index('ix_report_keys_report_pk', table_name='report_keys')
    op.drop_table('report_keys')
    op.drop_table('report_fingerprints')
