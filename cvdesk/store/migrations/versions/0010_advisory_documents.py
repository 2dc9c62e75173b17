"""advisory documents: each published version of a case's advisory, byte for byte

``cvdesk publish`` stores every document it publishes (CSAF, CVE records, OSV, the
readable advisory) with its SHA-256, one row per file and version; the revision
history itself is the case log (``advisory.published`` events).  ``cases`` gets
``draft_shared_at``, when the draft was last sent for review (``advisory.previewed``),
so a sweep reads it from the row like the rest of the state the rules judge.  Cases
logged before this revision have sent no draft through cvdesk, so it starts empty.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 01:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('draft_shared_at', sa.DateTime(timezone=True),
                                      nullable=True))
    op.create_table('advisory_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_pk', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('format', sa.String(length=16), nullable=False),
    sa.Column('filename', sa.Text(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_pk'], ['cases.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_pk', 'version', 'filename',
                        name='uq_advisory_documents_file')
    )
    with op.batch_alter_table('advisory_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_advisory_documents_case_pk'), ['case_pk'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('advisory_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_advisory_documents_case_pk'))
    op.drop_table('advisory_documents')
    if op.get_bind().dialect.name == "sqlite":
        # SQLite (3.35+) drops a plain column in place; a batch copy of ``cases`` would
        # have to drop the table, which the other tables' foreign keys refuse.
        op.execute("ALTER TABLE cases DROP COLUMN draft_shared_at")
    else:
        op.drop_column('cases', 'draft_shared_at')
