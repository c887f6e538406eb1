"""A shop database for retention tests, the same in every dialect, and what a correct run leaves.

* ``customers``: 120 rows, one created every fortnight back from :data:`AS_OF`; every 10th is a
  VIP (a rule exception keeps it); customer 99 is under a legal hold placed by the test.
* ``orders``: two per customer, no rule of their own: cascaded with their customer.
* ``tickets``: one for every 7th customer, opened when the customer was created, with their own
  4-year rule: run first; the tickets that survive keep their customer (blocked).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

AS_OF = datetime(2026, 6, 30)
CUSTOMER_CUTOFF = AS_OF.replace(year=AS_OF.year - 3)
TICKET_CUTOFF = AS_OF.replace(year=AS_OF.year - 4)
HELD = 99

POLICY = """\
version: 1
extends: [gdpr]
retention:
  rules:
    - name: customer accounts
      assets: [customers]
      timestamp: created_at
      period: 3 years
      action: {action}
      {cascade}
      exceptions:
        - where: "vip = 1"
          reason: VIP accounts are kept while the contract runs
    - name: support tickets
      assets: [tickets]
      timestamp: opened_at
      period: 4 years
      action: delete
"""


def create(url: str, *, wal: bool = False, indexed: bool = True) -> None:
    """The shop at ``url``; ``indexed=False`` leaves the children's references without an index."""
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    sa.Table("customers", meta, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
             sa.Column("email", sa.String(120)), sa.Column("name", sa.String(120)),
             sa.Column("vip", sa.Integer), sa.Column("created_at", sa.DateTime))
    sa.Table("orders", meta, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
             sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id"), index=indexed),
             sa.Column("total", sa.Numeric(10, 2)))
    sa.Table("tickets", meta, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
             sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id"), index=indexed),
             sa.Column("email", sa.String(120)), sa.Column("opened_at", sa.DateTime))
    customers = [{"id": i, "email": f"person{i}@example.org", "name": f"Person Number{i}", "vip": int(i % 10 == 0),
                  "created_at": AS_OF - timedelta(days=14 * i)} for i in range(1, 121)]
    with engine.begin() as conn:
        if wal:
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        meta.create_all(conn)
        conn.execute(meta.tables["customers"].insert(), customers)
        conn.execute(meta.tables["orders"].insert(), [{"id": 2 * i + k, "customer_id": i, "total": 10 * i + k}
                                                       for i in range(1, 121) for k in (0, 1)])
        conn.execute(meta.tables["tickets"].insert(), [{"id": i, "customer_id": i, "email": f"person{i}@example.org",
                                                        "opened_at": c["created_at"]}
                                                       for i, c in enumerate(customers, 1) if i % 7 == 0])
    engine.dispose()


def created(i: int) -> datetime:
    return AS_OF - timedelta(days=14 * i)


def expected_customers(*, held: bool = True) -> set[int]:
    """The customers a correct ``delete``/``archive`` run keeps."""
    keep = set()
    for i in range(1, 121):
        ticket_survives = i % 7 == 0 and created(i) >= TICKET_CUTOFF
        if created(i) >= CUSTOMER_CUTOFF or i % 10 == 0 or (held and i == HELD) or ticket_survives:
            keep.add(i)
    return keep


def expected_tickets() -> set[int]:
    return {i for i in range(7, 121, 7) if created(i) >= TICKET_CUTOFF}


def workspace(folder: Path, url: str, *, action: str = "delete", cascade: bool = True, hold: bool = True) -> Any:
    from govkit.holds import add_hold
    from govkit.scan import scan
    from govkit.workspace import load_workspace

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "govkit.toml").write_text(f'[detection]\nmodel = "none"\n\n[sources.shop]\nurl = "{url}"\n',
                                        encoding="utf-8")
    (folder / "policies").mkdir(exist_ok=True)
    (folder / "policies" / "shop.yaml").write_text(
        POLICY.format(action=action, cascade="cascade: [orders]" if cascade else ""), encoding="utf-8")
    ws = load_workspace(folder, search=False)
    scan(ws)
    if hold:
        add_hold(ws, reason="litigation 2026-17", asset="customers", source="shop", where=f"id = {HELD}")
    return ws


def ids(url: str, table: str) -> set[int]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {int(r[0]) for r in conn.execute(sa.text(f"SELECT id FROM {table}"))}
    finally:
        engine.dispose()


def rows(url: str, table: str) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY id"))]
    finally:
        engine.dispose()


def file_source(tmp_path: Path, days: list[str], prefix: str = "crm-export-") -> tuple[Path, Path]:
    """A workspace whose file source holds one CRM export per day in ``days`` (the date in the
    name), with a 2-year ``$name`` rule that archives them. Scanned; returns (workspace, folder)."""
    from govkit.scan import scan
    from govkit.workspace import load_workspace

    folder = tmp_path / "exports"
    folder.mkdir()
    for day in days:
        (folder / f"{prefix}{day}.csv").write_text(f"name,email\nAnn Lee,ann.{day}@example.org\n", encoding="utf-8")
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "govkit.toml").write_text(f'[detection]\nmodel = "none"\n\n[sources.exports]\npath = "{folder}"\n',
                                    encoding="utf-8")
    (ws / "policies").mkdir()
    (ws / "policies" / "files.yaml").write_text(
        "version: 1\nextends: [gdpr]\nretention:\n  rules:\n    - name: crm exports\n"
        f"      assets: ['{prefix}*']\n      timestamp: $name\n      period: 2 years\n      action: archive\n",
        encoding="utf-8")
    scan(load_workspace(ws, search=False))
    return ws, folder

