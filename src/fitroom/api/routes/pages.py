"""The storefront pages: static HTML, CSS and ES modules served by the API app.

The pages are the shop's face: they call the same public ``/v1`` HTTP API that a
store's own front end would call, and nothing else. three.js comes from npm (the
committed ``package-lock.json``) and is served from ``node_modules`` at
``/vendor/three``, so the pages work offline and never load code from a CDN.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware

from fitroom.config import Settings

WEB_DIR = Path(__file__).resolve().parents[2] / "web"
log = logging.getLogger("fitroom.api")

router = APIRouter(include_in_schema=False)


def _page(name: str) -> FileResponse:
    return FileResponse(WEB_DIR / name, media_type="text/html")


@router.get("/")
def catalog_page() -> FileResponse:
    """The catalog with its filters."""
    return _page("catalog.html")


@router.get("/products/{product_id}")
def product_page(product_id: str) -> FileResponse:
    """One product; the page reads the id from its own URL."""
    return _page("product.html")


@router.get("/size")
def size_page() -> FileResponse:
    """Find my size: photos + height -> measurements -> a size and why."""
    return _page("size.html")


@router.get("/see-it-on-me")
def avatar_page() -> FileResponse:
    """The avatar viewer with the fit heat map of the chosen size."""
    return _page("avatar.html")


@router.get("/showroom")
def showroom_page() -> FileResponse:
    """The 3D/VR showroom."""
    return _page("showroom.html")


@router.get("/try-on/live")
def live_tryon_page() -> FileResponse:
    """Live try-on: the webcam, with the chosen garment drawn on every frame."""
    return _page("tryon.html")


def mount_assets(app: FastAPI, settings: Settings) -> None:
    """Serve the pages' own files at ``/static`` and three.js at ``/vendor/three``.

    Both are gzipped on the way out (three.js's 0.7 MB module is about 0.18 MB gzipped);
    the API's own answers are left as they are.
    """
    app.mount(
        "/static",
        GZipMiddleware(StaticFiles(directory=WEB_DIR / "static"), minimum_size=1024),
        name="static",
    )
    three_dir = settings.resolved_node_modules_dir / "three"
    if not (three_dir / "build" / "three.module.js").is_file():
        log.warning(
            "three.js not found in %s: the 3D pages need `npm ci` (make run does it)", three_dir
        )
    app.mount(
        "/vendor/three",
        GZipMiddleware(StaticFiles(directory=three_dir, check_dir=False), minimum_size=1024),
        name="three",
    )
