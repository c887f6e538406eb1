"""``govkit.scan``: sources -> column verdicts -> findings -> inventory.

One function the CLI and users call. It never stops at the first broken table: a table that
vanishes mid-scan, an unreadable column or an unreachable source becomes a ``skipped`` entry
with a one-line reason, and the scan goes on with the rest.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from govkit import __version__
from govkit.audit import audit_action
from govkit.detect.columns import ColumnClassifier, ColumnSample, ColumnVerdict, PatternTally, apply_label
from govkit.detect.engine import get_engine
from govkit.detect.entities import entity
from govkit.detect.parallel import JudgePool, tally_batches, worker_count
from govkit.errors import SourceError, UsageError
from govkit.inventory.store import Inventory
from govkit.model.findings import Finding, ScanReport, Skipped
from govkit.sources.database import DatabaseSource, TableInfo, redact, selected_by_globs, warn_if_password_given
from govkit.workspace import DetectionSettings, SourceConfig, Workspace

log = logging.getLogger(__name__)

#: progress(event, detail): "source" (display), "tables" (count), "table" (qualified name).
Progress = Callable[[str, Any], None]


@dataclass(slots=True)
class ScanOptions:
    sample_size: int | None = None
    full: bool = False
    seed: int | None = None
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    batch_size: int = 20_000
    #: Worker processes for file sources and for ``full`` scans of big tables (None: one per
    #: core where it pays off, see detect/parallel.py); rescan unchanged files; size limit.
    jobs: int | None = None
    force: bool = False
    max_file_bytes: int = 100 * 1024 * 1024


@dataclass(slots=True)
class _Target:
    display_name: str | None
    config: SourceConfig


def is_sqlite_file(path: Path) -> bool:
    """Whether ``path`` is a SQLite database file (by its 16-byte header, not its name)."""
    try:
        with path.open("rb") as handle:
            return path.is_file() and handle.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def resolve_targets(workspace: Workspace | None, targets: Sequence[str]) -> list[_Target]:
    """Source names from govkit.toml, or database URLs given directly."""
    if not targets:
        if workspace is None or not workspace.sources:
            raise UsageError("nothing to scan: name a source or URL, or define [sources] in govkit.toml")
        return [_Target(name, cfg) for name, cfg in workspace.sources.items()]
    resolved = []
    for target in targets:
        if workspace is not None and target in workspace.sources:
            resolved.append(_Target(target, workspace.sources[target]))
        elif "://" not in target and is_sqlite_file(Path(target)):
            # a SQLite database given by its path is a database, not a binary file to skip
            url = f"sqlite:///{Path(target).resolve()}"
            resolved.append(_Target(None, SourceConfig(name=url, url=url)))
        elif "://" not in target and Path(target).exists():
            resolved.append(_Target(None, SourceConfig(name=target, path=str(Path(target).resolve()))))
        elif "://" in target:
            warn_if_password_given(target)
            resolved.append(_Target(None, SourceConfig(name=target, url=target)))
        else:
            known = ", ".join(sorted(workspace.sources)) if workspace else "no workspace"
            raise UsageError(
                f"{target!r} is not a database URL, an existing file or folder, or a source in govkit.toml ({known})"
            )
    return resolved


def scan(
    workspace: Workspace | None,
    targets: Sequence[str] = (),
    options: ScanOptions | None = None,
    *,
    inventory: Inventory | None = None,
    progress: Progress | None = None,
) -> ScanReport:
    """Scan sources, store the results in the workspace inventory, and return the report.

    In a workspace the scan is also written to the audit log (targets with passwords
    removed, counts, outcome); outside one nothing is recorded anywhere.
    """
    options = options or ScanOptions()
    if workspace is None:
        return _scan(None, resolve_targets(None, targets), options, inventory, progress)
    resolved = resolve_targets(workspace, targets)
    params = {
        "targets": [t.display_name or redact(t.config.url or "") for t in resolved],
        "mode": "full" if options.full else "sample",
        "sample_size": options.sample_size or workspace.detection.sample_size,
    }
    with audit_action(workspace.state_dir, "scan", params) as entry:
        report = _scan(workspace, resolved, options, inventory, progress)
        record_scan(entry, report)
    return report


def record_scan(entry: Any, report: ScanReport) -> None:
    """What the "scan" audit record says of a finished scan, whichever engine ran it: its id and
    counts, and "partial" when a whole source could not be read."""
    entry.params["scan_id"] = report.scan_id
    entry.counts.update(
        assets=report.stats.assets, fields=report.stats.fields, findings=len(report.findings),
        skipped=len(report.skipped), values_analyzed=report.stats.values_analyzed,
    )
    if any(s.asset == "*" for s in report.skipped):
        entry.outcome = "partial"


def _scan(
    workspace: Workspace | None,
    resolved: list[_Target],
    options: ScanOptions,
    inventory: Inventory | None,
    progress: Progress | None,
) -> ScanReport:
    settings = workspace.detection if workspace else DetectionSettings()
    clock = time.perf_counter()
    started = datetime.now(UTC)
    scan_id = str(uuid.uuid4())
    if inventory is None and workspace is not None:
        inventory = Inventory(workspace.inventory_path)
    classifier = _LazyClassifier(settings)
    report = ScanReport(__version__, scan_id, _iso(started), "")
    if inventory is not None:
        inventory.begin_scan(scan_id, started.replace(tzinfo=None), "full" if options.full else "sample")
    failed_sources = 0
    status = "failed"
    try:
        for target in resolved:
            try:
                _scan_source(target, options, settings, classifier, report, inventory, scan_id, progress)
            except SourceError as exc:
                failed_sources += 1
                report.skipped.append(Skipped(asset="*", reason=str(exc), source=_display(target)))
        status = "ok" if not failed_sources else "failed" if failed_sources == len(resolved) else "partial"
    finally:
        report.stats.elapsed_s = time.perf_counter() - clock
        report.finished_at = _iso(datetime.now(UTC))
        if inventory is not None:
            inventory.finish_scan(
                scan_id,
                stats=report.stats.to_dict(),
                skipped=[s.to_dict() for s in report.skipped],
                status=status,
            )
    if failed_sources == len(resolved):
        raise SourceError("; ".join(s.reason for s in report.skipped if s.asset == "*"))
    return report


class _LazyClassifier:
    """Loads the detection engine on first use, so that a wrong URL or password is
    reported at once instead of after the NLP model has loaded."""

    def __init__(self, settings: DetectionSettings) -> None:
        self.settings = settings
        self._classifier: ColumnClassifier | None = None

    def get(self) -> ColumnClassifier:
        if self._classifier is None:
            s = self.settings
            self._classifier = ColumnClassifier(
                get_engine(s.model, s.language), min_confidence=s.min_confidence, ner_sample=s.ner_sample
            )
        return self._classifier


def _display(target: _Target) -> str:
    return redact(target.config.url or "") if target.config.url else target.config.path or ""


def _file_root(config: SourceConfig) -> Path:
    """A file source's folder; relative paths are relative to the workspace, like SQLite files."""
    path = Path(config.path or "")
    if not path.is_absolute() and config.root is not None:
        path = config.root / path
    if not path.exists():
        raise SourceError(f"{path}: no such file or folder")
    return path.resolve()


