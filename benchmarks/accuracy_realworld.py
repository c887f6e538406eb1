"""The ``realworld`` group: five public sample databases, hand-labelled column by column.

The databases (Northwind, Sakila, classicmodels, the Metabase sample, employees) are SQLite
files in ``../shared/fixtures/realworld/db``; ``truth/NAME.json`` labels every column, with the
labelling rules at the top of each file (``meta.rules``). Unlike the generated groups, these
schemas were written by other people, so they measure what govkit does on a real database.

Each database is scanned the way ``govkit scan sqlite:///FILE`` does it (a sampled scan,
default sample size and seed, no workspace, so no human labels). Scoring is per (table,
column, entity) over the *scored* entries: a PII column is a true positive when a finding
names its entity, a miss otherwise; every other entity reported for a scored column is a
false alarm. Precision, recall and F1 are
micro-averaged over the five databases.

"Cause" groups the errors: false alarms by the truth file's tags (``org-contact``: contact
data of an organisation, ``coarse``: a person's country or state) or by the rule that decided,
misses by the labelled entity.
"""

from __future__ import annotations

import json
import os
import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DATABASES = ("northwind", "sakila", "classicmodels", "metabase", "employees")


def fixtures_dir() -> Path:
    """``GOVKIT_REALWORLD`` or ``../shared/fixtures/realworld`` next to the project."""
    env = os.environ.get("GOVKIT_REALWORLD")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "realworld"


@dataclass(slots=True)
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def text(self) -> str:
        return f"P {self.precision:.3f} R {self.recall:.3f} F1 {self.f1:.3f} ({self.tp}/{self.fp}/{self.fn})"


@dataclass(slots=True)
class RealworldResult:
    total: Tally = field(default_factory=Tally)
    by_db: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_cause: Counter[str] = field(default_factory=Counter)
    #: (db, table.column, expected, got, rule, reason) of every column with an error.
    errors: list[tuple[str, str, str, str, str, str]] = field(default_factory=list)
    baseline: Tally | None = None
    #: database -> how it was loaded on a server ("dump" or "copied from SQLite").
    loads: dict[str, str] = field(default_factory=dict)


def load_truth(root: Path, name: str) -> list[dict[str, Any]]:
    data = json.loads((root / "truth" / f"{name}.json").read_text(encoding="utf-8"))
    return [e for e in data["entries"] if e.get("scored")]


def _short(asset: str) -> str:
    return asset.split(".")[-1]


def scan_database(path: Path | str, tables_only: bool = False) -> dict[tuple[str, str], tuple[set[str], str, str]]:
    """(table, column) -> (entities reported, deciding rule, reason), names in lower case.

    The same steps as ``govkit scan URL`` (``govkit.scan._classify_table``: default sample size
    and seed, no workspace, so no human labels), keeping each verdict's rule. ``path`` is a
    SQLite file or a database URL. Names are compared in lower case because a dialect may fold
    them (PostgreSQL lower-cases Metabase's unquoted ``PEOPLE``, MariaDB keeps it).
    ``tables_only`` leaves views out (they are not scored, and not every load has them).
    """
    from govkit.model.findings import ScanReport
    from govkit.scan import ScanOptions, _classify_table, _LazyClassifier
    from govkit.sources.database import DatabaseSource
    from govkit.workspace import DetectionSettings

    settings = DetectionSettings()
    classifier = _LazyClassifier(settings)
    report = ScanReport("", "", "", "")
    out: dict[tuple[str, str], tuple[set[str], str, str]] = {}
    url = path if isinstance(path, str) else f"sqlite:///{path}"
    with DatabaseSource(url) as source:
        source.check()
        for table in source.tables():
            if tables_only and table.kind != "table":
                continue
            for verdict in _classify_table(source, table, ScanOptions(), settings, classifier, report):
                entities = {e.entity_type for e in verdict.entities}
                key = (_short(table.qualified).lower(), verdict.column.lower())
                out[key] = (entities, verdict.rule, verdict.reason)
    return out


def scan_realworld(
    name: str, root: Path | None = None, dialect: str = "sqlite", tables_only: bool = False,
    loads: dict[str, str] | None = None,
) -> dict[tuple[str, str], tuple[set[str], str, str]]:
    """:func:`scan_database` of one realworld database on ``dialect``.

    On a server the database is loaded into a per-run ``gk_rw_<random>`` database (from its
    original dump where that loads as is, else copied from the SQLite file:
    accuracy_realworld_servers.py) and dropped afterwards, whatever happens; ``loads`` gets
    how each was loaded.
    """
    root = root or fixtures_dir()
    if dialect == "sqlite":
        return scan_database(root / "db" / f"{name}.db", tables_only)
    from accuracy_realworld_servers import drop, load

    url, db_name, how = load(dialect, name, root)
    if loads is not None:
        loads[name] = how
    try:
        return scan_database(url, tables_only)
    finally:
        drop(dialect, db_name)


