"""The audit report counts data subject requests from the registry, never showing subjects."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from govkit.actions.dsr.registry import Registry
from govkit.keys import init_keys
from govkit.policy.loader import load_pack
from govkit.report.audit import dsr_view


def test_no_registry_means_no_statistics(tmp_path: Path) -> None:
    assert dsr_view(tmp_path, load_pack("baseline")) is None


def test_counts_overdue_and_median_days_to_close(tmp_path: Path) -> None:
    policy = load_pack("gdpr")
    init_keys(tmp_path)  # subjects are sealed with a workspace key
    registry = Registry(tmp_path)
    today = date(2026, 11, 22)
    try:
        late = registry.create("access", {"email": "late.person@example.org"}, received=today - timedelta(days=60))
        fresh = registry.create("erasure", {"email": "fresh.person@example.org"}, received=today - timedelta(days=2))
        done = registry.create("access", {"email": "done.person@example.org"}, received=today - timedelta(days=10))
        registry.add_event(done.id, "export", {"files": 3})
        registry.set_status(done.id, "done")
    finally:
        registry.close()
    view = dsr_view(tmp_path, policy, today=today)
    assert view is not None
    assert view.counts == {"total": 3, "open": 2, "overdue": 1, "done": 1, "refused": 0, "cancelled": 0}
    assert [r["id"] for r in view.open_requests] == [late.id, fresh.id], "overdue first"
    assert view.median_days_to_close is not None
    assert view.median_days_to_close >= 10
    assert view.by_type == {"access": 2, "erasure": 1}
    assert "late.person" not in str(view)