def _scan_file_source(
    target: _Target,
    options: ScanOptions,
    settings: DetectionSettings,
    report: ScanReport,
    inventory: Inventory | None,
    scan_id: str,
    progress: Progress | None,
) -> None:
    from govkit.sources.files import UNCHANGED, FileScanOptions, scan_files

    config = target.config
    root = _file_root(config)
    display = str(root)
    if inventory is not None:
        inventory.follow_source(target.display_name, display)
    state = inventory.source_state(display) if inventory else {}
    file_options = FileScanOptions(
        include=options.include or config.include,
        exclude=[*config.exclude, *options.exclude],
        max_bytes=options.max_file_bytes,
        jobs=options.jobs,
        force=options.force,
        sample_size=options.sample_size or settings.sample_size,
        seed=settings.seed if options.seed is None else options.seed,
        model=settings.model,
        min_confidence=settings.min_confidence,
        ner_sample=settings.ner_sample,
    )
    result = scan_files(root, file_options, previous=state.get("fingerprints"), progress=progress)
    labels = inventory.labels(result.root) if inventory else {}
    findings = [f for f in result.findings if (result.root, f.asset, f.field or "") not in labels]
    report.sources.append(result.root)
    report.skipped.extend(result.skipped)
    report.details.extend(result.verdicts)
    report.stats.assets += len(result.assets)
    report.stats.fields += sum(len(a.get("fields", [])) for a in result.assets)
    report.stats.values_analyzed += result.values_analyzed
    if inventory is not None:
        unchanged = [s.asset for s in result.skipped if s.reason == UNCHANGED]
        carried = inventory.record_source(
            scan_id, display=result.root, name=target.display_name, kind="files", dialect=None,
            assets=result.assets, verdicts=result.verdicts, findings=findings,
            carry_forward=unchanged, state={**state, "fingerprints": result.fingerprints},
        )
        findings.extend(carried)
        report.details.extend(inventory.verdict_rows(scan_id, result.root, unchanged))
    report.findings.extend(findings)


