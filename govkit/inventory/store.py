"""Reading and writing the inventory (``.govkit/inventory.db``).

The store speaks in plain dataclasses (:class:`InventoryRow`, :class:`InventoryDiff`) so
that the CLI, reports and later actions never hold ORM sessions.

The inventory is written by audited actions (scans, labels), so it keeps an **audit
anchor**: the newest audit record it saw (``meta``, key ``audit_anchor``: seq and hash
only), for ``govkit log verify`` to check the log against (:mod:`govkit.audit.anchors`).
"""

from __future__ import annotations

import getpass
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from govkit import statedb
from govkit.errors import UsageError
from govkit.inventory import models as m
from govkit.model.findings import Finding as FindingRecord
from govkit.private import private_dir, private_file

log = logging.getLogger(__name__)


@dataclass(slots=True)
class InventoryRow:
    """One personal-data finding as it stands now (latest scan, labels applied)."""

    source: str
    asset: str
    field: str
    entity_type: str
    confidence: float
    hits: int
    sampled: int
    severity: str
    decided_by: str
    evidence: list[str]
    scan_id: str

    def to_dict(self) -> dict[str, Any]:
        data = {k: getattr(self, k) for k in self.__slots__}
        data["field"] = self.field or None  # whole-file findings: null, as in the scan JSON
        return data


@dataclass(slots=True)
class Change:
    kind: str  # "new" | "gone" | "changed"
    source: str
    asset: str
    field: str | None
    entity_type: str | None
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


@dataclass(slots=True)
class InventoryDiff:
    previous_scan: str | None
    latest_scan: str | None
    changes: list[Change] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "previous_scan": self.previous_scan,
            "latest_scan": self.latest_scan,
            "changes": [c.to_dict() for c in self.changes],
        }


@dataclass(slots=True)
class AssetRecord:
    """A table or file as the newest scan saw it: fields, keys, references, indexes."""

    source: str
    source_name: str | None
    name: str
    kind: str
    row_estimate: int | None
    primary_key: list[str]
    foreign_keys: list[dict[str, Any]]
    indexes: list[list[str]]
    fields: list[dict[str, Any]]


@dataclass(slots=True)
class FieldRecord:
    """Everything the inventory knows of one field: for ``explain``."""

    source: str
    asset: str
    field: str
    sql_type: str
    kind: str
    primary_key: bool
    scan_id: str
    scanned_at: datetime
    rule: str
    reason: str
    detail: dict[str, Any]
    label: m.Label | None


