"""Seed the demo store: three brands, their size charts, 40+ products with images."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from fitroom.services import catalog
from fitroom.sizing.charts import SizeChart


@dataclass(frozen=True)
class SeedResult:
    brands: int
    charts: int
    products: int
    images_written: int


def seed_demo(
    session: Session,
    media_dir: Path,
    *,
    force_images: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> SeedResult:
    """Write the demo catalog (idempotent: re-seeding replaces the demo rows)."""
    from fitroom.demo.content import demo_brands, demo_charts, demo_products
    from fitroom.demo.images import render_product_image

    brands = demo_brands()
    charts = demo_charts()
    products = demo_products()
    for brand in brands:
        catalog.put_brand(session, catalog.BrandIn.model_validate(brand))
    for chart in charts:
        catalog.put_chart(session, SizeChart.from_dict(chart))
    image_dir = media_dir / "products"
    image_dir.mkdir(parents=True, exist_ok=True)
    written = 0
    for index, raw in enumerate(products):
        product = dict(raw)
        spec = product.pop("image", None)
        image_name = f"{product['product_id']}.jpg"
        path = image_dir / image_name
        if spec is not None and (force_images or not path.exists()):
            path.write_bytes(render_product_image(raw))
            written += 1
        product["images"] = [f"/media/products/{image_name}"]
        catalog.put_product(session, catalog.ProductIn.model_validate(product))
        if progress is not None:
            progress(index + 1, len(products))
    return SeedResult(len(brands), len(charts), len(products), written)
