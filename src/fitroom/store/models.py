"""SQLAlchemy 2 models: the catalog, size charts, shoppers and their events.

Schema changes go through Alembic migrations (``store/migrations``); tests check that
the migrated schema matches these models.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class EventKind(enum.StrEnum):
    view = "view"
    add_to_cart = "add_to_cart"
    purchase = "purchase"
    return_ = "return"


class ReturnReason(enum.StrEnum):
    too_small = "too_small"
    too_large = "too_large"
    other = "other"


class Brand(Base):
    __tablename__ = "brands"

    brand_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SizeChartRecord(Base):
    """A size chart; ``body`` holds its sizes and lengths in the JSON import format."""

    __tablename__ = "size_charts"

    chart_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    brand_id: Mapped[str] = mapped_column(ForeignKey("brands.brand_id", ondelete="RESTRICT"))
    category: Mapped[str] = mapped_column(String(32))
    sex: Mapped[str] = mapped_column(String(16))
    system: Mapped[str] = mapped_column(String(32))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class Product(Base):
    __tablename__ = "products"

    product_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    brand_id: Mapped[str] = mapped_column(ForeignKey("brands.brand_id", ondelete="RESTRICT"))
    chart_id: Mapped[str | None] = mapped_column(
        ForeignKey("size_charts.chart_id", ondelete="RESTRICT")
    )
    category: Mapped[str] = mapped_column(String(32), index=True)
    gender: Mapped[str] = mapped_column(String(16), index=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    colour: Mapped[str] = mapped_column(String(64), default="")
    material: Mapped[str] = mapped_column(String(300), default="")
    price: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    fit: Mapped[str] = mapped_column(String(16), default="regular")
    images: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    sizes: Mapped[list[ProductSize]] = relationship(
        back_populates="product",
        cascade="all, delete-orphan",
        order_by="ProductSize.position",
        lazy="selectin",
    )

    __table_args__ = (CheckConstraint("price >= 0", name="price_not_negative"),)


class ProductSize(Base):
    """A size a product is sold in, with its stock."""

    __tablename__ = "product_sizes"

    product_id: Mapped[str] = mapped_column(
        ForeignKey("products.product_id", ondelete="CASCADE"), primary_key=True
    )
    label: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    stock: Mapped[int] = mapped_column(Integer, default=0)

    product: Mapped[Product] = relationship(back_populates="sizes")

    __table_args__ = (CheckConstraint("stock >= 0", name="stock_not_negative"),)


class Shopper(Base):
    """A pseudonymous shopper: an opaque id, no name, no e-mail."""

    __tablename__ = "shoppers"

    shopper_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sex: Mapped[str | None] = mapped_column(String(16))
    fit_preference: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    measurements: Mapped[ShopperMeasurements | None] = relationship(
        back_populates="shopper", cascade="all, delete-orphan", uselist=False, lazy="selectin"
    )


class ShopperMeasurements(Base):
    """Body measurements, stored only with the shopper's explicit consent."""

    __tablename__ = "shopper_measurements"

    shopper_id: Mapped[str] = mapped_column(
        ForeignKey("shoppers.shopper_id", ondelete="CASCADE"), primary_key=True
    )
    #: {"chest": 101.0, ...} in cm, plus "weight_kg" when given.
    values_cm: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: {"chest": "measured" | "estimated" | "scan", ...}
    sources: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    consent_given_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    shopper: Mapped[Shopper] = relationship(back_populates="measurements")


class Event(Base):
    """Something a shopper did with a product: view, cart, purchase, return."""

    __tablename__ = "events"

    event_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    shopper_id: Mapped[str | None] = mapped_column(
        ForeignKey("shoppers.shopper_id", ondelete="CASCADE"), index=True
    )
    product_id: Mapped[str] = mapped_column(
        ForeignKey("products.product_id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[EventKind] = mapped_column(
        Enum(EventKind, name="event_kind", values_callable=lambda e: [m.value for m in e])
    )
    size: Mapped[str | None] = mapped_column(String(32))
    return_reason: Mapped[ReturnReason | None] = mapped_column(
        Enum(ReturnReason, name="return_reason", values_callable=lambda e: [m.value for m in e])
    )
    occurred_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )

    __table_args__ = (
        Index("ix_events_product_kind", "product_id", "kind"),
        CheckConstraint(
            "(kind = 'return') = (return_reason IS NOT NULL)", name="return_has_reason"
        ),
    )


class CatalogVersion(Base):
    """One row whose ``version`` every catalog write increments (same transaction).

    Readers that keep the catalogue in memory (recommendations) compare it with the
    version they loaded: one primary-key read per request, right across workers and
    hosts, instead of re-reading 20,000 products.
    """

    __tablename__ = "catalog_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class BodyScan(Base):
    """Measurements from a body scan, stored only when the shopper consented.

    The photos themselves are never stored (not here, not on disk): only the numbers
    the scan produced, with their +/- and the model that produced them.
    """

    __tablename__ = "body_scans"

    scan_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    shopper_id: Mapped[str | None] = mapped_column(
        ForeignKey("shoppers.shopper_id", ondelete="CASCADE"), index=True
    )
    height_cm: Mapped[float] = mapped_column(Numeric(6, 2, asdecimal=False))
    weight_kg: Mapped[float | None] = mapped_column(Numeric(6, 2, asdecimal=False))
    sex: Mapped[str | None] = mapped_column(String(16))
    #: {"chest_cm": {"value_cm": 98.1, "plus_minus_cm": 1.9, "source": "photo"}, ...}
    measurements: Mapped[dict[str, Any]] = mapped_column(JSON)
    views: Mapped[list[str]] = mapped_column(JSON)
    model: Mapped[str] = mapped_column(String(32))
    consent_given_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
