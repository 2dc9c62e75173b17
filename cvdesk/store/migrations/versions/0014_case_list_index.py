"""case list index: open cases by latest activity

The web desk's case list (issue 11) shows, by default, the open cases with the latest
activity first, fifty at a time.  With only ``status`` indexed, the database read every
open case and sorted them all to find the first fifty (about 5 ms of work at 10,000
cases, for every request).  ``(status, last_event_at, id)`` hands them over in order, so
a page reads its own fifty rows.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 04:00:00
"""

from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_cases_status_activity', 'cases', ['status', 'last_event_at', 'id'])


def downgrade() -> None:
    op.drop_index('ix_cases_status_activity', table_name='cases')