#: What to do about an inventory file that is damaged or not an inventory (see govkit.statedb).
INVENTORY_REMEDY = "restore it from a backup, or move it aside and run 'govkit scan' to start a new one"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Inventory:
    """The data map. One instance per process is enough; it is cheap to create."""

    def __init__(self, path: Path) -> None:
        if not path.parent.exists():
            private_dir(path.parent)
        private_file(path)  # owner-only before SQLite writes a byte (its journal takes the same mode)
        self.path = path
        self.engine = sa.create_engine(f"sqlite:///{path}", hide_parameters=True)
        statedb.guard(self.engine, path, "the govkit inventory", ("meta", "scan_runs"), INVENTORY_REMEDY)
        m.Base.metadata.create_all(self.engine)
        _add_missing_columns(self.engine)
        self.session = sessionmaker(self.engine, expire_on_commit=False)
        with self.session.begin() as s:
            version = s.get(m.Meta, "schema_version")
            if version is None:
                s.add(m.Meta(key="schema_version", value=str(m.SCHEMA_VERSION)))
            elif int(version.value) > m.SCHEMA_VERSION:
                raise UsageError(
                    f"{path} was written by a newer govkit (inventory schema {version.value}); upgrade govkit"
                )
            else:
                version.value = str(m.SCHEMA_VERSION)
            _redact_displays(s)

    def close(self) -> None:
        self.engine.dispose()

    # -- writing a scan ---------------------------------------------------------------

    def begin_scan(self, scan_id: str, started_at: datetime, mode: str) -> None:
        with self.session.begin() as s:
            s.add(m.ScanRun(id=scan_id, started_at=started_at, mode=mode, status="running"))

    def follow_source(self, name: str | None, display: str) -> str | None:
        """Move a named source's history and labels to ``display`` if it was recorded elsewhere.

        A source is keyed by where it is (a redacted URL, a folder), so a workspace moved to
        another folder, or a source pointed at a new host, used to start a new history and
        lose its labels. A workspace source keeps its name across such moves, so when no
        source is recorded at ``display`` yet and exactly one carries ``name``, that one has
        moved. Returns where it was, or None.
        """
        if not name:
            return None
        with self.session.begin() as s:
            if s.scalar(sa.select(m.Source.id).where(m.Source.display == display)) is not None:
                return None
            named = list(s.scalars(sa.select(m.Source).where(m.Source.name == name)))
            if len(named) != 1:
                return None
            previous = named[0].display
            named[0].display = display
            s.execute(sa.update(m.Label).where(m.Label.source == previous).values(source=display))
        log.info("source %r moved from %s to %s: its history and labels follow it", name, previous, display)
        return previous

    def record_source(
        self,
        scan_id: str,
        *,
        display: str,
        name: str | None,
        kind: str,
        dialect: str | None,
        assets: Iterable[dict[str, Any]],
        verdicts: Iterable[dict[str, Any]],
        findings: Iterable[FindingRecord],
        carry_forward: Iterable[str] = (),
        state: dict[str, Any] | None = None,
    ) -> list[FindingRecord]:
        """Store one source's part of a scan run in one transaction.

        ``assets``: dicts with name, kind, row_estimate, primary_key, foreign_keys, indexes,
        fields (dicts with name, sql_type, kind, nullable, primary_key).
        ``verdicts``: dicts with asset, field, rule, reason, sampled, detail.
        ``carry_forward``: assets not rescanned because they did not change (incremental
        file scans); their verdicts and findings from the previous scan are copied into
        this one, so the data map stays whole. Returns the findings carried forward.
        """
        keep = set(carry_forward)
        previous_scan = self.latest_scans() if keep else {}
        carried: list[FindingRecord] = []
        with self.session.begin() as s:
            source = s.scalar(sa.select(m.Source).where(m.Source.display == display))
            if source is None:
                source = m.Source(display=display, name=name, kind=kind, dialect=dialect)
                s.add(source)
                s.flush()
            else:
                source.name = name or source.name
            field_ids: dict[tuple[str, str], int] = {}
            for asset_data in assets:
                asset = s.scalar(
                    sa.select(m.Asset).where(m.Asset.source_id == source.id, m.Asset.name == asset_data["name"])
                )
                if asset is None:
                    asset = m.Asset(source_id=source.id, name=asset_data["name"], first_seen=scan_id,
                                    last_seen=scan_id, kind=asset_data["kind"])
                    s.add(asset)
                for key in ("kind", "row_estimate", "primary_key", "foreign_keys", "indexes"):
                    setattr(asset, key, asset_data.get(key))
                asset.last_seen = scan_id
                s.flush()
                existing = {f.name: f for f in asset.fields}
                for field_data in asset_data["fields"]:
                    record = existing.get(field_data["name"])
                    if record is None:
                        record = m.Field(asset_id=asset.id, name=field_data["name"], first_seen=scan_id,
                                         last_seen=scan_id)
                        s.add(record)
                    for key in ("sql_type", "kind", "nullable", "primary_key"):
                        setattr(record, key, field_data[key])
                    record.last_seen = scan_id
                    s.flush()
                    field_ids[(asset.name, record.name)] = record.id
            for verdict in verdicts:
                field_id = field_ids[(verdict["asset"], verdict["field"])]
                s.add(m.Verdict(scan_id=scan_id, field_id=field_id, rule=verdict["rule"], reason=verdict["reason"],
                                sampled=verdict["sampled"], detail=verdict["detail"]))
            for finding in findings:
                s.add(m.Finding(
                    scan_id=scan_id, field_id=field_ids[(finding.asset, finding.field or "")],
                    entity_type=finding.entity_type, confidence=finding.confidence, hits=finding.hits,
                    sampled=finding.sampled, evidence=finding.evidence, decided_by=finding.decided_by,
                    severity=finding.severity,
                ))
            if keep and source.id in previous_scan:
                carried = self._carry_forward(s, source, previous_scan[source.id], scan_id, keep)
            if state is not None:
                source.state = state
            run = s.get(m.ScanRun, scan_id)
            assert run is not None
            run.source_ids = [*run.source_ids, source.id]
        return carried

    @staticmethod
    def _carry_forward(
        s: Session, source: m.Source, old_scan: str, scan_id: str, assets: set[str]
    ) -> list[FindingRecord]:
        carried: list[FindingRecord] = []
        rows = s.execute(
            sa.select(m.Asset).where(m.Asset.source_id == source.id, m.Asset.name.in_(assets))
        ).scalars().all()
        for asset in rows:
            asset.last_seen = scan_id
            for fld in asset.fields:
                fld.last_seen = scan_id
                verdict = s.scalar(sa.select(m.Verdict).where(m.Verdict.field_id == fld.id,
                                                              m.Verdict.scan_id == old_scan))
                if verdict is not None:
                    s.add(m.Verdict(scan_id=scan_id, field_id=fld.id, rule=verdict.rule, reason=verdict.reason,
                                    sampled=verdict.sampled, detail=verdict.detail))
                for old in s.scalars(sa.select(m.Finding).where(m.Finding.field_id == fld.id,
                                                                m.Finding.scan_id == old_scan)):
                    s.add(m.Finding(scan_id=scan_id, field_id=fld.id, entity_type=old.entity_type,
                                    confidence=old.confidence, hits=old.hits, sampled=old.sampled,
                                    evidence=old.evidence, decided_by=old.decided_by, severity=old.severity))
                    carried.append(FindingRecord(
                        source=source.display, asset=asset.name, field=fld.name or None,
                        entity_type=old.entity_type, confidence=old.confidence, hits=old.hits,
                        sampled=old.sampled, evidence=list(old.evidence), decided_by=old.decided_by,
                        severity=old.severity,
                    ))
        return carried

    def verdict_rows(self, scan_id: str, display: str, assets: Iterable[str]) -> list[dict[str, Any]]:
        """Verdicts of ``assets`` in one scan, shaped like the rows ``record_source`` takes
        (for SARIF positions of files that were carried forward unchanged)."""
        wanted = set(assets)
        if not wanted:
            return []
        with self.session() as s:
            query = (
                sa.select(m.Verdict, m.Field.name, m.Asset.name)
                .join(m.Field, m.Verdict.field_id == m.Field.id)
                .join(m.Asset, m.Field.asset_id == m.Asset.id)
                .join(m.Source, m.Asset.source_id == m.Source.id)
                .where(m.Verdict.scan_id == scan_id, m.Source.display == display, m.Asset.name.in_(wanted))
            )
            return [
                {"asset": asset, "field": field, "rule": v.rule, "reason": v.reason, "sampled": v.sampled,
                 "detail": dict(v.detail)}
                for v, field, asset in s.execute(query).all()
            ]

    def source_state(self, display: str) -> dict[str, Any]:
        """Scanner state kept for a source (e.g. file fingerprints), empty if none."""
        with self.session() as s:
            source = s.scalar(sa.select(m.Source).where(m.Source.display == display))
            return dict(source.state or {}) if source is not None else {}

    def finish_scan(self, scan_id: str, *, stats: dict[str, Any], skipped: list[dict[str, Any]], status: str) -> None:
        with self.session.begin() as s:
            run = s.get(m.ScanRun, scan_id)
            assert run is not None
            run.finished_at = _now()
            run.stats, run.skipped, run.status = stats, skipped, status
        self._follow_audit()

    # -- audit anchor: the newest audit record this inventory saw (govkit.audit.anchors) ---------

    def _follow_audit(self) -> None:
        """Once the audited action in progress (a scan, a label change) has written its record,
        keep it as the anchor. The state folder is the inventory's folder (``.govkit/``)."""
        from govkit.audit import anchors

        anchors.anchor_when_recorded(self.path.parent, anchors.INVENTORY_HOLDER, self.write_anchor)

    def write_anchor(self, seq: int, digest: str) -> None:
        """Store ``(seq, digest)`` as the inventory's audit anchor (the newest write wins)."""
        from govkit.audit import anchors

        value = anchors.encode(seq, digest)
        with self.session.begin() as s:
            row = s.get(m.Meta, anchors.ANCHOR_KEY)
            if row is None:
                s.add(m.Meta(key=anchors.ANCHOR_KEY, value=value))
            else:
                row.value = value

    # -- end of audit anchor --------------------------------------------------------------------

    # -- labels ------------------------------------------------------------------------

    def labels(self, source: str | None = None) -> dict[tuple[str, str, str], m.Label]:
        with self.session() as s:
            query = sa.select(m.Label)
            if source is not None:
                query = query.where(m.Label.source == source)
            return {(lb.source, lb.asset, lb.field): lb for lb in s.scalars(query)}

    def set_label(self, source: str, asset: str, field_name: str, entity_type: str | None, note: str = "") -> m.Label:
        with self.session.begin() as s:
            label = s.scalar(sa.select(m.Label).where(
                m.Label.source == source, m.Label.asset == asset, m.Label.field == field_name))
            if label is None:
                label = m.Label(source=source, asset=asset, field=field_name, created_at=_now())
                s.add(label)
            label.entity_type, label.note, label.created_at = entity_type, note, _now()
            label.author = _actor()
        self._follow_audit()
        return label

    def remove_label(self, source: str, asset: str, field_name: str) -> bool:
        with self.session.begin() as s:
            result = s.execute(sa.delete(m.Label).where(
                m.Label.source == source, m.Label.asset == asset, m.Label.field == field_name))
        self._follow_audit()
        return bool(result.rowcount)  # type: ignore[attr-defined]

    # -- reading -----------------------------------------------------------------------

    def latest_scans(self) -> dict[int, str]:
        """Source id -> id of the newest finished scan that covered it."""
        latest: dict[int, str] = {}
        with self.session() as s:
            for run in s.scalars(sa.select(m.ScanRun).where(m.ScanRun.status.in_(("ok", "partial")))
                                 .order_by(m.ScanRun.started_at.desc())):
                for source_id in run.source_ids:
                    latest.setdefault(source_id, run.id)
        return latest

    def scan_times(self) -> dict[str, str]:
        """Scan id -> when it started, ``YYYY-MM-DD HH:MM UTC``."""
        with self.session() as s:
            return {run.id: run.started_at.strftime("%Y-%m-%d %H:%M UTC")
                    for run in s.scalars(sa.select(m.ScanRun))}

    def scan_history(self, source_id: int) -> list[str]:
        with self.session() as s:
            runs = s.scalars(sa.select(m.ScanRun).where(m.ScanRun.status.in_(("ok", "partial")))
                             .order_by(m.ScanRun.started_at.desc()))
            return [r.id for r in runs if source_id in r.source_ids]

    def sources(self) -> list[m.Source]:
        with self.session() as s:
            return list(s.scalars(sa.select(m.Source).order_by(m.Source.display)))

    def rows(self, source: str | None = None) -> list[InventoryRow]:
        """Current personal-data findings, human labels applied."""
        latest = self.latest_scans()
        rows: list[InventoryRow] = []
        with self.session() as s:
            for src in s.scalars(sa.select(m.Source).order_by(m.Source.display)):
                if source is not None and source not in (src.display, src.name):
                    continue
                scan_id = latest.get(src.id)
                if scan_id is None:
                    continue
                rows.extend(self._rows_of_scan(s, src, scan_id))
        return rows

    def _rows_of_scan(self, s: Session, src: m.Source, scan_id: str) -> list[InventoryRow]:
        query = (
            sa.select(m.Finding, m.Field, m.Asset)
            .join(m.Field, m.Finding.field_id == m.Field.id)
            .join(m.Asset, m.Field.asset_id == m.Asset.id)
            .where(m.Finding.scan_id == scan_id, m.Asset.source_id == src.id)
            .order_by(m.Asset.name, m.Field.id, m.Finding.confidence.desc())
        )
        labels = self.labels(src.display)
        rows = []
        for finding, fld, asset in s.execute(query).all():
            if (src.display, asset.name, fld.name) in labels:
                continue
            rows.append(InventoryRow(src.display, asset.name, fld.name, finding.entity_type, finding.confidence,
                                     finding.hits, finding.sampled, finding.severity, finding.decided_by,
                                     list(finding.evidence), scan_id))
        # Labels added after the scan count at once; labels on fields of other sources don't.
        from govkit.detect.entities import entity

        known = {(a.name, f.name) for a in src.assets for f in a.fields}
        for (_, asset_name, field_name), label in labels.items():
            if label.entity_type and (asset_name, field_name) in known:
                rows.append(InventoryRow(src.display, asset_name, field_name, label.entity_type, 1.0, 0, 0,
                                         entity(label.entity_type).severity.name, "labelled", [], scan_id))
        rows.sort(key=lambda r: (r.asset, r.field))
        return rows

    def field_record(self, asset: str, field_name: str, source: str | None = None) -> FieldRecord:
        """The newest verdict for ``asset.field``, for ``govkit explain``."""
        latest = self.latest_scans()
        with self.session() as s:
            query = (
                sa.select(m.Field, m.Asset, m.Source)
                .join(m.Asset, m.Field.asset_id == m.Asset.id)
                .join(m.Source, m.Asset.source_id == m.Source.id)
                .where(sa.func.lower(m.Asset.name) == asset.lower(), sa.func.lower(m.Field.name) == field_name.lower())
            )
            matches = [
                t for t in s.execute(query).all()
                if source is None or source in (t[2].display, t[2].name)
            ]
            if not matches:
                raise UsageError(f"{asset}.{field_name} is not in the inventory (run 'govkit scan' first?)")
            if len(matches) > 1:
                names = ", ".join(sorted({t[2].name or t[2].display for t in matches}))
                raise UsageError(f"{asset}.{field_name} exists in several sources ({names}); pass --source")
            fld, asset_row, src = matches[0]
            scan_id = latest.get(src.id)
            verdict = s.scalar(sa.select(m.Verdict).where(m.Verdict.field_id == fld.id, m.Verdict.scan_id == scan_id))
            run = s.get(m.ScanRun, scan_id) if scan_id else None
            label = self.labels(src.display).get((src.display, asset_row.name, fld.name))
            return FieldRecord(
                source=src.display, asset=asset_row.name, field=fld.name, sql_type=fld.sql_type, kind=fld.kind,
                primary_key=fld.primary_key, scan_id=scan_id or "", scanned_at=run.started_at if run else _now(),
                rule=verdict.rule if verdict else "not scanned", reason=verdict.reason if verdict else "",
                detail=dict(verdict.detail) if verdict else {}, label=label,
            )

    def split_address(self, address: str, source: str | None = None) -> tuple[str, str]:
        """``ASSET.FIELD`` -> (asset, field) as the inventory knows them.

        Both halves may contain dots (``public.customer.email``, ``events.jsonl.$.user.email``),
        so every split point is tried against the inventory; the last dot wins when none
        matches (the error then names what was looked for).
        """
        candidates = [(address[:i], address[i + 1 :]) for i, ch in enumerate(address) if ch == "."]
        candidates = [(a, f) for a, f in candidates if a and f]
        if not candidates:
            raise UsageError(f"expected TABLE.COLUMN (or FILE.FIELD), got {address!r}")
        with self.session() as s:
            query = (
                sa.select(m.Asset.name, m.Field.name, m.Source.display, m.Source.name)
                .join(m.Field, m.Field.asset_id == m.Asset.id)
                .join(m.Source, m.Asset.source_id == m.Source.id)
            )
            known = {
                (a.lower(), f.lower())
                for a, f, display, name in s.execute(query).all()
                if source is None or source in (display, name)
            }
        found = [(a, f) for a, f in candidates if (a.lower(), f.lower()) in known]
        return found[0] if found else candidates[-1]

    def resolve_field(self, asset: str, field_name: str, source: str | None = None) -> tuple[str, str, str]:
        """(source display, asset, field) with the inventory's spelling of the names."""
        record = self.field_record(asset, field_name, source)
        return record.source, record.asset, record.field

    def diff(self, source: str | None = None) -> InventoryDiff:
        """What changed between each source's newest scan and the one before it."""
        result = InventoryDiff(None, None)
        with self.session() as s:
            for src in s.scalars(sa.select(m.Source).order_by(m.Source.display)):
                if source is not None and source not in (src.display, src.name):
                    continue
                history = self.scan_history(src.id)
                if not history:
                    continue
                result.latest_scan = result.latest_scan or history[0]
                if len(history) < 2:
                    continue
                result.previous_scan = result.previous_scan or history[1]
                new = self._finding_map(s, src.id, history[0])
                old = self._finding_map(s, src.id, history[1])
                for key in sorted(new.keys() - old.keys()):
                    result.changes.append(Change("new", src.display, key[0], key[1], key[2],
                                                 f"confidence {new[key]:.2f}"))
                labels = self.labels(src.display)
                for key in sorted(old.keys() - new.keys()):
                    label = labels.get((src.display, key[0], key[1]))
                    why = (f"labelled {label.entity_type or 'not personal data'} by {label.author}"
                           if label else "no longer detected (or the field is gone)")
                    result.changes.append(Change("gone", src.display, key[0], key[1], key[2], why))
                for key in sorted(new.keys() & old.keys()):
                    if abs(new[key] - old[key]) >= 0.1:
                        result.changes.append(Change("changed", src.display, key[0], key[1], key[2],
                                                     f"confidence {old[key]:.2f} -> {new[key]:.2f}"))
                assets_now = self._assets_in(s, src.id, history[0])
                assets_before = self._assets_in(s, src.id, history[1])
                for name in sorted(assets_now - assets_before):
                    result.changes.append(Change("new", src.display, name, None, None, "new asset"))
                for name in sorted(assets_before - assets_now):
                    result.changes.append(Change("gone", src.display, name, None, None, "asset no longer present"))
        return result

    @staticmethod
    def _finding_map(s: Session, source_id: int, scan_id: str) -> dict[tuple[str, str, str], float]:
        query = (
            sa.select(m.Asset.name, m.Field.name, m.Finding.entity_type, m.Finding.confidence)
            .join(m.Field, m.Finding.field_id == m.Field.id)
            .join(m.Asset, m.Field.asset_id == m.Asset.id)
            .where(m.Finding.scan_id == scan_id, m.Asset.source_id == source_id)
        )
        return {(a, f, e): c for a, f, e, c in s.execute(query).all()}

    @staticmethod
    def _assets_in(s: Session, source_id: int, scan_id: str) -> set[str]:
        query = (
            sa.select(m.Asset.name).distinct()
            .join(m.Field, m.Field.asset_id == m.Asset.id)
            .join(m.Verdict, m.Verdict.field_id == m.Field.id)
            .where(m.Verdict.scan_id == scan_id, m.Asset.source_id == source_id)
        )
        return set(s.scalars(query))

    def latest_skipped(self) -> list[dict[str, Any]]:
        """What the newest scan of each source could not look at."""
        runs = set(self.latest_scans().values())
        with self.session() as s:
            return [item for run_id in sorted(runs) if (run := s.get(m.ScanRun, run_id)) for item in run.skipped]

    def findings_history(self, limit: int = 20) -> list[dict[str, Any]]:
        """Personal fields found by each of the last ``limit`` finished scans, oldest first."""
        with self.session() as s:
            runs = list(s.scalars(sa.select(m.ScanRun).where(m.ScanRun.status.in_(("ok", "partial")))
                                  .order_by(m.ScanRun.started_at.desc()).limit(limit)))
            out = []
            for run in reversed(runs):
                fields = s.scalar(sa.select(sa.func.count(sa.distinct(m.Finding.field_id)))
                                  .where(m.Finding.scan_id == run.id)) or 0
                out.append({"scan_id": run.id, "started_at": run.started_at.strftime("%Y-%m-%d %H:%M"),
                            "personal_fields": int(fields)})
            return out

    def assets(self, source: str | None = None) -> list[AssetRecord]:
        """Assets of the newest scan of each source, with fields, keys and references."""
        latest = self.latest_scans()
        with self.session() as s:
            query = sa.select(m.Asset, m.Source).join(m.Source).order_by(m.Source.display, m.Asset.name)
            out = []
            for asset, src in s.execute(query).all():
                if source is not None and source not in (src.display, src.name):
                    continue
                if latest.get(asset.source_id) != asset.last_seen:
                    continue  # gone since: not part of the current map
                out.append(AssetRecord(
                    source=src.display, source_name=src.name, name=asset.name, kind=asset.kind,
                    row_estimate=asset.row_estimate, primary_key=list(asset.primary_key),
                    foreign_keys=list(asset.foreign_keys), indexes=list(asset.indexes),
                    fields=[{"name": f.name, "sql_type": f.sql_type, "kind": f.kind, "primary_key": f.primary_key}
                            for f in asset.fields if f.last_seen == asset.last_seen],
                ))
            return out


