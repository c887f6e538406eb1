"""End to end: a Faker shop in SQLite, scanned into a workspace, evaluated against its policy;
and the ``govkit policy`` / ``govkit evaluate`` commands through click's CliRunner."""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from faker import Faker

from govkit.cli import main
from govkit.policy import evaluate_workspace
from govkit.scan import scan
from govkit.workspace import init_workspace, load_workspace

AS_OF = dt.datetime(2026, 11, 22)
POLICY = """\
# the shop's policy
extends: gdpr
classification:
  fields:
    - {asset: app_log, field: message, allow_personal_data: false}
retention:
  rules:
    - name: customers
      assets: [customers]
      timestamp: created_at
      period: 3 years
      action: delete
      exceptions:
        - where: "status = 'open'"
          reason: open accounts are in use
"""


def _build_shop(path: Path) -> list[dict[str, Any]]:
    fake = Faker("en_US")
    Faker.seed(5)
    rng = random.Random(5)
    people = []
    for i in range(1, 121):
        created = dt.datetime(2018, 1, 1) + dt.timedelta(seconds=rng.randrange(8 * 365 * 86400))
        people.append({"id": i, "name": fake.name(), "email": fake.unique.email(), "created_at": created,
                       "status": rng.choice(["open", "closed", None])})
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE customers (id INTEGER PRIMARY KEY, full_name TEXT, email TEXT, created_at DATETIME,
                                status TEXT);
        CREATE TABLE app_log (id INTEGER PRIMARY KEY, message TEXT, logged_at DATETIME);
        CREATE TABLE products (id INTEGER PRIMARY KEY, sku TEXT, price REAL);
    """)
    conn.executemany("INSERT INTO customers VALUES (?, ?, ?, ?, ?)", [
        (p["id"], p["name"], p["email"], f"{p['created_at']:%Y-%m-%d %H:%M:%S}", p["status"]) for p in people])
    conn.executemany("INSERT INTO app_log VALUES (?, ?, ?)", [
        (p["id"], f"password reset sent to {p['email']}", f"{p['created_at']:%Y-%m-%d %H:%M:%S}") for p in people])
    conn.executemany("INSERT INTO products VALUES (?, ?, ?)", [
        (i, f"SKU-{i:05d}", round(rng.uniform(1, 99), 2)) for i in range(1, 41)])
    conn.commit()
    conn.close()
    return people


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory, engine: object) -> tuple[Path, list[dict[str, Any]]]:
    """A workspace with the shop database scanned once for the whole module, and its policy."""
    root = tmp_path_factory.mktemp("shop")
    init_workspace(root, {"shop": "sqlite:///shop.db"})
    people = _build_shop(root / "shop.db")
    scan(load_workspace(root, search=False), ["shop"])
    (root / "policies").mkdir()
    (root / "policies" / "shop.yaml").write_text(POLICY, encoding="utf-8")
    return root, people


@pytest.fixture
def ws(shop: tuple[Path, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(shop[0])
    return shop[0]


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _expected_past(people: list[dict[str, Any]]) -> int:
    cutoff = AS_OF.replace(year=AS_OF.year - 3)
    return sum(1 for p in people if p["created_at"] < cutoff and p["status"] != "open")


# -- the library entry point ------------------------------------------------------------------------


def test_evaluate_workspace_counts_rows_past_retention(ws: Path, shop: tuple[Path, list[dict[str, Any]]]) -> None:
    result = evaluate_workspace(load_workspace(ws, search=False), now=AS_OF)
    found = {(v.kind, v.asset, v.field) for v in result.violations}
    assert found == {
        ("past-retention", "customers", None),
        ("forbidden-personal-data", "app_log", "message"),
    }
    past = next(v for v in result.violations if v.kind == "past-retention")
    assert past.count == _expected_past(shop[1])
    assert past.rule == "policies/shop.yaml:8"
    assert result.errors == []


# -- govkit evaluate --------------------------------------------------------------------------------


def test_evaluate_table(ws: Path, shop: tuple[Path, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "160")  # piped tables are 100 columns wide: wide enough not to fold the kinds
    result = run("evaluate", "--as-of", "2026-11-22")
    assert result.exit_code == 0, result.output
    assert "Policy violations" in result.output
    assert "past-retention" in result.output
    assert "forbidden-personal-data" in result.output
    assert "2 violations (1 high, 1 medium, 0 low)" in result.output


def test_evaluate_json(ws: Path, shop: tuple[Path, list[dict[str, Any]]]) -> None:
    result = run("evaluate", "--as-of", "2026-11-22", "-f", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["policy_files"][-1] == "policies/shop.yaml"
    past = next(v for v in data["violations"] if v["kind"] == "past-retention")
    assert past["count"] == _expected_past(shop[1])
    assert past["severity"] == "MEDIUM"  # customers holds no restricted data
    emails = {p["email"] for p in shop[1]}
    assert not any(email in result.stdout for email in emails)


@pytest.mark.parametrize(("fail_on", "code"), [("HIGH", 1), ("low", 1)])
def test_evaluate_fail_on(ws: Path, fail_on: str, code: int) -> None:
    assert run("evaluate", "--as-of", "2026-11-22", "--fail-on", fail_on).exit_code == code


CLEAN = """\
extends: gdpr
retention:
  rules:
    - {assets: [customers], timestamp: created_at, period: 20 years, action: delete}
    - {assets: [app_log], timestamp: logged_at, period: 20 years, action: delete}
