"""``govkit explain``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from govkit.cli import AppContext
from govkit.cli.options import emit, output_options, to_json
from govkit.errors import UsageError
from govkit.inventory.store import FieldRecord, Inventory


def split_field(address: str) -> tuple[str, str]:
    """``TABLE.COLUMN`` or ``SCHEMA.TABLE.COLUMN`` -> (asset, field), split at the last dot."""
    asset, dot, field = address.rpartition(".")
    if not dot or not asset or not field:
        raise UsageError(f"expected TABLE.COLUMN, got {address!r}")
    return asset, field


@click.command("explain")
@click.argument("address", metavar="TABLE.COLUMN")
@click.option("--source", help="Which source, when several have this table.")
@output_options("text", "json", default="text")
@click.pass_obj
def explain_command(app: AppContext, address: str, source: str | None, fmt: str, output: Path | None) -> None:
    """Why TABLE.COLUMN was (or was not) classified as personal data.

    Shows the evidence from the column's name, the evidence from its sampled values
    (masked), and the rule that decided, as recorded by the newest scan; and a human
    label, if one overrides the detector.
    """
    inventory = Inventory(app.workspace().inventory_path)
    asset, field = inventory.split_address(address, source)
    record = inventory.field_record(asset, field, source)
    emit(to_json(explanation(record)) if fmt == "json" else render(record), output)


def explanation(record: FieldRecord) -> dict[str, Any]:
    detail = record.detail
    return {
        "source": record.source,
        "asset": record.asset,
        "field": record.field,
        "sql_type": record.sql_type,
        "scan_id": record.scan_id,
        "verdict": [
            {**{k: e[k] for k in ("entity_type", "confidence", "hits", "rule")}, "found_by": e.get("found_by", "")}
            for e in detail.get("entities", [])
        ],
        "rule": record.rule,
        "reason": record.reason,
        "rules_fired": [_fired(f) for f in detail.get("fired", [])],
        "sampled": detail.get("sampled", 0),
        "name_evidence": detail.get("name_hints", []),
        "value_evidence": detail.get("value_evidence", {}),
        "profile": detail.get("profile", {}),
        "label": None if record.label is None else {
            "entity_type": record.label.entity_type, "note": record.label.note, "author": record.label.author,
            "created_at": str(record.label.created_at),
        },
    }


def _summary(rule_id: str) -> str:
    """The one line of a registered rule (govkit/detect/rules/)."""
    from govkit.detect.rules import REGISTRY

    try:
        return REGISTRY.get(rule_id).summary
    except KeyError:  # recorded by a govkit that had a rule this one has not
        return "(rule not known to this version)"


def _fired(fired: dict[str, str]) -> dict[str, str]:
    """A registered rule that set an entity aside, with its one line."""
    return {**fired, "summary": _summary(fired.get("rule", ""))}


def render(record: FieldRecord) -> str:
    data = explanation(record)
    lines = [f"{record.asset}.{record.field}  ({record.sql_type or 'unknown type'}) in {record.source}"]
    if data["verdict"]:
        verdict = ", ".join(f"{v['entity_type']} (confidence {v['confidence']:.2f})" for v in data["verdict"])
    else:
        verdict = "not personal data"
    lines.append(f"  verdict:  {verdict}")
    lines.append(f"  rule:     {record.rule}: {record.reason}")
    for entity in data["verdict"]:
        if entity["found_by"]:
            lines.append(f"  found by: {entity['found_by']} ({entity['entity_type']}): {_summary(entity['found_by'])}")
    for fired in data["rules_fired"]:
        lines.append(f"  by rule:  {fired['rule']}: {fired['summary']}")
        lines.append(f"            {fired['entity'] or 'the column'} set aside ({fired['stage']}): {fired['why']}")
    sampling = data["profile"].get("sampling")
    lines.append(f"  sample:   {data['sampled']} non-null values{f' ({sampling})' if sampling else ''}, "
                 f"scan {record.scan_id}")
    if data["profile"].get("table_meaning"):
        lines.append(f"  table:    {data['profile']['table_meaning']}")
    lines.append("  name evidence:")
    if not data["name_evidence"]:
        lines.append("    (the name suggests nothing)")
    for hint in data["name_evidence"]:
        negated = f", negated by {hint['negated_by']!r}" if hint["negated_by"] else ""
        lines.append(f"    {hint['entity_type']:<16} term {hint['term']!r}, strength {hint['strength']:.2f}{negated}")
    lines.append("  value evidence:")
    if not data["value_evidence"]:
        lines.append("    (no recognizer matched any sampled value)")
    for key, ev in data["value_evidence"].items():
        method, _, entity = key.partition(":")
        examples = ", ".join(ev["examples"])
        lines.append(f"    {entity:<16} {method:<8} {ev['hits']}/{ev['of']} values ({ev['share']:.0%}), "
                     f"mean score {ev['mean_score']:.2f}; e.g. {examples}")
        if ev.get("rejected"):
            lines.append(f"    {'':<16} {'':<8} rejected: {ev['rejected']}")
    if record.label is not None:
        what = record.label.entity_type or "not personal data"
        lines.append(f"  label:    {what} by {record.label.author} on {record.label.created_at:%Y-%m-%d}"
                     + (f": {record.label.note}" if record.label.note else ""))
    return "\n".join(lines) + "\n"


def register(group: click.Group) -> None:
    group.add_command(explain_command)