def _scan_source(
    target: _Target,
    options: ScanOptions,
    settings: DetectionSettings,
    classifier: _LazyClassifier,
    report: ScanReport,
    inventory: Inventory | None,
    scan_id: str,
    progress: Progress | None,
) -> None:
    config = target.config
    if config.kind == "files":
        _scan_file_source(target, options, settings, report, inventory, scan_id, progress)
        return
    with DatabaseSource(
        config.resolved_url(),
        include=options.include or config.include,
        exclude=[*config.exclude, *options.exclude],
        schemas=config.schemas,
    ) as source:
        if progress:
            progress("source", source.display)
        source.check()
        tables = source.tables()
        if progress:
            progress("tables", len(tables))
        report.sources.append(source.display)
        if inventory is not None:
            inventory.follow_source(target.display_name, source.display)
        labels = inventory.labels(source.display) if inventory else {}
        assets: list[dict[str, Any]] = []
        verdict_rows: list[dict[str, Any]] = []
        findings: list[Finding] = []
        for table in tables:
            if progress:
                progress("table", table.qualified)
            try:
                verdicts = _classify_table(source, table, options, settings, classifier, report)
            except SourceError as exc:
                report.skipped.append(Skipped(asset=table.qualified, reason=str(exc), source=source.display))
                continue
            report.stats.assets += 1
            assets.append(_asset_dict(table))
            for verdict in verdicts:
                label = labels.get((source.display, table.qualified, verdict.column))
                if label is not None:
                    apply_label(verdict, label.entity_type, label.note)
                if verdict.skipped:
                    report.skipped.append(Skipped(table.qualified, verdict.skipped, verdict.column, source.display))
                verdict_rows.append(_verdict_row(table.qualified, verdict))
                for ev in verdict.entities:
                    findings.append(Finding(
                        source=source.display, asset=table.qualified, field=verdict.column,
                        entity_type=ev.entity_type, confidence=ev.confidence, hits=ev.hits,
                        sampled=ev.of or verdict.sampled, evidence=ev.evidence, decided_by=ev.rule,
                        severity=entity(ev.entity_type).severity.name,
                    ))
        if inventory is not None:
            findings.extend(inventory.record_source(
                scan_id, display=source.display, name=target.display_name, kind="database",
                dialect=source.dialect, assets=assets, verdicts=verdict_rows, findings=findings,
                carry_forward=_filtered_out(inventory, source.display, tables, options),
            ))
        report.findings.extend(findings)


def _filtered_out(
    inventory: Inventory, display: str, tables: list[TableInfo], options: ScanOptions
) -> list[str]:
    """Assets of the previous scan that ``--include``/``--exclude`` left out of this one.

    Narrowing one run to a few tables must not erase the rest of the data map: those
    assets are carried forward unchanged. (Assets that simply no longer exist, and ones a
    changed govkit.toml excludes, are not carried: they are gone.)
    """
    if not (options.include or options.exclude):
        return []
    scanned = {t.qualified for t in tables}
    return [
        asset.name
        for asset in inventory.assets(display)
        if asset.name not in scanned
        and not selected_by_globs(asset.name, options.include, options.exclude, asset.name.split(".")[-1])
    ]


