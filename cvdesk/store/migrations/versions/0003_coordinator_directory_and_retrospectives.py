"""coordinator directory (seeded) and retrospectives

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 22:48:43.965814
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


_SEED = [
    # name, kind, country, email, url, notes
    ("CERT/CC", "coordinator", "United States", "cert@cert.org",
     "https://www.kb.cert.org/vuls/report/",
     "Coordinates multi-vendor cases worldwide; reports through VINCE. Verify before use."),
    ("JPCERT/CC", "national-csirt", "Japan", "", "https://www.jpcert.or.jp/english/",
     "Coordinates with Japanese vendors (JVN). Verify the current contact before use."),
    ("NCSC-FI", "national-csirt", "Finland", "", "https://www.kyberturvallisuuskeskus.fi/en/",
     "Finnish national CSIRT; vulnerability coordination. Verify the contact before use."),
    ("NCSC-NL", "national-csirt", "Netherlands", "", "https://www.ncsc.nl/",
     "Dutch national CSIRT; CVD for Dutch parties. Verify the contact before use."),
    ("Your national CSIRT", "national-csirt", "", "", "https://www.first.org/members/teams/",
     "Most countries have one; find it in the FIRST team directory and add it here."),
    ("The vendor's bug-bounty operator", "bug-bounty", "", "", "",
     "If the vendor runs a programme on a bug-bounty platform, the platform can mediate."),
    ("A large upstream vendor's PSIRT", "vendor-psirt", "", "", "",
     "For library or platform bugs, the upstream PSIRT often coordinates its downstream."),
]


def upgrade() -> None:
    op.create_table('coordinators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('country', sa.String(length=64), nullable=False),
    sa.Column('email', sa.Text(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('retrospectives',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_pk', sa.Integer(), nullable=False),
    sa.Column('went_well', sa.Text(), nullable=False),
    sa.Column('went_wrong', sa.Text(), nullable=False),
    sa.Column('do_differently', sa.Text(), nullable=False),
    sa.Column('author', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_pk'], ['cases.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('retrospectives', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retrospectives_case_pk'), ['case_pk'], unique=False)

    coordinators = sa.table(
        'coordinators', sa.column('name', sa.String), sa.column('kind', sa.String),
        sa.column('country', sa.String), sa.column('email', sa.Text),
        sa.column('url', sa.Text), sa.column('notes', sa.Text),
        sa.column('created_at', sa.DateTime(timezone=True)))
    now = datetime.now(UTC)
    op.bulk_insert(coordinators, [
        dict(zip(("name", "kind", "country", "email", "url", "notes"), row, strict=True),
             created_at=now if op.get_bind().dialect.name != "sqlite"
             else now.replace(tzinfo=None))
        for row in _SEED])



def downgrade() -> None:
    with op.batch_alter_table('retrospectives', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_retrospectives_case_pk'))

    op.drop_table('retrospectives')
    op.drop_table('coordinators')
