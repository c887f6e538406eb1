"""``govkit archive restore``: put archived rows (or files) back, through the change engine.

The plan (a dry run unless ``--apply``) reads the manifest and every segment (each must pass its
authentication and digest), and counts, per table, the archived rows whose primary key is
already taken in the target: a restore never overwrites a row, so any such conflict refuses
the run and names the table. Tables missing from a ``--to`` database are created from the
manifest's columns (generic types by the kind the scan saw; the original DDL is not kept).

One unit per segment, one transaction: rows inserted parents first. The unit's digest is over
the segment's keys found in the target, so a resume tells "rolled back" (none there) from
"committed" (all there) and never inserts a row twice. Verification reads every restored row
back and compares it, value for value, with the archive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from govkit.actions.retention.archive import Archive, ArchiveError, TableRows
from govkit.change import failpoints
from govkit.change.run import ChangeRun, canonical
from govkit.errors import UsageError
from govkit.private import write_private_atomic

KIND = "archive.restore"
_CHUNK = 900
_TYPES: dict[str, Any] = {"integer": sa.BigInteger, "number": sa.Float, "boolean": sa.Boolean, "date": sa.Date,
                          "datetime": sa.DateTime, "binary": sa.LargeBinary}


@dataclass(slots=True)
class RestorePlan:
    archive: str
    target: str
    kind: str  # tables | files
    rows: dict[str, int] = field(default_factory=dict)
    conflicts: dict[str, int] = field(default_factory=dict)
    create: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"archive": self.archive, "target": self.target, "kind": self.kind, "rows": self.rows,
                "conflicts": self.conflicts, "create": self.create, "files": self.files, "problems": self.problems}


def _target(workspace: Any, manifest: dict[str, Any], to: str | None) -> tuple[str, str]:
    """(url to connect, display) of where the rows go."""
    from govkit.actions.dsr.locate import source_config
    from govkit.sources.database import redact

    if to is not None:
        return to, redact(to) if "://" in to else to
    config = source_config(workspace, manifest["source"], manifest.get("source_name"))
    if manifest.get("kind") == "files":
        return str(config.path or manifest["source"]), manifest["source"]
    return config.resolved_url(), manifest["source"]


def plan_restore(workspace: Any, archive_id: str, *, to: str | None = None) -> RestorePlan:
    archive = Archive(workspace.state_dir, archive_id)
    manifest = archive.manifest()
    url, display = _target(workspace, manifest, to)
    kind = "files" if manifest.get("kind") == "files" else "tables"
    plan = RestorePlan(archive.id, display, kind)
    plan.problems = archive.verify()
    if plan.problems:
        return plan
    if kind == "files":
        for seg in manifest["segments"]:
            for table in archive.read_segment(seg["segment"]):
                for relpath, _ in table.rows:
                    plan.files.append(str(relpath))
                    if (Path(url) / str(relpath)).exists():
                        plan.conflicts[str(relpath)] = 1
        return plan
    from govkit.sources.database import DatabaseSource

    with DatabaseSource(url) as source:
        existing = {t.qualified.lower() for t in source.tables()}
        try:
            with source.engine.connect() as conn:
                for name, meta in manifest["tables"].items():
                    plan.rows[name] = int(manifest["rows"].get(name, 0))
                    placed = _placed(source, name)
                    if placed.lower() not in existing:
                        plan.create.append(name)
                        continue
                    taken = 0
                    for seg in manifest["segments"]:
                        for table in archive.read_segment(seg["segment"]):
                            if table.table == name:
                                taken += len(_present(conn, placed, meta, table))
                    if taken:
                        plan.conflicts[name] = taken
        except SQLAlchemyError as exc:
            raise source.error(exc, "cannot check the restore target") from None
    return plan


def _placed(source: Any, name: str) -> str:
    """Where ``name`` (as the archive knows it, maybe ``schema.table``) lives in the target: the
    same schema when the target has it, else the default one (a PostgreSQL archive restored
    into a SQLite file)."""
    schema, _, short = name.rpartition(".")
    if not schema:
        return name
    try:
        schemas = {s.lower() for s in sa.inspect(source.engine).get_schema_names()}
    except SQLAlchemyError:
        schemas = set()
    return name if schema.lower() in schemas and source.engine.dialect.name != "sqlite" else short


def _clause(name: str, columns: Sequence[str]) -> sa.TableClause:
    schema, _, table = name.rpartition(".")
    return sa.table(table, *[sa.column(c) for c in columns], schema=schema or None)


def _present(conn: sa.Connection, name: str, meta: dict[str, Any], table: TableRows) -> list[tuple[Any, ...]]:
    """The archived rows' keys already in the target table (sorted, for a stable digest)."""
    pk = list(meta["primary_key"]) or list(table.columns)
    clause = _clause(name, table.columns)
    at = [table.columns.index(k) for k in pk]
    keys = [tuple(row[i] for i in at) for row in table.rows]
    found: list[tuple[Any, ...]] = []
    expr = clause.c[pk[0]] if len(pk) == 1 else sa.tuple_(*[clause.c[k] for k in pk])
    for start in range(0, len(keys), _CHUNK):
        chunk = [k[0] if len(pk) == 1 else k for k in keys[start:start + _CHUNK]]
        found.extend(tuple(r) for r in conn.execute(sa.select(*[clause.c[k] for k in pk]).where(expr.in_(chunk))))
    return sorted(found, key=lambda r: canonical([list(r)]))


