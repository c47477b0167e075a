"""body scans: measurements from photos, stored with consent

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 09:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "body_scans",
        sa.Column("scan_id", sa.String(length=64), nullable=False),
        sa.Column("shopper_id", sa.String(length=64), nullable=True),
        sa.Column("height_cm", sa.Numeric(precision=6, scale=2, asdecimal=False), nullable=False),
        sa.Column("weight_kg", sa.Numeric(precision=6, scale=2, asdecimal=False), nullable=True),
        sa.Column("sex", sa.String(length=16), nullable=True),
        sa.Column("measurements", sa.JSON(), nullable=False),
        sa.Column("views", sa.JSON(), nullable=False),
        sa.Column("model", sa.String(length=32), nullable=False),
        sa.Column("consent_given_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["shopper_id"],
            ["shoppers.shopper_id"],
            name=op.f("fk_body_scans_shopper_id_shoppers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("scan_id", name=op.f("pk_body_scans")),
    )
    op.create_index(op.f("ix_body_scans_shopper_id"), "body_scans", ["shopper_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_body_scans_shopper_id"), table_name="body_scans")
    op.drop_table("body_scans")
