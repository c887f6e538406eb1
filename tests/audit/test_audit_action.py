"""``audit_action``: one record per action, whatever way the action ends; checks before it starts."""

from __future__ import annotations

import logging
from pathlib import Path

import click
import pytest

from govkit.audit import AuditLog, AuditLogError, audit_action
from govkit.errors import KeyMaterialError, UsageError
from tests.audit.conftest import Tamper


def test_success_records_params_counts_and_outcome(state_dir: Path) -> None:
    with audit_action(state_dir, "anonymize", {"table": "customers"}) as entry:
        entry.counts["rows"] = 120
        entry.params["operator"] = "mask"
    (record,) = AuditLog(state_dir).records()
    assert entry.record == record
    assert (record.action, record.outcome, record.error) == ("anonymize", "ok", None)
    assert record.params == {"table": "customers", "operator": "mask"}
    assert record.counts == {"rows": 120}


def test_block_may_set_its_own_outcome(state_dir: Path) -> None:
    with audit_action(state_dir, "evaluate", {"policy": "gdpr"}, counts={"violations": 2}) as entry:
        entry.outcome = "violations"
    (record,) = AuditLog(state_dir).records()
    assert (record.outcome, record.counts) == ("violations", {"violations": 2})


def test_failure_records_the_class_name_not_the_message(state_dir: Path) -> None:
    message = "cannot erase jane.doe@example.com from crm.contacts"
    with pytest.raises(UsageError, match=r"jane\.doe"), audit_action(state_dir, "dsr.erase", {"request": "r-17"}):
        raise UsageError(message)
    (record,) = AuditLog(state_dir).records()
    assert (record.outcome, record.error) == ("failed", "UsageError")
    assert "jane.doe" not in AuditLog(state_dir).path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("exc", "outcome", "error"),
    [
        (SystemExit(0), "ok", None),
        (SystemExit(1), "exit-1", None),
        (click.exceptions.Exit(0), "ok", None),
        (click.exceptions.Exit(1), "exit-1", None),
        (KeyboardInterrupt(), "interrupted", "KeyboardInterrupt"),
        (RuntimeError("boom"), "failed", "RuntimeError"),
    ],
)
def test_how_the_block_ended(state_dir: Path, exc: BaseException, outcome: str, error: str | None) -> None:
    with pytest.raises(type(exc)), audit_action(state_dir, "scan"):
        raise exc
    (record,) = AuditLog(state_dir).records()
    assert (record.outcome, record.error) == (outcome, error)


def test_garbled_key_stops_the_action_before_it_runs(state_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVKIT_KEY", "zz" * 32)
    ran = False
    with pytest.raises(KeyMaterialError, match="GOVKIT_KEY does not hold a key"), audit_action(state_dir, "anonymize"):
        ran = True
    assert not ran
    assert not AuditLog(state_dir).path.exists()


def test_damaged_log_stops_the_action_before_it_runs(filled_log: AuditLog, tamper: Tamper) -> None:
    tamper.write_lines(tamper.lines()[:-1])
    ran = False
    with pytest.raises(AuditLogError, match="Run 'govkit log verify'"), audit_action(filled_log.state_dir, "x"):
        ran = True
    assert not ran


def test_audit_failure_does_not_hide_the_actions_error(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    with pytest.raises(ValueError, match="the action's own error"), audit_action(state_dir, "scan"):  # noqa: PT012
        monkeypatch.setenv("GOVKIT_KEY", "garbled")  # the audit append will now fail
        raise ValueError("the action's own error")
    assert "could not record the failed scan" in caplog.text
    assert "garbled" not in caplog.text
