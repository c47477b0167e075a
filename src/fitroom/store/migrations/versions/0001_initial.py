"""initial schema: catalog, size charts, shoppers, events

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-29 07:05:48.678901
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "brands",
        sa.Column("brand_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=100), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("brand_id", name=op.f("pk_brands")),
    )
    op.create_table(
        "shoppers",
        sa.Column("shopper_id", sa.String(length=64), nullable=False),
        sa.Column("sex", sa.String(length=16), nullable=True),
        sa.Column("fit_preference", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("shopper_id", name=op.f("pk_shoppers")),
    )
    op.create_table(
        "shopper_measurements",
        sa.Column("shopper_id", sa.String(length=64), nullable=False),
        sa.Column("values_cm", sa.JSON(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("consent_given_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["shopper_id"],
            ["shoppers.shopper_id"],
            name=op.f("fk_shopper_measurements_shopper_id_shoppers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("shopper_id", name=op.f("pk_shopper_measurements")),
    )
    op.create_table(
        "size_charts",
        sa.Column("chart_id", sa.String(length=100), nullable=False),
        sa.Column("brand_id", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("sex", sa.String(length=16), nullable=False),
        sa.Column("system", sa.String(length=32), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["brands.brand_id"],
            name=op.f("fk_size_charts_brand_id_brands"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("chart_id", name=op.f("pk_size_charts")),
    )
    op.create_table(
        "products",
        sa.Column("product_id", sa.String(length=100), nullable=False),
        sa.Column("brand_id", sa.String(length=64), nullable=False),
        sa.Column("chart_id", sa.String(length=100), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("gender", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("colour", sa.String(length=64), nullable=False),
        sa.Column("material", sa.String(length=300), nullable=False),
        sa.Column("price", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("fit", sa.String(length=16), nullable=False),
        sa.Column("images", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("price >= 0", name=op.f("ck_products_price_not_negative")),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["brands.brand_id"],
            name=op.f("fk_products_brand_id_brands"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["chart_id"],
            ["size_charts.chart_id"],
            name=op.f("fk_products_chart_id_size_charts"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_products")),
    )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_products_category"), ["category"], unique=False)
        batch_op.create_index(batch_op.f("ix_products_gender"), ["gender"], unique=False)

    op.create_table(
        "events",
        sa.Column("event_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("shopper_id", sa.String(length=64), nullable=True),
        sa.Column("product_id", sa.String(length=100), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("view", "add_to_cart", "purchase", "return", name="event_kind"),
            nullable=False,
        ),
        sa.Column("size", sa.String(length=32), nullable=True),
        sa.Column(
            "return_reason",
            sa.Enum("too_small", "too_large", "other", name="return_reason"),
            nullable=True,
        ),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(kind = 'return') = (return_reason IS NOT NULL)",
            name=op.f("ck_events_return_has_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.product_id"],
            name=op.f("fk_events_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shopper_id"],
            ["shoppers.shopper_id"],
            name=op.f("fk_events_shopper_id_shoppers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_events")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_events_product_id"), ["product_id"], unique=False)
        batch_op.create_index("ix_events_product_kind", ["product_id", "kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_events_shopper_id"), ["shopper_id"], unique=False)

    op.create_table(
        "product_sizes",
        sa.Column("product_id", sa.String(length=100), nullable=False),
        sa.Column("label", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.CheckConstraint("stock >= 0", name=op.f("ck_product_sizes_stock_not_negative")),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.product_id"],
            name=op.f("fk_product_sizes_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("product_id", "label", name=op.f("pk_product_sizes")),
    )


def downgrade() -> None:
    op.drop_table("product_sizes")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_shopper_id"))
        batch_op.drop_index("ix_events_product_kind")
        batch_op.drop_index(batch_op.f("ix_events_product_id"))

    op.drop_table("events")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_products_gender"))
        batch_op.drop_index(batch_op.f("ix_products_category"))

    op.drop_table("products")
    op.drop_table("size_charts")
    op.drop_table("shopper_measurements")
    op.drop_table("shoppers")
    op.drop_table("brands")
    bind = op.get_bind()
    sa.Enum(name="return_reason").drop(bind, checkfirst=True)
    sa.Enum(name="event_kind").drop(bind, checkfirst=True)
