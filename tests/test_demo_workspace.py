"""``govkit demo`` end to end: the workspace, the anonymized export, the data subject requests,
the audit log and the report, then a second run on the same folder.

One demo (40 customers) is built per module through the CLI; building it scans with the
demo's spaCy model, so the tests that need it are marked slow.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from govkit.actions import dsr
from govkit.actions.risk import file_opener, measure
from govkit.audit import AuditLog
from govkit.cli import main
from govkit.demo import build_demo_database
from govkit.demo_tour import DSR_STEPS, EXPORT_PATH, QUASI_IDENTIFIERS, demo_subjects
from govkit.keys import keyset_exists

CUSTOMERS = 40


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo database as generated (same seed and size), before any request changed it."""
    path = tmp_path_factory.mktemp("original") / "shop.db"
    build_demo_database(path, customers=CUSTOMERS)
    return path


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("demo") / "ws"
    result = CliRunner().invoke(main, ["demo", str(root), "--customers", str(CUSTOMERS)])
    assert result.exit_code == 0, result.output
    return root, result.output


def _emails(database: Path) -> list[str]:
    conn = sqlite3.connect(database)
    try:
        return [r[0] for r in conn.execute("SELECT email FROM customers WHERE email IS NOT NULL")]
    finally:
        conn.close()


def _requests(root: Path) -> dict[str, str]:
    data = json.loads((root / ".govkit" / "demo.json").read_text(encoding="utf-8"))
    requests: dict[str, str] = data["dsr"]
    return requests


# -- without a scan ---------------------------------------------------------------------------------------


def test_subjects_are_deterministic_and_erasable(original: Path) -> None:
    """Four different customers, the same every time, none in China and none with a refunded
    order (refunds are under the demo policy's legal hold, which would refuse the erasure)."""
    subjects = demo_subjects(original)
    assert subjects == demo_subjects(original)
    assert len({cid for cid, _ in subjects}) == len(DSR_STEPS)
    conn = sqlite3.connect(original)
    try:
        for cid, email in subjects:
            country, stored = conn.execute("SELECT country, email FROM customers WHERE id = ?", (cid,)).fetchone()
            assert stored == email
            assert country != "China"
            statuses = {r[0] for r in conn.execute("SELECT status FROM orders WHERE customer_id = ?", (cid,))}
            assert statuses
            assert "refunded" not in statuses
    finally:
        conn.close()


# -- one demo run -----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_console_has_a_section_per_step(demo: tuple[Path, str], original: Path) -> None:
    _, output = demo
    for expected in ("== Keys", "created keyset", "== Anonymized analyst export", str(EXPORT_PATH),
                     "k-anonymous for k=5", "Data subject requests", "verification passed", "OVERDUE",
                     "audit log intact", "audit report:", "govkit dsr list", "govkit log verify", "govkit risk",
                     "== A change run, interrupted and resumed", "listed it as interrupted", "no unit applied twice",
                     "anonymize.in-place.resumed (resumed), anonymize (ok)", "govkit runs --all",
                     "== Retention plan", "row(s) past", "retention plan",
                     "== Legal hold", "HOLD-0001 placed: asset orders in shop where status = 'pending'",
                     "hold list --all",
                     "demo: scanning the shop database"):  # progress from the first step, on stderr
        assert expected in output, expected
    assert not any(email in output for email in _emails(original)), "an identifier reached the console"


@pytest.mark.slow
def test_the_interrupted_run_was_resumed_to_the_end(demo: tuple[Path, str], original: Path) -> None:
    """The demo's in-place run ends as an uninterrupted one would: every order's IP replaced once."""
    import sqlite3

    from govkit.change.run import list_runs

    root, _ = demo
    [run] = [r for r in list_runs(root / ".govkit") if r.kind == "anonymize.in-place"]
    assert run.status == "finished"
    with sqlite3.connect(original) as conn:
        before = dict(conn.execute("SELECT id, ip_address FROM orders"))
    with sqlite3.connect(root / "shop.db") as conn:
        after = dict(conn.execute("SELECT id, ip_address FROM orders"))
    assert after.keys() == before.keys()
    assert not set(after.values()) & {v for v in before.values() if v}


@pytest.mark.slow
def test_keyset_made(demo: tuple[Path, str]) -> None:
    root, _ = demo
    assert keyset_exists(root / ".govkit")


@pytest.mark.slow
def test_export_holds_no_original_identifier(demo: tuple[Path, str], original: Path) -> None:
    root, _ = demo
    text = (root / EXPORT_PATH).read_text(encoding="utf-8")
    header = text.splitlines()[0].split(",")
    assert "phone" not in header
    assert {"email", *QUASI_IDENTIFIERS} <= set(header)
    assert not [e for e in _emails(original) if e in text]
    emails = [line.split(",")[header.index("email")] for line in text.splitlines()[1:]]
    assert emails
    assert all(re.fullmatch(r"u_[0-9a-f]{16}@example\.invalid", e) for e in emails)


@pytest.mark.slow
def test_export_is_k_anonymous(demo: tuple[Path, str]) -> None:
    root, _ = demo
    report = measure("export", file_opener(root / EXPORT_PATH), list(QUASI_IDENTIFIERS), k=5)
    assert report.rows > CUSTOMERS * 0.8
    assert report.k >= 5
    assert report.records_at_risk == 0


