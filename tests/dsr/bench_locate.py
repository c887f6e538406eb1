"""Benchmark: locate one subject in a 1M-customer / 3M-order SQLite database.

Run: ``python -m tests.dsr.bench_locate [--customers N] [--dir DIR]``. It builds the database
(once; reused when present), scans it pattern-only, and times ``locate`` for one subject
without indexes on the identity and foreign-key columns (full scans) and with them. The
target is under 1 s with indexes. Not collected by pytest (it takes about a minute).
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import tempfile
import time
from pathlib import Path

from govkit.actions.dsr.locate import locate
from govkit.scan import scan
from govkit.workspace import load_workspace


def build(path: Path, customers: int) -> None:
    conn = sqlite3.connect(path)
    conn.executescript("""
        PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
        CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(120) NOT NULL, phone VARCHAR(30),
                                name VARCHAR(80), city VARCHAR(40));
        CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers (id),
                             placed_at VARCHAR(20), total NUMERIC(10, 2));
    """)
    rng = random.Random(7)
    batch = 100_000
    for start in range(0, customers, batch):
        conn.executemany("INSERT INTO customers VALUES (?, ?, ?, ?, ?)", [
            (i + 1, f"user{i}@example.org", f"+33 6 {i // 10000 % 100:02d} {i // 100 % 100:02d} {i % 100:02d} 00",
             f"Name {i}", "Lyon") for i in range(start, min(start + batch, customers))])
    for start in range(0, customers * 3, batch):
        conn.executemany("INSERT INTO orders VALUES (?, ?, ?, ?)", [
            (i + 1, rng.randint(1, customers), "2024-01-01", 10.5) for i in range(start, min(start + batch,
                                                                                             customers * 3))])
    conn.commit()
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "govkit-dsr-bench")
    args = parser.parse_args()
    folder: Path = args.dir
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / f"shop-{args.customers}.db"
    if not db.exists():
        started = time.perf_counter()
        build(db, args.customers)
        print(f"built {db} in {time.perf_counter() - started:.1f}s")
    subject = {"email": f"User{args.customers // 2}@Example.org"}
    results = {}
    for indexed in (False, True):
        conn = sqlite3.connect(db)
        conn.execute("DROP INDEX IF EXISTS ix_customers_email")
        conn.execute("DROP INDEX IF EXISTS ix_orders_customer_id")
        if indexed:
            conn.execute("CREATE INDEX ix_customers_email ON customers (email)")
            conn.execute("CREATE INDEX ix_orders_customer_id ON orders (customer_id)")
        conn.commit()
        conn.close()
        ws_dir = folder / f"ws-{'indexed' if indexed else 'plain'}"
        ws_dir.mkdir(exist_ok=True)
        (ws_dir / "govkit.toml").write_text(
            f'[detection]\nmodel = "none"\nsample_size = 200\n\n[sources.shop]\nurl = "sqlite:///{db}"\n')
        workspace = load_workspace(ws_dir, search=False)
        scan(workspace)
        locate(workspace, subject)  # warm the page cache and imports
        started = time.perf_counter()
        report = locate(workspace, subject)
        elapsed = time.perf_counter() - started
        results["indexed" if indexed else "full_scan"] = {
            "seconds": round(elapsed, 3), "rows": {h.asset: h.rows for h in report.data()},
            "advice": [a.statement for a in report.advice]}
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
