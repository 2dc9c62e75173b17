from sqlalchemy import text


def test_database_is_migrated(db):
    with db.engine.connect() as conn:
        assert conn.execute(text("select count(*) from cases")).scalar() == 0
