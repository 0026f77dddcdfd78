"""Tables of seamline.quality: fabric inspections and releases, bundle → fabric lot, AQL audits.

Inspections, releases and audits are append-only: a re-inspection is a new row, and a release
names the failed inspection it lifts, so a later failing inspection blocks cutting again.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from .tables import UtcDateTime, metadata

_ID = BigInteger().with_variant(Integer, "sqlite")

buyer_fabric_limits = Table(
    "buyer_fabric_limits",
    metadata,
    Column("buyer", String(200), primary_key=True),
    Column("limit_points_per_100_sq_yd", Float, nullable=False),
)

fabric_inspections = Table(
    "fabric_inspections",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("lot_id", String(64), nullable=False),
    Column("buyer", String(200)),
    Column("limit_points_per_100_sq_yd", Float, nullable=False),
    Column("points", Integer, nullable=False),
    Column("yards", Float, nullable=False),
    Column("points_per_100_sq_yd", Float, nullable=False),
    Column("rolls_inspected", Integer, nullable=False),
    Column("rolls_failed", Integer, nullable=False),
    Column("passed", Boolean, nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("inspector", String(200), nullable=False),
    Column("inspected_at", UtcDateTime(), nullable=False),
    Index("ix_fabric_inspections_lot", "lot_id", "inspected_at"),
)

fabric_rolls = Table(
    "fabric_rolls",
    metadata,
    Column("inspection_id", _ID, ForeignKey("fabric_inspections.id"), primary_key=True),
    Column("roll_id", String(64), primary_key=True),
    Column("yards", Float, nullable=False),
    Column("width_in", Float, nullable=False),
    Column("points", Integer, nullable=False),
    Column("points_per_100_sq_yd", Float, nullable=False),
    Column("passed", Boolean, nullable=False),
    Column("defects", JSON, nullable=False),  # [{"at_yard":…, "length_in"|"hole_in":…, "code":…}]
)

fabric_lot_releases = Table(
    "fabric_lot_releases",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("inspection_id", _ID, ForeignKey("fabric_inspections.id"), nullable=False),
    Column("lot_id", String(64), nullable=False),
    Column("released_by", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("released_at", UtcDateTime(), nullable=False),
    Index("ix_fabric_lot_releases_lot", "lot_id"),
)

# Filled by cutting: which fabric lot (and roll, when known) each bundle was cut from.
bundle_fabric_lots = Table(
    "bundle_fabric_lots",
    metadata,
    Column("factory_id", String(64), primary_key=True),
    Column("bundle_id", String(64), primary_key=True),
    Column("lot_id", String(64), nullable=False),
    Column("roll_id", String(64)),
    Column("recorded_at", UtcDateTime(), nullable=False),
    Index("ix_bundle_fabric_lots_lot", "lot_id"),
)

aql_audits = Table(
    "aql_audits",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("factory_id", String(64), nullable=False),
    Column("lot_ref", String(128), nullable=False),  # what was audited: an order, a shipment lot
    Column("lot_size", Integer, nullable=False),
    Column("level", String(4), nullable=False),
    Column("inspection", String(10), nullable=False),
    Column("accepted", Boolean, nullable=False),
    Column("classes", JSON, nullable=False),  # per defect class: aql, letter, n, Ac, Re, found, accepted
    Column("inspector", String(200), nullable=False),
    Column("audited_at", UtcDateTime(), nullable=False),
    Index("ix_aql_audits_factory_lot", "factory_id", "lot_ref"),
)

aql_audit_defects = Table(
    "aql_audit_defects",
    metadata,
    Column("audit_id", _ID, ForeignKey("aql_audits.id"), primary_key=True),
    Column("n", Integer, primary_key=True, autoincrement=False),
    Column("code", String(64), nullable=False),
    Column("defect_class", String(10), nullable=False),
    Column("qty", Integer, nullable=False),
    Column("bundle_id", String(64)),
    Column("op", String(64)),
)
