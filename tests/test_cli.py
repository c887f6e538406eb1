"""The ``govkit`` command through click's CliRunner, on a real workspace scanning Chinook.

The module builds one workspace with ``govkit init`` and scans it twice with ``govkit scan``
(once as JSON with ``--fail-on MEDIUM``, once as a table into ``--output`` with ``--fail-on
HIGH``); the other commands read that inventory. Tests that change labels work on a copy.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from govkit.cli import main
from govkit.detect.engine import DetectionEngine
from govkit.workspace import CONFIG_NAME
from tests import chinook

CONTRACT_KEYS = {"govkit_version", "scan_id", "started_at", "finished_at", "findings", "skipped", "stats"}
#: Keys added to the contract since DESIGN.md was written (adding is allowed, renaming is not).
ADDED_KEYS = {"sources"}
FINDING_KEYS = {"source", "asset", "field", "entity_type", "confidence", "hits", "sampled", "evidence"}
STATS_KEYS = {"assets", "fields", "values_analyzed", "elapsed_s"}
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@dataclass
class Session:
    root: Path
    init: Result
    json_scan: Result
    table_scan: Result
    table_file: Path


def _invoke(args: list[str]) -> Result:
    return CliRunner().invoke(main, args)


def _in(root: Path, *args: str) -> Result:
    return _invoke(["--workspace", str(root), *args])


@pytest.fixture(scope="module")
def session(engine: DetectionEngine, tmp_path_factory: pytest.TempPathFactory) -> Session:
    base = tmp_path_factory.mktemp("cli")
    root = base / "ws"
    init = _invoke(["init", str(root), "--source", "chinook=sqlite:///chinook.db"])
    shutil.copyfile(chinook.sqlite_copy(tmp_path_factory.mktemp("src")), root / "chinook.db")
    json_scan = _in(root, "scan", "--format", "json", "--fail-on", "MEDIUM")
    table_file = base / "out" / "scan.txt"
    table_scan = _in(root, "scan", "--output", str(table_file), "--fail-on", "HIGH")
    return Session(root, init, json_scan, table_scan, table_file)


@pytest.fixture
def workspace_copy(session: Session, tmp_path: Path) -> Path:
    """A private copy of the scanned workspace (govkit.toml + .govkit/), free to change."""
    target = tmp_path / "ws"
    shutil.copytree(session.root, target, ignore=shutil.ignore_patterns("chinook.db", "reports"))
    return target


def _scan_json(session: Session) -> dict[str, Any]:
    data = json.loads(session.json_scan.stdout)
    assert isinstance(data, dict)
    return data


def _latest_scan_id(session: Session) -> str:
    """The id of the module's second (latest) scan, from the table output's last line."""
    match = re.search(r"scan ([0-9a-f-]{36})", session.table_file.read_text(encoding="utf-8"))
    assert match is not None
    return match.group(1)


def _personal_values(root: Path) -> list[str]:
    """Raw personal data in Chinook's Customer table: e-mails and phone numbers."""
    with sqlite3.connect(root / "chinook.db") as conn:
        values = [v for row in conn.execute("SELECT Email, Phone FROM Customer") for v in row if v]
    conn.close()
    return values


# -- init -----------------------------------------------------------------------------------------


def test_init(session: Session) -> None:
    assert session.init.exit_code == 0, session.init.output
    assert (session.root / CONFIG_NAME).is_file()
    assert (session.root / ".govkit").is_dir()
    assert f"created {session.root / CONFIG_NAME}" in session.init.stdout
    assert 'url = "sqlite:///chinook.db"' in (session.root / CONFIG_NAME).read_text(encoding="utf-8")


def test_init_refuses_overwrite_then_force(tmp_path: Path) -> None:
    assert _invoke(["init", str(tmp_path)]).exit_code == 0
    again = _invoke(["init", str(tmp_path)])
    assert again.exit_code == 2
    assert again.stderr.startswith("govkit: error:")
    assert "already exists" in again.stderr
    assert _invoke(["init", str(tmp_path), "--force"]).exit_code == 0


