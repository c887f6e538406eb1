"""The inventory's tables: the persistent data map every later command reads.

History is kept: each scan run has its own verdicts and findings, so ``inventory diff`` and
the reports' "findings over successive scans" need no extra bookkeeping. Assets and fields
are shared across runs and remember when they were first and last seen.

Nothing here ever holds a raw value: evidence is masked before it reaches these models.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

SCHEMA_VERSION = 2


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class Meta(Base):
    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))


class ScanRun(Base):
    __tablename__ = "scan_runs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="running")
    mode: Mapped[str] = mapped_column(String(16), default="sample")
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)
    skipped: Mapped[list[Any]] = mapped_column(default=list)
    source_ids: Mapped[list[Any]] = mapped_column(default=list)


class Source(Base):
    __tablename__ = "sources"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    display: Mapped[str] = mapped_column(String(512), unique=True)
    name: Mapped[str | None] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    dialect: Mapped[str | None] = mapped_column(String(32))
    #: Per-source scanner state, e.g. file fingerprints for incremental file scans.
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    assets: Mapped[list[Asset]] = relationship(back_populates="source", cascade="all, delete-orphan")


class Asset(Base):
    __tablename__ = "assets"
    __table_args__ = (UniqueConstraint("source_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    name: Mapped[str] = mapped_column(String(512))
    kind: Mapped[str] = mapped_column(String(16))
    row_estimate: Mapped[int | None]
    primary_key: Mapped[list[Any]] = mapped_column(default=list)
    foreign_keys: Mapped[list[Any]] = mapped_column(default=list)
    indexes: Mapped[list[Any]] = mapped_column(default=list)
    first_seen: Mapped[str] = mapped_column(String(36))
    last_seen: Mapped[str] = mapped_column(String(36))
    source: Mapped[Source] = relationship(back_populates="assets")
    fields: Mapped[list[Field]] = relationship(back_populates="asset", cascade="all, delete-orphan")


class Field(Base):
    __tablename__ = "fields"
    __table_args__ = (UniqueConstraint("asset_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"))
    name: Mapped[str] = mapped_column(String(512))
    sql_type: Mapped[str] = mapped_column(String(128), default="")
    kind: Mapped[str] = mapped_column(String(16), default="other")
    nullable: Mapped[bool] = mapped_column(default=True)
    primary_key: Mapped[bool] = mapped_column(default=False)
    first_seen: Mapped[str] = mapped_column(String(36))
    last_seen: Mapped[str] = mapped_column(String(36))
    asset: Mapped[Asset] = relationship(back_populates="fields")


class Verdict(Base):
    """The classifier's whole decision for one field in one run (what ``explain`` shows)."""

    __tablename__ = "verdicts"
    __table_args__ = (UniqueConstraint("scan_id", "field_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scan_id: Mapped[str] = mapped_column(ForeignKey("scan_runs.id"), index=True)
    field_id: Mapped[int] = mapped_column(ForeignKey("fields.id"), index=True)
    rule: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    sampled: Mapped[int]
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Finding(Base):
    __tablename__ = "findings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scan_id: Mapped[str] = mapped_column(ForeignKey("scan_runs.id"), index=True)
    field_id: Mapped[int] = mapped_column(ForeignKey("fields.id"), index=True)
    entity_type: Mapped[str] = mapped_column(String(64))
    confidence: Mapped[float] = mapped_column(Float)
    hits: Mapped[int]
    sampled: Mapped[int]
    evidence: Mapped[list[Any]] = mapped_column(default=list)
    decided_by: Mapped[str] = mapped_column(String(32), default="")
    severity: Mapped[str] = mapped_column(String(8), default="MEDIUM")


class Label(Base):
    """A person's decision about a field; it overrides the detector on every later scan."""

    __tablename__ = "labels"
    __table_args__ = (UniqueConstraint("source", "asset", "field"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(512))
    asset: Mapped[str] = mapped_column(String(512))
    field: Mapped[str] = mapped_column(String(512))
    entity_type: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime]
