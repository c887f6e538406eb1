"""``govkit explain`` names the registered rules that found an entity or set one aside."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from govkit.cli import main
from govkit.detect.engine import DetectionEngine
from govkit.detect.rules import REGISTRY

PHONES = ["(503) 555-9931", "(206) 555-8257", "(171) 555-2282", "030-0074321", "(5) 555-4729", "0921-12 34 65"]


def test_explain_names_the_rule(engine: DetectionEngine, tmp_path: Path) -> None:
    root = tmp_path / "ws"
    assert CliRunner().invoke(main, ["init", str(root), "--source", "shop=sqlite:///shop.db"]).exit_code == 0
    with sqlite3.connect(root / "shop.db") as conn:
        conn.execute("CREATE TABLE shippers (ShipperID INTEGER PRIMARY KEY, CompanyName TEXT, Phone TEXT, Email TEXT)")
        conn.executemany("INSERT INTO shippers VALUES (?, ?, ?, ?)",
                         [(i, f"Speedy Express {i}", PHONES[i % len(PHONES)], f"desk{i}@example.com")
                          for i in range(1, 61)])
    conn.close()
    scan = CliRunner().invoke(main, ["--workspace", str(root), "scan"])
    assert scan.exit_code == 0, scan.output

    text = CliRunner().invoke(main, ["--workspace", str(root), "explain", "shippers.Phone"])
    assert text.exit_code == 0, text.output
    summary = REGISTRY.get("organisation").summary
    assert f"by rule:  organisation: {summary}" in text.stdout
    assert "PHONE_NUMBER set aside (table): the rows of 'shippers' are organisations" in text.stdout

    data = json.loads(CliRunner().invoke(
        main, ["--workspace", str(root), "explain", "shippers.Phone", "--format", "json"]).stdout)
    assert [(f["rule"], f["entity"], f["summary"]) for f in data["rules_fired"]] == [
        ("organisation", "PHONE_NUMBER", summary)
    ]
    email = CliRunner().invoke(main, ["--workspace", str(root), "explain", "shippers.Email"]).stdout
    found_line = f"found by: values-match (EMAIL_ADDRESS): {REGISTRY.get('values-match').summary}"
    assert found_line in email
    as_json = json.loads(CliRunner().invoke(
        main, ["--workspace", str(root), "explain", "shippers.Email", "--format", "json"]).stdout)
    assert [(v["entity_type"], v["found_by"]) for v in as_json["verdict"]] == [("EMAIL_ADDRESS", "values-match")]
    plain = json.loads(CliRunner().invoke(
        main, ["--workspace", str(root), "explain", "shippers.ShipperID", "--format", "json"]).stdout)
    assert plain["rules_fired"] == []
