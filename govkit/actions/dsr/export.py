"""Access and portability packages: the subject's rows as HTML, JSON and CSV, with a manifest.

A package is the one place raw personal data deliberately leaves govkit (DESIGN.md: "unless a
command exists to hand them over"), so it is built to be checked and sent safely:

* ``manifest.json`` lists every file with its SHA-256, so the recipient (or an auditor) can
  prove the package is the one that was produced;
* ``--encrypt`` packs everything into one file encrypted with a passphrase (scrypt to derive
  the key, AES-256-GCM to encrypt and authenticate), so it can go by e-mail and the
  passphrase by another channel. :func:`decrypt_package` (``govkit dsr decrypt``) opens it;
  the format is simple enough to open without govkit (see :data:`FORMAT_NOTE`).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
import secrets
import shutil
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from govkit.actions.dsr.files import file_rows
from govkit.actions.dsr.locate import LocateReport, TableHit, selection, source_config, table_clause
from govkit.actions.dsr.registry import Request
from govkit.errors import UsageError
from govkit.inventory.store import AssetRecord, Inventory
from govkit.policy.loader import Policy, default_category
from govkit.policy.resolve import Resolver, Where
from govkit.private import private_dir, tighten, write_private
from govkit.sources.database import DatabaseSource
from govkit.workspace import Workspace

MAGIC = b"GOVKIT-DSR-1\n"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
FORMAT_NOTE = (
    "file = MAGIC (13 bytes 'GOVKIT-DSR-1\\n') + salt (16) + nonce (12) + AES-256-GCM ciphertext of a "
    "tar.gz, tag appended, MAGIC as associated data; key = scrypt(passphrase, salt, n=2**15, r=8, p=1, 32 bytes)"
)


@dataclass(slots=True)
class TableData:
    """The rows of one table handed over, with what the policy says they are and why they are held."""

    source: str
    source_name: str | None
    asset: str
    role: str
    via: list[str]
    columns: list[str]
    rows: list[dict[str, Any]]
    categories: list[str] = field(default_factory=list)
    purposes: list[str] = field(default_factory=list)
    legal_bases: list[str] = field(default_factory=list)
    #: GDPR art. 15(1)(c), 15(2): who receives the data, and transfers abroad (from the
    #: policy's processing activities)
    recipients: list[str] = field(default_factory=list)
    transfers: list[str] = field(default_factory=list)
    #: art. 15(1)(d): how long it is kept (the retention rule), or None when the policy has none
    retention: str | None = None
    #: ``table`` or ``file``; for files the reader's format (``csv``, ``jsonl``, ``text``, ...)
    kind: str = "table"
    format: str | None = None
    #: files in CSV/TSV/JSONL: each row's record as field/value pairs (JSON paths for JSONL),
    #: None where a line is not a whole record (a quoted multi-line CSV row)
    records: list[dict[str, Any] | None] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}

    @property
    def file_name(self) -> str:
        """The asset's name without a file suffix (``crm_export.csv`` -> ``crm_export``): the
        package adds its own ``.csv``."""
        if self.kind != "file":
            return self.asset
        name = self.asset
        for suffix in (".gz", ".csv", ".tsv", ".jsonl", ".ndjson", ".json", ".log", ".txt"):
            if name.lower().endswith(suffix) and len(name) > len(suffix):
                name = name[: -len(suffix)]
        return name


#: Said wherever the policy does not state what GDPR art. 15(1) asks for.
NOT_STATED = "not stated in the policy"

#: The subject's rights to be told of (GDPR art. 15(1)(e), (f); CCPA 1798.130(a)(5); PIPL
#: art. 17(1)(3)), per regime: the right and where it is.
RIGHTS: dict[str, list[tuple[str, str]]] = {
    "gdpr": [("to have inaccurate data rectified", "GDPR art. 16"), ("to have it erased", "GDPR art. 17"),
             ("to restrict its processing", "GDPR art. 18"), ("to receive it to take elsewhere", "GDPR art. 20"),
             ("to object to its processing", "GDPR art. 21")],
    "ccpa": [("to know what is collected and shared", "CCPA 1798.110, 1798.115"),
             ("to have it deleted", "CCPA 1798.105"), ("to have inaccurate data corrected", "CCPA 1798.106"),
             ("to opt out of its sale or sharing", "CCPA 1798.120"),
             ("to limit the use of sensitive personal information", "CCPA 1798.121"),
             ("not to be discriminated against for exercising these rights", "CCPA 1798.125")],
    "pipl": [("to restrict or refuse its processing", "PIPL art. 44"), ("to copy it and transfer it", "PIPL art. 45"),
             ("to have it corrected or completed", "PIPL art. 46"), ("to have it deleted", "PIPL art. 47"),
             ("to have the processing rules explained", "PIPL art. 48")],
}
#: Where to complain (GDPR art. 15(1)(f), art. 77), per regime.
COMPLAINT: dict[str, str] = {
    "gdpr": "You may lodge a complaint with a supervisory authority, in particular in the EU member state where "
            "you live, work or where the alleged infringement took place (GDPR art. 77).",
    "ccpa": "You may contact the California Privacy Protection Agency (cppa.ca.gov) or the California Attorney "
            "General.",
    "pipl": "You may complain to or report to the departments fulfilling personal information protection duties "
            "(PIPL art. 65); if your request is refused you may sue in a people's court (PIPL art. 50).",
}


def access_information(request: Request, policy: Policy | None) -> dict[str, Any]:
    """What the package tells the subject beyond the data (GDPR art. 15(1)): who the controller
    is, their rights and where to complain; per table the rest is on :class:`TableData`."""
    processing = policy.doc.processing if policy is not None else None
    return {
        "regime": request.regime,
        "controller": (processing.controller if processing else None) or NOT_STATED,
        "dpo": (processing.dpo if processing else None) or NOT_STATED,
        "rights": [{"right": r, "cite": c} for r, c in RIGHTS.get(request.regime, RIGHTS["gdpr"])],
        "complaint": COMPLAINT.get(request.regime, COMPLAINT["gdpr"]),
        "source": "where we did not collect the data from you, its source is " + NOT_STATED,
    }


def _retention_text(resolver: Resolver, where: Where, categories: set[str]) -> str | None:
    chosen = resolver.retention(where, categories)
    if chosen is None:
        return None
    rule = chosen.rule
    return f"{rule.period.human()} after {rule.timestamp}, then {rule.action}"


def _records(path: Path | None, fmt: str | None, rows: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
    """Each matched line of a CSV/TSV/JSONL file as field/value pairs (by the header, or by
    JSON path), so the subject reads fields, not raw lines; None where a line does not parse."""
    from itertools import islice

    from govkit.actions.dsr.files import read_lines

    if path is None or fmt not in ("csv", "tsv", "jsonl"):
        return []
    if fmt == "jsonl":
        out: list[dict[str, Any] | None] = []
        for row in rows:
            try:
                value = json.loads(row["text"])
            except ValueError:
                out.append(None)
                continue
            out.append(dict(_json_paths(value, "$")) if isinstance(value, dict) else None)
        return out
    lines = read_lines(path)
    header_line = next(islice(lines, 1), None) if lines is not None else None
    if header_line is None:
        return [None for _ in rows]
    delimiter = "\t" if fmt == "tsv" else _delimiter(header_line)
    header = next(csv.reader([header_line], delimiter=delimiter))
    parsed: list[dict[str, Any] | None] = []
    for row in rows:
        cells = next(csv.reader([row["text"]], delimiter=delimiter), [])
        parsed.append(dict(zip(header, cells, strict=True)) if len(cells) == len(header) else None)
    return parsed


def _delimiter(header: str) -> str:
    try:
        return csv.Sniffer().sniff(header, delimiters=",;|\t").delimiter
    except csv.Error:
        return ","


def _json_paths(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Leaves of a JSON value by JSON path (``$.contact.street``, ``$.tags[0]``), as the scan names them."""
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from _json_paths(item, f"{path}.{key}")
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            yield from _json_paths(item, f"{path}[{index}]")
    else:
        yield path, value


