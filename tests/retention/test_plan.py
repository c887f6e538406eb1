"""``govkit retention plan``: exactly the rows past the period, what exceptions keep, child rows."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from govkit.actions.retention import plan_retention
from govkit.cli import main
from govkit.inventory.store import Inventory
from govkit.policy.loader import active_policy
from govkit.scan import scan
from govkit.workspace import load_workspace
from tests.change import harness

AS_OF = datetime(2026, 6, 30)
POLICY = """\
version: 1
extends: [gdpr]
retention:
  rules:
    - name: customer accounts
      assets: [customers]
      timestamp: created_at
      period: 3 years
      action: delete
      exceptions:
        - where: "vip = 1"
          reason: VIP accounts are kept while the contract runs
"""


def _shop(url: str) -> list[dict[str, Any]]:
    """120 customers created one a fortnight back from AS_OF; every 10th is a VIP; 2 orders each."""
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    customers = sa.Table("customers", meta, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                         sa.Column("email", sa.String(120)), sa.Column("name", sa.String(120)),
                         sa.Column("vip", sa.Integer), sa.Column("created_at", sa.DateTime))
    orders = sa.Table("orders", meta, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                      sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id")),
                      sa.Column("total", sa.Integer))
    visits = sa.Table("visits", meta, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                      sa.Column("email", sa.String(120)), sa.Column("birth_date", sa.Date),
                      sa.Column("visited_on", sa.Date))
    rows = [{"id": i, "email": f"person{i}@example.org", "name": f"Person Number{i}", "vip": int(i % 10 == 0),
             "created_at": AS_OF - timedelta(days=14 * i)} for i in range(1, 121)]
    with engine.begin() as conn:
        meta.create_all(conn)
        conn.execute(customers.insert(), rows)
        conn.execute(orders.insert(), [{"id": 2 * i + k, "customer_id": i, "total": k} for i in range(1, 121)
                                       for k in (0, 1)])
        conn.execute(visits.insert(), [{"id": i, "email": f"visitor{i}@example.org",
                                        "birth_date": datetime(1980, 1, 1 + i % 28).date(),
                                        "visited_on": (AS_OF - timedelta(days=i)).date()} for i in range(1, 60)])
    engine.dispose()
    return rows


def _workspace(folder: Path, url: str) -> Any:
    folder.mkdir(parents=True)
    (folder / "govkit.toml").write_text(f'[detection]\nmodel = "none"\n\n[sources.shop]\nurl = "{url}"\n',
                                        encoding="utf-8")
    (folder / "policies").mkdir()
    (folder / "policies" / "shop.yaml").write_text(POLICY, encoding="utf-8")
    workspace = load_workspace(folder, search=False)
    scan(workspace)
    return workspace


def _expected(rows: list[dict[str, Any]]) -> tuple[int, int, set[int]]:
    cutoff = AS_OF.replace(year=AS_OF.year - 3)
    past = [r for r in rows if r["created_at"] < cutoff]
    expiring = {r["id"] for r in past if not r["vip"]}
    return len(expiring), len(past) - len(expiring), expiring


@pytest.fixture(params=harness.DIALECTS[:1] + harness.DIALECTS[2:])
def dialect(request: pytest.FixtureRequest) -> str:
    if request.param != "sqlite":
        request.applymarker(pytest.mark.server)
    return str(request.param)


def test_the_plan_counts_exactly_the_rows_past_the_period(dialect: str, tmp_path: Path) -> None:
    name = f"govkit_ret_{uuid.uuid4().hex[:8]}"
    try:
        url = harness.database_url(dialect, tmp_path, name)
        rows = _shop(url)
        workspace = _workspace(tmp_path / "ws", url)
        inventory = Inventory(workspace.inventory_path)
        try:
            plan = plan_retention(workspace, active_policy(workspace.root), inventory, as_of=AS_OF)
        finally:
            inventory.close()
        [step] = [s for s in plan.steps if s.asset.endswith("customers")]
        past, kept, expiring = _expected(rows)
        assert (step.status, step.past_rows, step.kept_rows) == ("past", past, kept)
        oldest = min(r["created_at"] for r in rows if r["id"] in expiring)
        assert step.oldest is not None
        assert step.oldest.startswith(oldest.strftime("%Y-%m-%d"))
        [child] = step.children
        assert child.asset.endswith("orders")
        assert child.columns == ["customer_id"]
        assert child.rows == 2 * past  # two orders per expiring customer
        unruled = {u.asset.rsplit(".", 1)[-1]: u for u in plan.unruled}
        assert unruled["visits"].suggested == "visited_on"  # a date of the record, never the birth date
        assert "birth_date" not in unruled["visits"].date_columns
    finally:
        harness.drop_database(dialect, name)


def test_cli_plan_json_and_table_and_nothing_changes(tmp_path: Path) -> None:
    url = harness.database_url("sqlite", tmp_path, "shop")
    rows = _shop(url)
    workspace = _workspace(tmp_path / "ws", url)
    runner = CliRunner()
    base = ["--workspace", str(workspace.root), "retention", "plan", "--as-of", AS_OF.strftime("%Y-%m-%d")]
    done = runner.invoke(main, [*base, "--format", "json"])
    assert done.exit_code == 0, done.output
    data = json.loads(done.output)
    past, _, _ = _expected(rows)
    assert data["totals"]["past_rows"] == past
    assert data["as_of"] == "2026-06-30"
    table = runner.invoke(main, base)
    assert table.exit_code == 0, table.output
    assert [s["rule"] for s in data["steps"]] == ["customer accounts"]
    assert "Retention plan as of 2026-06-30" in table.output
    assert "not assessed" in table.output
    assert "person1@example.org" not in done.output + table.output  # counts, never values
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM customers")).scalar() == len(rows)  # a plan changes nothing
    engine.dispose()
    log = runner.invoke(main, ["--workspace", str(workspace.root), "log", "show", "--format", "json"])
    records = [r for r in json.loads(log.output)["records"] if r["action"] == "retention.plan"]
    assert len(records) == 2  # the JSON run and the table run, each audited
    assert all(r["counts"]["past_rows"] == past for r in records)
