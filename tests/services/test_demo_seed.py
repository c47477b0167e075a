"""The demo seed writes a complete, consistent store, and can run twice."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from fitroom.config import Settings
from fitroom.services import catalog
from fitroom.services.demo import seed_demo
from fitroom.services.sizing import BodyIn, RecommendIn, SizingContext, recommend
from fitroom.store.db import Database

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


def test_seed_twice_and_recommend_for_every_product(db: Database, settings: Settings) -> None:
    media = settings.resolved_media_dir
    with db.session() as session:
        first = seed_demo(session, media)
    with db.session() as session:
        second = seed_demo(session, media)
    assert first.images_written == first.products >= 40
    assert second.images_written == 0, "images already on disk are reused"
    assert first.brands == 3

    with db.session() as session:
        products, total = catalog.list_products(session, limit=200)
        assert total == first.products
        categories = {(p.category, p.gender) for p in products}
        for needed in [("tops", "women"), ("tops", "men"), ("dresses", "women"),
                       ("trousers", "women"), ("trousers", "men"),
                       ("outerwear", "women"), ("outerwear", "men")]:  # fmt: skip
            assert needed in categories
        for product in products:
            image = Path(media) / product.images[0].removeprefix("/media/")
            with Image.open(image) as picture:
                assert picture.size[0] >= 400
            # An average adult (EU means, roughly) is a middle size on every demo chart.
            women = product.gender == "women"
            body = (
                BodyIn(height_cm=165, weight_kg=64)
                if women
                else BodyIn(height_cm=178, weight_kg=82)
            )
            rec = recommend(
                session,
                RecommendIn(
                    product_id=product.product_id,
                    measurements=body,
                    sex="female" if women else "male",
                ),
                SizingContext(),
            )
            assert product.chart_id is not None
            chart = catalog.get_chart(session, product.chart_id)
            size_index, _ = chart.split_label(rec["size"])
            assert 0 < size_index < len(chart.sizes) - 1, (product.product_id, rec["size"])
