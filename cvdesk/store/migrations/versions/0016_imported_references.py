"""imported references: the key that keeps a past case from being imported twice

``cvdesk metrics import`` skips a reference imported before.  Until this revision it
found them by reading every imported case's opening reason ("imported from FILE;
reference REF") back, so two imports running at the same moment could both add a case,
and a file name holding "; reference " would have read wrong.  ``imported_references``
keeps each reference once, with its case; the existing imported cases are filed from
their reasons as before (the first case of a reference, if it was imported twice).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 12:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

#: As cvdesk.store.metrics_timing had them at this revision.
_ACTOR = "import"
_MARK = "; reference "


def upgrade() -> None:
    conn = op.get_bind()
    postgresql = conn.dialect.name == 'postgresql'
    # A reference is a stranger's text of any length: UNIQUE on SQLite, a hash exclusion
    # constraint on PostgreSQL (a B-tree key over about 2.7 kB fails), as 0007 does.
    table = op.create_table(
        'imported_references',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('reference', sa.Text(), nullable=False),
        sa.Column('case_pk', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['case_pk'], ['cases.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('case_pk'),
        *(() if postgresql else (sa.UniqueConstraint('reference'),)),
    )
    if postgresql:
        op.execute('ALTER TABLE imported_references ADD CONSTRAINT '
                   'ex_imported_references_reference EXCLUDE USING hash (reference WITH =)')
    rows = conn.execute(sa.text(
        "SELECT case_pk, reason FROM events WHERE type = 'case.opened' AND actor = :actor "
        "ORDER BY case_pk"), {"actor": _ACTOR})
    found: dict[str, int] = {}
    for case_pk, reason in rows:
        _, mark, reference = (reason or "").rpartition(_MARK)
        if mark and reference:
            found.setdefault(reference, case_pk)
    if found:
        op.bulk_insert(table, [{"reference": r, "case_pk": pk} for r, pk in found.items()])


def downgrade() -> None:
    op.drop_table('imported_references')