def _add_missing_columns(engine: sa.Engine) -> None:
    """Bring an older inventory up to date: schema changes so far only add columns.

    Each column the models declare but the file lacks is added with its default, so a
    workspace keeps its history across upgrades. (A change that is not additive would
    need a real migration step keyed on ``schema_version``.)
    """
    inspector = sa.inspect(engine)
    with engine.begin() as conn:
        for table in m.Base.metadata.sorted_tables:
            present = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name in present:
                    continue
                default = getattr(column.default, "arg", None)
                if isinstance(column.type, sa.JSON):
                    literal = "'[]'" if default is list else "'{}'"
                elif isinstance(default, bool | int | float | str):
                    literal = repr(default)
                else:
                    literal = "NULL"
                ddl = f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {column.type.compile(engine.dialect)}'
                conn.execute(sa.text(f"{ddl} DEFAULT {literal}"))


def _redact_displays(s: Session) -> None:
    """Mask the secrets that older versions kept in source displays (once per inventory).

    Before, ``redact()`` masked a URL's password but not a secret query argument
    (``?password=...``, ``?token=...``), so such a source was recorded, labelled and reported
    with the secret in clear. Its display becomes the masked one, which a new scan of the
    same URL produces, so its history and labels carry on (unless the masked display is
    taken already: then the old one is left). The scans' skipped lists, which quote
    displays, lose the secret too. ``secure_delete`` overwrites the old text in the file.
    """
    if s.get(m.Meta, _DISPLAYS_REDACTED) is not None:
        return
    s.add(m.Meta(key=_DISPLAYS_REDACTED, value="1"))

    def masked(display: str) -> str:
        if "://" not in display:
            return display
        from govkit.sources.database import redact  # costly to import: only for URLs

        new = redact(display)
        return display if new == "<unparseable URL>" else new

    sources = list(s.scalars(sa.select(m.Source)))
    moved = {src.display: masked(src.display) for src in sources}
    moved = {old: new for old, new in moved.items() if new != old}
    for run in s.scalars(sa.select(m.ScanRun)):
        for entry in run.skipped or []:
            shown = entry.get("source") if isinstance(entry, dict) else None
            if isinstance(shown, str) and (new := masked(shown)) != shown:
                moved[shown] = new
    if not moved:
        return
    s.execute(sa.text("PRAGMA secure_delete = ON"))
    taken = {src.display for src in sources}
    for src in sources:
        new = moved.get(src.display, src.display)
        if new == src.display or new in taken:
            continue
        old, src.display = src.display, new
        taken.add(new)
        s.execute(sa.update(m.Label).where(m.Label.source == old).values(source=new))
    for run in s.scalars(sa.select(m.ScanRun)):
        text = clean = json.dumps(run.skipped)
        for old, new in sorted(moved.items(), key=lambda kv: -len(kv[0])):
            clean = clean.replace(json.dumps(old)[1:-1], json.dumps(new)[1:-1])
        if clean != text:
            run.skipped = json.loads(clean)


_DISPLAYS_REDACTED = "displays_redacted"


def _actor() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"
