"""``govkit policy explain TABLE.COLUMN``: every rule that applies to one field, and why.

A policy assembled from a pack, its base and a workspace's overrides is hard to read in
one's head; this answers the question people actually ask ("what does the policy say
about ``customers.email``, and which line says it?") from the same :class:`Resolver`
that ``evaluate`` uses, so the explanation cannot drift from the enforcement.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from govkit.policy.errors import Mark
from govkit.policy.loader import Policy
from govkit.policy.periods import Period
from govkit.policy.resolve import Resolver, Where
from govkit.policy.schema import ErasureRule, Node, RetentionRule


def _ref(mark: Mark | None) -> str | None:
    return mark.short if mark is not None else None


def _cites(node: Any) -> list[str]:
    return list(getattr(node, "cite", None) or []) if isinstance(node, Node) else []


def explain_field(
    policy: Policy, where: Where, entity_types: Sequence[str], *, asset_categories: Sequence[str] = (),
    entity_source: str = "inventory",
) -> dict[str, Any]:
    """A JSON-ready account of the rules applying to ``where`` holding ``entity_types``.

    ``asset_categories`` are the categories of the asset's other personal fields (retention
    rules may select an asset by any category it holds).
    """
    resolver = Resolver(policy)
    cites: list[str] = []
    klass = resolver.classify(where, entity_types) if entity_types else None
    data: dict[str, Any] = {
        "source": where.source,
        "asset": where.asset,
        "field": where.field,
        "entity_types": list(entity_types),
        "entity_types_from": entity_source if entity_types else "none",
        "policy_files": policy.files,
    }
    data["classification"] = None if klass is None else {
        "category": klass.category, "sensitivity": str(klass.sensitivity), "special": list(klass.special),
        "rule": _ref(klass.origin), "why": klass.why,
    }
    for entity_type in entity_types:
        cites += _cites(policy.doc.classification.entities.get(entity_type))
    if klass is not None:
        category = policy.doc.classification.categories.get(klass.category)
        cites += _cites(category)
    forbidding = resolver.allows_personal_data(where)
    data["allow_personal_data"] = None if forbidding is None else {
        "value": False, "rule": _ref(forbidding.origin), "why": forbidding.why,
        "note": forbidding.rule.note,
    }
    anonymization = resolver.anonymization(where, entity_types, klass) if entity_types else None
    data["anonymization"] = None if anonymization is None else {
        "operator": anonymization.rule.operator, "params": anonymization.rule.params,
        "rule": _ref(anonymization.origin), "why": anonymization.why,
    }
    if anonymization is not None:
        cites += _cites(anonymization.rule)
    categories = set(asset_categories) | ({klass.category} if klass else set())
    retention = resolver.retention(where, categories)
    if retention is not None:
        rule: RetentionRule = retention.rule
        cites += _cites(rule)
        data["retention"] = {
            "name": rule.label, "timestamp": rule.timestamp, "period": str(rule.period), "action": rule.action,
            "exceptions": [
                {k: v for k, v in e.model_dump(mode="json").items() if v is not None} for e in rule.exceptions
            ],
            "rule": _ref(retention.origin), "why": retention.why,
        }
    else:
        data["retention"] = None
    data["access"] = [
        {"role": d.role, "read": d.read, "operator": d.operator, "params": d.params, "rule": _ref(d.origin),
         "why": d.why}
        for d in resolver.access(where, entity_types, klass)
    ] if entity_types else []
    erasure = resolver.erasure(where)
    identifier = resolver.identifier(where, entity_types)
    erasure_data = None
    if erasure is not None:
        if isinstance(erasure.rule, ErasureRule):
            cites += _cites(erasure.rule)
            erasure_data = {"action": erasure.rule.action, "legal_basis": erasure.rule.legal_basis}
        else:
            erasure_data = {"action": str(erasure.rule), "legal_basis": None}
        erasure_data |= {"rule": _ref(erasure.origin), "why": erasure.why}
    data["dsr"] = {"identifier": identifier, "erasure": erasure_data}
    activities = resolver.activities(where, categories)
    for activity in activities:
        cites += _cites(activity)
    data["processing"] = [
        {"name": a.name, "legal_basis": a.legal_basis, "purposes": a.purposes, "data_subjects": a.data_subjects,
         "rule": _ref(a.origin)}
        for a in activities
    ]
    data["cite"] = list(dict.fromkeys(cites))
    return data


def render_explanation(data: dict[str, Any]) -> str:
    """The explanation as text: one block per section, each with its rule and reason."""
    address = f"{data['asset']}.{data['field']}"
    lines = [f"{address}" + (f"  in {data['source']}" if data["source"] else "")]

    def entry(title: str, decision: str, rule: str | None = None, why: str | None = None) -> None:
        lines.append(f"  {title:<15} {decision}")
        if rule or why:
            lines.append(f"  {'':<15} from {rule or 'the defaults'}" + (f": {why}" if why else ""))

    if data["entity_types"]:
        origin = {"inventory": "from the inventory", "option": "as given with --entity"}.get(
            data["entity_types_from"], data["entity_types_from"])
        entry("holds", f"{', '.join(data['entity_types'])} ({origin})")
    else:
        entry("holds", "no personal data known (pass --entity TYPE to ask what the policy would say)")
    forbidden = data["allow_personal_data"]
    if forbidden is not None:
        entry("personal data", "NOT ALLOWED here" + (f" ({forbidden['note']})" if forbidden["note"] else ""),
              forbidden["rule"], forbidden["why"])
    klass = data["classification"]
    if klass is not None:
        special = f" [{', '.join(klass['special'])}]" if klass["special"] else ""
        entry("classification", f"{klass['category']}, {klass['sensitivity']}{special}", klass["rule"], klass["why"])
    elif data["entity_types"]:
        entry("classification", "none: no rule classifies this field (evaluate reports it)")
    anon = data["anonymization"]
    if anon is not None:
        params = ", ".join(f"{k}={v}" for k, v in anon["params"].items())
        entry("anonymization", f"{anon['operator']}" + (f" ({params})" if params else ""), anon["rule"], anon["why"])
    elif data["entity_types"]:
        entry("anonymization", "none")
    retention = data["retention"]
    if retention is not None:
        exceptions = "; ".join(
            " ".join(filter(None, [e.get("where"), f"hold {e['legal_hold']}" if e.get("legal_hold") else None]))
            for e in retention["exceptions"]
        )
        period = Period.parse(retention["period"]).human()
        entry("retention", f"{retention['action']} rows whose {retention['timestamp']} is older than "
              f"{period}" + (f" (except {exceptions})" if exceptions else ""),
              retention["rule"], retention["why"])
    else:
        entry("retention", "none: no retention rule selects this asset")
    for access in data["access"]:
        how = access["read"] + (f" ({access['operator']})" if access["operator"] else "")
        entry("access" if access is data["access"][0] else "", f"{access['role']}: {how}", access["rule"],
              access["why"])
    dsr = data["dsr"]
    entry("dsr identifier", f"yes ({dsr['identifier']})" if dsr["identifier"] else "no")
    if dsr["erasure"] is not None:
        basis = f" ({dsr['erasure']['legal_basis']})" if dsr["erasure"]["legal_basis"] else ""
        entry("dsr erasure", f"{dsr['erasure']['action']}{basis}", dsr["erasure"]["rule"], dsr["erasure"]["why"])
    for activity in data["processing"]:
        entry("processing" if activity is data["processing"][0] else "",
              f"{activity['name']} ({activity['legal_basis']}): {', '.join(activity['purposes'])}", activity["rule"])
    if data["cite"]:
        entry("cites", "; ".join(data["cite"]))
    lines.append(f"  {'policy':<15} {', '.join(data['policy_files'])}")
    return "\n".join(lines) + "\n"
