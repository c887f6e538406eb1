"""Every verdict of the measured data, kept as a snapshot: refactors must not change one.

The column classifier's rules are being moved into a registry of named units
(govkit/detect/rules/); moving code must leave every decision as it was. This records, for
each column of

* the ``realworld`` group (five public databases, SQLite files, every table and view),
* Chinook (the SQLite file in ``../shared/fixtures/chinook``),
* the generated labelled groups of accuracy.py (core, business, holdout, holdout2; ``ROWS``
  values per column),

its entities (with confidence), its deciding rule and its reason, and
``tests/detect/test_verdict_snapshot.py`` asserts the same ones come out today.

Regenerate only for an intended change of behaviour, and say why in the change:
``python benchmarks/accuracy_snapshot.py --write``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

SNAPSHOT = Path(__file__).resolve().parents[1] / "tests" / "detect" / "snapshots" / "verdicts.json"
#: Values per generated column: enough to exercise every rule, few enough for a lean test.
ROWS = 100


def chinook_file() -> Path:
    from accuracy_realworld import fixtures_dir

    return fixtures_dir().parent / "chinook" / "Chinook_Sqlite.sqlite"


def _verdict_dict(entities: list[Any], rule: str, reason: str) -> dict[str, Any]:
    return {
        "entities": [[e.entity_type, round(e.confidence, 3), e.rule] for e in entities],
        "rule": rule,
        "reason": reason,
    }


def _scan(url: str) -> dict[str, dict[str, Any]]:
    from govkit.model.findings import ScanReport
    from govkit.scan import ScanOptions, _classify_table, _LazyClassifier
    from govkit.sources.database import DatabaseSource
    from govkit.workspace import DetectionSettings

    settings = DetectionSettings()
    classifier = _LazyClassifier(settings)
    report = ScanReport("", "", "", "")
    out: dict[str, dict[str, Any]] = {}
    with DatabaseSource(url) as source:
        source.check()
        for table in source.tables():
            for verdict in _classify_table(source, table, ScanOptions(), settings, classifier, report):
                out[f"{table.qualified}.{verdict.column}"] = _verdict_dict(
                    verdict.entities, verdict.rule, verdict.reason
                )
    return out


def collect(groups: Sequence[str] = ("realworld", "chinook", "generated")) -> dict[str, dict[str, Any]]:
    """group -> column -> verdict, for the data the snapshot covers."""
    from accuracy_realworld import DATABASES, fixtures_dir

    out: dict[str, dict[str, Any]] = {}
    if "realworld" in groups:
        for name in DATABASES:
            out[f"realworld/{name}"] = _scan(f"sqlite:///{fixtures_dir() / 'db' / f'{name}.db'}")
    if "chinook" in groups:
        out["chinook"] = _scan(f"sqlite:///{chinook_file()}")
    if "generated" in groups:
        from accuracy import build_dataset, run_govkit

        columns = build_dataset(ROWS)
        verdicts, _ = run_govkit(columns)
        for column in columns:
            verdict = verdicts[f"{column.table}.{column.column}"]
            out.setdefault(f"generated/{column.group}", {})[f"{column.table}.{column.column}"] = _verdict_dict(
                verdict.entities, verdict.rule, verdict.reason
            )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--write", action="store_true", help=f"write the snapshot to {SNAPSHOT}")
    args = parser.parse_args(argv)
    data = collect()
    if args.write:
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT.write_text(json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {sum(len(v) for v in data.values())} verdicts to {SNAPSHOT}")
    else:
        print(json.dumps({k: len(v) for k, v in data.items()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