def _classify_table(
    source: DatabaseSource,
    table: TableInfo,
    options: ScanOptions,
    settings: DetectionSettings,
    classifier: _LazyClassifier,
    report: ScanReport,
) -> list[ColumnVerdict]:
    size = options.sample_size or settings.sample_size
    seed = settings.seed if options.seed is None else options.seed
    readable = source.readable_columns(table)
    tallies = None
    if options.full:
        tallies = [classifier.get().pattern_tally(table.qualified, c.name, c.kind) for c in readable]
        workers = worker_count(options.jobs, table.row_estimate)
        with JudgePool(workers, settings.model, settings.language) if workers > 1 else nullcontext() as pool:
            columns, rows, total = _full_read(source, table, size, seed, options.batch_size, tallies, pool)
        method = f"every row read; names and shapes judged on a {size}-row reservoir sample"
    else:
        sample = source.sample(table, size, seed)
        columns, rows, method = sample.columns, sample.rows, sample.method
        total = len(rows)
    samples = []
    for index, column in enumerate(readable):
        assert columns[index] == column.name
        values = [row[index] for row in rows if row[index] is not None]
        samples.append(ColumnSample(
            table.qualified, column.name, column.kind, values, len(rows) - len(values),
            full_patterns=tallies[index] if tallies else None,
        ))
    verdicts = classifier.get().classify_many(samples) if samples else []
    for verdict in verdicts:
        verdict.profile["sampling"] = method
    report.stats.fields += len(readable)
    report.stats.values_analyzed += total * len(readable)
    for column in table.columns:
        if column.kind == "binary":
            verdicts.append(ColumnVerdict(table.qualified, column.name, column.kind, 0, [], "skipped",
                                          "binary column: not scanned", skipped="binary column: not scanned"))
    return verdicts


def _full_read(
    source: DatabaseSource,
    table: TableInfo,
    size: int,
    seed: int,
    batch_size: int,
    tallies: list[PatternTally],
    pool: JudgePool | None = None,
) -> tuple[list[str], list[tuple[Any, ...]], int]:
    """Read every row once: count pattern hits in each batch, keep a seeded reservoir.

    Pattern hits (the validated entities: e-mails, phones, cards, IDs) are exact over the
    whole table, so one leaked card number in a billion-row table is found. The NER model
    and the shape checks run on a uniform reservoir sample of ``size`` rows, because a
    name column is as much a name column in 1,000 rows as in a billion.
    """
    rng = random.Random(seed)
    reservoir: list[tuple[Any, ...]] = []
    seen = 0

    def keep_sample(batch: list[tuple[Any, ...]]) -> None:
        nonlocal seen
        for row in batch:
            seen += 1
            if len(reservoir) < size:
                reservoir.append(row)
            else:
                slot = rng.randrange(seen)
                if slot < size:
                    reservoir[slot] = row

    tally_batches(table.qualified, source.stream(table, batch_size), tallies, pool, keep_sample)
    return [c.name for c in source.readable_columns(table)], reservoir, seen


def _asset_dict(table: TableInfo) -> dict[str, Any]:
    return {
        "name": table.qualified,
        "kind": table.kind,
        "row_estimate": table.row_estimate,
        "primary_key": table.primary_key,
        "foreign_keys": [
            {"columns": fk.columns, "referred_table": fk.referred_table, "referred_columns": fk.referred_columns}
            for fk in table.foreign_keys
        ],
        "indexes": table.indexes,
        "fields": [
            {"name": c.name, "sql_type": c.sql_type, "kind": c.kind, "nullable": c.nullable,
             "primary_key": c.primary_key}
            for c in table.columns
        ],
    }


def _verdict_row(asset: str, verdict: ColumnVerdict) -> dict[str, Any]:
    detail = verdict.to_dict()
    return {
        "asset": asset,
        "field": verdict.column,
        "rule": verdict.rule,
        "reason": verdict.reason,
        "sampled": verdict.sampled,
        "detail": detail,
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")

