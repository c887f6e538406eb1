"""Kill ``dsr erase --apply`` and ``dsr rectify --apply`` at every failpoint, resume, compare with a clean run.

The shop: ``customers`` (the subject is one of 300), ``orders`` referencing them (kept and
anonymized by the policy, so the subject's customer row is anonymized too: rows that stay
still reference it), ``newsletter`` (deleted), and a folder of exports (a CSV whose record is
deleted, a log whose spans are replaced). An erasure is one unit for the database and one
per file. For each dialect and kill point, the end state (every table, every file, the
certificate, the request's status) must equal an uninterrupted run's, the audit log must
verify with one "begun" and one "finished" record, and no temporary file may remain.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.change import harness

SUBJECT = "maria.keller@example.de"
NEW_EMAIL = "maria.keller@neu.example.de"
POLICY = """\
version: 1
extends: [gdpr]
dsr:
  erasure:
    - asset: orders
      action: anonymize
      legal_basis: "order records kept for tax law (HGB 257)"
"""


def _shop(url: str, wal: bool) -> None:
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    customers = sa.Table("customers", meta, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                         sa.Column("name", sa.String(120)), sa.Column("email", sa.String(200)),
                         sa.Column("phone", sa.String(200)), sa.Column("city", sa.String(80)))
    orders = sa.Table("orders", meta, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                      sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id")),
                      sa.Column("contact_email", sa.String(200)), sa.Column("total", sa.Integer))
    newsletter = sa.Table("newsletter", meta, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                          sa.Column("email", sa.String(200)))
    people = harness.people_rows(300)
    people[6]["email"] = SUBJECT
    with engine.begin() as conn:
        if wal:
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        meta.create_all(conn)
        conn.execute(customers.insert(), [{"id": p["id"], "name": p["name"], "email": p["email"],
                                          "phone": p["phone"], "city": "Berlin"} for p in people])
        conn.execute(orders.insert(), [{"id": i, "customer_id": (i % 300) + 1, "total": i,
                                        "contact_email": people[i % 300]["email"]} for i in range(1, 1501)])
        conn.execute(newsletter.insert(), [{"id": p["id"], "email": p["email"]} for p in people[:50]])
    engine.dispose()


def _exports(folder: Path) -> None:
    folder.mkdir(parents=True)
    (folder / "crm.csv").write_text("id,email,note\n" + "".join(
        f"{i},{SUBJECT if i == 7 else f'person{i}@example.org'},call back\n" for i in range(1, 200)), encoding="utf-8")
    (folder / "app.log").write_text("".join(
        f"10:{i % 60:02d} login user={SUBJECT if i % 40 == 0 else f'person{i}@example.org'} ok\n"
        for i in range(400)), encoding="utf-8")


def _workspace(folder: Path, url: str) -> Any:
    from govkit.scan import scan
    from govkit.workspace import load_workspace

    folder.mkdir(parents=True)
    _exports(folder / "exports")
    (folder / "govkit.toml").write_text(
        f'[detection]\nmodel = "none"\n\n[sources.shop]\nurl = "{url}"\n\n[sources.exports]\npath = "exports"\n',
        encoding="utf-8")
    (folder / "policies").mkdir()
    (folder / "policies" / "shop.yaml").write_text(POLICY, encoding="utf-8")
    workspace = load_workspace(folder, search=False)
    scan(workspace)
    return workspace


def _new(ws: Path, kind: str) -> str:
    made = harness.cli(ws, "dsr", "new", "--type", kind, "--subject", f"email={SUBJECT}", "-f", "json")
    assert made.exit_code == 0, made.output
    return str(json.loads(made.output)["id"])


def _state(url: str, ws: Path, request_id: str) -> dict[str, Any]:
    """Everything an erasure or rectification may change, comparable across workspaces."""
    tables = {t: harness.table_state(url, t) for t in ("customers", "orders", "newsletter")}
    files = {p.name: p.read_bytes() for p in sorted((ws / "exports").iterdir())}
    shown = harness.cli(ws, "dsr", "show", request_id, "-f", "json")
    status = json.loads(shown.output)["status"] if shown.exit_code == 0 else shown.output
    certificates = sorted(p.name for p in (ws / ".govkit" / "dsr").rglob("certificate*.json"))
    return {"tables": tables, "files": files, "status": status, "certificates": certificates}


def _setup(dialect: str, folder: Path, name: str, kind: str) -> tuple[str, Path, str]:
    url = harness.database_url(dialect, folder, name)
    _shop(url, dialect == "sqlite-wal")
    ws = folder / "ws"
    _workspace(ws, url)
    return url, ws, _new(ws, kind)


_ARGS = {"erasure": lambda rid: ["dsr", "erase", rid, "--apply"],
         "rectification": lambda rid: ["dsr", "rectify", rid, "--set", f"email={NEW_EMAIL}", "--apply"]}
_ACTION = {"erasure": "dsr.erase", "rectification": "dsr.rectify"}
_CLEAN: dict[tuple[str, str], dict[str, Any]] = {}


@pytest.fixture(params=harness.DIALECTS)
def dialect(request: pytest.FixtureRequest) -> str:
    if not request.param.startswith("sqlite"):
        request.applymarker(pytest.mark.server)
    return str(request.param)


def _clean(dialect: str, kind: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if (dialect, kind) not in _CLEAN:
        name = f"govkit_kdsr_clean_{uuid.uuid4().hex[:8]}"
        folder = tmp_path_factory.mktemp("clean")
        try:
            url, ws, request_id = _setup(dialect, folder, name, kind)
            done = harness.cli(ws, *_ARGS[kind](request_id))
            assert done.exit_code == 0, done.output
            _CLEAN[(dialect, kind)] = _state(url, ws, request_id)
        finally:
            harness.drop_database(dialect, name)
    return _CLEAN[(dialect, kind)]


RECTIFY_POINTS = [(point, 1) for point, _ in harness.POINTS]  # one database: one unit


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "point"), [("erasure", p) for p in harness.POINTS]
                         + [("rectification", p) for p in RECTIFY_POINTS],
                         ids=lambda v: v if isinstance(v, str) else f"{v[0]}#{v[1]}")
def test_killed_dsr_run_resumes_to_the_clean_result(dialect: str, kind: str, point: tuple[str, int],
                                                    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    expected = _clean(dialect, kind, tmp_path_factory)
    name = f"govkit_kdsr_{uuid.uuid4().hex[:8]}"
    try:
        url, ws, request_id = _setup(dialect, tmp_path, name, kind)
        original = _state(url, ws, request_id)
        died = harness.govkit(ws, *_ARGS[kind](request_id), kill_at=point)
        assert harness.killed(died), (died.returncode, died.stderr)
        run_id = harness.unfinished_run(ws)
        again = harness.cli(ws, *_ARGS[kind](request_id))
        assert again.exit_code == 2, again.output  # a second run on the same target is refused
        assert f"runs resume {run_id}" in again.output
        resumed = harness.cli(ws, "runs", "resume", run_id)
        assert resumed.exit_code == 0, resumed.output
        after = _state(url, ws, request_id)
        assert after == expected  # tables, files, certificate and status: as if never interrupted
        assert after["tables"] != original["tables"]
        harness.assert_run_closed(ws, _ACTION[kind])
        assert harness.no_temp_files(ws) == []
    finally:
        harness.drop_database(dialect, name)