def run_realworld(
    root: Path | None = None,
    databases: Sequence[str] = DATABASES,
    baseline_per_column: int = 0,
    dialect: str = "sqlite",
) -> RealworldResult:
    """Scan and score each database on ``dialect`` (sqlite, postgresql, mariadb); with
    ``baseline_per_column`` > 0 also the naive baseline (always on the SQLite files)."""
    root = root or fixtures_dir()
    result = RealworldResult()
    baseline = Tally() if baseline_per_column else None
    for name in databases:
        found = scan_realworld(name, root, dialect, loads=result.loads)
        for entry in load_truth(root, name):
            key = (entry["table"].lower(), entry["column"].lower())
            got, rule, reason = found.get(key, (set(), "", ""))
            expected = set(entry["entities"]) if entry["pii"] else set()
            db = result.by_db[name]
            wrong = False
            for entity in expected:
                if entity in got:
                    result.total.tp += 1
                    db.tp += 1
                else:
                    result.total.fn += 1
                    db.fn += 1
                    result.by_cause[f"miss {entity}"] += 1
                    wrong = True
            for entity in sorted(got - expected):
                result.total.fp += 1
                db.fp += 1
                tags = entry.get("tags") or []
                cause = f"false {entity}" + (f" [{','.join(tags)}]" if tags else "") + f" rule={rule}"
                result.by_cause[cause] += 1
                wrong = True
            if wrong:
                result.errors.append((
                    name, f"{entry['table']}.{entry['column']}", "+".join(sorted(expected)) or "-",
                    "+".join(sorted(got)) or "-", rule, reason,
                ))
        if baseline is not None:
            _score_baseline(root, name, baseline_per_column, baseline)
    result.baseline = baseline
    return result


def _score_baseline(root: Path, name: str, per_column: int, tally: Tally) -> None:
    """Naive Presidio per cell on up to ``per_column`` sampled values of each scored column: a
    column gets an entity when >= 30% of its cells return it with score >= 0.4 (the rule that
    does best on the generated groups). Column names are ignored, as in accuracy.py."""
    from govkit.detect.engine import get_engine
    from govkit.detect.entities import known_entities
    from govkit.sources.database import DatabaseSource
    from govkit.workspace import DetectionSettings

    analyzer = get_engine().analyzer
    entities = known_entities()
    truth = {(e["table"], e["column"]): e for e in load_truth(root, name)}
    settings = DetectionSettings()
    with DatabaseSource(f"sqlite:///{root / 'db' / f'{name}.db'}") as source:
        for table in source.tables():
            sample = source.sample(table, settings.sample_size, settings.seed)
            for i, column in enumerate(source.readable_columns(table)):
                entry = truth.get((_short(table.qualified), column.name))
                if entry is None:
                    continue
                values = [str(r[i]) for r in sample.rows if r[i] is not None and str(r[i]).strip()]
                subset = random.Random(f"{name}.{column.name}").sample(values, min(per_column, len(values)))
                counts: Counter[str] = Counter()
                for value in subset:
                    best = {r.entity_type for r in analyzer.analyze(text=value, language="en", entities=entities)
                            if r.score >= 0.4}
                    counts.update(best)
                got = {e for e, n in counts.items() if subset and n >= 0.3 * len(subset)}
                expected = set(entry["entities"]) if entry["pii"] else set()
                tally.tp += len(expected & got)
                tally.fn += len(expected - got)
                tally.fp += len(got - expected)


def print_realworld(result: RealworldResult, dialect: str = "sqlite") -> None:
    print(f"realworld on {dialect}: five public sample databases, hand-labelled (sampled scan, as `govkit scan`)")
    print(f"  govkit   {result.total.text()}")
    if result.baseline is not None:
        print(f"  baseline {result.baseline.text()}  (naive Presidio per cell, T=30% score>=0.4)")
    for name, tally in result.by_db.items():
        how = f"  (loaded: {result.loads[name]})" if name in result.loads else ""
        print(f"    {name:<14} {tally.text()}{how}")
    print("  errors by cause")
    for cause, n in result.by_cause.most_common():
        print(f"    {n:>3}  {cause}")
    print(f"  govkit errors ({len(result.errors)} columns)")
    for db, column, expected, got, rule, reason in result.errors:
        print(f"    {db:<13} {column:<36} expected {expected:<14} got {got:<22} rule={rule!r}: {reason}")