def _parents_first(names: list[str], tables: dict[str, Any]) -> list[str]:
    """Insertion order: a table after every table of the segment it references."""
    short = {n.rsplit(".", 1)[-1].lower(): n for n in names}

    def depth(name: str, seen: frozenset[str] = frozenset()) -> int:
        found = {short.get(str(fk["referred_table"]).rsplit(".", 1)[-1].lower())
                 for fk in (tables.get(name) or {}).get("foreign_keys", [])}
        parents = {p for p in found if p is not None and p != name and p not in seen}
        return 1 + max((depth(p, seen | {name}) for p in parents), default=-1)

    return sorted(names, key=depth)


def restore(workspace: Any, archive_id: str, *, to: str | None = None) -> dict[str, Any]:
    """Apply the restore (the plan must be clean: no problem, no conflict)."""
    plan = plan_restore(workspace, archive_id, to=to)
    if plan.problems:
        raise ArchiveError(f"archive {archive_id} cannot be restored: {plan.problems[0]}")
    if plan.conflicts:
        name, count = next(iter(plan.conflicts.items()))
        raise UsageError(f"restore refused: {count} archived row(s) of {name} already exist in {plan.target} "
                         "(a restore never overwrites); restore into another database with --to")
    stored = {"archive": archive_id, "to": to, "target": plan.target}
    params = {"archive": archive_id, "target": plan.target, "rows": plan.rows, "files": len(plan.files)}
    with ChangeRun.begin(workspace.state_dir, KIND, plan.target, params, stored, sources=[plan.target]) as run:
        return execute_restore(run, workspace, stored)


def execute_restore(run: ChangeRun, workspace: Any, stored: dict[str, Any]) -> dict[str, Any]:
    archive = Archive(workspace.state_dir, stored["archive"])
    manifest = archive.manifest()
    url, display = _target(workspace, manifest, stored.get("to"))
    counts: dict[str, int] = {}
    with run.failures_audited("archive.restore"):
        if manifest.get("kind") == "files":
            problems = _restore_files(run, archive, manifest, Path(url), counts)
        else:
            problems = _restore_tables(run, archive, manifest, url, counts)
        run.audited("archive.restore", {"archive": archive.id, "target": display, "rows": counts,
                                        "verification": "failed" if problems else "passed",
                                        "problems": problems[:20]},
                    {"rows": sum(counts.values())}, outcome="verification-failed" if problems else "ok")
    run.finish("failed" if problems else "finished")
    return {"run_id": run.id, "archive": archive.id, "target": display, "rows": counts,
            "verification": "failed" if problems else "passed", "problems": problems}


def _restore_tables(run: ChangeRun, archive: Archive, manifest: dict[str, Any], url: str,
                    counts: dict[str, int]) -> list[str]:
    from govkit.sources.database import DatabaseSource

    tables = manifest["tables"]
    with DatabaseSource(url) as source:
        placed = {name: _placed(source, name) for name in tables}
        try:
            _create_missing(source, tables, placed)
        except SQLAlchemyError as exc:
            raise source.error(exc, "cannot create the tables to restore into") from None
        for seg in manifest["segments"]:
            segment = {t.table: t for t in archive.read_segment(seg["segment"])}
            order = _parents_first(list(segment), tables)

            def read(conn: sa.Connection, segment: dict[str, TableRows] = segment,
                     order: list[str] = order) -> list[Any]:
                return [[name, _present(conn, placed[name], tables[name], segment[name])] for name in order]

            def change(conn: sa.Connection, segment: dict[str, TableRows] = segment,
                       order: list[str] = order) -> dict[str, Any]:
                out: dict[str, int] = {}
                for name in order:
                    part = segment[name]
                    clause = _clause(placed[name], part.columns)
                    fit = _fitter(source.engine.dialect.name)
                    for start in range(0, len(part.rows), 1000):
                        rows = [dict(zip(part.columns, map(fit, r), strict=True))
                                for r in part.rows[start:start + 1000]]
                        conn.execute(sa.insert(clause), rows)
                    out[name] = len(part.rows)
                return {"rows": out}

            try:
                data = run.db_unit(source.engine.connect, f"segment#{seg['segment']}", read, change)
            except SQLAlchemyError as exc:
                raise source.error(exc, f"cannot restore segment {seg['segment']} (rolled back; "
                                        f"'govkit runs resume {run.id}' continues)") from None
            for name, count in data.get("rows", {}).items():
                counts[name] = counts.get(name, 0) + int(count)
        done = run.phase_data("verified")
        if done is not None:
            return list(done["problems"])
        failpoints.reach("verify.started")
        problems = _verify_tables(source, archive, manifest, placed)
        run.phase("verified", {"problems": problems})
        failpoints.reach("run.verified")
        return problems


