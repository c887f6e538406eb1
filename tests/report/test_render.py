"""Rendering: HTML escaping and self-containment, Markdown, JSON, the ROPA, template overrides, CLI."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from govkit.cli import main
from govkit.report import render_audit_view, render_ropa
from govkit.report.ropa import CSV_COLUMNS, NOT_DECLARED
from govkit.report.templates import md_code, md_text
from tests.report.conftest import SCRIPT_COLUMN, Scanned

ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def _cli(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--workspace", str(root), *args])


# -- HTML ------------------------------------------------------------------------------------------


def test_html_shows_a_script_column_escaped(scanned: Scanned) -> None:
    html = render_audit_view(scanned.audit, "html", scanned.root)
    assert ESCAPED in html
    assert SCRIPT_COLUMN not in html
    assert "<script" not in html.lower()  # no script of the report's own either


def test_html_is_self_contained_with_every_section(scanned: Scanned) -> None:
    html = render_audit_view(scanned.audit, "html", scanned.root)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "no external requests"
    for section in ("summary", "inventory", "violations", "retention", "access", "dsr", "integrity", "changes",
                    "sources"):
        assert f'<section id="{section}">' in html
    for chart in ("chart-category", "chart-sensitivity", "chart-history"):
        assert f'<figure id="{chart}">' in html
    assert html.count("<svg") == 3
    assert "@media print" in html
    assert "Track.Composer" in html
    assert "forbidden" in html.lower()


def test_html_holds_no_raw_email(scanned: Scanned) -> None:
    html = render_audit_view(scanned.audit, "html", scanned.root)
    assert "person1@example.org" not in html
    assert "luisg@embraer.com.br" not in html


# -- Markdown and JSON -----------------------------------------------------------------------------


def test_markdown_report(scanned: Scanned) -> None:
    md = render_audit_view(scanned.audit, "md", scanned.root)
    assert md.startswith("# Personal data audit")
    for heading in ("## Executive summary", "### Top risks", "## Inventory", "## Policy violations", "## Retention",
                    "## Access review", "## Data subject requests", "## Audit-log integrity"):
        assert heading in md
    assert f"`{SCRIPT_COLUMN}`" in md  # in a code span, shown literally by every renderer
    assert "| `Employee` | staff records | 10 years | HireDate | delete | past | 8 |" in md
    assert "No data-subject requests recorded yet" in md
    table_rows = [line for line in md.splitlines() if line.startswith("| ")]
    widths = {line.count(" | ") for line in table_rows if "`" not in line}
    assert widths, "tables are present"


def test_json_report_is_the_view(scanned: Scanned) -> None:
    data = json.loads(render_audit_view(scanned.audit, "json"))
    assert data["totals"]["personal_fields"] == scanned.audit.totals["personal_fields"]
    assert data["integrity"]["ok"] is True
    assert data["dsr"]["status"] == "none"
    assert data["access_review"]["status"] == "not-run"
    kinds = {v["kind"] for v in data["policy"]["violations"]}
    assert {"forbidden-personal-data", "past-retention"} <= kinds
    assert {v["severity"] for v in data["policy"]["violations"]} <= {"HIGH", "MEDIUM", "LOW"}
    employee = next(a for a in data["assets"] if a["name"] == "Employee")
    assert employee["top_sensitivity"] == "restricted"
    assert employee["retention"]["past_rows"] == 8


def test_unknown_format_is_refused(scanned: Scanned) -> None:
    with pytest.raises(ValueError, match="html, md, json"):
        render_audit_view(scanned.audit, "pdf")


@pytest.mark.parametrize(("value", "expected"), [
    ("plain", "`plain`"),
    ("a|b", r"`a\|b`"),
    ("we`ird", "``we`ird``"),
    ("`edge", "`` `edge ``"),
    ("", ""),
    ("line\nbreak", "`line break`"),
])
def test_markdown_code_span(value: str, expected: str) -> None:
    assert md_code(value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("<script>", "&lt;script&gt;"),
    ("a|b", r"a\|b"),
    ("*bold* [link]", r"\*bold\* \[link\]"),
    ("x (y)", "x (y)"),
])
def test_markdown_text(value: str, expected: str) -> None:
    assert md_text(value) == expected


# -- ROPA ------------------------------------------------------------------------------------------


def test_ropa_rows_from_policy_and_inventory(scanned: Scanned) -> None:
    rows = {r.activity: r for r in scanned.ropa.rows}
    declared = rows["Customer accounts and invoicing"]
    assert declared.declared
    assert (declared.purposes, declared.legal_basis, declared.data_subjects) == (["sales", "invoicing"], "contract",
                                                                                  ["customers"])
    assert "Customer" in declared.assets
    assert "contact" in declared.data_categories
    assert declared.recipients == ["payment processor"]
    assert declared.safeguards == ["encryption at rest"]
    assert declared.retention[0] == f"Customer: {NOT_DECLARED}"
    undeclared = {r.assets[0]: r for r in scanned.ropa.undeclared}
    assert {"Employee", "contacts"} <= set(undeclared)  # Artist.Name: mostly bands, not people
    assert undeclared["Employee"].retention == ["Employee: 10 years after HireDate, then delete"]
    assert scanned.ropa.controller == "Chinook Music Ltd, privacy@chinook.example"
    assert scanned.ropa.dpo == NOT_DECLARED


def test_ropa_csv(scanned: Scanned) -> None:
    text = render_ropa(scanned.ropa, "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(CSV_COLUMNS)
    first = rows[0]
    assert first["activity"] == "Customer accounts and invoicing"
    assert (first["purposes"], first["legal_basis"], first["transfers"]) == ("sales; invoicing", "contract",
                                                                              NOT_DECLARED)
    employee = next(r for r in rows if r["assets"] == "Employee")
    assert employee["purposes"] == employee["legal_basis"] == employee["recipients"] == NOT_DECLARED


def test_ropa_html_escapes_and_flags_gaps(scanned: Scanned) -> None:
    html = render_ropa(scanned.ropa, "html", scanned.root)
    assert '<table class="ropa">' in html
    assert SCRIPT_COLUMN not in html
    assert "no processing activity declares" in html
    assert html.count('class="undeclared"') == len(scanned.ropa.undeclared)


# -- overrides and the CLI -------------------------------------------------------------------------


def test_workspace_template_overrides_by_name(workspace_copy: Path, scanned: Scanned) -> None:
    (workspace_copy / "templates").mkdir()
    (workspace_copy / "templates" / "audit.md.j2").write_text(
        "Custom audit: {{ view.totals.personal_fields }} fields\n", encoding="utf-8")
    (workspace_copy / "templates" / "_report.css.j2").write_text("body { color: rebeccapurple; }\n", encoding="utf-8")
    md = render_audit_view(scanned.audit, "md", workspace_copy)
    assert md.strip() == f"Custom audit: {scanned.audit.totals['personal_fields']} fields"
    html = render_audit_view(scanned.audit, "html", workspace_copy)
    assert "rebeccapurple" in html  # the shared stylesheet is overridable too
    assert "rebeccapurple" not in render_audit_view(scanned.audit, "html", scanned.root)


def test_cli_report_audit_and_ropa(workspace_copy: Path) -> None:
    result = _cli(workspace_copy, "report", "audit")
    assert result.exit_code == 0, result.output
    report = workspace_copy / "reports" / "audit.html"
    assert report.is_file()
    assert (report.stat().st_mode & 0o777, report.parent.stat().st_mode & 0o777) == (0o600, 0o700)
    data = json.loads(_cli(workspace_copy, "report", "audit", "--format", "json").stdout)
    assert data["totals"]["rows_past_retention"] == 8
    out = workspace_copy / "out" / "ropa.csv"
    result = _cli(workspace_copy, "report", "ropa", "--format", "csv", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith(",".join(CSV_COLUMNS))
    result = _cli(workspace_copy, "report", "ropa")
    assert result.exit_code == 0, result.output
    assert "ropa.html" in result.stderr
    assert "Record of processing activities" in (workspace_copy / "reports" / "ropa.html").read_text()
    from govkit.audit import AuditLog

    actions = [r.action for r in AuditLog(workspace_copy / ".govkit").records()]
    assert actions.count("report.ropa") == 2  # csv and html, like report.audit


def test_reports_on_an_unscanned_workspace(tmp_path: Path) -> None:
    """Before the first scan the reports still render, and say there is nothing yet."""
    from govkit.report import audit_view, ropa_view
    from govkit.workspace import init_workspace, load_workspace

    init_workspace(tmp_path / "empty")
    workspace = load_workspace(tmp_path / "empty", search=False)
    view = audit_view(workspace)
    assert view.totals["personal_fields"] == 0
    assert view.policy.baseline
    html = render_audit_view(view, "html", workspace.root)
    assert "No personal data found." in html
    assert "No finished scans yet." in html
    assert render_audit_view(view, "md", workspace.root).startswith("# Personal data audit")
    ropa = ropa_view(workspace)
    assert ropa.rows == []
    assert "declares no processing activities" in render_ropa(ropa, "html", workspace.root)


def test_last_scan_shows_when_and_keeps_the_id_in_a_title(scanned: Scanned) -> None:
    html = render_audit_view(scanned.audit, "html", scanned.root)
    scan_id = scanned.audit.sources[0]["last_scan"]
    assert re.search(rf'<span title="scan {re.escape(scan_id)}">\d{{4}}-\d\d-\d\d \d\d:\d\d UTC</span>', html)
    assert f"<code>{scan_id[:8]}</code>" not in html


def test_scans_of_the_same_minute_are_told_apart_in_the_chart(scanned: Scanned) -> None:
    from dataclasses import replace

    from govkit.report.audit import _label_history

    history = _label_history([
        {"scan_id": "aaaa1111-x", "started_at": "2026-12-01 10:00", "personal_fields": 12},
        {"scan_id": "bbbb2222-y", "started_at": "2026-12-01 10:01", "personal_fields": 12},
        {"scan_id": "cccc3333-z", "started_at": "2026-12-01 10:01", "personal_fields": 12},
    ])
    assert [h["label_id"] for h in history] == ["", "bbbb2222", "cccc3333"]
    html = render_audit_view(replace(scanned.audit, history=history), "html", scanned.root)
    chart = html.split('id="chart-history"', 1)[1].split("</figure>", 1)[0]
    assert re.findall(r'class="scan-id"[^>]*>([^<]+)<', chart) == ["bbbb2222", "cccc3333"]
    assert chart.count(">10:01<") == 2
    assert chart.count(">12-01<") == 3
    assert "scan aaaa1111-x" in chart  # the full id in each bar's tooltip
