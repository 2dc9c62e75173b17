"""finding kinds: findings stored short, their fixed words once per kind

A sweep stores some hundred thousand findings, each with the same words as the other
findings of its kind (problem, section, severity, phase, roles concerned, actions:
about three quarters of the text).  ``finding_kinds`` keeps those words once, named by
the problem and a digest of the words; a finding stores the name and the parts that
vary.  Rows written before keep their whole form and read as before.  The index on
``findings.problem`` goes: no query looks findings up by problem, and every insert of
a sweep paid for it.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 02:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('finding_kinds',
    sa.Column('id', sa.String(length=96), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_findings_problem'))


def downgrade() -> None:
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_findings_problem'), ['problem'], unique=False)
    op.drop_table('finding_kinds')
