"""Chinook exported anonymized keeps every join and holds no original email, name or phone."""

from __future__ import annotations

import base64
import csv
import sqlite3
from pathlib import Path

import pytest

from govkit.actions.anonymize.export import VerificationFailed
from govkit.actions.anonymize.run import AnonymizeRequest, anonymize
from govkit.errors import UsageError

KEY = base64.b64encode(b"c" * 32).decode()
RULES = [
    "*.Email=pseudonymize",
    "*.Phone=pseudonymize",
    "*.Fax=pseudonymize",
    "*.FirstName=fake:provider=first_name",
    "*.LastName=fake:provider=last_name",
]
JOIN = (
    "SELECT count(*), count(DISTINCT c.CustomerId), count(DISTINCT e.EmployeeId), sum(il.UnitPrice * il.Quantity) "
    "FROM InvoiceLine il JOIN Invoice i ON il.InvoiceId = i.InvoiceId "
    "JOIN Customer c ON i.CustomerId = c.CustomerId JOIN Employee e ON c.SupportRepId = e.EmployeeId"
)


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVKIT_KEY", KEY)
    monkeypatch.delenv("GOVKIT_KEY_FILE", raising=False)


def originals(db: Path) -> tuple[set[str], set[str], set[str]]:
    with sqlite3.connect(db) as conn:
        emails = {r[0] for t in ("Customer", "Employee") for r in conn.execute(f"SELECT Email FROM {t}") if r[0]}
        phones = {r[0] for t in ("Customer", "Employee") for col in ("Phone", "Fax")
                  for r in conn.execute(f"SELECT {col} FROM {t}") if r[0]}
        names = {f"{a} {b}" for t in ("Customer", "Employee")
                 for a, b in conn.execute(f"SELECT FirstName, LastName FROM {t}")}
    return emails, phones, names


