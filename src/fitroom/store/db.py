"""Engine, sessions and migrations.

SQLite (the embedded default) runs in WAL mode with foreign keys on and
``secure_delete`` on, so deleted measurements are overwritten on disk, not just
unlinked. PostgreSQL works through the same models and migrations.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from fitroom.errors import ConfigError


def make_engine(database_url: str) -> Engine:
    """An engine for ``database_url``; creates the SQLite file's folder if needed."""
    try:
        url = make_url(database_url)
    except Exception as exc:  # sqlalchemy raises ArgumentError with little context
        raise ConfigError(
            f"FITROOM_DATABASE_URL={database_url!r} is not a database URL "
            "(e.g. sqlite:///var/fitroom.db or postgresql+psycopg://user:pw@host/db)"
        ) from exc
    kwargs: dict[str, Any] = {}
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if url.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class Database:
    """An engine plus a session factory; one per process (or per test)."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self.engine = make_engine(database_url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    def upgrade(self, revision: str = "head") -> None:
        """Run the Alembic migrations up to ``revision``."""
        from alembic import command

        command.upgrade(alembic_config(self.url), revision)

    def downgrade(self, revision: str) -> None:
        """Undo migrations down to ``revision`` (``"base"``: an empty database)."""
        from alembic import command

        command.downgrade(alembic_config(self.url), revision)

    def current_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(database_url: str) -> Any:
    """An Alembic Config pointing at the packaged migrations and ``database_url``."""
    from alembic.config import Config

    script_location = resources.files("fitroom.store") / "migrations"
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["database_url"] = database_url
    return config


@functools.lru_cache(maxsize=8)
def database_for(database_url: str) -> Database:
    """The process-wide Database for a URL (the API and CLI share one)."""
    return Database(database_url)
