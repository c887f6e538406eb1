"""SARIF 2.1.0 output, so a CI job can gate on findings and code-scanning views can show them.

One rule per entity type (``EMAIL_ADDRESS``...), one result per finding. A result points at
the file (``artifactLocation.uri`` = the asset, relative to the scanned folder, which is
declared as the ``SRCROOT`` base) and, for text files, at the first line and column where the
entity was seen; further positions become ``relatedLocations``. Messages carry masked
evidence only (``j***@e******.com``): SARIF files are uploaded to dashboards and attached to
pull requests, so a raw value must never be in one. ``partialFingerprints`` let code
scanning recognise the same finding across runs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from govkit.detect.entities import Severity, entity
from govkit.model.findings import Finding, ScanReport

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/govkit/govkit"

_LEVELS = {Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note"}
_SECURITY_SEVERITY = {Severity.HIGH: "8.0", Severity.MEDIUM: "5.0", Severity.LOW: "2.0"}
_MAX_RELATED = 10


def to_sarif(report: ScanReport, verdict_details: Iterable[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """The scan as a SARIF 2.1.0 log (a JSON-ready dict).

    ``verdict_details`` are verdict rows as the scan records them (``asset``, ``field``,
    ``detail``; optionally ``source``). Where a row's detail lists positions per entity
    (text files), results get line and column regions; without them results point at files.
    """
    positions = _positions(verdict_details or ())
    rule_ids = sorted({f.entity_type for f in report.findings})
    rules = [_rule(name) for name in rule_ids]
    index = {name: i for i, name in enumerate(rule_ids)}
    results = [_result(f, index[f.entity_type], positions) for f in report.findings]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "govkit",
                "version": report.govkit_version,
                "semanticVersion": report.govkit_version,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }
        },
        "automationDetails": {"id": f"govkit/scan/{report.scan_id}"},
        "invocations": [_invocation(report)],
        "results": results,
        "columnKind": "unicodeCodePoints",
    }
    roots = _roots(report)
    if roots:
        run["originalUriBaseIds"] = roots
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def _rule(name: str) -> dict[str, Any]:
    kind = entity(name)
    return {
        "id": name,
        "name": "".join(part.capitalize() for part in name.split("_")),
        "shortDescription": {"text": f"Personal data: {kind.description}"},
        "fullDescription": {
            "text": f"govkit found {kind.description} ({name}), personal data of the '{kind.category}' "
            "category, where it may not be protected."
        },
        "defaultConfiguration": {"level": _LEVELS[kind.severity]},
        "properties": {
            "tags": ["privacy", "pii", kind.category],
            "security-severity": _SECURITY_SEVERITY[kind.severity],
        },
    }


def _result(
    finding: Finding, rule_index: int, positions: dict[tuple[str, str, str, str], list[dict[str, int]]]
) -> dict[str, Any]:
    where = f"in {finding.field}" if finding.field else "in the text"
    example = f", e.g. {finding.evidence[0]}" if finding.evidence else ""
    found = positions.get((finding.source, finding.asset, finding.field or "", finding.entity_type)) or positions.get(
        ("", finding.asset, finding.field or "", finding.entity_type), []
    )
    location = _location(finding.asset, found[0] if found else None, finding.field)
    result: dict[str, Any] = {
        "ruleId": finding.entity_type,
        "ruleIndex": rule_index,
        "level": _LEVELS[entity(finding.entity_type).severity],
        "message": {
            "text": f"{finding.entity_type} {where} of {finding.asset}: {finding.hits} of {finding.sampled} "
            f"{'lines' if finding.field is None else 'sampled values'} (confidence {finding.confidence:.2f}){example}"
        },
        "locations": [location],
        "partialFingerprints": {"govkitFinding/v1": _fingerprint(finding)},
        "properties": {
            "source": finding.source,
            "field": finding.field,
            "confidence": round(finding.confidence, 3),
            "hits": finding.hits,
            "sampled": finding.sampled,
            "decidedBy": finding.decided_by,
            "severity": finding.severity,
            "evidence": list(finding.evidence),
        },
    }
    related = [
        {"id": i + 1, **_location(finding.asset, position, None), "message": {"text": f"another {finding.entity_type}"}}
        for i, position in enumerate(found[1 : 1 + _MAX_RELATED])
    ]
    if related:
        result["relatedLocations"] = related
    return result


def _location(asset: str, position: Mapping[str, int] | None, field: str | None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": quote(asset), "uriBaseId": "SRCROOT"}}
    if position is not None and position.get("line"):
        physical["region"] = {"startLine": int(position["line"]), "startColumn": max(1, int(position.get("column", 1)))}
    location: dict[str, Any] = {"physicalLocation": physical}
    if field:
        location["logicalLocations"] = [{"name": field, "kind": "member"}]
    return location


def _fingerprint(finding: Finding) -> str:
    key = "\x1f".join((finding.asset, finding.field or "", finding.entity_type))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _positions(rows: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str, str, str], list[dict[str, int]]]:
    """(source, asset, field, entity) -> positions, from verdict details that have them."""
    out: dict[tuple[str, str, str, str], list[dict[str, int]]] = {}
    for row in rows:
        detail = row.get("detail") or {}
        entities = detail.get("entities") if isinstance(detail, Mapping) else None
        if not isinstance(entities, Mapping):
            continue
        for name, info in entities.items():
            found = info.get("positions") if isinstance(info, Mapping) else None
            if found:
                key = (str(row.get("source", "")), str(row["asset"]), str(row.get("field") or ""), str(name))
                out[key] = [dict(p) for p in found]
    return out


def _invocation(report: ScanReport) -> dict[str, Any]:
    notifications = [
        {
            "level": "note",
            "message": {"text": f"not scanned: {s.reason}" + (f" ({s.field})" if s.field else "")},
            "locations": [_location(s.asset, None, None)],
        }
        for s in report.skipped
        if s.asset not in ("*", "")
    ]
    invocation: dict[str, Any] = {
        "executionSuccessful": True,
        "startTimeUtc": report.started_at or None,
        "endTimeUtc": report.finished_at or None,
        "toolExecutionNotifications": notifications,
    }
    return {k: v for k, v in invocation.items() if v is not None}


def _roots(report: ScanReport) -> dict[str, Any]:
    """``SRCROOT`` as the scanned folder, when the findings come from exactly one folder."""
    folders = {f.source for f in report.findings} | set(report.sources)
    local = [s for s in folders if s and "://" not in s]
    if len(local) != 1:
        return {}
    uri = Path(local[0]).resolve().as_uri()
    return {"SRCROOT": {"uri": uri if uri.endswith("/") else uri + "/"}}
