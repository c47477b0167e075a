"""A small shop whose right recommendations are known, shared by the service and API tests.

Shoppers ``ab1``..``ab5`` bought the Oxford shirt, then the chinos; ``cd1``..``cd3``
bought the linen shirt, then the denim jacket. So for a shopper who bought the Oxford
shirt the chinos come first ("often bought with Oxford shirt"), and the Oxford shirt is
the most popular product (a cold start gets it first).

Fit: the striped tee sells every size but L (out of stock); the basic tee has L. A
shopper with chest 108 cm and waist 96 cm (the middle of L on ``acme-men-tops``) gets
the basic tee in L and never the striped tee. ``sold-out`` has no stock in any size
and is never recommended, though many looked at it.
"""

from __future__ import annotations

from typing import Any

from fitroom.services import catalog, events, shoppers
from fitroom.services.sizing import BodyIn
from fitroom.sizing.charts import SizeChart
from fitroom.store.db import Database
from tests.conftest import MEN_JEANS, MEN_TOPS

TOP_SIZES = ("S", "M", "L", "XL")

PRODUCTS: list[dict[str, Any]] = [
    {"product_id": "oxford", "category": "tops", "title": "Oxford shirt"},
    {"product_id": "chinos", "category": "trousers", "title": "Chino trousers", "chart": None},
    {"product_id": "linen", "category": "tops", "title": "Linen shirt"},
    {"product_id": "denim-jacket", "category": "outerwear", "title": "Denim jacket"},
    {"product_id": "striped-tee", "category": "tops", "title": "Striped tee", "no_l": True},
    {"product_id": "basic-tee", "category": "tops", "title": "Basic tee"},
    {"product_id": "sold-out", "category": "tops", "title": "Sold-out polo", "stock": 0},
    {"product_id": "straight-jeans", "category": "trousers", "title": "Straight jeans"},
    {"product_id": "wrap-dress", "category": "dresses", "title": "Wrap dress", "gender": "women"},
]

BUYER_OF_OXFORD = "target"
MEASURED_SHOPPER = "measured"


def _product(spec: dict[str, Any]) -> catalog.ProductIn:
    category = spec["category"]
    stock = spec.get("stock", 5)
    chart_id: str | None
    if category == "tops":
        chart_id = "acme-men-tops"
        sizes = [
            {"label": s, "stock": 0 if (spec.get("no_l") and s == "L") else stock}
            for s in TOP_SIZES
        ]
    elif category == "trousers" and spec.get("chart", "jeans") is not None:
        chart_id = "acme-men-jeans"
        sizes = [
            {"label": f"{w} {length}", "stock": stock}
            for w in ("W30", "W32", "W34", "W36")
            for length in ("L30", "L32", "L34")
        ]
    else:
        chart_id = None
        sizes = [{"label": "one-size", "stock": stock}]
    return catalog.ProductIn.model_validate(
        {
            "product_id": spec["product_id"],
            "brand_id": "acme",
            "chart_id": chart_id,
            "category": category,
            "gender": spec.get("gender", "men"),
            "title": spec["title"],
            "description": f"A {spec['title'].lower()} for the test shop",
            "colour": "blue",
            "material": "cotton",
            "price": "30.00",
            "sizes": sizes,
        }
    )


def seed_catalog(db: Database) -> None:
    with db.session() as session:
        catalog.put_brand(session, catalog.BrandIn(brand_id="acme", name="Acme"))
        catalog.put_chart(session, SizeChart.from_dict(MEN_TOPS))
        catalog.put_chart(session, SizeChart.from_dict(MEN_JEANS))
        for spec in PRODUCTS:
            catalog.put_product(session, _product(spec))


def purchase(product_id: str, shopper_id: str) -> events.EventIn:
    size = "one-size" if product_id in ("chinos", "denim-jacket", "wrap-dress") else None
    if size is None:
        size = "W32 L32" if product_id == "straight-jeans" else "M"
    return events.EventIn.model_validate(
        {"kind": "purchase", "product_id": product_id, "shopper_id": shopper_id, "size": size}
    )


def view(product_id: str, shopper_id: str) -> events.EventIn:
    return events.EventIn.model_validate(
        {"kind": "view", "product_id": product_id, "shopper_id": shopper_id}
    )


def seed_events(db: Database) -> None:
    """The co-purchases described in the module docstring, plus the target's purchase."""
    with db.session() as session:
        for i in range(1, 6):
            events.record_event(session, purchase("oxford", f"ab{i}"))
            events.record_event(session, purchase("chinos", f"ab{i}"))
        for i in range(1, 4):
            events.record_event(session, purchase("linen", f"cd{i}"))
            events.record_event(session, purchase("denim-jacket", f"cd{i}"))
        for i in range(1, 3):  # the striped tee is liked, and so is the sold-out polo
            events.record_event(session, view("striped-tee", f"tee{i}"))
            events.record_event(session, view("basic-tee", f"tee{i}"))
        for i in range(1, 8):
            events.record_event(session, view("sold-out", f"so{i}"))
        events.record_event(session, purchase("oxford", BUYER_OF_OXFORD))
        # An anonymous view and a return: neither is a positive signal of a shopper.
        events.record_event(
            session, events.EventIn.model_validate({"kind": "view", "product_id": "linen"})
        )
        events.record_event(
            session,
            events.EventIn.model_validate(
                {
                    "kind": "return",
                    "product_id": "oxford",
                    "shopper_id": "ab1",
                    "size": "M",
                    "return_reason": "too_small",
                }
            ),
        )


def add_measured_shopper(db: Database) -> None:
    """A shopper in the middle of size L who looked at both tees."""
    with db.session() as session:
        shoppers.create_shopper(session, shoppers.ShopperIn(shopper_id=MEASURED_SHOPPER))
        shoppers.put_measurements(
            session,
            MEASURED_SHOPPER,
            shoppers.MeasurementsIn(consent=True, measurements=BodyIn(chest_cm=108, waist_cm=96)),
        )


def seed_shop(db: Database) -> None:
    seed_catalog(db)
    seed_events(db)
    add_measured_shopper(db)
