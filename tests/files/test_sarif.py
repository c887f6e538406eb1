"""SARIF 2.1.0 output: structure, rules per entity, regions from text positions, masked text only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from govkit.model.findings import ScanReport
from govkit.report.sarif import to_sarif
from tests.files.conftest import Scan

#: The subset of the SARIF 2.1.0 schema that code-scanning uploads depend on.
_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "version": {"const": "2.1.0"},
        "runs": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["tool", "results"],
                "properties": {
                    "tool": {
                        "type": "object",
                        "required": ["driver"],
                        "properties": {
                            "driver": {
                                "type": "object",
                                "required": ["name", "rules"],
                                "properties": {
                                    "rules": {"type": "array", "items": {"type": "object", "required": ["id"]}}
                                },
                            }
                        },
                    },
                    "results": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["ruleId", "message", "locations"],
                            "properties": {
                                "level": {"enum": ["none", "note", "warning", "error"]},
                                "message": {"type": "object", "required": ["text"]},
                                "locations": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "physicalLocation": {
                                                "type": "object",
                                                "required": ["artifactLocation"],
                                                "properties": {
                                                    "region": {
                                                        "type": "object",
                                                        "properties": {
                                                            "startLine": {"type": "integer", "minimum": 1},
                                                            "startColumn": {"type": "integer", "minimum": 1},
                                                        },
                                                    },
                                                },
                                            },
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


def _check_structure(log: dict[str, Any]) -> None:
    """The schema subset, checked by hand (and by jsonschema too when it is installed)."""
    try:
        import jsonschema
    except ImportError:
        pass
    else:
        jsonschema.validate(log, _SCHEMA)
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-2.1.0.json")
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert run["tool"]["driver"]["name"] == "govkit"
    ids = [rule["id"] for rule in rules]
    assert ids == sorted(set(ids))
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in ("note", "warning", "error")
        assert result["message"]["text"]
        physical = result["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"]["uri"]
        region = physical.get("region")
        if region is not None:
            assert region["startLine"] >= 1
            assert region["startColumn"] >= 1


def test_sarif_from_a_file_scan(tmp_path: Path, scan: Scan) -> None:
    secret = "anna.schmidt@example.org"
    (tmp_path / "app.log").write_text(f"boot\nlogin {secret}\nlogin bo.lee@example.org\n", encoding="utf-8")
    (tmp_path / "c.csv").write_text("email\n" + "\n".join(f"u{i}@example.org" for i in range(10)), encoding="utf-8")
    (tmp_path / "blob.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    result = scan(tmp_path)
    report = ScanReport(
        "0.1.0",
        "scan-1",
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:00:01Z",
        findings=result.findings,
        skipped=result.skipped,
        sources=[result.root],
    )
    log = to_sarif(report, result.verdicts)
    _check_structure(log)
    run = log["runs"][0]
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"].startswith("file://")
    by_file = {
        (r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r["ruleId"]): r for r in run["results"]
    }
    text_result = by_file[("app.log", "EMAIL_ADDRESS")]
    assert text_result["locations"][0]["physicalLocation"]["region"] == {"startLine": 2, "startColumn": 7}
    assert text_result["relatedLocations"][0]["physicalLocation"]["region"]["startLine"] == 3
    csv_result = by_file[("c.csv", "EMAIL_ADDRESS")]
    assert "region" not in csv_result["locations"][0]["physicalLocation"]
    assert csv_result["locations"][0]["logicalLocations"] == [{"name": "email", "kind": "member"}]
    assert len({r["partialFingerprints"]["govkitFinding/v1"] for r in run["results"]}) == len(run["results"])
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert any("binary file" in n["message"]["text"] for n in notes)
    assert secret not in str(log)
    assert "u1@example.org" not in str(log)


def test_sarif_with_no_findings_is_still_valid() -> None:
    log = to_sarif(ScanReport("0.1.0", "scan-2", "", ""))
    _check_structure(log)
    assert log["runs"][0]["results"] == []
    assert log["runs"][0]["tool"]["driver"]["rules"] == []
