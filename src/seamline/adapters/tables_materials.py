"""Tables of seamline.materials: material lots and their ledger, cut bundles, packed cartons.

The ledger is append-only: a receipt, issue, consumption or return is a new row, so the stock of a
lot at any moment is a sum over its rows and nothing is ever overwritten. Quantities are decimals
(metres of fabric, pieces of trims); they are stored as exact numbers, never floats.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect

from .tables import UtcDateTime, metadata

_ID = BigInteger().with_variant(Integer, "sqlite")


class ExactDecimal(TypeDecorator[Decimal]):
    """A Decimal kept exact: NUMERIC where the database has it, text on SQLite (whose NUMERIC is a
    float and would turn 0.1 m into 0.1000000000000000055 m)."""

    impl = Numeric(18, 4)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(18, 4))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"quantity {value!r} must be a Decimal")
        return str(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(str(value))


material_lots = Table(
    "material_lots",
    metadata,
    Column("factory_id", String(64), primary_key=True),
    Column("lot_id", String(64), primary_key=True),
    Column("material", String(64), nullable=False),
    Column("unit", String(16), nullable=False),
    Column("supplier", String(200), nullable=False, server_default=""),
    Column("shade", String(32), nullable=False, server_default=""),
    Column("received_at", UtcDateTime(), nullable=False),
    Index("ix_material_lots_material", "factory_id", "material"),
)

# kind: receive | issue | consume | return. ``order_id`` and ``dest`` (cutting, a line id) say for
# what and where an issue went; returns and consumption name the same order and destination.
material_moves = Table(
    "material_moves",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("factory_id", String(64), nullable=False),
    Column("lot_id", String(64), nullable=False),
    Column("material", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("qty", ExactDecimal(), nullable=False),
    Column("order_id", String(64)),
    Column("dest", String(64)),
    Column("at", UtcDateTime(), nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    Index("ix_material_moves_lot", "factory_id", "lot_id"),
    Index("ix_material_moves_order", "factory_id", "order_id"),
)

# A bundle that was really cut (the ticket printed and the pieces counted), from which lay.
cut_bundles = Table(
    "cut_bundles",
    metadata,
    Column("factory_id", String(64), primary_key=True),
    Column("bundle_id", String(128), primary_key=True),
    Column("order_id", String(64), nullable=False),
    Column("lay_no", Integer, nullable=False),
    Column("fabric_lot", String(64)),
    Column("qty", Integer, nullable=False),
    Column("cut_at", UtcDateTime(), nullable=False),
    Index("ix_cut_bundles_order", "factory_id", "order_id"),
)

cartons = Table(
    "cartons",
    metadata,
    Column("factory_id", String(64), primary_key=True),
    Column("carton_id", String(64), primary_key=True),
    Column("order_id", String(64), nullable=False),
    Column("pack_type", String(16), nullable=False),  # solid | ratio
    Column("packed_at", UtcDateTime(), nullable=False),
    Index("ix_cartons_order", "factory_id", "order_id"),
)

carton_lines = Table(
    "carton_lines",
    metadata,
    Column("factory_id", String(64), primary_key=True),
    Column("carton_id", String(64), primary_key=True),
    Column("size", String(32), primary_key=True),
    Column("colour", String(64), primary_key=True),
    Column("qty", Integer, nullable=False),
    Column("order_id", String(64), nullable=False),
    ForeignKeyConstraint(["factory_id", "carton_id"], ["cartons.factory_id", "cartons.carton_id"]),
)

# Bill of materials per style: one row per material and (size, colour) it applies to ('*' = all).
bom_lines = Table(
    "bom_lines",
    metadata,
    Column("factory_id", String(64), primary_key=True),
    Column("style_code", String(64), primary_key=True),
    Column("material", String(64), primary_key=True),
    Column("size", String(32), primary_key=True),
    Column("colour", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),  # fabric | trim
    Column("unit", String(16), nullable=False),
    Column("qty_per_piece", ExactDecimal(), nullable=False),
    Column("allowance_pct", ExactDecimal(), nullable=False),
)
