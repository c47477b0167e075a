"""The demo store's brands, size charts and products: formats, standards, consistency."""

from __future__ import annotations

import itertools
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from fitroom.demo.content import demo_brands, demo_charts, demo_products
from fitroom.demo.images import GARMENTS, PATTERNS
from fitroom.sizing.charts import SizeChart
from fitroom.sizing.zones import CM_PER_INCH, Zone

CHART_KEYS = {"chart_id", "brand_id", "category", "sex", "system", "sizes", "lengths"}
PRODUCT_KEYS = {
    "product_id", "brand_id", "chart_id", "category", "gender", "title", "description",
    "colour", "material", "price", "currency", "fit", "sizes", "image",
}  # fmt: skip
IMAGE_KEYS = {"garment", "colour_rgb", "pattern", "seed"}
CATEGORIES = ("tops", "dresses", "trousers", "outerwear")

# EN 13402-3:2004, letter codes: intervals of the primary dimension in cm,
# bust girth for women and chest girth for men. Written out here, independently of the
# data, so a chart that drifts from the standard fails.
EN13402_WOMEN_BUST = {
    "XXS": (66, 74), "XS": (74, 82), "S": (82, 90), "M": (90, 98), "L": (98, 107),
    "XL": (107, 119), "XXL": (119, 131), "3XL": (131, 143),
}  # fmt: skip
EN13402_MEN_CHEST = {
    "XXS": (70, 78), "XS": (78, 86), "S": (86, 94), "M": (94, 102), "L": (102, 110),
    "XL": (110, 118), "XXL": (118, 129), "3XL": (129, 141),
}  # fmt: skip


@pytest.fixture(scope="module")
def charts() -> dict[str, dict[str, Any]]:
    return {chart["chart_id"]: chart for chart in demo_charts()}


@pytest.fixture(scope="module")
def products() -> list[dict[str, Any]]:
    return demo_products()


