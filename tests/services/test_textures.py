"""Showroom textures: small product photos upscaled x2 by the shipped FitSR, named by the API."""

from __future__ import annotations

import httpx
import numpy as np
import pytest
from PIL import Image

from fitroom.config import Settings
from fitroom.services import catalog
from fitroom.services.textures import build_textures, texture_url
from fitroom.store.db import Database
from tests.conftest import LiveServer

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


def _product(product_id: str, image: str) -> catalog.ProductIn:
    return catalog.ProductIn.model_validate(
        {
            "product_id": product_id,
            "brand_id": "acme",
            "chart_id": "acme-men-tops",
            "category": "tops",
            "gender": "men",
            "title": product_id,
            "price": "10",
            "images": [image],
            "sizes": [{"label": "M", "stock": 1}],
        }
    )


def _write_photo(settings: Settings, name: str, size: tuple[int, int]) -> None:
    folder = settings.resolved_media_dir / "products"
    folder.mkdir(parents=True, exist_ok=True)
    x = np.linspace(0, 255, size[0], dtype=np.float32)
    pixels = np.stack([np.tile(x, (size[1], 1))] * 3, axis=2).astype(np.uint8)
    Image.fromarray(pixels).save(folder / name)


def test_small_photos_get_a_texture_and_the_api_names_it(
    settings: Settings, seeded_db: Database, live_server: LiveServer
) -> None:
    _write_photo(settings, "small.png", (96, 120))
    _write_photo(settings, "large.png", (800, 900))
    with seeded_db.session() as session:
        catalog.put_product(session, _product("small-tee", "/media/products/small.png"))
        catalog.put_product(session, _product("large-tee", "/media/products/large.png"))
        catalog.put_product(session, _product("cdn-tee", "https://cdn.example/x.jpg"))
        report = build_textures(session, settings.resolved_media_dir, min_side_px=768)
    assert report.upscaled == 1 and report.already_sharp == 1
    texture = settings.resolved_media_dir / "products" / "small.sr.png"
    assert Image.open(texture).size == (192, 240)
    media = settings.resolved_media_dir
    assert texture_url("/media/products/small.png", media) == "/media/products/small.sr.png"
    assert texture_url("/media/products/large.png", media) is None
    assert texture_url("/media/../etc/passwd", media) is None
    with httpx.Client(base_url=live_server.url) as client:
        small = client.get("/v1/products/small-tee").json()
        assert small["texture"] == "/media/products/small.sr.png"
        assert client.get(small["texture"]).status_code == 200
        assert client.get("/v1/products/large-tee").json()["texture"] is None
        listed = {p["product_id"]: p["texture"] for p in client.get("/v1/products").json()["items"]}
        assert listed["small-tee"] == "/media/products/small.sr.png"


def test_textures_with_self_ensemble(settings: Settings, seeded_db: Database) -> None:
    folder = settings.resolved_media_dir / "products"
    folder.mkdir(parents=True, exist_ok=True)
    pattern = np.random.default_rng(0).integers(0, 256, size=(12, 16, 3), dtype=np.uint8)
    Image.fromarray(pattern).resize((64, 48), Image.BICUBIC).save(folder / "soft.png")
    with seeded_db.session() as session:
        catalog.put_product(session, _product("soft-tee", "/media/products/soft.png"))
        build_textures(session, settings.resolved_media_dir, min_side_px=768)
        texture = settings.resolved_media_dir / "products" / "soft.sr.png"
        plain = np.asarray(Image.open(texture), dtype=int)
        build_textures(session, settings.resolved_media_dir, 768, force=True, ensemble=4)
        averaged = np.asarray(Image.open(texture), dtype=int)
    assert plain.shape == averaged.shape == (96, 128, 3)
    assert 0 < np.abs(plain - averaged).max() <= 16  # the same picture, averaged
