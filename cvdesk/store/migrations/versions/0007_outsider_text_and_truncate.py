"""text from outside: no length limits, hash lookups on PostgreSQL; events refuse TRUNCATE

Columns that hold what strangers send (Message-IDs, content types, names, CVE ids from
reports, contact values) lose their length limits.  On PostgreSQL their UNIQUE
constraints and indexes become hash exclusion constraints and hash indexes, because a
B-tree key over about 2.7 kB fails the write.  The event log also refuses TRUNCATE on
PostgreSQL (SQLite has no TRUNCATE; its DELETE trigger already covers it).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# table -> {column: old length}
WIDENED = {
    'vulnerabilities': {'cve': 32},
    'messages': {'message_id': 255},
    'organizations': {'name_key': 255},
    'coordinators': {'name': 120, 'kind': 32, 'country': 64},
    'outbox': {'idempotency_key': 200, 'message_id': 255, 'worker': 80},
    'attachments': {'message_id': 255, 'content_type': 120},
    'quarantine': {'source': 80},
}
# (table, columns) kept unique, and (table, column) looked up by equality
UNIQUE = [('messages', ('message_id',)), ('organizations', ('name_key',)),
          ('coordinators', ('name',)), ('outbox', ('idempotency_key',)),
          ('outbox', ('message_id',)), ('contacts', ('organization_id', 'kind', 'value'))]
LOOKUP = [('vulnerabilities', 'cve'), ('attachments', 'message_id')]


def _postgresql() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def _unique_name(table: str, columns: tuple[str, ...]) -> str:
    for uc in sa.inspect(op.get_bind()).get_unique_constraints(table):
        if tuple(uc['column_names']) == columns:
            return uc['name']
    raise LookupError(f'no unique constraint on {table}{columns}')


def _exclusion(table: str, columns: tuple[str, ...]) -> str:
    expr = columns[0] if len(columns) == 1 else \
        '(' + " || ' ' || ".join(f'{c}::text' for c in columns) + ')'
    return (f'ALTER TABLE {table} ADD CONSTRAINT ex_{table}_{"_".join(columns)} '
            f'EXCLUDE USING hash ({expr} WITH =)')


def upgrade() -> None:
    if not _postgresql():
        # SQLite never enforced the lengths; the declared types change so that the schema
        # says what the tables hold.  cvdesk.store.migrate turns foreign keys off around
        # this rebuild, as SQLite's ALTER TABLE procedure requires.
        for table, columns in WIDENED.items():
            with op.batch_alter_table(table) as batch_op:
                for column, length in columns.items():
                    batch_op.alter_column(column, existing_type=sa.String(length),
                                          type_=sa.Text())
        return
    for table, columns in UNIQUE:
        op.drop_constraint(_unique_name(table, columns), table, type_='unique')
    for table, column in LOOKUP:
        op.drop_index(f'ix_{table}_{column}', table_name=table)
    for table, columns in WIDENED.items():
        for column, length in columns.items():
            op.alter_column(table, column, existing_type=sa.String(length), type_=sa.Text())
    for table, columns in UNIQUE:
        op.execute(_exclusion(table, columns))
    for table, column in LOOKUP:
        op.create_index(f'ix_{table}_{column}', table, [column], postgresql_using='hash')
    # Row triggers do not fire on TRUNCATE; a statement trigger does (TRUNCATE ... CASCADE
    # from cases included).
    op.execute('CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events '
               'FOR EACH STATEMENT EXECUTE FUNCTION cvdesk_events_append_only()')


def downgrade() -> None:
    """Back to 0006.  Fails when a value is longer than the old limit (nothing is cut)."""
    if not _postgresql():
        for table, columns in WIDENED.items():
            with op.batch_alter_table(table) as batch_op:
                for column, length in columns.items():
                    batch_op.alter_column(column, existing_type=sa.Text(),
                                          type_=sa.String(length))
        return
    op.execute('DROP TRIGGER IF EXISTS events_no_truncate ON events')
    for table, column in LOOKUP:
        op.drop_index(f'ix_{table}_{column}', table_name=table)
    for table, columns in UNIQUE:
        op.drop_constraint(f'ex_{table}_{"_".join(columns)}', table)
    for table, columns in WIDENED.items():
        for column, length in columns.items():
            op.alter_column(table, column, existing_type=sa.Text(), type_=sa.String(length))
    for table, columns in UNIQUE:
        op.create_unique_constraint(None, table, list(columns))
    for table, column in LOOKUP:
        op.create_index(f'ix_{table}_{column}', table, [column])
