"""Inventory fields joined with the policy's classification: shared by the audit report and the ROPA.

The detector's catalogue gives every entity type a default category and severity, but the
policy is what the organisation has decided (a ``classification.fields`` rule may make
``customers.notes`` restricted whatever was detected in it). Reports must show the policy's
view where it has one and say plainly where it has none, so this module resolves each
personal field once, through the same :class:`~govkit.policy.resolve.Resolver` that
``govkit evaluate`` uses, and both reports read the result.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from govkit.detect.entities import Severity, entity
from govkit.inventory.store import AssetRecord, InventoryRow
from govkit.policy.loader import Policy
from govkit.policy.resolve import Resolver, Where

#: What the report says for a field the policy does not classify.
UNCLASSIFIED = "unclassified"

#: Sensitivities from the most to the least harmful, then fields the policy leaves open.
SENSITIVITY_ORDER = ("restricted", "confidential", "internal", "public", UNCLASSIFIED)


@dataclass(slots=True)
class ClassifiedField:
    """One personal field: what the detector found and how the policy classifies it.

    ``classified_by`` is the resolver's explanation, or "detector default (not classified by
    the policy)" when ``sensitivity`` is :data:`UNCLASSIFIED` and ``category`` comes from the
    detector's catalogue.
    """

    source: str
    source_name: str | None
    asset: str
    field: str
    entity_types: list[str]
    category: str
    sensitivity: str
    special: list[str]
    classified_by: str
    rule: str | None
    anonymization: str | None
    severity: str
    confidence: float
    hits: int
    sampled: int
    decided_by: str
    evidence: list[str] = dataclasses.field(default_factory=list)

    @property
    def sensitivity_rank(self) -> int:
        """0 for restricted ... 4 for unclassified: sorts the most sensitive first."""
        return SENSITIVITY_ORDER.index(self.sensitivity)


def classify_fields(
    rows: Sequence[InventoryRow], assets: Sequence[AssetRecord], policy: Policy,
) -> list[ClassifiedField]:
    """Group inventory rows by field (a field may hold several entity types) and classify each."""
    resolver = Resolver(policy)
    names = {(a.source, a.name): a.source_name for a in assets}
    grouped: dict[tuple[str, str, str], list[InventoryRow]] = {}
    for row in rows:
        grouped.setdefault((row.source, row.asset, row.field), []).append(row)
    out: list[ClassifiedField] = []
    for (source, asset, field_name), found in grouped.items():
        found = sorted(found, key=lambda r: (-_severity(r), -r.confidence))
        top = found[0]
        entity_types = list(dict.fromkeys(r.entity_type for r in found))
        where = Where(source, names.get((source, asset)), asset, field_name)
        klass = resolver.classify(where, entity_types)
        anonymization = resolver.anonymization(where, entity_types, klass)
        if klass is not None:
            category, sensitivity = klass.category, str(klass.sensitivity)
            special, why = list(klass.special), klass.why
            rule = klass.origin.short if klass.origin is not None else None
        else:
            category, sensitivity = entity(top.entity_type).category, UNCLASSIFIED
            special, why, rule = [], "detector default (not classified by the policy)", None
        evidence = list(dict.fromkeys(e for r in found for e in r.evidence))[:3]
        out.append(ClassifiedField(
            source=source, source_name=names.get((source, asset)), asset=asset, field=field_name,
            entity_types=entity_types, category=category, sensitivity=sensitivity, special=special,
            classified_by=why, rule=rule,
            anonymization=_operator(anonymization.rule) if anonymization is not None else None,
            severity=Severity(_severity(top)).name, confidence=max(r.confidence for r in found),
            hits=max(r.hits for r in found), sampled=max(r.sampled for r in found),
            decided_by=top.decided_by, evidence=evidence,
        ))
    out.sort(key=lambda f: (f.source, f.asset.lower(), f.sensitivity_rank, f.field.lower()))
    return out


def _severity(row: InventoryRow) -> int:
    """The row's stored severity, or the catalogue's for an entity type stored without one."""
    if row.severity in Severity.__members__:
        return int(Severity[row.severity])
    return int(entity(row.entity_type).severity)


def _operator(rule: object) -> str:
    """``mask (keep_last=4)``: the operator and its parameters, never a key's value."""
    operator = str(getattr(rule, "operator", rule))
    params = getattr(rule, "params", {}) or {}
    shown = ", ".join(f"{k}={v}" for k, v in params.items() if k != "key")
    return f"{operator} ({shown})" if shown else operator
