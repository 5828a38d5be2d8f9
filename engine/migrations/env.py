"""Alembic environment: runs migrations against the URL Carepath gives it (engine/migrate.py)."""

from alembic import context
from sqlalchemy import MetaData
from sqlalchemy.engine import Engine

# Alembic runs this file by path, outside the package, so it imports Carepath by its installed name; mypy checks
# the source tree (where the package is `engine`) and cannot follow setuptools' editable-install finder to it.
from carepath.engine.db import make_engine  # type: ignore[import-not-found]
from carepath.engine.models import Base  # type: ignore[import-not-found]

config = context.config
target_metadata: MetaData = Base.metadata


def run_migrations_online() -> None:
    engine: Engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite changes a table by copying it and dropping the old one (batch mode), which the foreign keys
            # of rows in other tables would refuse. SQLite's own procedure for schema changes: switch foreign
            # keys off (outside a transaction), change the schema, then check every key still holds.
            # (On the DB-API connection: through SQLAlchemy it would run inside BEGIN, where SQLite ignores it.)
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=sqlite)
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(
                        f"the migration left {len(broken)} row(s) whose foreign key points nowhere; nothing was changed"
                    )
    engine.dispose()


run_migrations_online()