def _fitter(dialect: str) -> Any:
    """Values as the target's driver binds them: SQLite's takes no Decimal or UUID (an archive
    made on PostgreSQL restored into a SQLite file)."""
    from decimal import Decimal
    from uuid import UUID

    def fit(value: Any) -> Any:
        if dialect == "sqlite" and isinstance(value, Decimal):
            return int(value) if value == value.to_integral_value() else float(value)
        if dialect == "sqlite" and isinstance(value, UUID):
            return str(value)
        return value

    return fit


def _create_missing(source: Any, tables: dict[str, Any], placed: dict[str, str]) -> None:
    existing = {t.qualified.lower() for t in source.tables()}
    metadata = sa.MetaData()
    made = []
    for name, meta in tables.items():
        schema, _, short = placed[name].rpartition(".")
        if placed[name].lower() in existing:
            continue
        columns = [sa.Column(c["name"], _TYPES.get(c["kind"], sa.Text)(),
                             primary_key=c["name"] in meta["primary_key"]) for c in meta["columns"]]
        made.append(sa.Table(short, metadata, *columns, schema=schema or None))
    if made:
        metadata.create_all(source.engine, tables=made)


def _verify_tables(source: Any, archive: Archive, manifest: dict[str, Any], placed: dict[str, str]) -> list[str]:
    """Every archived row, read back by key, equals the archive's (as canonical values)."""
    problems = []
    with source.engine.connect() as conn:
        for seg in manifest["segments"]:
            for part in archive.read_segment(seg["segment"]):
                meta = manifest["tables"][part.table]
                pk = list(meta["primary_key"]) or list(part.columns)
                clause = _clause(placed[part.table], part.columns)
                at = [part.columns.index(k) for k in pk]
                expr = clause.c[pk[0]] if len(pk) == 1 else sa.tuple_(*[clause.c[k] for k in pk])
                wanted = {tuple(r[i] for i in at): r for r in part.rows}
                keys = list(wanted)
                got: dict[tuple[Any, ...], tuple[Any, ...]] = {}
                for start in range(0, len(keys), _CHUNK):
                    chunk = [k[0] if len(pk) == 1 else k for k in keys[start:start + _CHUNK]]
                    for row in conn.execute(sa.select(*[clause.c[c] for c in part.columns]).where(expr.in_(chunk))):
                        got[tuple(row[i] for i in at)] = tuple(row)
                missing = len(set(wanted) - set(got))
                differ = sum(1 for k, r in got.items() if _norm(r) != _norm(wanted[k]))
                if missing:
                    problems.append(f"{part.table}: {missing} archived row(s) not found after the restore")
                if differ:
                    problems.append(f"{part.table}: {differ} restored row(s) differ from the archive")
    return problems


def _norm(row: Sequence[Any]) -> bytes:
    """Rows compared as the archive renders them (a DATETIME read back from SQLite as text or as
    datetime, a Decimal or a float of the same value, compare equal)."""
    from datetime import date, datetime
    from decimal import Decimal

    def one(v: Any) -> Any:
        if isinstance(v, datetime):
            return v.isoformat(sep=" ")
        if isinstance(v, date):
            return v.isoformat()
        if isinstance(v, Decimal | float) or (isinstance(v, int) and not isinstance(v, bool)):
            return float(v)  # 100 archived from a NUMERIC column reads back as 100.0 from a REAL one
        if isinstance(v, memoryview | bytearray):
            return bytes(v)
        if isinstance(v, str) and len(v) >= 19 and v[4] == "-" and v[10] in " T":
            try:
                return datetime.fromisoformat(v).isoformat(sep=" ")
            except ValueError:
                return v
        return v

    return canonical([[one(v) for v in row]])


def _restore_files(run: ChangeRun, archive: Archive, manifest: dict[str, Any], root: Path,
                   counts: dict[str, int]) -> list[str]:
    problems = []
    for seg in manifest["segments"]:
        for part in archive.read_segment(seg["segment"]):
            for relpath, content in part.rows:
                path = (root / str(relpath)).resolve()
                if not path.is_relative_to(root.resolve()):
                    problems.append(f"{relpath}: outside {root}; not restored")
                    continue

                if run.journal.unit(f"file#{relpath}").status == "committed" or path.exists():
                    if path.exists() and path.read_bytes() != content:
                        problems.append(f"{relpath}: a different file is in its place; not restored")
                    counts[str(relpath)] = 1
                    continue
                path.parent.mkdir(parents=True, exist_ok=True)
                write_private_atomic(path, content)
                run.journal.append({"t": "commit", "unit": f"file#{relpath}", "data": {"records": 1}})
                counts[str(relpath)] = 1
    return problems


def resume_restore(run: ChangeRun, workspace: Any) -> dict[str, Any]:
    return execute_restore(run, workspace, run.plan())
