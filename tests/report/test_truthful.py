"""The audit report never reassures falsely: "not assessed" where nothing was assessed, and
changes made by govkit itself shown next to the scan's diff."""

from __future__ import annotations

import json
from pathlib import Path

from govkit.actions.dsr import erase_request, new_request
from govkit.report import audit_view, render_audit_view
from govkit.scan import scan
from tests.dsr.conftest import SUBJECT, make_workspace


def test_no_retention_rule_is_not_assessed_never_a_green_zero(tmp_path: Path, chinook_sqlite: Path) -> None:
    workspace = make_workspace(tmp_path / "ws", f"sqlite:///{chinook_sqlite}")  # the baseline: no retention rule
    view = audit_view(workspace)
    assert view.retention_assessed == 0
    assert view.retention_not_assessed  # every asset with personal data is listed
    data = json.loads(render_audit_view(view, "json"))
    assert data["totals"]["rows_past_retention"] is None
    assert data["retention_not_assessed"]
    html = render_audit_view(view, "html", workspace.root)
    assert "not assessed" in html
    assert "no rows past retention were found" not in html
    assert 'card good"><div class="n">0</div><div class="l">rows past retention' not in html
    markdown = render_audit_view(view, "md", workspace.root)
    assert "Rows past retention: not assessed" in markdown


def test_special_categories_without_a_detector_say_not_assessed(tmp_path: Path, chinook_sqlite: Path) -> None:
    workspace = make_workspace(tmp_path / "ws", f"sqlite:///{chinook_sqlite}")
    html = render_audit_view(audit_view(workspace), "html", workspace.root)
    assert "health, sex life, biometrics, unions, ethnic origin: <strong>not assessed</strong>" in html


def test_an_erasure_between_two_scans_is_shown_since_the_previous_scan(tmp_path: Path, chinook_sqlite: Path) -> None:
    workspace = make_workspace(tmp_path / "ws", f"sqlite:///{chinook_sqlite}")
    request = new_request(workspace, "erasure", {"email": SUBJECT})
    erase_request(workspace, request.id, apply=True)
    scan(workspace)  # the rows are gone, the columns are not: the scan's diff alone says nothing
    view = audit_view(workspace)
    assert not view.changes
    [change] = view.govkit_changes
    assert change["action"] == "dsr.erase"
    assert request.id in change["what"]
    assert "row(s) deleted" in change["what"]
    html = render_audit_view(view, "html", workspace.root)
    assert "Changes made by govkit since the previous scan" in html
    assert "No changes since the previous scan" not in html
    assert SUBJECT not in html
    scan(workspace)  # one more scan: the erasure is no longer "since the previous scan"
    assert audit_view(workspace).govkit_changes == []
