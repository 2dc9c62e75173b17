"""Storage adapter: SQLAlchemy tables, engine set-up, Alembic migrations, case repository."""
