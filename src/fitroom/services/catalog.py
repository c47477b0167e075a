"""Catalog use cases: brands, size charts and products, single and in bulk.

The pydantic models here are the one input contract for a brand or product: the API
body, a CSV/JSON import row and the demo seed all pass through them, so a product is
checked the same way wherever it comes from.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from fitroom.errors import Conflict, InputError, NotFound, UnknownSize
from fitroom.sizing.charts import Category, SizeChart
from fitroom.store.models import Brand, CatalogVersion, Product, ProductSize, SizeChartRecord

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
Gender = Literal["women", "men", "unisex"]
GarmentFit = Literal["slim", "regular", "relaxed"]


class BrandIn(BaseModel):
    """A brand as the API and imports accept it."""

    model_config = ConfigDict(extra="forbid")

    brand_id: str = Field(pattern=ID_PATTERN, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    country: str | None = Field(default=None, max_length=100)
    description: str | None = None


class SizeStockIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(min_length=1, max_length=32)
    stock: int = Field(default=0, ge=0)


class ProductIn(BaseModel):
    """A product as the API and imports accept it."""

    model_config = ConfigDict(extra="forbid")

    product_id: str = Field(pattern=ID_PATTERN, max_length=100)
    brand_id: str = Field(min_length=1, max_length=64)
    chart_id: str | None = Field(default=None, max_length=100)
    category: Category
    gender: Gender
    title: str = Field(min_length=1, max_length=300)
    description: str = ""
    colour: str = Field(default="", max_length=64)
    material: str = Field(default="", max_length=300)
    price: Decimal = Field(ge=0, max_digits=10, decimal_places=2)
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    fit: GarmentFit = "regular"
    images: list[str] = Field(default_factory=list)
    sizes: list[SizeStockIn] = Field(min_length=1)

    @field_validator("sizes")
    @classmethod
    def _unique_sizes(cls, sizes: list[SizeStockIn]) -> list[SizeStockIn]:
        labels = [s.label for s in sizes]
        duplicates = sorted({label for label in labels if labels.count(label) > 1})
        if duplicates:
            raise ValueError(f"sizes listed twice: {', '.join(duplicates)}")
        return sizes


# -- catalogue version ------------------------------------------------------------------

CATALOG_VERSION_ROW = 1


def bump_catalog_version(session: Session) -> None:
    """Count a catalog write (in the writer's transaction) so in-memory copies reload."""
    session.execute(
        update(CatalogVersion)
        .where(CatalogVersion.id == CATALOG_VERSION_ROW)
        .values(version=CatalogVersion.version + 1)
    )


_VERSION_QUERY = select(CatalogVersion.version).where(CatalogVersion.id == CATALOG_VERSION_ROW)


def catalog_version(session: Session) -> int:
    """The catalogue's version: changes whenever a product or size chart is written."""
    return session.scalar(_VERSION_QUERY) or 0


# -- brands -----------------------------------------------------------------------------


def put_brand(session: Session, brand: BrandIn) -> Brand:
    """Create or replace a brand."""
    record = session.get(Brand, brand.brand_id) or Brand(brand_id=brand.brand_id)
    record.name = brand.name
    record.country = brand.country
    record.description = brand.description
    session.add(record)
    session.flush()
    return record


def list_brands(session: Session) -> Sequence[Brand]:
    return session.scalars(select(Brand).order_by(Brand.brand_id)).all()


def get_brand(session: Session, brand_id: str) -> Brand:
    brand = session.get(Brand, brand_id)
    if brand is None:
        raise NotFound(f"brand {brand_id!r} does not exist", brand_id=brand_id)
    return brand


# -- size charts ------------------------------------------------------------------------


def put_chart(session: Session, chart: SizeChart) -> SizeChartRecord:
    """Create or replace a size chart; existing products must keep valid sizes."""
    get_brand(session, chart.brand_id)
    record = session.get(SizeChartRecord, chart.chart_id)
    if record is not None:
        valid = set(chart.full_labels())
        stranded = session.execute(
            select(ProductSize.product_id, ProductSize.label)
            .join(Product)
            .where(Product.chart_id == chart.chart_id)
        ).all()
        lost = sorted({f"{pid}:{label}" for pid, label in stranded if label not in valid})
        if lost:
            raise Conflict(
                f"chart {chart.chart_id!r} would drop sizes that products still sell: "
                f"{', '.join(lost[:10])}",
                chart_id=chart.chart_id,
                product_sizes=lost,
            )
    else:
        record = SizeChartRecord(chart_id=chart.chart_id)
    data = chart.to_dict()
    record.brand_id = chart.brand_id
    record.category = chart.category.value
    record.sex = chart.sex.value
    record.system = chart.system.value
    record.body = {"sizes": data["sizes"], "lengths": data["lengths"]}
    session.add(record)
    session.flush()
    bump_catalog_version(session)
    return record


def chart_from_record(record: SizeChartRecord) -> SizeChart:
    return SizeChart.from_dict(
        {
            "chart_id": record.chart_id,
            "brand_id": record.brand_id,
            "category": record.category,
            "sex": record.sex,
            "system": record.system,
            **record.body,
        }
    )


def get_chart(session: Session, chart_id: str) -> SizeChart:
    record = session.get(SizeChartRecord, chart_id)
    if record is None:
        raise NotFound(f"size chart {chart_id!r} does not exist", chart_id=chart_id)
    return chart_from_record(record)


def list_charts(
    session: Session, *, brand_id: str | None = None, category: str | None = None
) -> list[SizeChart]:
    query = select(SizeChartRecord).order_by(SizeChartRecord.chart_id)
    if brand_id:
        query = query.where(SizeChartRecord.brand_id == brand_id)
    if category:
        query = query.where(SizeChartRecord.category == category)
    return [chart_from_record(r) for r in session.scalars(query)]


# -- products ---------------------------------------------------------------------------


def check_product(session: Session, product: ProductIn) -> None:
    """Cross-object checks: the brand and chart exist and the sizes are the chart's."""
    get_brand(session, product.brand_id)
    if product.chart_id is None:
        return
    chart = get_chart(session, product.chart_id)
    if chart.brand_id != product.brand_id:
        raise InputError(
            f"product {product.product_id!r} is brand {product.brand_id!r} but chart "
            f"{chart.chart_id!r} belongs to brand {chart.brand_id!r}",
            field="chart_id",
        )
    if chart.category.value != product.category.value:
        raise InputError(
            f"product {product.product_id!r} is {product.category.value} but chart "
            f"{chart.chart_id!r} is for {chart.category.value}",
            field="chart_id",
        )
    valid = chart.full_labels()
    for size in product.sizes:
        if size.label not in valid:
            raise UnknownSize(
                f"product {product.product_id!r}: size {size.label!r} is not on chart "
                f"{chart.chart_id!r} (sizes: {', '.join(valid)})",
                field="sizes",
                size=size.label,
                valid_sizes=list(valid),
            )


def put_product(session: Session, product: ProductIn) -> Product:
    """Create or replace a product and its sizes."""
    check_product(session, product)
    record = session.get(Product, product.product_id) or Product(product_id=product.product_id)
    for name in (
        "brand_id",
        "chart_id",
        "title",
        "description",
        "colour",
        "material",
        "price",
        "currency",
        "fit",
        "gender",
    ):
        setattr(record, name, getattr(product, name))
    record.category = product.category.value
    record.images = list(product.images)
    existing = {s.label: s for s in record.sizes}
    record.sizes = [
        _size_row(existing.get(s.label), product.product_id, s, position)
        for position, s in enumerate(product.sizes)
    ]
    session.add(record)
    session.flush()
    bump_catalog_version(session)
    return record


def _size_row(
    row: ProductSize | None, product_id: str, size: SizeStockIn, position: int
) -> ProductSize:
    row = row or ProductSize(product_id=product_id, label=size.label)
    row.stock = size.stock
    row.position = position
    return row


def get_product(session: Session, product_id: str) -> Product:
    product = session.get(Product, product_id)
    if product is None:
        raise NotFound(f"product {product_id!r} does not exist", product_id=product_id)
    return product


def list_products(
    session: Session,
    *,
    category: str | None = None,
    gender: str | None = None,
    brand_id: str | None = None,
    in_stock_size: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[Sequence[Product], int]:
    """A page of products and the total that match the filters."""
    query = select(Product)
    if category:
        query = query.where(Product.category == category)
    if gender:
        query = query.where(Product.gender.in_([gender, "unisex"]))
    if brand_id:
        query = query.where(Product.brand_id == brand_id)
    if in_stock_size:
        query = query.where(
            Product.sizes.any((ProductSize.label == in_stock_size) & (ProductSize.stock > 0))
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = session.scalars(query.order_by(Product.product_id).limit(limit).offset(offset)).all()
    return page, total


def delete_product(session: Session, product_id: str) -> None:
    product = get_product(session, product_id)
    session.delete(product)
    bump_catalog_version(session)


def product_to_dict(product: Product) -> dict[str, Any]:
    """A product as the API returns it."""
    return {
        "product_id": product.product_id,
        "brand_id": product.brand_id,
        "chart_id": product.chart_id,
        "category": product.category,
        "gender": product.gender,
        "title": product.title,
        "description": product.description,
        "colour": product.colour,
        "material": product.material,
        "price": float(product.price),
        "currency": product.currency,
        "fit": product.fit,
        "images": list(product.images or []),
        "sizes": [{"label": s.label, "stock": s.stock} for s in product.sizes],
    }