def test_init_rejects_malformed_source(tmp_path: Path) -> None:
    result = _invoke(["init", str(tmp_path), "--source", "no-equals-sign"])
    assert result.exit_code == 2
    assert "NAME=URL" in result.output
    assert not (tmp_path / CONFIG_NAME).exists()


# -- scan -----------------------------------------------------------------------------------------


def test_scan_json_follows_the_findings_contract(session: Session) -> None:
    assert session.json_scan.exit_code == 1, session.json_scan.output  # Chinook has MEDIUM findings
    data = _scan_json(session)
    assert set(data) == CONTRACT_KEYS | ADDED_KEYS
    assert data["govkit_version"] == "0.1.0"
    assert re.fullmatch(r"[0-9a-f-]{36}", str(data["scan_id"]))
    assert ISO_UTC.match(str(data["started_at"]))
    assert ISO_UTC.match(str(data["finished_at"]))
    assert str(data["started_at"]) <= str(data["finished_at"])
    findings = data["findings"]
    assert isinstance(findings, list)
    assert len(findings) >= 20
    source = f"sqlite:///{(session.root / 'chinook.db').resolve()}"
    for finding in findings:
        assert set(finding) >= FINDING_KEYS, finding
        assert finding["source"] == source
        assert 0.0 < finding["confidence"] <= 1.0
        assert 0 < finding["hits"] <= finding["sampled"]
        assert all(isinstance(e, str) and "*" in e for e in finding["evidence"])
    assert {"asset": "Customer", "field": "Email", "entity_type": "EMAIL_ADDRESS"}.items() <= next(
        f for f in findings if (f["asset"], f["field"]) == ("Customer", "Email")
    ).items()
    assert data["skipped"] == []
    stats = data["stats"]
    assert isinstance(stats, dict)
    assert set(stats) == STATS_KEYS
    assert stats["assets"] == 11
    assert stats["fields"] == 64
    assert stats["values_analyzed"] > 10_000
    assert stats["elapsed_s"] > 0


def test_scan_table_to_output_file(session: Session) -> None:
    result = session.table_scan
    assert result.exit_code == 0, result.output  # no HIGH findings in Chinook
    assert result.stdout == ""
    assert f"wrote {session.table_file}" in result.stderr
    text = session.table_file.read_text(encoding="utf-8")
    assert "Personal data found" in text
    assert re.search(r"Customer\s*│\s*Email\s*│\s*EMAIL_ADDRESS", text)
    assert "personal fields; 11 assets scanned" in text


