"""``govkit dsr show``: a readable request and timeline, never a Python dict."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from govkit.actions import dsr
from govkit.cli import main


def test_dsr_show_spells_out_nested_details(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    assert CliRunner().invoke(main, ["init", str(root)]).exit_code == 0
    created = CliRunner().invoke(main, ["-w", str(root), "dsr", "new", "--type", "erasure",
                                        "--subject", "email=someone@example.org", "-f", "json"])
    assert created.exit_code == 0, created.output
    request_id = json.loads(created.stdout)["id"]
    registry = dsr.Registry(root / ".govkit")
    try:
        registry.add_event(request_id, "erasure-planned",
                           {"steps": {"shop:customers": "anonymize", "shop:orders": ["delete", 5]}, "holds": [],
                            "verified": True})
    finally:
        registry.close()
    shown = CliRunner().invoke(main, ["dsr", "show", request_id, "-w", str(root)])
    assert shown.exit_code == 0, shown.output
    text = shown.stdout
    assert text.startswith(f"{request_id}: erasure request under GDPR\n")
    assert "  status" in text
    assert "  due" in text
    assert "  identifiers  email" in text
    assert "{" not in text
    assert "[" not in text
    assert "True" not in text
    assert "shop:customers: anonymize" in text
    assert "shop:orders: delete, 5 row(s)" in text
    assert "holds: none" in text
    assert "verified: yes" in text
    assert "someone@example.org" not in text
    as_json = CliRunner().invoke(main, ["dsr", "show", request_id, "-w", str(root), "--format", "json"])
    assert json.loads(as_json.stdout)["id"] == request_id
