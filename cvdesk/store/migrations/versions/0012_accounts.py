"""accounts: users, per-case membership, web sessions, API tokens, links, audit log

The web desk (issue 11) lets vendors and reporters act in their cases.  ``users`` are
the people who sign in (site role admin, coordinator or member; a member belongs to an
organization or is linked to participants through ``case_members``).  Sessions, API
tokens and e-mailed links keep only the SHA-256 of their secret.  ``sign_in_failures``
throttles password guessing; ``audit_log`` records every write and every read of an
embargoed case.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 03:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('site_role', sa.String(length=16), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('created_at', _WHEN, nullable=False),
    sa.Column('password_changed_at', _WHEN, nullable=True),
    sa.Column('disabled_at', _WHEN, nullable=True),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email', name='uq_users_email')
    )
    op.create_index(op.f('ix_users_organization_id'), 'users', ['organization_id'])
    op.create_table('case_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('case_pk', sa.Integer(), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('created_at', _WHEN, nullable=False),
    sa.ForeignKeyConstraint(['case_pk'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'case_pk', 'pid', name='uq_case_members_user_case_pid')
    )
    op.create_index(op.f('ix_case_members_case_pk'), 'case_members', ['case_pk'])
    op.create_index(op.f('ix_case_members_user_id'), 'case_members', ['user_id'])
    op.create_table('web_sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', _WHEN, nullable=False),
    sa.Column('last_seen_at', _WHEN, nullable=False),
    sa.Column('expires_at', _WHEN, nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('token_hash')
    )
    op.create_index(op.f('ix_web_sessions_expires_at'), 'web_sessions', ['expires_at'])
    op.create_index(op.f('ix_web_sessions_user_id'), 'web_sessions', ['user_id'])
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('scope', sa.String(length=8), nullable=False),
    sa.Column('created_at', _WHEN, nullable=False),
    sa.Column('expires_at', _WHEN, nullable=False),
    sa.Column('revoked_at', _WHEN, nullable=True),
    sa.Column('last_used_at', _WHEN, nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_index(op.f('ix_api_tokens_user_id'), 'api_tokens', ['user_id'])
    op.create_table('access_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('case_pk', sa.Integer(), nullable=True),
    sa.Column('pid', sa.Integer(), nullable=True),
    sa.Column('created_at', _WHEN, nullable=False),
    sa.Column('expires_at', _WHEN, nullable=True),
    sa.Column('used_at', _WHEN, nullable=True),
    sa.ForeignKeyConstraint(['case_pk'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_index(op.f('ix_access_links_case_pk'), 'access_links', ['case_pk'])
    op.create_index(op.f('ix_access_links_user_id'), 'access_links', ['user_id'])
    op.create_table('sign_in_failures',
    sa.Column('key', sa.String(length=320), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('first_at', _WHEN, nullable=False),
    sa.Column('last_at', _WHEN, nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', _WHEN, nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('target', sa.Text(), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_audit_log_at'), 'audit_log', ['at'])
    op.create_index(op.f('ix_audit_log_case_id'), 'audit_log', ['case_id'])
    op.create_index(op.f('ix_audit_log_user_id'), 'audit_log', ['user_id'])


def downgrade() -> None:
    for table in ('audit_log', 'sign_in_failures', 'access_links', 'api_tokens',
                  'web_sessions', 'case_members', 'users'):
        op.drop_table(table)
