"""Shared fixtures: a migrated SQLite file, settings, the app, a real uvicorn server."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fitroom.config import Settings
from fitroom.services import catalog
from fitroom.sizing.charts import SizeChart
from fitroom.store.db import Database
from tests.pg import PostgresServer, server_bin_dir

ADMIN_KEY = "test-admin-key-0123456789"
REPO_ROOT = Path(__file__).resolve().parent.parent

MEN_TOPS: dict[str, Any] = {
    "chart_id": "acme-men-tops",
    "brand_id": "acme",
    "category": "tops",
    "sex": "male",
    "system": "letter",
    "sizes": [
        {"label": "S", "chest": [88, 96], "waist": [76, 84]},
        {"label": "M", "chest": [96, 104], "waist": [84, 92]},
        {"label": "L", "chest": [104, 112], "waist": [92, 100]},
        {"label": "XL", "chest": [112, 124], "waist": [100, 112]},
    ],
}

MEN_JEANS: dict[str, Any] = {
    "chart_id": "acme-men-jeans",
    "brand_id": "acme",
    "category": "trousers",
    "sex": "male",
    "system": "waist_length",
    "sizes": [
        {"label": "W30", "waist": [74, 79], "hip": [90, 95]},
        {"label": "W32", "waist": [79, 84], "hip": [95, 100]},
        {"label": "W34", "waist": [84, 89], "hip": [100, 105]},
        {"label": "W36", "waist": [89, 94], "hip": [105, 110]},
    ],
    "lengths": [
        {"label": "L30", "inseam": [73, 78]},
        {"label": "L32", "inseam": [78, 83]},
        {"label": "L34", "inseam": [83, 88]},
    ],
}


def data_dir() -> Path:
    return Path(os.environ.get("FITROOM_DATA_DIR", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bin_dir = server_bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    server = PostgresServer(bin_dir)
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture()
def settings(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> Settings:
    database_url = None
    if backend == "postgres":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        database_url = server.create_database(f"t_{uuid.uuid4().hex[:12]}")
    return Settings(
        var_dir=tmp_path / "var",
        admin_api_key=ADMIN_KEY,
        data_dir=data_dir(),
        database_url=database_url,
    )


@pytest.fixture()
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings.resolved_database_url)
    database.upgrade()
    yield database
    database.dispose()


def seed_small_catalog(database: Database) -> None:
    """One brand, a tops chart, a jeans chart with lengths, two products."""
    with database.session() as session:
        catalog.put_brand(session, catalog.BrandIn(brand_id="acme", name="Acme"))
        catalog.put_chart(session, SizeChart.from_dict(MEN_TOPS))
        catalog.put_chart(session, SizeChart.from_dict(MEN_JEANS))
        catalog.put_product(
            session,
            catalog.ProductIn.model_validate(
                {
                    "product_id": "acme-tee",
                    "brand_id": "acme",
                    "chart_id": "acme-men-tops",
                    "category": "tops",
                    "gender": "men",
                    "title": "Crew-neck T-shirt",
                    "price": "19.90",
                    "sizes": [
                        {"label": "S", "stock": 3},
                        {"label": "M", "stock": 5},
                        {"label": "L", "stock": 0},
                        {"label": "XL", "stock": 2},
                    ],
                }
            ),
        )
        catalog.put_product(
            session,
            catalog.ProductIn.model_validate(
                {
                    "product_id": "acme-jeans",
                    "brand_id": "acme",
                    "chart_id": "acme-men-jeans",
                    "category": "trousers",
                    "gender": "men",
                    "title": "Straight jeans",
                    "price": "69.00",
                    "sizes": [
                        {"label": f"{w} {length}", "stock": 4}
                        for w in ("W30", "W32", "W34", "W36")
                        for length in ("L30", "L32", "L34")
                    ],
                }
            ),
        )


@pytest.fixture()
def seeded_db(db: Database) -> Database:
    seed_small_catalog(db)
    return db


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LiveServer:
    """A real uvicorn server on 127.0.0.1 in a thread, for tests of the HTTP layer."""

    def __init__(self, settings: Settings, database: Database) -> None:
        import uvicorn

        from fitroom.api.app import create_app

        self.settings = settings
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(settings, database),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            access_log=False,
            timeout_keep_alive=60,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start within 20 s")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture()
def live_server(settings: Settings, seeded_db: Database) -> Iterator[LiveServer]:
    with LiveServer(settings, seeded_db) as server:
        yield server


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip tests marked ``slow`` unless FITROOM_RUN_SLOW=1 (``make test`` stays fast)."""
    if os.environ.get("FITROOM_RUN_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow test: set FITROOM_RUN_SLOW=1 to run it")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
