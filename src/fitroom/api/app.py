"""The FastAPI application: /v1 routers, problem+json errors, media files, pages, docs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from fitroom import __version__
from fitroom.api.deps import WorkDep
from fitroom.api.problems import install_problem_handlers
from fitroom.api.routes import (
    body_scans,
    catalog,
    pages,
    recommendations,
    shoppers,
    sizing,
    superres,
    tryon,
    tryon_stream,
)
from fitroom.config import Settings, get_settings
from fitroom.services.recommendations import Serving
from fitroom.store.db import Database


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    """Build the app for these settings (the environment's when None)."""
    settings = settings or get_settings()
    app = FastAPI(
        title="fitroom",
        version=__version__,
        description=(
            "Open-source AI fitting room: size recommendation from body measurements, "
            "catalog and size charts, shoppers and events. Errors are "
            "application/problem+json with a stable `type`."
        ),
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.db = db or Database(settings.resolved_database_url)
    app.state.recsys = Serving.from_settings(settings)
    install_problem_handlers(app)

    v1 = APIRouter(prefix="/v1")

    @v1.get("/health", tags=["meta"])
    async def health(work: WorkDep) -> dict[str, Any]:
        await work(lambda session: session.execute(text("SELECT 1")))
        return {"status": "ok", "version": __version__}

    v1.include_router(catalog.router)
    v1.include_router(sizing.router)
    v1.include_router(shoppers.router)
    v1.include_router(superres.router)
    v1.include_router(body_scans.router)
    v1.include_router(recommendations.router)
    v1.include_router(tryon_stream.router)
    v1.include_router(tryon.router)
    app.include_router(v1)

    media_dir = settings.resolved_media_dir
    media_dir.mkdir(parents=True, exist_ok=True)
    app.mount("/media", StaticFiles(directory=media_dir), name="media")

    app.include_router(pages.router)
    pages.mount_assets(app, settings)

    return app