def _rows(chart: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    return [("sizes", chart["sizes"]), ("lengths", chart["lengths"])]


# -- charts -------------------------------------------------------------------------------


def test_chart_ids_are_unique_and_brands_exist() -> None:
    charts = demo_charts()
    ids = [chart["chart_id"] for chart in charts]
    assert len(ids) == len(set(ids))
    brand_ids = {brand["brand_id"] for brand in demo_brands()}
    assert {chart["brand_id"] for chart in charts} == brand_ids
    for brand in demo_brands():
        assert set(brand) == {"brand_id", "name", "country", "description"}


def test_every_chart_has_the_exact_format(charts: dict[str, dict[str, Any]]) -> None:
    for chart in charts.values():
        assert set(chart) == CHART_KEYS, chart["chart_id"]
        assert chart["category"] in CATEGORIES
        assert chart["sex"] in ("female", "male")
        assert chart["system"] in ("letter", "eu", "waist_length")
        assert (chart["lengths"] != []) == (chart["system"] == "waist_length")
        for _, rows in _rows(chart):
            for row in rows:
                for key in set(row) - {"label"}:
                    assert Zone(key)  # every key is a zone value


def test_every_chart_passes_the_sizing_contract(charts: dict[str, dict[str, Any]]) -> None:
    for chart in charts.values():
        parsed = SizeChart.from_dict(chart)
        assert parsed.size_labels == tuple(row["label"] for row in chart["sizes"])
        assert parsed.length_labels == tuple(row["label"] for row in chart["lengths"])
        round_trip = SizeChart.from_dict(parsed.to_dict())
        assert round_trip == parsed


def test_ranges_are_contiguous_and_strictly_increasing(
    charts: dict[str, dict[str, Any]],
) -> None:
    for chart in charts.values():
        for part, rows in _rows(chart):
            if not rows:
                continue
            zones = set(rows[0]) - {"label"}
            assert zones, (chart["chart_id"], part)
            for row in rows:
                assert set(row) - {"label"} == zones, (chart["chart_id"], row["label"])
                for zone in zones:
                    low, high = row[zone]
                    assert low < high, (chart["chart_id"], row["label"], zone)
            for prev, cur in itertools.pairwise(rows):
                for zone in zones:
                    where = (chart["chart_id"], cur["label"], zone)
                    assert cur[zone][0] == prev[zone][1], where  # no gap, no overlap
                    assert cur[zone][1] > prev[zone][1], where


def test_letter_charts_use_the_en13402_3_intervals(charts: dict[str, dict[str, Any]]) -> None:
    checked = 0
    for chart in charts.values():
        if chart["system"] != "letter":
            continue
        table = EN13402_WOMEN_BUST if chart["sex"] == "female" else EN13402_MEN_CHEST
        for row in chart["sizes"]:
            if "chest" in row:
                assert tuple(row["chest"]) == table[row["label"]], (chart["chart_id"], row)
                checked += 1
    assert checked >= 40


def test_letter_trousers_share_waist_and_hip_with_the_brands_tops(
    charts: dict[str, dict[str, Any]],
) -> None:
    """A letter size is one body: trousers M fits the waist that tops M is made for."""
    for sex in ("women", "men"):
        tops = {row["label"]: row for row in charts[f"nordform-{sex}-tops"]["sizes"]}
        for row in charts[f"nordform-{sex}-trousers"]["sizes"]:
            assert row["waist"] == tops[row["label"]]["waist"]


def test_continental_sizes_sit_on_the_en13402_3_steps(charts: dict[str, dict[str, Any]]) -> None:
    women = {row["label"]: row for row in charts["aurele-women-tops"]["sizes"]}
    men = {row["label"]: row for row in charts["aurele-men-tops"]["sizes"]}
    assert women["38"]["chest"] == [86, 90]
    assert women["46"]["chest"] == [102, 107]  # the standard's step widens above 102 cm
    assert women["48"]["chest"] == [107, 113]
    for label, row in men.items():
        # men's continental size = half the chest girth at the interval centre
        assert (row["chest"][0] + row["chest"][1]) / 2 == 2 * int(label)
        assert row["waist"] == [row["chest"][0] - 12, row["chest"][1] - 12]


def test_denim_sizes_are_inches(charts: dict[str, dict[str, Any]]) -> None:
    for chart_id in ("millrace-women-trousers", "millrace-men-trousers"):
        chart = charts[chart_id]
        assert chart["system"] == "waist_length"
        for row in chart["sizes"]:
            inches = int(row["label"].removeprefix("W"))
            low, high = row["waist"]
            assert low <= inches * CM_PER_INCH <= high, row
        for row in chart["lengths"]:
            inches = int(row["label"].removeprefix("L"))
            low, high = row["inseam"]
            assert low < inches * CM_PER_INCH < high, row
    men_lengths = [row["label"] for row in charts["millrace-men-trousers"]["lengths"]]
    assert men_lengths == ["L30", "L32", "L34", "L36"]
    men_waists = [row["label"] for row in charts["millrace-men-trousers"]["sizes"]]
    assert men_waists[0] == "W28" and men_waists[-1] == "W40"


def test_chart_systems_per_brand(charts: dict[str, dict[str, Any]]) -> None:
    nordform = [c for c in charts.values() if c["brand_id"] == "nordform"]
    assert {c["system"] for c in nordform} == {"letter"}
    assert all([r["label"] for r in c["sizes"]] == ["XS", "S", "M", "L", "XL", "XXL"]
               for c in nordform)  # fmt: skip
    aurele = [c for c in charts.values() if c["brand_id"] == "aurele"]
    assert {c["system"] for c in aurele} == {"eu"}
    for chart in aurele:
        labels = [int(r["label"]) for r in chart["sizes"]]
        expected = range(34, 50, 2) if chart["sex"] == "female" else range(44, 60, 2)
        assert labels == list(expected)
    trousers = [c for c in charts.values() if c["brand_id"] == "millrace" and
                c["category"] == "trousers"]  # fmt: skip
    assert {c["system"] for c in trousers} == {"waist_length"}
    assert {c["sex"] for c in trousers} == {"female", "male"}


# -- products -----------------------------------------------------------------------------


def test_there_are_enough_products_of_every_kind(products: list[dict[str, Any]]) -> None:
    assert len(products) >= 40
    assert len({p["product_id"] for p in products}) == len(products)
    counts = Counter((p["category"], p["gender"]) for p in products)
    for category in CATEGORIES:
        for gender in ("women", "men"):
            if (category, gender) == ("dresses", "men"):
                continue
            assert counts[(category, gender)] >= 4, (category, gender)
    per_brand = Counter(p["brand_id"] for p in products)
    assert set(per_brand) == {b["brand_id"] for b in demo_brands()}
    assert min(per_brand.values()) >= 10


def test_every_product_has_the_exact_format(products: list[dict[str, Any]]) -> None:
    for product in products:
        pid = product["product_id"]
        assert set(product) == PRODUCT_KEYS, pid
        assert product["gender"] in ("women", "men")
        assert product["fit"] in ("slim", "regular", "relaxed")
        assert product["currency"] == "EUR"
        price = Decimal(str(product["price"]))
        assert price > 0 and price == price.quantize(Decimal("0.01")), pid
        assert product["title"] and len(product["description"].split(". ")) >= 2, pid
        assert product["colour"] and product["material"], pid
        image = product["image"]
        assert set(image) == IMAGE_KEYS, pid
        assert image["garment"] in GARMENTS, pid
        assert image["pattern"] in PATTERNS, pid
        assert len(image["colour_rgb"]) == 3
        assert all(isinstance(v, int) and 0 <= v <= 255 for v in image["colour_rgb"]), pid
        assert isinstance(image["seed"], int)
        for size in product["sizes"]:
            assert set(size) == {"label", "stock"}
            assert isinstance(size["stock"], int) and size["stock"] >= 0


def test_every_product_sits_on_a_matching_chart(
    products: list[dict[str, Any]], charts: dict[str, dict[str, Any]]
) -> None:
    for product in products:
        chart = charts[product["chart_id"]]
        pid = product["product_id"]
        assert chart["brand_id"] == product["brand_id"], pid
        assert chart["category"] == product["category"], pid
        assert chart["sex"] == {"women": "female", "men": "male"}[product["gender"]], pid
        valid = set(SizeChart.from_dict(chart).full_labels())
        labels = [size["label"] for size in product["sizes"]]
        assert len(labels) == len(set(labels)), pid
        assert set(labels) <= valid, (pid, sorted(set(labels) - valid))


def test_jeans_list_waist_and_length_combinations(
    products: list[dict[str, Any]], charts: dict[str, dict[str, Any]]
) -> None:
    wl_products = [p for p in products if charts[p["chart_id"]]["system"] == "waist_length"]
    assert len(wl_products) >= 4
    for product in wl_products:
        chart = charts[product["chart_id"]]
        waists = {row["label"] for row in chart["sizes"]}
        lengths = {row["label"] for row in chart["lengths"]}
        seen_lengths = set()
        for size in product["sizes"]:
            waist, length = size["label"].split(" ")
            assert waist in waists and length in lengths, size
            seen_lengths.add(length)
        assert len(seen_lengths) >= 2, product["product_id"]


def test_some_sizes_are_sold_out_but_every_product_is_buyable(
    products: list[dict[str, Any]],
) -> None:
    sold_out = [p for p in products if any(s["stock"] == 0 for s in p["sizes"])]
    assert len(sold_out) >= 10
    assert all(any(s["stock"] > 0 for s in p["sizes"]) for p in products)


def test_products_pass_the_catalog_import_contract(products: list[dict[str, Any]]) -> None:
    """The seed feeds products through ``ProductIn``; the demo data must pass it."""
    catalog = pytest.importorskip("fitroom.services.catalog")
    for product in products:
        row = {key: value for key, value in product.items() if key != "image"}
        catalog.ProductIn.model_validate({**row, "images": []})


def test_functions_return_fresh_copies() -> None:
    first = demo_products()
    first[0]["sizes"].clear()
    first.pop()
    assert demo_products()[0]["sizes"]
    charts = demo_charts()
    charts[0]["sizes"][0]["label"] = "changed"
    assert demo_charts()[0]["sizes"][0]["label"] != "changed"
    brands = demo_brands()
    brands[0]["name"] = "changed"
    assert demo_brands()[0]["name"] != "changed"
