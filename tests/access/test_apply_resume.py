"""``access apply --apply`` killed mid-run (SIGKILL) and resumed: nothing is applied twice, and
the end state passes the review.

PostgreSQL runs the plan as one transaction: killed after the commit, before the journal's
commit record, the resume finds the after-state and records the unit as recovered. MariaDB
commits every statement as it runs: killed after a REVOKE ran but before its intent was
journaled, the resume runs that REVOKE again, which must be (and is) harmless.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.access.conftest import Seeded, cli
from tests.change.harness import govkit, killed, unfinished_run

pytestmark = pytest.mark.server


def test_a_killed_apply_resumes_to_a_clean_review(seeded: Seeded, seeded_workspace: Path) -> None:
    folder = seeded_workspace
    plan = json.loads(cli(folder, "access", "apply", "shop", "--format", "json").stdout)["plan"]
    if seeded.dialect == "postgresql":
        point = ("unit.committed", 1)
    else:  # the first REVOKE: committed by MariaDB, not yet journaled
        point = ("unit.applied", next(i for i, s in enumerate(plan["statements"]) if s.startswith("REVOKE")) + 1)
    proc = govkit(folder, "access", "apply", "shop", "--apply", kill_at=point)
    assert killed(proc), proc.stderr
    run_id = unfinished_run(folder)
    resumed = cli(folder, "runs", "resume", run_id)
    assert resumed.exit_code == 0, resumed.output
    review = json.loads(cli(folder, "access", "review", "shop", "--format", "json").stdout)
    kinds = {f["kind"] for f in review["findings"]}
    assert "role-violation" not in kinds
    assert "public-grant" not in kinds
    journal = (folder / ".govkit" / "runs" / run_id / "journal.jsonl").read_text(encoding="utf-8")
    entries = [json.loads(line) for line in journal.splitlines() if line.strip()]
    commits = [e["unit"] for e in entries if e.get("t") == "commit"]
    assert len(commits) == len(set(commits))  # every unit committed exactly once
    if seeded.dialect == "postgresql":
        assert any(e.get("recovered") for e in entries if e.get("t") == "commit")  # not applied again
    else:
        assert len(commits) == len(plan["statements"])
    records = json.loads(cli(folder, "log", "show", "--format", "json").stdout)["records"]
    actions = [r["action"] for r in records]
    assert actions.count("access.apply.begun") == 1
    assert actions.count("access.apply.resumed") == 1
    assert [r["outcome"] for r in records if r["action"] == "access.apply"] == ["ok"]
