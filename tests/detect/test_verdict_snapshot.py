"""Every verdict on the measured data is the one recorded in snapshots/verdicts.json.

The column classifier's rules moved into a registry of named units (govkit/detect/rules/);
this guards that moving code changed no decision: the realworld databases, Chinook and the
generated labelled groups of benchmarks/accuracy.py (benchmarks/accuracy_snapshot.py), each
column's entities with their confidence, deciding rule and reason. A change meant to alter
verdicts regenerates the snapshot (``python benchmarks/accuracy_snapshot.py --write``) and
says why; any other difference is a regression.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from accuracy_realworld import fixtures_dir
from accuracy_snapshot import SNAPSHOT, chinook_file, collect

pytestmark = pytest.mark.slow


def _diff(want: dict[str, dict[str, Any]], got: dict[str, dict[str, Any]]) -> list[str]:
    lines = []
    for group in sorted(set(want) | set(got)):
        a, b = want.get(group, {}), got.get(group, {})
        for column in sorted(set(a) | set(b)):
            if a.get(column) != b.get(column):
                lines.append(f"{group} {column}: snapshot {a.get(column)} now {b.get(column)}")
    return lines


@pytest.mark.skipif(
    not (fixtures_dir() / "db").is_dir() or not chinook_file().is_file(), reason="shared fixtures not present"
)
def test_verdicts_match_snapshot(engine: object) -> None:
    want = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    got = json.loads(json.dumps(collect()))  # the same rounding and types as the file
    assert sum(len(v) for v in want.values()) > 800  # the snapshot covers what it says
    differences = _diff(want, got)
    assert not differences, f"{len(differences)} verdicts changed:\n" + "\n".join(differences[:40])
