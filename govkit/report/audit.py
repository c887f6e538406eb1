"""The audit report: what personal data the organisation holds, where, and how sensitive.

This first version covers the inventory (summary, by category and severity, by asset,
changes since the previous scan, what was skipped). Policy violations, retention, access
reviews, DSR statistics and audit-log integrity join it as those capabilities land.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from govkit import __version__
from govkit.detect.entities import Severity, entity
from govkit.inventory.store import Change, Inventory, InventoryRow
from govkit.report.templates import environment


@dataclass(slots=True)
class AssetView:
    source: str
    name: str
    kind: str
    rows: int | None
    fields: int
    personal: list[InventoryRow]

    @property
    def top_severity(self) -> str:
        levels = [Severity[r.severity] for r in self.personal]
        return max(levels).name if levels else ""


@dataclass(slots=True)
class AuditView:
    generated_at: str
    govkit_version: str
    workspace: str
    sources: list[dict[str, Any]]
    totals: dict[str, int]
    by_severity: dict[str, int]
    by_category: dict[str, int]
    by_entity: dict[str, int]
    assets: list[AssetView]
    changes: list[Change]
    skipped: list[dict[str, Any]]
    history: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for asset, view in zip(data["assets"], self.assets, strict=True):
            asset["top_severity"] = view.top_severity
        return data


def build_audit_view(inventory: Inventory, workspace_root: Path | None = None) -> AuditView:
    rows = inventory.rows()
    assets = inventory.assets()
    by_asset: dict[tuple[str, str], list[InventoryRow]] = defaultdict(list)
    for row in rows:
        by_asset[(row.source, row.asset)].append(row)
    asset_views = [
        AssetView(a.source, a.name, a.kind, a.row_estimate, len(a.fields), by_asset.get((a.source, a.name), []))
        for a in assets
    ]
    asset_views.sort(key=lambda v: (-max((Severity[r.severity] for r in v.personal), default=0), v.source, v.name))
    personal_fields = {(r.source, r.asset, r.field) for r in rows}
    severity: Counter[str] = Counter()
    category: Counter[str] = Counter()
    entity_counts: Counter[str] = Counter()
    for key in personal_fields:
        kinds = [r for r in rows if (r.source, r.asset, r.field) == key]
        top = max(kinds, key=lambda r: Severity[r.severity])
        severity[top.severity] += 1
        category[entity(top.entity_type).category] += 1
        for r in kinds:
            entity_counts[r.entity_type] += 1
    latest = inventory.latest_scans()
    sources = [
        {"display": s.display, "name": s.name or "", "kind": s.kind, "dialect": s.dialect or "",
         "last_scan": latest.get(s.id, "")}
        for s in inventory.sources()
    ]
    return AuditView(
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        govkit_version=__version__,
        workspace=str(workspace_root or ""),
        sources=sources,
        totals={
            "sources": len(sources),
            "assets": len(assets),
            "assets_with_personal_data": sum(1 for v in asset_views if v.personal),
            "fields": sum(v.fields for v in asset_views),
            "personal_fields": len(personal_fields),
        },
        by_severity={s.name: severity.get(s.name, 0) for s in sorted(Severity, reverse=True)},
        by_category=dict(category.most_common()),
        by_entity=dict(entity_counts.most_common()),
        assets=asset_views,
        changes=inventory.diff().changes,
        skipped=inventory.latest_skipped(),
        history=inventory.findings_history(),
    )


def render_audit(inventory: Inventory, fmt: str = "html", workspace_root: Path | None = None) -> str:
    view = build_audit_view(inventory, workspace_root)
    if fmt == "json":
        return json.dumps(view.to_dict(), indent=2, ensure_ascii=False, default=str)
    template = environment(workspace_root).get_template(f"audit.{ 'html' if fmt == 'html' else 'md'}.j2")
    return template.render(view=view, Severity=Severity, entity=entity)
