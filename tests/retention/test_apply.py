"""``govkit retention apply`` and ``govkit archive``: exactly the expiring rows, on every dialect.

The shop (``tests/retention/shop.py``) has a rule exception (VIPs), a legal hold (customer 100),
a cascaded child (orders) and a child with its own rule (tickets) whose surviving rows keep
their customers. Each test computes in Python what a correct run leaves and compares the
database with it, row id by row id.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.change import harness
from tests.retention import shop


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVKIT_KEY", harness.KEY)  # the key the CLI runs under signs every record
    monkeypatch.delenv("GOVKIT_KEY_FILE", raising=False)


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def dialect(request: pytest.FixtureRequest) -> str:
    if request.param != "sqlite":
        request.applymarker(pytest.mark.server)
    return str(request.param)


@pytest.fixture
def shop_url(dialect: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    name = f"govkit_ret_{uuid.uuid4().hex[:8]}"
    url = harness.database_url(dialect, tmp_path, name)
    shop.create(url)
    yield url
    harness.drop_database(dialect, name)


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _apply(ws: Path, *extra: str) -> dict:  # type: ignore[type-arg]
    done = harness.cli(ws, "retention", "apply", "--as-of", "2026-06-30", "--format", "json", *extra)
    assert done.exit_code == 0, done.output
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_delete_removes_exactly_the_expiring_rows(shop_url: str, tmp_path: Path) -> None:
    ws = shop.workspace(tmp_path / "ws", shop_url).root
    plan = _apply(ws)
    customers = next(s for s in plan["steps"] if _short(s["asset"]) == "customers")
    assert customers["held_rows"] == 1
    assert customers["holds"]
    assert [c["table"].rsplit(".", 1)[-1] for c in customers["children"] if c["mode"] == "cascade"] == ["orders"]
    assert [_short(s["asset"]) for s in plan["steps"]] == ["tickets", "customers"]  # the child with a rule first
    assert shop.ids(shop_url, "customers") == set(range(1, 121))  # the plan changed nothing

    done = _apply(ws, "--apply")
    assert [r["verification"] for r in done["runs"]] == ["passed"]
    kept = shop.expected_customers()
    assert shop.ids(shop_url, "customers") == kept
    assert shop.ids(shop_url, "tickets") == shop.expected_tickets()
    assert {i // 2 for i in shop.ids(shop_url, "orders")} == kept  # orders went with their customers only
    assert shop.HELD in kept
    assert 110 in kept

    again = _apply(ws)
    assert sum(s["rows"] - s["held_rows"] - s["blocked_rows"] for s in again["steps"]) == 0
    records = [r for r in json.loads(harness.cli(ws, "log", "show", "--format", "json").stdout)["records"]
               if r["action"] == "retention.apply"]
    assert len(records) == 1
    assert records[0]["outcome"] == "ok"
    assert "person" not in json.dumps(records)  # counts and table names, never values

    report = harness.cli(ws, "report", "audit", "--format", "json")
    assert report.exit_code == 0, report.output
    views = {_short(r["asset"]): r for r in json.loads(report.stdout)["retention"]}
    assert views["customers"]["last_run"]["run_id"] == done["runs"][0]["run_id"]
    assert views["customers"]["last_run"]["rows"] == len(set(range(1, 121)) - shop.expected_customers())
    assert views["customers"]["holds"] == [customers["holds"][0]]  # the hold placed on the table


def test_archive_round_trip_restores_what_was_removed(shop_url: str, tmp_path: Path) -> None:
    before = {t: shop.rows(shop_url, t) for t in ("customers", "orders")}
    ws = shop.workspace(tmp_path / "ws", shop_url, action="archive").root
    done = _apply(ws, "--apply", "--batch-size", "7")
    run = done["runs"][0]
    assert run["verification"] == "passed"
    assert run["archive"]
    removed = set(range(1, 121)) - shop.ids(shop_url, "customers")
    assert removed == set(range(1, 121)) - shop.expected_customers()

    listing = json.loads(harness.cli(ws, "archive", "list", "--format", "json").stdout)["archives"]
    counts = {_short(t): n for t, n in listing[0]["rows"].items()}
    assert counts == {"customers": len(removed), "orders": 2 * len(removed)}
    segments = list((ws / ".govkit" / "archives" / run["archive"]).glob("*.seg"))
    assert segments
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in segments)
    assert all(b"person" not in p.read_bytes() for p in segments)  # sealed, not plain

    copy = f"sqlite:///{tmp_path / 'restored.sqlite'}"
    restored = harness.cli(ws, "archive", "restore", run["archive"], "--to", copy, "--apply")
    assert restored.exit_code == 0, restored.output
    assert shop.ids(copy, "customers") == removed

    back = harness.cli(ws, "archive", "restore", run["archive"], "--apply")
    assert back.exit_code == 0, back.output
    assert {t: shop.rows(shop_url, t) for t in ("customers", "orders")} == before  # value for value

    again = harness.cli(ws, "archive", "restore", run["archive"], "--apply")
    assert again.exit_code == 2
    assert "already exist" in again.output


def test_child_without_rule_or_cascade_refuses_and_says_which(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.sqlite'}"
    shop.create(url)
    ws = shop.workspace(tmp_path / "ws", url, cascade=False).root
    refused = harness.cli(ws, "retention", "apply", "--as-of", "2026-06-30", "--apply")
    assert refused.exit_code == 2, refused.output
    assert "orders has" in refused.output
    assert "cascade: [orders]" in refused.output
    assert shop.ids(url, "customers") == set(range(1, 121))
    assert shop.ids(url, "tickets") == set(range(7, 121, 7))  # refused before anything ran


def test_anonymize_rows_past_the_period_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.sqlite'}"
    shop.create(url)
    ws = shop.workspace(tmp_path / "ws", url, action="anonymize").root
    before = {r[0]: r for r in shop.rows(url, "customers")}
    done = _apply(ws, "--apply")
    assert done["runs"][0]["verification"] == "passed"
    after = {r[0]: r for r in shop.rows(url, "customers")}
    assert set(after) == set(before)  # anonymize keeps the rows
    changed = {i for i in before if before[i][1] != after[i][1]}
    expiring = {i for i in range(1, 121) if shop.created(i) < shop.CUSTOMER_CUTOFF and i % 10 and i != shop.HELD}
    assert changed == expiring  # e-mails of exactly the expiring, not held, not exempt rows
    assert all(after[i][4] == before[i][4] for i in after)  # the timestamp is left alone
    second = _apply(ws, "--apply")
    assert second["runs"] == []  # the watermark: nothing to do again
    assert {r[0]: r for r in shop.rows(url, "customers")} == after


def test_files_past_their_date_are_archived_and_restorable(tmp_path: Path) -> None:
    ws, folder = shop.file_source(tmp_path, ["2019-01-05", "2020-07-01", "2026-05-01"])
    plan = _apply(ws)
    decided = {f["asset"]: f["status"] for f in plan["files"]}
    assert decided == {"crm-export-2019-01-05.csv": "apply", "crm-export-2020-07-01.csv": "apply",
                       "crm-export-2026-05-01.csv": "nothing"}
    done = _apply(ws, "--apply")
    assert sorted(p.name for p in folder.iterdir()) == ["crm-export-2026-05-01.csv"]
    archive = done["runs"][0]["archive"]
    back = harness.cli(ws, "archive", "restore", archive, "--apply")
    assert back.exit_code == 0, back.output
    assert (folder / "crm-export-2019-01-05.csv").read_text(encoding="utf-8").endswith("ann.2019-01-05@example.org\n")


def test_subject_hold_keeps_the_subjects_rows(tmp_path: Path) -> None:
    from govkit.holds import add_hold

    url = f"sqlite:///{tmp_path / 'shop.sqlite'}"
    shop.create(url)
    workspace = shop.workspace(tmp_path / "ws", url, hold=False)
    add_hold(workspace, reason="inquiry 2026-3", subject={"email": "person97@example.org"})
    done = _apply(workspace.root, "--apply")
    assert [r["verification"] for r in done["runs"]] == ["passed"]
    kept = shop.ids(url, "customers")
    assert 97 in kept  # expiring, but the subject is held
    assert kept == shop.expected_customers(held=False) | {97}
    assert {194, 195} <= shop.ids(url, "orders")  # the held customer's orders stay with them


def test_composite_key_and_self_reference(tmp_path: Path) -> None:
    """Rows keyed by two columns, and a table whose rows point at each other (a manager)."""
    import sqlalchemy as sa

    from govkit.scan import scan
    from govkit.workspace import load_workspace

    url = f"sqlite:///{tmp_path / 'hr.sqlite'}"
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    sa.Table("visits", meta, sa.Column("person", sa.Integer, primary_key=True, autoincrement=False),
             sa.Column("day", sa.Integer, primary_key=True, autoincrement=False),
             sa.Column("email", sa.String(80)), sa.Column("seen_at", sa.DateTime))
    sa.Table("staff", meta, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
             sa.Column("email", sa.String(80)), sa.Column("manager_id", sa.Integer, sa.ForeignKey("staff.id")),
             sa.Column("left_at", sa.DateTime))
    old, new = shop.AS_OF.replace(year=2015), shop.AS_OF.replace(year=2026, month=1)
    with engine.begin() as conn:
        meta.create_all(conn)
        conn.execute(meta.tables["visits"].insert(), [
            {"person": p, "day": d, "email": f"v{p}@example.org", "seen_at": old if d % 2 else new}
            for p in range(1, 5) for d in range(1, 7)])
        # 1 manages 2 and 3; everyone left long ago but 3 (still here): 1 is kept while 3 points at it
        conn.execute(meta.tables["staff"].insert(), [
            {"id": 1, "email": "boss@example.org", "manager_id": None, "left_at": old},
            {"id": 2, "email": "a@example.org", "manager_id": 1, "left_at": old},
            {"id": 3, "email": "b@example.org", "manager_id": 1, "left_at": new},
            {"id": 4, "email": "c@example.org", "manager_id": None, "left_at": old}])
    engine.dispose()
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "govkit.toml").write_text(f'[detection]\nmodel = "none"\n\n[sources.hr]\nurl = "{url}"\n', encoding="utf-8")
    (ws / "policies").mkdir()
    (ws / "policies" / "hr.yaml").write_text(
        "version: 1\nextends: [gdpr]\nretention:\n  rules:\n"
        "    - {name: visits, assets: [visits], timestamp: seen_at, period: 5 years, action: delete}\n"
        "    - {name: staff, assets: [staff], timestamp: left_at, period: 5 years, action: delete}\n",
        encoding="utf-8")
    scan(load_workspace(ws, search=False))
    done = _apply(ws, "--apply", "--batch-size", "1")  # units of 10 keys: several per table
    assert [r["verification"] for r in done["runs"]] == ["passed"]
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        visits = {tuple(r) for r in conn.execute(sa.text("SELECT person, day FROM visits"))}
        staff = {r[0] for r in conn.execute(sa.text("SELECT id FROM staff"))}
    engine.dispose()
    assert visits == {(p, d) for p in range(1, 5) for d in (2, 4, 6)}
    assert staff == {1, 3}  # 2 and 4 gone; 1 still referenced by 3


@pytest.mark.parametrize("action", ["delete", "archive"])
def test_children_without_an_index_give_the_same_rows(action: str, tmp_path: Path) -> None:
    """No index on the references: the guards read the children once per statement (``NOT IN``)
    instead of probing them per row, and leave exactly the rows the indexed shop leaves."""
    url = f"sqlite:///{tmp_path / 'shop.sqlite'}"
    shop.create(url, indexed=False)
    ws = shop.workspace(tmp_path / "ws", url, action=action).root
    done = _apply(ws, "--apply", "--batch-size", "3")  # several units per table
    assert [r["verification"] for r in done["runs"]] == ["passed"]
    assert shop.ids(url, "customers") == shop.expected_customers()
    assert shop.ids(url, "tickets") == shop.expected_tickets()
    assert {i // 2 for i in shop.ids(url, "orders")} == shop.expected_customers()


@pytest.mark.parametrize("dialect", ["sqlite", pytest.param("postgresql", marks=pytest.mark.server)])
def test_a_reference_added_during_a_unit_rolls_it_back(dialect: str, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A concurrent writer adds a ticket for an expiring customer after the unit read its keys:
    the delete's own guard keeps that customer, the count falls short, the unit rolls back and
    nothing is orphaned; once the ticket is gone, ``runs resume`` finishes the run."""
    import sqlalchemy as sa

    from govkit.actions.retention import apply as retention_apply
    from govkit.change.resume import resume
    from govkit.change.run import UnitConflict, list_runs
    from govkit.inventory.store import Inventory
    from govkit.policy.loader import active_policy

    name = f"govkit_ret_{uuid.uuid4().hex[:8]}"
    url = harness.database_url(dialect, tmp_path, name)
    try:
        shop.create(url)
        ws = shop.workspace(tmp_path / "ws", url)
        writer = sa.create_engine(url)
        original = retention_apply._remove_children
        rogue = "INSERT INTO tickets (id, customer_id, email, opened_at) VALUES (1000, 118, 'x@example.org', :at)"

        fired: list[bool] = []

        def concurrent(conn, tables, parent, *args, **kwargs):  # type: ignore[no-untyped-def]
            if parent.name == "customers" and not fired:
                fired.append(True)
                if dialect == "sqlite":  # one writer at a time: the unit's own connection stands in for it
                    conn.execute(sa.text(rogue), {"at": shop.AS_OF})
                else:
                    with writer.begin() as other:
                        other.execute(sa.text(rogue), {"at": shop.AS_OF})
            return original(conn, tables, parent, *args, **kwargs)

        monkeypatch.setattr(retention_apply, "_remove_children", concurrent)
        inventory = Inventory(ws.inventory_path)
        plan = retention_apply.plan_apply(ws, active_policy(ws.root), inventory, as_of=shop.AS_OF)
        inventory.close()
        with pytest.raises(UnitConflict, match="references one of them again"):
            retention_apply.apply_plan(ws, plan)
        assert 118 in shop.ids(url, "customers")
        assert shop.ids(url, "customers") == set(range(1, 121))  # the customers' unit rolled back whole
        assert {236, 237} <= shop.ids(url, "orders")  # with its cascaded orders

        monkeypatch.setattr(retention_apply, "_remove_children", original)
        if dialect != "sqlite":
            with writer.begin() as other:
                other.execute(sa.text("DELETE FROM tickets WHERE id = 1000"))
        writer.dispose()
        [run] = [r for r in list_runs(ws.state_dir) if r.kind == retention_apply.KIND]
        assert run.status != "finished"
        result = resume(ws, run.id)
        assert result.status == "finished"
        assert shop.ids(url, "customers") == shop.expected_customers()
        assert shop.ids(url, "tickets") == shop.expected_tickets()
    finally:
        harness.drop_database(dialect, name)
