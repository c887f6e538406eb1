"""The Record of Processing Activities (GDPR art. 30; PIPL's personal information processing record).

A ROPA is written by people (purposes, legal bases, recipients are decisions, not facts a
scanner can find), so it comes from the policy's ``processing`` section; what govkit adds is
the evidence side: which scanned assets each activity really covers, which data categories
they hold (as the policy classifies them), how long they are kept, and which assets hold
personal data that no activity declares. Where the policy is silent the record says
:data:`NOT_DECLARED` instead of leaving a blank an auditor could read as "none".

One row per activity, then one row per asset that holds personal data but is covered by no
activity (an art. 30 gap, also reported by ``govkit evaluate`` as ``no-processing-record``).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from govkit import __version__
from govkit.inventory.store import Inventory
from govkit.policy.loader import Policy, active_policy, policy_files
from govkit.policy.resolve import Resolver, Where
from govkit.policy.schema import Activity
from govkit.report.classified import UNCLASSIFIED, ClassifiedField, classify_fields
from govkit.report.templates import environment
from govkit.workspace import Workspace

#: What the record says where the policy says nothing.
NOT_DECLARED = "not declared in the policy"

ROPA_FORMATS = ("html", "csv")

#: CSV columns, in the order of GDPR art. 30(1)(a)-(g) where they correspond.
CSV_COLUMNS = (
    "activity", "description", "purposes", "legal_basis", "data_subjects", "data_categories", "special_categories",
    "recipients", "transfers", "safeguards", "anonymization", "retention", "assets", "personal_fields", "cite",
    "policy_rule",
)


@dataclass(slots=True)
class RopaRow:
    """One processing activity (or one undeclared asset). Lists are empty where the policy is silent."""

    activity: str
    declared: bool
    description: str
    purposes: list[str]
    legal_basis: str
    data_subjects: list[str]
    data_categories: list[str]
    special_categories: list[str]
    recipients: list[str]
    transfers: list[str]
    safeguards: list[str]
    anonymization: str
    retention: list[str]
    assets: list[str]
    personal_fields: int
    cite: list[str] = field(default_factory=list)
    policy_rule: str | None = None

    def csv_row(self) -> list[str]:
        """The row as CSV cells: lists joined with "; ", silence spelled :data:`NOT_DECLARED`."""
        def cell(values: list[str]) -> str:
            return "; ".join(values) if values else NOT_DECLARED

        return [
            self.activity, self.description or NOT_DECLARED, cell(self.purposes), self.legal_basis or NOT_DECLARED,
            cell(self.data_subjects), cell(self.data_categories), "; ".join(self.special_categories),
            cell(self.recipients), cell(self.transfers), cell(self.safeguards), self.anonymization,
            cell(self.retention), "; ".join(self.assets), str(self.personal_fields), "; ".join(self.cite),
            self.policy_rule or "",
        ]


@dataclass(slots=True)
class RopaView:
    generated_at: str
    govkit_version: str
    workspace: str
    controller: str
    representative: str
    dpo: str
    policy_files: list[str]
    baseline: bool
    rows: list[RopaRow]

    @property
    def undeclared(self) -> list[RopaRow]:
        return [r for r in self.rows if not r.declared]


def build_ropa_view(
    inventory: Inventory, policy: Policy, *, workspace_root: Path | None = None, baseline: bool = False,
) -> RopaView:
    """The record from the policy's activities and the inventory's newest scan."""
    resolver = Resolver(policy)
    assets = inventory.assets()
    fields = classify_fields(inventory.rows(), assets, policy)
    names = {(a.source, a.name): a.source_name for a in assets}
    by_asset: dict[tuple[str, str], list[ClassifiedField]] = {}
    for f in fields:
        by_asset.setdefault((f.source, f.asset), []).append(f)

    covered: dict[int, list[tuple[str, str]]] = {id(a): [] for a in policy.doc.processing.activities}
    uncovered: list[tuple[str, str]] = []
    for key, held in sorted(by_asset.items(), key=lambda kv: (kv[0][0], kv[0][1].lower())):
        where = Where(key[0], names.get(key), key[1])
        activities = resolver.activities(where, _categories(held))
        for activity in activities:
            covered[id(activity)].append(key)
        if not activities:
            uncovered.append(key)

    rows = [_activity_row(a, covered[id(a)], by_asset, resolver, names) for a in policy.doc.processing.activities]
    prefix = str(workspace_root).rstrip("/") + "/" if workspace_root is not None else None
    for row in rows:
        if prefix and row.policy_rule and row.policy_rule.startswith(prefix):
            row.policy_rule = row.policy_rule[len(prefix):]
    for key in uncovered:
        rows.append(_undeclared_row(key, by_asset[key], resolver, names))
    processing = policy.doc.processing
    return RopaView(
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        govkit_version=__version__,
        workspace=str(workspace_root or ""),
        controller=processing.controller or NOT_DECLARED,
        representative=processing.representative or NOT_DECLARED,
        dpo=processing.dpo or NOT_DECLARED,
        policy_files=[f[len(prefix):] if prefix and f.startswith(prefix) else f for f in policy.files],
        baseline=baseline,
        rows=rows,
    )


def _categories(held: list[ClassifiedField]) -> set[str]:
    return {f.category for f in held if f.sensitivity != UNCLASSIFIED}


def _held(keys: list[tuple[str, str]], by_asset: dict[tuple[str, str], list[ClassifiedField]]) -> list[ClassifiedField]:
    return [f for key in keys for f in by_asset.get(key, [])]


def _anonymization(held: list[ClassifiedField]) -> str:
    """How many of the personal fields an anonymization rule covers, and with which operators."""
    if not held:
        return "no personal fields found"
    ruled = [f for f in held if f.anonymization]
    operators = sorted({str(f.anonymization).split(" (")[0] for f in ruled})
    text = f"{len(ruled)} of {len(held)} fields"
    return f"{text} ({', '.join(operators)})" if operators else f"{text}: no anonymization rule"


def _retention(keys: list[tuple[str, str]], by_asset: dict[tuple[str, str], list[ClassifiedField]],
               resolver: Resolver, names: dict[tuple[str, str], str | None]) -> list[str]:
    out = []
    for source, asset in keys:
        chosen = resolver.retention(Where(source, names.get((source, asset)), asset),
                                    _categories(by_asset.get((source, asset), [])))
        if chosen is None:
            out.append(f"{asset}: {NOT_DECLARED}")
        else:
            rule = chosen.rule
            out.append(f"{asset}: {rule.period.human()} after {rule.timestamp}, then {rule.action}")
    return out


def _activity_row(
    activity: Activity, keys: list[tuple[str, str]], by_asset: dict[tuple[str, str], list[ClassifiedField]],
    resolver: Resolver, names: dict[tuple[str, str], str | None],
) -> RopaRow:
    held = _held(keys, by_asset)
    categories = sorted(set(activity.categories) | _categories(held))
    return RopaRow(
        activity=activity.name, declared=True, description=activity.description or "",
        purposes=list(activity.purposes), legal_basis=activity.legal_basis.replace("_", " "),
        data_subjects=list(activity.data_subjects), data_categories=categories,
        special_categories=sorted({s for f in held for s in f.special}),
        recipients=list(activity.recipients), transfers=list(activity.transfers),
        safeguards=list(activity.safeguards), anonymization=_anonymization(held),
        retention=_retention(keys, by_asset, resolver, names), assets=[asset for _, asset in keys],
        personal_fields=len(held), cite=list(activity.cite),
        policy_rule=activity.origin.short if activity.origin is not None else None,
    )


def _undeclared_row(key: tuple[str, str], held: list[ClassifiedField], resolver: Resolver,
                    names: dict[tuple[str, str], str | None]) -> RopaRow:
    return RopaRow(
        activity=f"(no activity declared for {key[1]})", declared=False, description="",
        purposes=[], legal_basis="", data_subjects=[], data_categories=sorted({f.category for f in held}),
        special_categories=sorted({s for f in held for s in f.special}), recipients=[], transfers=[],
        safeguards=[], anonymization=_anonymization(held),
        retention=_retention([key], {key: held}, resolver, names), assets=[key[1]], personal_fields=len(held),
    )


def ropa_view(workspace: Workspace, policy: Policy | None = None) -> RopaView:
    """The ROPA of a workspace: its policy (or the shipped baseline) and its inventory."""
    baseline = policy is None and not policy_files(workspace.root)
    policy = policy or active_policy(workspace.root)
    inventory = Inventory(workspace.inventory_path)
    try:
        return build_ropa_view(inventory, policy, workspace_root=workspace.root, baseline=baseline)
    finally:
        inventory.close()


def render_ropa(view: RopaView, fmt: str = "html", workspace_root: Path | None = None) -> str:
    """``html`` through the (overridable) ``ropa.html.j2``; ``csv`` with one row per activity."""
    if fmt not in ROPA_FORMATS:
        raise ValueError(f"ROPA format must be one of {', '.join(ROPA_FORMATS)}, not {fmt!r}")
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        writer.writerows(_safe_cells(row.csv_row()) for row in view.rows)
        return buffer.getvalue()
    return environment(workspace_root).get_template("ropa.html.j2").render(view=view, not_declared=NOT_DECLARED)


def _safe_cells(cells: list[str]) -> list[str]:
    """Neutralise spreadsheet formulas: a table named ``=HYPERLINK(...)`` must stay text in Excel."""
    return ["'" + c if c[:1] in ("=", "+", "-", "@", "\t", "\r") else c for c in cells]