@dataclass(slots=True)
class ExportResult:
    directory: Path
    files: list[dict[str, Any]]
    tables: int
    rows: int
    encrypted: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"directory": str(self.directory), "files": self.files, "tables": self.tables, "rows": self.rows,
                "encrypted": str(self.encrypted) if self.encrypted else None}


def _plain(value: Any) -> Any:
    """A JSON/CSV-safe form of a database value (bytes as base64, decimals and dates as text)."""
    if isinstance(value, bytes | bytearray | memoryview):
        return "base64:" + base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _categories(findings: list[Any], asset: str, policy: Policy) -> set[str]:
    """Categories of the personal data the inventory found in ``asset``, as the policy classes them."""
    entities_doc = policy.doc.classification.entities
    categories: set[str] = set()
    for f in findings:
        if f.asset == asset:
            entry = entities_doc.get(f.entity_type)
            categories.add((entry.category if entry is not None and entry.category else None)
                           or default_category(f.entity_type))
    return categories


def _asset_map(inventory: Inventory, source: str) -> dict[str, AssetRecord]:
    return {a.name: a for a in inventory.assets(source)}


def collect(workspace: Workspace, report: LocateReport, *, policy: Policy, inventory: Inventory) -> list[TableData]:
    """Read every row the report attributes to the subject, with categories and purposes from the policy."""
    resolver = Resolver(policy)
    out: list[TableData] = []
    by_source: dict[str, list[TableHit]] = {}
    for hit in report.data():  # by the inventory's key: sources scanned by URL have no name
        by_source.setdefault(hit.source, []).append(hit)
    for display, hits in by_source.items():
        name = hits[0].source_name
        assets = _asset_map(inventory, display)
        findings = inventory.rows(display)
        config = source_config(workspace, display, name)
        if config.kind != "database":
            from govkit.actions.dsr.files import file_path
            from govkit.actions.dsr.rewrite import file_format

            for hit in hits:
                categories = _categories(findings, hit.asset, policy)
                where = Where(hit.source, name, hit.asset)
                activities = resolver.activities(where, categories)
                path = file_path(config, hit.asset)
                fmt = file_format(path) if path is not None and path.is_file() else None
                lines = file_rows(config, hit.asset, hit.keys)
                out.append(TableData(
                    hit.source, name, hit.asset, hit.role, list(hit.via), ["line", "text"],
                    lines, sorted(categories),
                    sorted({p for a in activities for p in a.purposes}),
                    sorted({a.legal_basis for a in activities if a.legal_basis}),
                    sorted({r for a in activities for r in a.recipients}),
                    sorted({t for a in activities for t in a.transfers}),
                    _retention_text(resolver, where, categories), "file", fmt, _records(path, fmt, lines),
                ))
            continue
        with DatabaseSource(config.resolved_url()) as source, source.engine.connect() as conn:
            for hit in hits:
                asset = assets[hit.asset]
                table = table_clause(asset)
                columns = [f["name"] for f in asset.fields]
                rows: list[dict[str, Any]] = []
                for clause in selection(table, hit.key_columns, hit.keys):
                    query = sa.select(*[table.c[c] for c in columns]).where(clause)
                    rows += [{c: _plain(v) for c, v in zip(columns, r, strict=True)} for r in conn.execute(query)]
                categories = _categories(findings, hit.asset, policy)
                where = Where(hit.source, name, hit.asset)
                activities = resolver.activities(where, categories)
                out.append(TableData(
                    hit.source, name, hit.asset, hit.role, list(hit.via), columns, rows, sorted(categories),
                    sorted({p for a in activities for p in a.purposes}),
                    sorted({a.legal_basis for a in activities if a.legal_basis}),
                    sorted({r for a in activities for r in a.recipients}),
                    sorted({t for a in activities for t in a.transfers}),
                    _retention_text(resolver, where, categories),
                ))
    return out


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "table"


