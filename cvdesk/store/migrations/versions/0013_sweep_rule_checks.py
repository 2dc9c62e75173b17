"""sweep rule checks: each rule's own next check, kept with the case

A case comes due again when the earliest of its rules' next checks arrives
(``next_check_at``).  Until now the sweep then asked all twenty-two rules again, and
compared and rewrote all their findings, although a rule's answer changes only at its
own check.  ``rule_checks`` keeps those checks (and a digest of the rules and the policy
they were asked with), so a sweep that finds a case due by the clock alone asks only
the rules whose time has come.  NULL (every case before this) means "ask every rule".

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 03:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


# Plain ALTER TABLE both ways (SQLite has dropped columns in place since 3.35): a batch
# operation would rebuild ``cases``, which other tables refer to.

def upgrade() -> None:
    op.add_column('cases', sa.Column('rule_checks', sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column('cases', 'rule_checks')