"""


def test_evaluate_fail_on_passes_when_nothing_reaches_it(ws: Path) -> None:
    original = (ws / "policies" / "shop.yaml").read_text(encoding="utf-8")
    (ws / "policies" / "shop.yaml").write_text(CLEAN, encoding="utf-8")
    try:
        result = run("evaluate", "--as-of", "2026-11-22", "--fail-on", "LOW")
    finally:
        (ws / "policies" / "shop.yaml").write_text(original, encoding="utf-8")
    assert result.exit_code == 0, result.output
    assert "No violations." in result.output


def test_evaluate_table_shows_brackets_literally() -> None:
    from govkit.cli.commands.evaluate import render
    from govkit.detect.entities import Severity
    from govkit.policy import Evaluation, Violation

    text = render(Evaluation([Violation("no-retention-rule", Severity.MEDIUM, "s", "tickets", None, "m",
                                        "add assets: [tickets]")], assets=1, personal_fields=1))
    assert "[tickets]" in text
    assert "1 violations (0 high, 1 medium, 0 low) in 1 assets with 1 personal fields" in text


def test_evaluate_with_a_broken_policy_is_a_usage_error(ws: Path) -> None:
    bad = ws / "policies" / "zz-bad.yaml"
    bad.write_text("anonymization:\n  rules:\n    - {category: financial, operator: hsh}\n", encoding="utf-8")
    try:
        result = run("evaluate")
    finally:
        bad.unlink()
    assert result.exit_code == 2
    assert result.stderr == (
        'govkit: error: unknown operator "hsh" at policies/zz-bad.yaml:3:39; did you mean "hash"?\n'
    )


def test_evaluate_needs_a_scan(workspace_dir: Path) -> None:
    result = run("evaluate")
    assert result.exit_code == 2
    assert result.stderr == "govkit: error: the inventory is empty: run 'govkit scan' first\n"


# -- govkit policy validate ------------------------------------------------------------------------


def test_validate_the_workspace_policy(ws: Path) -> None:
    result = run("policy", "validate")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == (
        "policy ok: govkit:policies/baseline.yaml, govkit:policies/gdpr.yaml, policies/shop.yaml")


def test_validate_a_bad_file_prints_one_line_and_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("policies").mkdir()
    Path("policies/shop.yaml").write_text(textwrap.dedent("""\
        extends: gdpr
        retention:
          rules:
            - assets: [orders]
              timestamp: created_at
              period: 7 yrs
              action: delete
    """), encoding="utf-8")
    result = run("policy", "validate", "policies/shop.yaml")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        'govkit: error: period "7 yrs": unknown unit "yrs"; expected years, months, weeks, days or working days '
        'at policies/shop.yaml:6:15; did you mean "7 years"?\n'
    )


def test_validate_lists_every_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("p.yaml").write_text("retension: {}\naccess: {roles: {x: {default: all}}}\n", encoding="utf-8")
    result = run("policy", "validate", "p.yaml")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        'govkit: error: unknown key "retension" at p.yaml:1:1; did you mean "retention"?',
        'govkit: error: access.roles.x.default must be one of: clear, masked, none; got "all" at p.yaml:2:31',
    ]


@pytest.mark.parametrize("pack", ["baseline", "gdpr", "ccpa", "pipl"])
def test_validate_a_shipped_pack(pack: str) -> None:
    result = run("policy", "validate", "--pack", pack)
    assert result.exit_code == 0
    assert result.stdout.startswith("policy ok: govkit:policies/baseline.yaml")


# -- govkit policy show / explain -------------------------------------------------------------------


def test_show_json_is_the_merged_policy(ws: Path) -> None:
    result = run("policy", "show", "-f", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["files"] == ["govkit:policies/baseline.yaml", "govkit:policies/gdpr.yaml", "policies/shop.yaml"]
    assert data["retention"]["rules"][0]["period"] == "P3Y"
    assert data["retention"]["rules"][0]["exceptions"] == [
        {"where": "status = 'open'", "reason": "open accounts are in use"}]
    assert data["classification"]["categories"]["special"]["special"] == ["gdpr-special-category"]
    assert data["dsr"]["deadlines"] == {"gdpr": "P1M", "ccpa": "P45D", "pipl": "15 working days"}


def test_show_yaml_of_a_pack() -> None:
    result = run("policy", "show", "--pack", "ccpa")
    assert result.exit_code == 0
    assert result.stdout.startswith("# The effective policy, merged from:\n#   govkit:policies/baseline.yaml\n")
    assert "precise_location:" in result.stdout


def test_explain_a_field_from_the_inventory(ws: Path) -> None:
    result = run("policy", "explain", "customers.email")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("customers.email  in sqlite:///")
    assert "  holds           EMAIL_ADDRESS (from the inventory)" in lines
    assert "  classification  contact, confidential" in lines
    assert ("                  from govkit:policies/baseline.yaml:56: entity type EMAIL_ADDRESS "
            "(classification.entities)") in lines
    assert "  retention       delete rows whose created_at is older than 3 years (except status = 'open')" in lines
    assert ('                  from policies/shop.yaml:8: retention rule "customers" selects asset customers'
            in lines)


def test_explain_json(ws: Path) -> None:
    result = run("policy", "explain", "app_log.message", "-f", "json")
    data = json.loads(result.stdout)
    assert "EMAIL_ADDRESS" in data["entity_types"]
    assert data["allow_personal_data"] == {
        "value": False, "rule": "policies/shop.yaml:5",
        "why": "classification.fields rule for app_log.message", "note": None,
    }
    assert data["anonymization"]["operator"] == "mask"
    assert data["retention"] is None


def test_explain_what_if_with_a_pack() -> None:
    result = run("policy", "explain", "hr.staff.ssn", "--entity", "us_ssn", "--pack", "ccpa", "-f", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert (data["asset"], data["field"]) == ("hr.staff", "ssn")
    assert data["classification"]["special"] == ["ccpa-sensitive"]
    assert data["classification"]["sensitivity"] == "restricted"
    assert {a["role"]: a["read"] for a in data["access"]} == {"dpo": "clear", "support": "none", "analyst": "none"}
    assert "CCPA 1798.140(ae)(1)(A)" in data["cite"]


def test_explain_needs_table_dot_column() -> None:
    result = run("policy", "explain", "customers", "--pack", "baseline")
    assert result.exit_code == 2
    assert result.stderr == "govkit: error: expected TABLE.COLUMN, got 'customers'\n"


# -- the demo --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_demo_shop_policy_finds_its_gaps(tmp_path: Path, engine: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """``govkit demo`` installs policies/shop.yaml; evaluate then reports a meaningful set."""
    from govkit.demo import build_demo_database
    from govkit.policy import install_demo_policy

    root = tmp_path / "demo"
    init_workspace(root, {"shop": "sqlite:///shop.db"})
    build_demo_database(root / "shop.db", customers=60)
    monkeypatch.chdir(root)
    scan(load_workspace(root, search=False), ["shop"])
    assert install_demo_policy(root) == root / "policies" / "shop.yaml"
    result = evaluate_workspace(load_workspace(root, search=False), now=AS_OF)
    found = {(v.kind, v.asset, v.field) for v in result.violations}
    assert {
        ("forbidden-personal-data", "app_events", "misc"),
        ("past-retention", "customers", None),
        ("past-retention", "orders", None),
        ("past-retention", "cn_customers", None),
        ("no-retention-rule", "member", None),
        ("no-processing-record", "member", None),
    } <= found
    assert result.errors == []


def test_evaluate_exits_3_when_a_source_cannot_be_counted(workspace_dir: Path) -> None:
    """The inventory says customers exists; the database no longer has it: no silent pass."""
    from govkit.inventory.store import Inventory
    from govkit.model.findings import Finding

    (workspace_dir / "govkit.toml").write_text('[sources.shop]\nurl = "sqlite:///shop.db"\n', encoding="utf-8")
    sqlite3.connect(workspace_dir / "shop.db").close()
    workspace = load_workspace(workspace_dir, search=False)
    display = f"sqlite:///{workspace_dir / 'shop.db'}"
    inventory = Inventory(workspace.inventory_path)
    inventory.begin_scan("scan-1", dt.datetime(2026, 1, 1), "sample")
    inventory.record_source(
        "scan-1", display=display, name="shop", kind="database", dialect="sqlite",
        assets=[{"name": "customers", "kind": "table", "row_estimate": 3, "primary_key": ["id"], "foreign_keys": [],
                 "indexes": [], "fields": [
                     {"name": n, "sql_type": t, "kind": k, "nullable": True, "primary_key": n == "id"}
                     for n, t, k in (("id", "INTEGER", "integer"), ("email", "TEXT", "text"),
                                     ("created_at", "DATETIME", "datetime"))]}],
        verdicts=[],
        findings=[Finding(display, "customers", "email", "EMAIL_ADDRESS", 0.99, 3, 3, [], "values", "MEDIUM")],
    )
    inventory.finish_scan("scan-1", stats={}, skipped=[], status="ok")
    inventory.close()
    (workspace_dir / "policies").mkdir()
    (workspace_dir / "policies" / "shop.yaml").write_text(
        "extends: baseline\nretention:\n  rules:\n"
        "    - {assets: [customers], timestamp: created_at, period: P1Y, action: delete}\n", encoding="utf-8")
    result = run("evaluate", "--fail-on", "LOW")
    assert result.exit_code == 3
    assert result.stderr == (
        f"govkit: error: customers: rows past retention not counted: {display}: table customers no longer exists\n")