def all_text(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        parts = []
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                parts.append("\x00".join(str(v) for v in row))
            if table in ("Customer", "Employee"):
                parts.extend(f"{a} {b}" for a, b in conn.execute(f"SELECT FirstName, LastName FROM {table}"))
    return "\n".join(parts)


def test_sqlite_to_sqlite_keeps_joins_and_drops_identities(chinook_sqlite: Path, tmp_path: Path) -> None:
    target = tmp_path / "anon.db"
    # Customer.SupportRepId -> Employee.EmployeeId and Employee.ReportsTo are keys: the rule
    # on one side is carried to the others, through a permutation, so the joins still hold.
    rules = [*RULES, "Customer.SupportRepId=pseudonymize"]
    result = anonymize(AnonymizeRequest(str(f"sqlite:///{chinook_sqlite}"), to=f"sqlite:///{target}", rules=rules))
    assert result.verified
    assert ("employee", "employeeid") in result.plan.fields
    assert "kept consistent for joins" in result.plan.fields[("employee", "employeeid")].why
    with sqlite3.connect(chinook_sqlite) as before, sqlite3.connect(target) as after:
        assert before.execute(JOIN).fetchone() == after.execute(JOIN).fetchone()
        for table in ("Customer", "Employee", "Invoice", "InvoiceLine", "Track", "Album", "Artist"):
            query = f"SELECT count(*) FROM {table}"
            assert before.execute(query).fetchone() == after.execute(query).fetchone()
        assert after.execute("PRAGMA foreign_key_check").fetchall() == []
        fks = after.execute("PRAGMA foreign_key_list(InvoiceLine)").fetchall()
        assert {row[2] for row in fks} == {"Invoice", "Track"}
        emails = [r[0] for r in after.execute("SELECT Email FROM Customer")]
        assert all(e.endswith("@example.invalid") for e in emails)
        assert len(set(emails)) == len(emails)
    emails, phones, names = originals(chinook_sqlite)
    text = all_text(target)
    assert not [e for e in emails if e in text]
    assert not [p for p in phones if p in text]
    assert not [n for n in names if n in text]


def test_same_key_same_pseudonyms_across_runs_and_files(chinook_sqlite: Path, tmp_path: Path) -> None:
    source = f"sqlite:///{chinook_sqlite}"
    anonymize(AnonymizeRequest(source, to=str(tmp_path / "c.csv"), table=["Customer"], rules=RULES))
    anonymize(AnonymizeRequest(source, to=str(tmp_path / "e.jsonl"), query="SELECT Email FROM Customer",
                               rules=["Email=pseudonymize"]))
    with (tmp_path / "c.csv").open(encoding="utf-8") as handle:
        from_csv = [row["Email"] for row in csv.DictReader(handle)]
    import json

    from_jsonl = [json.loads(line)["Email"] for line in (tmp_path / "e.jsonl").read_text().splitlines()]
    assert sorted(from_csv) == sorted(from_jsonl)
    assert not (tmp_path / "c.csv.INCOMPLETE").exists()


def test_dry_run_writes_nothing_and_bad_plans_fail_before_writing(chinook_sqlite: Path, tmp_path: Path) -> None:
    source = f"sqlite:///{chinook_sqlite}"
    result = anonymize(AnonymizeRequest(source, to=str(tmp_path / "x.csv"), table=["Customer"], rules=RULES,
                                        dry_run=True))
    assert {p.field for p in result.plan.fields.values()} >= {"Email", "Phone", "FirstName"}
    assert not (tmp_path / "x.csv").exists()
    with pytest.raises(UsageError, match="key or reference column"):
        anonymize(AnonymizeRequest(source, to=f"sqlite:///{tmp_path / 'y.db'}", rules=["Customer.CustomerId=mask"]))
    assert not (tmp_path / "y.db").exists()
    with pytest.raises(UsageError, match="mask"):
        anonymize(AnonymizeRequest(source, to=str(tmp_path / "z.csv"), table=["Customer"],
                                   rules=["Email=mask:chr=#"]))
    assert not (tmp_path / "z.csv").exists()


def test_missing_key_is_a_clear_error_before_writing(chinook_sqlite: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from govkit.errors import KeyMaterialError

    monkeypatch.delenv("GOVKIT_KEY")
    with pytest.raises(KeyMaterialError):
        anonymize(AnonymizeRequest(f"sqlite:///{chinook_sqlite}", to=str(tmp_path / "x.csv"), table=["Customer"],
                                   rules=RULES))
    assert not (tmp_path / "x.csv").exists()
    monkeypatch.setenv("GOVKIT_KEY", "not a key")
    with pytest.raises(KeyMaterialError, match="does not hold a key"):
        anonymize(AnonymizeRequest(f"sqlite:///{chinook_sqlite}", to=str(tmp_path / "x.csv"), table=["Customer"],
                                   rules=RULES))


def test_verification_fails_and_marks_output_incomplete(chinook_sqlite: Path, tmp_path: Path) -> None:
    out = tmp_path / "leaky.csv"
    # mask keeping most of an email keeps it recognisable: verification must catch that
    with pytest.raises(VerificationFailed, match="still show EMAIL_ADDRESS") as info:
        anonymize(AnonymizeRequest(f"sqlite:///{chinook_sqlite}", to=str(out), table=["Customer"],
                                   rules=["Email=generalize:to=prefix,bucket=200"]))
    assert (tmp_path / "leaky.csv.INCOMPLETE").exists()
    assert "@" not in str(info.value)  # the message names fields, never values
    assert not info.value.result.verified


def test_k_anonymity_suppresses_small_classes(chinook_sqlite: Path, tmp_path: Path) -> None:
    from govkit.actions.risk import file_opener, measure

    out = tmp_path / "k.csv"
    result = anonymize(AnonymizeRequest(f"sqlite:///{chinook_sqlite}", to=str(out), table=["Customer"], rules=RULES,
                                        k=3, quasi_identifiers=["Country"], generalize=False))
    report = measure(str(out), file_opener(out), ["Country"], k=3)
    assert report.k >= 3
    assert result.suppressed > 0
    assert report.rows + result.suppressed == 59


@pytest.mark.server
def test_postgres_to_csv_keeps_joins(chinook_postgres: str, tmp_path: Path) -> None:
    rules = [*RULES]
    for table in ("customer", "invoice", "employee"):
        anonymize(AnonymizeRequest(chinook_postgres, to=str(tmp_path / f"{table}.csv"), table=[table], rules=rules))

    def read(name: str) -> list[dict[str, str]]:
        with (tmp_path / f"{name}.csv").open(encoding="utf-8") as handle:
            return list(csv.DictReader(handle))

    customers, invoices, employees = read("customer"), read("invoice"), read("employee")
    lower = {k.lower(): k for k in customers[0]}
    cid, rep = lower["customer_id"] if "customer_id" in lower else lower["customerid"], None
    rep = lower.get("support_rep_id") or lower.get("supportrepid")
    assert rep is not None
    ids = {c[cid] for c in customers}
    inv_cid = next(k for k in invoices[0] if k.lower() in ("customer_id", "customerid"))
    assert all(i[inv_cid] in ids for i in invoices)
    emp_id = next(k for k in employees[0] if k.lower() in ("employee_id", "employeeid"))
    assert {c[rep] for c in customers if c[rep]} <= {e[emp_id] for e in employees}
    email = next(k for k in customers[0] if k.lower() == "email")
    assert all(c[email].endswith("@example.invalid") for c in customers)


def test_in_place_plans_then_applies(chinook_sqlite: Path, workspace_dir: Path) -> None:
    from govkit.workspace import load_workspace

    ws = load_workspace(workspace_dir)
    source = f"sqlite:///{chinook_sqlite}"
    emails, phones, _ = originals(chinook_sqlite)
    with sqlite3.connect(chinook_sqlite) as conn:
        before = conn.execute(JOIN).fetchone()
    plan = anonymize(AnonymizeRequest(source, in_place=True, rules=RULES))
    assert plan.rows == 0
    assert originals(chinook_sqlite)[0] == emails  # planning changed nothing
    with pytest.raises(UsageError, match="key or reference column"):
        anonymize(AnonymizeRequest(source, in_place=True, apply=True, rules=["Customer.SupportRepId=pseudonymize"]), ws)
    result = anonymize(AnonymizeRequest(source, in_place=True, apply=True, rules=RULES), ws)
    assert result.rows == 59 + 8
    with sqlite3.connect(chinook_sqlite) as conn:
        assert conn.execute(JOIN).fetchone() == before
        now = {r[0] for r in conn.execute("SELECT Email FROM Customer")}
    assert not now & emails
    text = all_text(chinook_sqlite)
    assert not [p for p in phones if p in text]
