"""Findings and scan reports, shaped like the findings contract in docs/findings-contract.md.

The JSON written by ``govkit scan --format json`` is ``ScanReport.to_dict()``; keys are only
ever added, never renamed, because CI jobs parse it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True, order=True)
class Address:
    """Where a piece of data lives: source, asset (table or file) and field (column or path).

    Written ``asset.field`` for humans (``Customer.Email``); the source is the redacted URL
    or the scanned directory.
    """

    source: str
    asset: str
    field: str | None = None

    def __str__(self) -> str:
        return f"{self.asset}.{self.field}" if self.field else self.asset


@dataclass(slots=True)
class Finding:
    """One entity type found in one field."""

    source: str
    asset: str
    field: str | None
    entity_type: str
    confidence: float
    hits: int
    sampled: int
    evidence: list[str]
    decided_by: str = ""
    severity: str = "MEDIUM"

    @property
    def address(self) -> Address:
        return Address(self.source, self.asset, self.field)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["confidence"] = round(self.confidence, 3)
        return data


@dataclass(slots=True)
class Skipped:
    """Something the scan did not look at, and why (one line, no data in it)."""

    asset: str
    reason: str
    field: str | None = None
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"asset": self.asset, "reason": self.reason}
        if self.field is not None:
            data["field"] = self.field
        if self.source:
            data["source"] = self.source
        return data


@dataclass(slots=True)
class ScanStats:
    assets: int = 0
    fields: int = 0
    values_analyzed: int = 0
    elapsed_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["elapsed_s"] = round(self.elapsed_s, 3)
        return data


@dataclass(slots=True)
class ScanReport:
    """Everything one ``govkit scan`` produced."""

    govkit_version: str
    scan_id: str
    started_at: str
    finished_at: str
    findings: list[Finding] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    stats: ScanStats = field(default_factory=ScanStats)
    sources: list[str] = field(default_factory=list)
    #: Verdict rows with positions (file line/column), for SARIF; not part of the JSON contract.
    details: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "govkit_version": self.govkit_version,
            "scan_id": self.scan_id,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "sources": self.sources,
            "findings": [f.to_dict() for f in self.findings],
            "skipped": [s.to_dict() for s in self.skipped],
            "stats": self.stats.to_dict(),
        }
