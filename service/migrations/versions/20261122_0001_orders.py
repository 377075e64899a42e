"""orders table for the embedded order connector

Revision ID: 0001_orders
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_orders"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUSES = (
    "processing",
    "shipped",
    "in_transit",
    "out_for_delivery",
    "delivered",
    "delayed",
    "cancelled",
    "returned",
)


def upgrade() -> None:
    """Create ``orders`` with its lookup indexes."""
    op.create_table(
        "orders",
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=True),
        sa.Column("customer_email", sa.String(320), nullable=True),
        sa.Column("customer_email_key", sa.String(320), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("carrier", sa.String(128), nullable=True),
        sa.Column("tracking_number", sa.String(128), nullable=True),
        sa.Column("tracking_url", sa.String(2048), nullable=True),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("estimated_delivery", sa.Date(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in _STATUSES) + ")",
            name=op.f("ck_orders_status"),
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_orders")),
    )
    op.create_index(
        "ix_orders_customer_id_placed_at", "orders", ["customer_id", "placed_at"], unique=False
    )
    op.create_index(
        "ix_orders_customer_email_key_placed_at",
        "orders",
        ["customer_email_key", "placed_at"],
        unique=False,
    )


def downgrade() -> None:
    """Drop ``orders``."""
    op.drop_index("ix_orders_customer_email_key_placed_at", table_name="orders")
    op.drop_index("ix_orders_customer_id_placed_at", table_name="orders")
    op.drop_table("orders")