@pytest.mark.slow
def test_access_package_written(demo: tuple[Path, str]) -> None:
    root, _ = demo
    package = root / "dsr" / _requests(root)["access"]
    assert (package / "report.html").is_file()
    assert dsr.verify_manifest(package) == []


@pytest.mark.slow
def test_erasure_applied_and_certified(demo: tuple[Path, str], original: Path) -> None:
    root, _ = demo
    rid = _requests(root)["erasure"]
    certificate = json.loads((root / ".govkit" / "dsr" / rid / "certificate.json").read_text(encoding="utf-8"))
    assert certificate["request_id"] == rid
    assert certificate["verification"]["passed"] is True
    _, erased = demo_subjects(original)[DSR_STEPS.index("erasure")]
    assert erased in _emails(original)
    assert erased not in _emails(root / "shop.db")


@pytest.mark.slow
def test_rectification_applied(demo: tuple[Path, str], original: Path) -> None:
    root, _ = demo
    cid, old = demo_subjects(original)[DSR_STEPS.index("rectification")]
    emails = _emails(root / "shop.db")
    assert old not in emails
    assert f"customer{cid}.rectified@example.org" in emails


@pytest.mark.slow
def test_request_statuses(demo: tuple[Path, str]) -> None:
    root, _ = demo
    registry = dsr.Registry(root / ".govkit")
    try:
        requests = {r.id: r for r in registry.list()}
    finally:
        registry.close()
    made = _requests(root)
    assert sorted(made) == sorted(DSR_STEPS)
    assert set(made.values()) == set(requests)
    assert [requests[made[n]].status for n in DSR_STEPS] == ["done", "done", "done", "open"]
    assert requests[made["overdue"]].overdue()
    assert not requests[made["access"]].overdue()


@pytest.mark.slow
def test_audit_log_intact_and_complete(demo: tuple[Path, str]) -> None:
    root, _ = demo
    log = AuditLog(root / ".govkit")
    assert log.verify().ok
    actions = {r.action for r in log.records()}
    assert {"keys.init", "scan", "anonymize", "dsr.new", "dsr.export", "dsr.erase-plan", "dsr.erase",
            "dsr.rectify-plan", "dsr.rectify", "dsr.locate"} <= actions


@pytest.mark.slow
def test_report_shows_requests_anonymization_and_log(demo: tuple[Path, str]) -> None:
    root, _ = demo
    page = (root / "reports" / "audit.html").read_text(encoding="utf-8")
    section = page[page.index('<section id="dsr">'):]
    section = section[: section.index("</section>")]
    assert "4 requests recorded: 1 open (1 overdue), 3 done" in section
    assert "OVERDUE" in section
    assert _requests(root)["overdue"] in section
    assert "Median time to close" in section
    integrity = page[page.index('<section id="integrity">'):]
    assert "Intact." in integrity
    assert "<code>anonymize</code>" in integrity


@pytest.mark.slow
def test_access_step_shows_the_role_and_says_the_review_is_not_assessed(demo: tuple[Path, str]) -> None:
    root, output = demo
    assert "== Access ('govkit access show analyst'" in output
    assert re.search(r"analyst reads \d+ personal field\(s\): 0 clear, \d+ masked, \d+ denied", output)
    assert "grant review: not assessed: sqlite has no users or privileges" in output
    page = (root / "reports" / "audit.html").read_text(encoding="utf-8")
    section = page[page.index('<section id="access">'):]
    section = section[: section.index("</section>")]
    assert "Access review: not assessed" in section  # SQLite: said, never a reassuring zero


# -- a second run on the same folder: last, it changes the workspace --------------------------------------


@pytest.mark.slow
def test_second_run_reuses_the_workspace(demo: tuple[Path, str]) -> None:
    root, _ = demo
    before = _requests(root)
    result = CliRunner().invoke(main, ["demo", str(root), "--customers", str(CUSTOMERS)])
    assert result.exit_code == 0, result.output
    assert "made by an earlier demo run" in result.output
    assert "using keyset" in result.output
    assert _requests(root) == before
    registry = dsr.Registry(root / ".govkit")
    try:
        assert len(registry.list()) == len(DSR_STEPS)
    finally:
        registry.close()
    log = AuditLog(root / ".govkit")
    assert log.verify().ok
    exports = [r for r in log.records() if r.action == "anonymize" and "run_id" not in r.params]
    assert len(exports) == 2  # the analyst export, written again
    assert sum(1 for r in log.records() if r.action == "anonymize.in-place.begun") == 1  # the run, made once


@pytest.mark.slow
def test_scan_only_skips_the_actions(demo: tuple[Path, str]) -> None:
    root, _ = demo
    anonymized = sum(1 for r in AuditLog(root / ".govkit").records() if r.action == "anonymize")
    result = CliRunner().invoke(main, ["demo", str(root), "--scan-only"])
    assert result.exit_code == 0, result.output
    assert "audit report:" in result.output
    assert "== Keys" not in result.output
    assert "Data subject requests" not in result.output
    assert sum(1 for r in AuditLog(root / ".govkit").records() if r.action == "anonymize") == anonymized
