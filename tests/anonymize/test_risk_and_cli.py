"""``govkit risk`` numbers, and the anonymize/deanonymize/risk commands end to end."""

from __future__ import annotations

import base64
import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from govkit.actions.risk import file_opener, measure, table_opener
from govkit.cli import main
from govkit.errors import UsageError

KEY = base64.b64encode(b"r" * 32).decode()


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def people(tmp_path: Path) -> Path:
    rows = [
        # class (1980, 10115): 3 rows, 2 diagnoses; (1990, 20095): 2 rows, 1 diagnosis; (1975, 80331): alone
        {"name": "Ann", "email": "ann@example.com", "year": "1980", "zip": "10115", "diagnosis": "flu"},
        {"name": "Bob", "email": "bob@example.com", "year": "1980", "zip": "10115", "diagnosis": "cold"},
        {"name": "Cid", "email": "cid@example.com", "year": "1980", "zip": "10115", "diagnosis": "flu"},
        {"name": "Dee", "email": "dee@example.com", "year": "1990", "zip": "20095", "diagnosis": "asthma"},
        {"name": "Eve", "email": "eve@example.com", "year": "1990", "zip": "20095", "diagnosis": "asthma"},
        {"name": "Fay", "email": "fay@example.com", "year": "1975", "zip": "80331", "diagnosis": "flu"},
    ]
    return write_csv(tmp_path / "people.csv", rows)


def test_k_anonymity_l_diversity_and_records_at_risk(people: Path) -> None:
    report = measure("people", file_opener(people), ["year", "zip"], k=3, sensitive="diagnosis")
    assert (report.rows, report.classes, report.k) == (6, 3, 1)
    assert report.distribution == {"1": 1, "2": 1, "3": 1}
    assert (report.records_at_risk, report.classes_at_risk) == (3, 2)
    assert report.at_risk_rows == [4, 5, 6]
    assert (report.l_diversity, report.classes_below_l) == (1, 2)
    assert not report.k_anonymous
    assert measure("people", file_opener(people), ["zip"], k=1).k_anonymous


def test_risk_errors_are_clear(people: Path) -> None:
    with pytest.raises(UsageError, match="no column postcode"):
        measure("people", file_opener(people), ["postcode"])
    with pytest.raises(UsageError, match="quasi-identifiers"):
        measure("people", file_opener(people), [])


def test_risk_over_a_table(chinook_sqlite: Path) -> None:
    report = measure("Customer", table_opener(f"sqlite:///{chinook_sqlite}", "Customer"), ["Country"], k=2)
    assert report.rows == 59
    assert report.k == 1  # several countries have a single customer


def test_risk_command(people: Path) -> None:
    result = CliRunner().invoke(main, ["risk", str(people), "--quasi-identifiers", "year,zip", "--k", "2",
                                       "--fail-on", "at-risk"])
    assert result.exit_code == 1, result.output
    assert "NOT k-anonymous" in result.output
    assert "rows at risk: 6" in result.output
    result = CliRunner().invoke(main, ["risk", str(people), "--quasi-identifiers", "year", "--sensitive", "diagnosis",
                                       "-f", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["k"] == 1
    assert data["l_diversity"] == 1


def test_risk_old_spellings_still_work_with_a_deprecation_note(people: Path) -> None:
    result = CliRunner().invoke(main, ["risk", str(people), "-q", "year,zip", "--k", "2", "--fail"])
    assert result.exit_code == 1, result.output
    assert "rows at risk: 6" in result.stdout
    assert "'risk -q' is deprecated" in result.stderr


def test_anonymize_file_then_risk_then_deanonymize(people: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVKIT_KEY", KEY)
    runner = CliRunner()
    out = tmp_path / "out.csv"
    result = runner.invoke(main, [
        "anonymize", str(people), "--to", str(out), "--rule", "email=pseudonymize", "--rule", "name=encrypt",
        "--rule", "diagnosis=keep", "--rule", "zip=generalize:to=prefix,bucket=2",
        "--k", "2", "--quasi-identifiers", "year,zip", "--no-generalize",
    ])
    assert result.exit_code == 0, result.output
    assert "suppressed 1 row(s)" in result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 5
    assert all(r["email"].endswith("@example.invalid") for r in rows)
    assert all(r["name"].startswith("gk1.") for r in rows)
    assert {r["zip"] for r in rows} == {"10", "20"}
    back = tmp_path / "back.csv"
    result = runner.invoke(main, ["deanonymize", str(out), "--to", str(back)])
    assert result.exit_code == 0, result.output
    assert [r["name"] for r in csv.DictReader(back.open(encoding="utf-8"))] == ["Ann", "Bob", "Cid", "Dee", "Eve"]
    monkeypatch.setenv("GOVKIT_KEY", base64.b64encode(b"x" * 32).decode())
    result = runner.invoke(main, ["deanonymize", str(out), "--to", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2
    assert "Ann" not in result.output
    assert not (tmp_path / "nope.csv").exists()


def test_anonymize_dry_run_prints_the_plan(people: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVKIT_KEY", KEY)
    result = CliRunner().invoke(main, ["anonymize", str(people), "--dry-run", "--rule", "email=hash",
                                       "--rule", "name=mask:keep_first=1"])
    assert result.exit_code == 0, result.output
    assert "hash" in result.output
    assert "mask:keep_first=1" in result.output
    assert "nothing written" in result.output


def test_anonymize_in_a_workspace_is_audited(people: Path, tmp_path: Path, workspace_dir: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOVKIT_KEY", raising=False)
    runner = CliRunner()
    out = tmp_path / "w.jsonl"
    result = runner.invoke(main, ["anonymize", str(people), "--to", str(out), "--rule", "email=pseudonymize"])
    assert result.exit_code == 0, result.output
    log = runner.invoke(main, ["log", "show", "--format", "json"])
    assert log.exit_code == 0, log.output
    assert '"anonymize"' in log.output
    assert "email=pseudonymize" in log.output
    assert "ann@example.com" not in log.output
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert lines[0]["email"].endswith("@example.invalid")
