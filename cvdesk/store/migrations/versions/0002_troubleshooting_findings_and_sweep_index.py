"""troubleshooting findings and sweep index: findings table; signals and the sweep index on cases; participants' disclosure policy

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 22:38:39.594081
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('findings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_pk', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('problem', sa.String(length=64), nullable=False),
    sa.Column('severity', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('snoozed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('handled_by', sa.Text(), nullable=False),
    sa.Column('handled_reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['case_pk'], ['cases.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('policy_days', sa.Integer(), nullable=True))

    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.create_index('ix_findings_case_status', ['case_pk', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_findings_problem'), ['problem'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signals', sa.JSON().with_variant(
            postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False,
            server_default='[]'))
        batch_op.add_column(sa.Column('needs_sweep', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
        batch_op.add_column(sa.Column('next_check_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('swept_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_cases_needs_sweep'), ['needs_sweep'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_next_check_at'), ['next_check_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_next_check_at'))
        batch_op.drop_index(batch_op.f('ix_cases_needs_sweep'))
        batch_op.drop_column('swept_at')
        batch_op.drop_column('next_check_at')
        batch_op.drop_column('needs_sweep')
        batch_op.drop_column('signals')

    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_column('policy_days')

    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_findings_problem'))
        batch_op.drop_index('ix_findings_case_status')

    op.drop_table('findings')