def test_scan_bad_url_is_one_line_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = _invoke(["scan", "nosuchdb://host/x"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("govkit: error:")
    assert "Traceback" not in result.output


def test_scan_bad_url_with_debug_shows_traceback_and_keeps_exit_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--debug adds the traceback but keeps the exit code a CI job relies on (2, not 1)."""
    monkeypatch.chdir(tmp_path)
    result = _invoke(["--debug", "scan", "nosuchdb://host/x"])
    assert result.exit_code == 2
    assert "Traceback" in result.stderr
    assert "UsageError" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("govkit: error:")


def test_scan_missing_sqlite_file_exit_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = _invoke(["scan", f"sqlite:///{tmp_path / 'missing.db'}"])
    assert result.exit_code == 3
    assert result.stderr.startswith("govkit: error:")
    assert "no such SQLite file" in result.stderr
    assert not (tmp_path / "missing.db").exists()


@pytest.mark.parametrize("args", [["inventory"], ["scan"], ["explain", "Customer.Email"], ["report", "audit"]])
def test_command_outside_a_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    result = _invoke(args)
    assert result.exit_code == 2
    assert result.stderr.startswith("govkit: error:")
    assert "govkit init" in result.stderr


def test_workspace_option_must_be_a_workspace(session: Session) -> None:
    result = _in(session.root / ".govkit", "inventory")
    assert result.exit_code == 2
    assert "not a govkit workspace" in result.stderr


# -- inventory ------------------------------------------------------------------------------------


def test_inventory_formats(session: Session) -> None:
    table = _in(session.root, "inventory")
    as_json = _in(session.root, "inventory", "--format", "json")
    as_csv = _in(session.root, "inventory", "--format", "csv")
    assert (table.exit_code, as_json.exit_code, as_csv.exit_code) == (0, 0, 0)
    assert "Personal data inventory" in table.stdout
    assert re.search(r"Customer\s*│\s*Email\s*│\s*EMAIL_ADDRESS", table.stdout)

    fields = json.loads(as_json.stdout)["fields"]
    scanned = {(f["asset"], f["field"], f["entity_type"]) for f in _scan_json(session)["findings"]}
    assert {(f["asset"], f["field"], f["entity_type"]) for f in fields} == scanned
    assert all(f["scan_id"] == _latest_scan_id(session) for f in fields)

    lines = as_csv.stdout.splitlines()
    assert lines[0] == "source,asset,field,entity_type,severity,confidence,hits,sampled,decided_by,evidence"
    assert len(lines) == 1 + len(fields)


def test_inventory_diff_after_two_identical_scans(session: Session) -> None:
    table = _in(session.root, "inventory", "diff")
    as_json = _in(session.root, "inventory", "diff", "--format", "json")
    assert table.exit_code == 0
    assert table.stdout == "No changes since the previous scan.\n"
    diff = json.loads(as_json.stdout)
    assert diff == {"previous_scan": _scan_json(session)["scan_id"], "latest_scan": _latest_scan_id(session),
                    "changes": []}


# -- explain and label ----------------------------------------------------------------------------


def test_explain_customer_email(session: Session) -> None:
    result = _in(session.root, "explain", "Customer.Email")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.startswith("Customer.Email")
    assert "EMAIL_ADDRESS" in text
    assert "rule:     name + values" in text
    assert "term 'email'" in text
    assert "luisg@embraer.com.br" not in text
    assert "l***@e**********.br" in text  # masked evidence is shown instead

    as_json = json.loads(_in(session.root, "explain", "customer.email", "--format", "json").stdout)
    assert as_json["rule"] == "name + values"
    assert "email" in {hint["term"] for hint in as_json["name_evidence"]}
    assert as_json["label"] is None


@pytest.mark.parametrize(("address", "message"), [("CustomerEmail", "expected TABLE.COLUMN"),
                                                  ("Customer.Nope", "not in the inventory")])
def test_explain_bad_address(session: Session, address: str, message: str) -> None:
    result = _in(session.root, "explain", address)
    assert result.exit_code == 2
    assert message in result.stderr


def test_label_unknown_entity_suggests_the_close_one(session: Session) -> None:
    result = _in(session.root, "label", "Customer.Email", "EMAIL_ADRESS")
    assert result.exit_code == 2
    assert "did you mean EMAIL_ADDRESS" in result.stderr
    assert _in(session.root, "explain", "Customer.Email", "-f", "json").stdout.count('"label": null') == 1


def test_label_needs_exactly_one_decision(session: Session) -> None:
    result = _in(session.root, "label", "Customer.Email", "PERSON", "--not-pii")
    assert result.exit_code == 2
    assert "exactly one" in result.stderr


def test_label_not_pii_then_remove(workspace_copy: Path) -> None:
    labelled = _in(workspace_copy, "label", "Track.Composer", "--not-pii", "--note", "credits, public")
    assert labelled.exit_code == 0, labelled.output
    assert "Track.Composer labelled not personal data" in labelled.stdout

    fields = json.loads(_in(workspace_copy, "inventory", "-f", "json").stdout)["fields"]
    assert ("Track", "Composer") not in {(f["asset"], f["field"]) for f in fields}
    explained = _in(workspace_copy, "explain", "Track.Composer").stdout
    assert re.search(r"label:\s+not personal data by .+: credits, public", explained)

    removed = _in(workspace_copy, "label", "track.composer", "--remove")
    assert removed.exit_code == 0
    assert "label removed from Track.Composer" in removed.stdout
    fields = json.loads(_in(workspace_copy, "inventory", "-f", "json").stdout)["fields"]
    assert ("Track", "Composer", "PERSON") in {(f["asset"], f["field"], f["entity_type"]) for f in fields}


def test_label_with_entity_adds_a_field(workspace_copy: Path) -> None:
    result = _in(workspace_copy, "label", "Genre.Name", "person")
    assert result.exit_code == 0, result.output
    fields = json.loads(_in(workspace_copy, "inventory", "-f", "json").stdout)["fields"]
    genre = [f for f in fields if (f["asset"], f["field"]) == ("Genre", "Name")]
    assert [(f["entity_type"], f["decided_by"]) for f in genre] == [("PERSON", "labelled")]


def test_a_moved_workspace_keeps_its_labels_and_history(session: Session, tmp_path: Path) -> None:
    """A SQLite source is keyed by its absolute path; moving the folder must not lose labels."""
    moved = tmp_path / "elsewhere" / "ws"
    shutil.copytree(session.root, moved, ignore=shutil.ignore_patterns("reports"))
    assert _in(moved, "label", "Genre.Name", "PERSON").exit_code == 0
    relocated = tmp_path / "moved-again" / "ws"
    shutil.move(str(moved), relocated)

    scanned = _in(relocated, "scan", "--include", "Genre", "--format", "json")
    assert scanned.exit_code == 0, scanned.output
    fields = json.loads(_in(relocated, "inventory", "-f", "json").stdout)["fields"]
    genre = [(f["entity_type"], f["decided_by"]) for f in fields if (f["asset"], f["field"]) == ("Genre", "Name")]
    assert genre == [("PERSON", "labelled")]
    with sqlite3.connect(relocated / ".govkit" / "inventory.db") as conn:
        displays = [row[0] for row in conn.execute("SELECT display FROM sources")]
    assert displays == [f"sqlite:///{(relocated / 'chinook.db').resolve()}"]


# -- report ---------------------------------------------------------------------------------------


def test_report_audit_html(session: Session) -> None:
    result = _in(session.root, "report", "audit")
    assert result.exit_code == 0, result.output
    path = session.root / "reports" / "audit.html"
    assert f"wrote {path}" in result.stderr
    html = path.read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")
    assert "<table" in html
    assert "Customer" in html
    assert "EMAIL_ADDRESS" in html
    leaked = [v for v in _personal_values(session.root) if v in html]
    assert leaked == []


def test_report_audit_json_agrees_with_the_inventory(session: Session) -> None:
    report = json.loads(_in(session.root, "report", "audit", "--format", "json").stdout)
    fields = json.loads(_in(session.root, "inventory", "-f", "json").stdout)["fields"]
    assert report["totals"]["personal_fields"] == len({(f["asset"], f["field"]) for f in fields})
    assert report["totals"]["assets"] == 11
    assert report["totals"]["sources"] == 1


# -- no raw personal data anywhere ----------------------------------------------------------------


def test_no_raw_personal_data_in_outputs_or_inventory(session: Session) -> None:
    values = _personal_values(session.root)
    emails = [v for v in values if "@" in v]
    assert len(emails) == 59
    assert "luisg@embraer.com.br" in emails
    outputs = [session.json_scan.output, session.table_file.read_text(encoding="utf-8"),
               _in(session.root, "inventory", "-f", "json").output,
               _in(session.root, "inventory", "-f", "csv").output,
               _in(session.root, "inventory").output]
    fields = json.loads(outputs[2])["fields"]
    for f in fields:
        explained = _in(session.root, "explain", f"{f['asset']}.{f['field']}", "-f", "json")
        assert explained.exit_code == 0
        outputs.append(explained.output)
    text = "\n".join(outputs).lower()
    assert [v for v in values if v.lower() in text] == []
    inventory_bytes = (session.root / ".govkit" / "inventory.db").read_bytes().lower()
    assert [v for v in values if v.lower().encode() in inventory_bytes] == []
