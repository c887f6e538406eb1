"""``govkit access show ROLE``: what one policy role may read of every inventoried field, and why.

The decisions come from :meth:`govkit.policy.resolve.Resolver.access`, the same code that
``govkit policy explain`` prints, so what ``show`` says, what ``export`` writes and what
``apply`` builds in the database cannot drift apart. A field the inventory holds no personal
data in is ``clear`` (there is nothing for the policy to protect); saying so, rather than
leaving it out, makes the listing a complete map of the source.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from govkit.errors import UsageError
from govkit.inventory.store import AssetRecord, InventoryRow
from govkit.policy.errors import close_match
from govkit.policy.loader import Policy
from govkit.policy.resolve import Resolver, Where

#: Why a field without personal data is readable: the one reason not from a policy rule.
NOT_PERSONAL = "no personal data in the inventory"


@dataclass(slots=True)
class FieldAccess:
    """What one role may read of one field: ``read`` is clear, masked or none."""

    source: str
    source_name: str | None
    asset: str
    field: str
    entity_types: list[str]
    read: str
    operator: str | None
    params: dict[str, Any]
    rule: str | None
    why: str

    @property
    def personal(self) -> bool:
        return bool(self.entity_types)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


@dataclass(slots=True)
class RoleAccess:
    """Every inventoried field of the selected sources, as one role may read it."""

    role: str
    description: str | None
    policy_files: list[str]
    fields: list[FieldAccess] = field(default_factory=list)

    def of_asset(self, source: str, asset: str) -> list[FieldAccess]:
        return [f for f in self.fields if f.source == source and f.asset == asset]

    def counts(self) -> dict[str, int]:
        personal = [f for f in self.fields if f.personal]
        return {"fields": len(self.fields), "personal": len(personal),
                **{read: sum(1 for f in personal if f.read == read) for read in ("clear", "masked", "none")}}

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role, "description": self.description, "policy_files": self.policy_files,
                "counts": self.counts(), "fields": [f.to_dict() for f in self.fields]}


def check_role(policy: Policy, role: str) -> None:
    """A one-line error naming the role and the roles the policy has, when it has no such role."""
    roles = policy.doc.access.roles
    if role in roles:
        return
    known = ", ".join(sorted(roles)) or "none"
    hint = close_match(role, roles)
    raise UsageError(f"the policy has no access role {role!r}" + (f' (did you mean "{hint}"?)' if hint else "")
                     + f"; roles: {known} ({', '.join(policy.files)})")


def source_inventory(workspace: Any, source_name: str | None) -> tuple[list[AssetRecord], list[InventoryRow]]:
    """The newest scan's assets and fields of one source (what every access command starts from)."""
    from govkit.inventory.store import Inventory

    if not workspace.inventory_path.exists():
        raise UsageError("the inventory is empty: run 'govkit scan' first")
    inventory = Inventory(workspace.inventory_path)
    try:
        return inventory.assets(source_name), inventory.rows(source_name)
    finally:
        inventory.close()


def role_access(policy: Policy, role: str, assets: Sequence[AssetRecord], rows: Sequence[InventoryRow]) -> RoleAccess:
    """The decisions for ``role`` over every field of ``assets`` (``rows``: their personal data)."""
    check_role(policy, role)
    resolver = Resolver(policy)
    found: dict[tuple[str, str, str], list[str]] = {}
    for row in rows:
        found.setdefault((row.source, row.asset, row.field.lower()), []).append(row.entity_type)
    result = RoleAccess(role, policy.doc.access.roles[role].description, list(policy.files))
    for asset in assets:
        names = [str(f["name"]) for f in asset.fields]
        known = {n.lower() for n in names}
        # a whole-file finding or a field the newest scan lists under another spelling still counts
        names += [f for (s, a, f) in found if s == asset.source and a == asset.name and f and f not in known]
        for name in names:
            entity_types = list(dict.fromkeys(found.get((asset.source, asset.name, name.lower()), [])))
            if not entity_types:
                result.fields.append(FieldAccess(asset.source, asset.source_name, asset.name, name, [], "clear",
                                                 None, {}, None, NOT_PERSONAL))
                continue
            where = Where(asset.source, asset.source_name, asset.name, name)
            klass = resolver.classify(where, entity_types)
            decision = next(d for d in resolver.access(where, entity_types, klass) if d.role == role)
            result.fields.append(FieldAccess(
                asset.source, asset.source_name, asset.name, name, entity_types, decision.read, decision.operator,
                dict(decision.params), decision.origin.short if decision.origin else None, decision.why))
    return result


def workspace_role_access(workspace: Any, policy: Policy, role: str, source: str | None = None) -> RoleAccess:
    """:func:`role_access` over the workspace's inventory (``source``: a name or redacted URL)."""
    from govkit.inventory.store import Inventory

    check_role(policy, role)
    if not workspace.inventory_path.exists():
        raise UsageError("the inventory is empty: run 'govkit scan' first")
    inventory = Inventory(workspace.inventory_path)
    try:
        assets = inventory.assets(source)
        rows = inventory.rows(source)
    finally:
        inventory.close()
    if source is not None and not assets:
        raise UsageError(f"the inventory knows no source {source!r}: run 'govkit scan {source}' first")
    return role_access(policy, role, assets, rows)