def write_package(
    workspace: Workspace, request: Request, tables: list[TableData], target: Path, *,
    passphrase: str | None = None, policy: Policy | None = None,
) -> ExportResult:
    """Write the package to ``target`` (a new or empty folder); encrypted into one file if ``passphrase``."""
    from govkit import __version__
    from govkit.report.templates import environment

    if target.exists() and any(target.iterdir()):
        raise UsageError(f"{target} is not empty; export into a new folder")
    # The subject's data in clear: files 0600 in 0700 folders, like everything in .govkit/.
    private_dir(target)
    staging = Path(tempfile.mkdtemp(prefix="govkit-dsr-")) if passphrase else target
    try:
        now = datetime.now(UTC).replace(microsecond=0)
        meta = {"request_id": request.id, "type": request.type, "regime": request.regime,
                "received": request.received.isoformat(), "generated_at": now.isoformat(),
                "govkit_version": __version__}
        info = access_information(request, policy)
        written: dict[str, bytes] = {}
        written["data.json"] = json.dumps({**meta, "information": info, "tables": [t.to_dict() for t in tables]},
                                          indent=2, ensure_ascii=False, default=str).encode("utf-8")
        for t in tables:
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, fieldnames=t.columns, lineterminator="\n")
            writer.writeheader()
            writer.writerows(t.rows)
            folder = f"csv/{_safe_name(t.source_name or 'source')}/"
            stem, number = _safe_name(t.file_name), 1
            while (rel_csv := folder + (f"{stem}.csv" if number == 1 else f"{stem}-{number}.csv")) in written:
                number += 1  # crm.csv and crm.jsonl in one source: crm.csv, crm-2.csv
            written[rel_csv] = buffer.getvalue().encode("utf-8")
        html = environment(workspace.root).get_template("dsr_export.html.j2").render(
            meta=meta, tables=tables, total=sum(len(t.rows) for t in tables), info=info, not_stated=NOT_STATED)
        written["report.html"] = html.encode("utf-8")
        files = []
        for rel, content in sorted(written.items()):
            path = staging / rel
            private_dir(path.parent)
            write_private(path, content)
            files.append({"path": rel, "sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content)})
        manifest = {**meta, "files": files}
        write_private(staging / "manifest.json", json.dumps(manifest, indent=2))
        result = ExportResult(target, files, len(tables), sum(len(t.rows) for t in tables))
        if passphrase:
            result.encrypted = encrypt_folder(staging, target / f"{request.id}.govkit-dsr", passphrase)
        return result
    finally:
        if passphrase:
            shutil.rmtree(staging, ignore_errors=True)


def verify_manifest(folder: Path, package: Path | None = None) -> list[str]:
    """Files whose SHA-256 differs from the manifest, or that are missing (empty: the package
    is intact). A missing or malformed manifest is a UsageError naming ``package`` (or the manifest)."""
    where = package if package is not None else folder / "manifest.json"
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        entries = [(str(f["path"]), str(f["sha256"])) for f in manifest["files"]]
    except FileNotFoundError:
        raise UsageError(f"{where}: the package has no manifest.json, so it cannot be checked") from None
    except (OSError, ValueError, TypeError, KeyError, RecursionError) as exc:  # RecursionError: nested too deep
        raise UsageError(f"{where}: the package's manifest.json is not valid ({type(exc).__name__})") from None
    root = folder.resolve()
    damaged = []
    for rel, digest in entries:
        path = (folder / rel).resolve()
        try:
            same = path.is_relative_to(root) and hashlib.sha256(path.read_bytes()).hexdigest() == digest
        except OSError:
            same = False
        if not same:
            damaged.append(rel)
    return damaged


def _key(passphrase: str, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P).derive(passphrase.encode("utf-8"))


def encrypt_folder(folder: Path, target: Path, passphrase: str) -> Path:
    """tar.gz ``folder`` and encrypt it into ``target`` (see :data:`FORMAT_NOTE`)."""
    if len(passphrase) < 8:
        raise UsageError("the passphrase must be at least 8 characters")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                tar.add(path, arcname=str(path.relative_to(folder)))
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    sealed = AESGCM(_key(passphrase, salt)).encrypt(nonce, buffer.getvalue(), MAGIC)
    write_private(target, MAGIC + salt + nonce + sealed)
    return target


def decrypt_package(path: Path, passphrase: str, target: Path) -> list[str]:
    """Decrypt and unpack a package into ``target``; returns the files' relative paths."""
    blob = path.read_bytes()
    if not blob.startswith(MAGIC):
        raise UsageError(f"{path} is not an encrypted govkit DSR package")
    body = blob[len(MAGIC):]
    if len(body) < 16 + 12 + 16:  # salt, nonce, the GCM tag
        raise UsageError(f"{path}: the package is cut short ({len(blob)} bytes); ask for it again")
    salt, nonce, sealed = body[:16], body[16:28], body[28:]
    try:
        plain = AESGCM(_key(passphrase, salt)).decrypt(nonce, sealed, MAGIC)
    except InvalidTag:
        raise UsageError(f"{path}: wrong passphrase, or the package is damaged") from None
    try:
        with tarfile.open(fileobj=io.BytesIO(plain), mode="r:gz") as tar:
            members = tar.getmembers()
            for member in members:  # every member checked before anything is written
                tarfile.data_filter(member, str(target.resolve()))
            names = [m.name for m in members if m.isfile()]
            private_dir(target)
            tar.extractall(target, filter="data")
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise UsageError(f"{path}: decrypted, but its contents are not a govkit DSR package "
                         f"({type(exc).__name__}); nothing was unpacked") from None
    tighten(target)  # the subject's data in clear: owner-only, whatever modes the archive carried
    return names
