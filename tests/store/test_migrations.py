"""Migrations build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from fitroom.services import shoppers
from fitroom.services.sizing import BodyIn
from fitroom.store.db import Database
from fitroom.store.models import Base, Event, EventKind


def test_migrated_schema_matches_the_models(db: Database) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    assert db.current_revision() is not None


def test_downgrade_to_base_and_up_again(db: Database) -> None:
    db.downgrade("base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    db.upgrade("head")
    assert db.current_revision() is not None


def test_constraints_hold_in_the_database(seeded_db: Database) -> None:
    with pytest.raises(IntegrityError), seeded_db.session() as session:
        session.add(Event(product_id="acme-tee", kind=EventKind.return_, size="M"))
        session.flush()
    with pytest.raises(IntegrityError), seeded_db.session() as session:
        session.add(Event(product_id="no-such-product", kind=EventKind.view))
        session.flush()
    with seeded_db.session() as session:
        assert session.scalars(select(Event)).all() == []


@pytest.mark.parametrize("backend", ["sqlite"])
def test_deleted_measurements_leave_no_bytes_in_the_sqlite_file(
    db: Database, tmp_path: Path
) -> None:
    marker = 123.456
    with db.session() as session:
        shopper = shoppers.create_shopper(session, shoppers.ShopperIn(shopper_id="s-del"))
        shoppers.put_measurements(
            session,
            shopper.shopper_id,
            shoppers.MeasurementsIn(consent=True, measurements=BodyIn(hip_cm=marker)),
        )
    with db.engine.connect() as connection:
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    path = Path(str(db.engine.url.database))
    assert b"123.5" in path.read_bytes()
    with db.session() as session:
        assert shoppers.delete_measurements(session, "s-del")
    with db.engine.connect() as connection:
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    data = path.read_bytes()
    wal = path.with_name(path.name + "-wal")
    if wal.exists():
        data += wal.read_bytes()
    assert b"123.5" not in data, "secure_delete must overwrite the deleted row"
