"""Encrypted archives of rows (and files) that retention removed, and bringing them back.

An archive is a folder ``.govkit/archives/ARCHIVE-ID/`` (0700) of *segments*, one per
retention unit, and a ``manifest.json`` written when the run ends:

* a segment holds the unit's rows, per table, as typed JSON (:func:`~govkit.change.run.encode_value`,
  so a ``datetime``, ``Decimal`` or ``bytes`` comes back as the same type), zlib-compressed and
  sealed with AES-GCM under the workspace subkey for purpose ``archive`` (the key version is
  recorded, so archives stay readable after ``govkit keys rotate``); the archive id and the
  segment name are the associated data, so a segment cannot be swapped between archives or units;
* the manifest (0600, no personal data) names the source, the rule, the cutoff, the tables with
  their columns and primary keys, and per segment its row counts and a keyed digest of its rows.

Why one segment per unit: a unit is one database transaction of the change engine. Its segment
is written, fsynced, read back and compared before the unit deletes anything, in the unit's own
transaction; a crash before the commit leaves a segment the redo of the unit overwrites with the
same rows, a crash after it leaves the segment and the rows gone. The manifest is made from the
segments at the end (also by a resume), so it never disagrees with them.

Restoring inserts the rows back, parents before children, through the change engine (one unit
per segment: resumable, never inserting a row twice), into the source or into ``--to URL``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from govkit.change.run import canonical, decode_value, encode_value
from govkit.errors import GovkitError, UsageError
from govkit.private import private_dir, write_private_atomic

#: The workspace key purpose archives are sealed under.
KEY_PURPOSE = "archive"
ARCHIVES_DIR = "archives"
_MAGIC = b"GKAR1"
_ID = re.compile(r"^ARCHIVE-[0-9A-Za-z-]+$")


class ArchiveError(GovkitError):
    """An archive that cannot be read back as written (missing, tampered, wrong key)."""

    exit_code = 2


def archives_dir(state_dir: Path) -> Path:
    return private_dir(state_dir / ARCHIVES_DIR)


def new_archive_id(run_id: str) -> str:
    """The archive of a run is named after it (a resume finds it again)."""
    return "ARCHIVE-" + run_id.removeprefix("RUN-")


def _keys(state_dir: Path, key_id: str | None = None) -> tuple[str, bytes]:
    from govkit.keys import load_keyset

    return load_keyset(state_dir).derive(KEY_PURPOSE, key_id)


@dataclass(slots=True)
class TableRows:
    """The rows of one table in a segment."""

    table: str
    columns: list[str]
    rows: Sequence[Sequence[Any]] = field(default_factory=list)


class Archive:
    """One archive folder: write segments (a retention run), read them (restore, verify)."""

    def __init__(self, state_dir: Path, archive_id: str) -> None:
        if not _ID.match(archive_id):
            raise UsageError(f"{archive_id!r} is not an archive id (ARCHIVE-...; see 'govkit archive list')")
        self.state_dir = state_dir
        self.id = archive_id
        self.dir = state_dir / ARCHIVES_DIR / archive_id

    # -- writing -----------------------------------------------------------------------------

    def create(self) -> None:
        archives_dir(self.state_dir)
        private_dir(self.dir)

    def write_segment(self, name: str, tables: Sequence[TableRows], *, key_id: str | None = None) -> dict[str, Any]:
        """Seal ``tables`` into segment ``name``, read it back and compare; returns its manifest entry.

        The comparison is over the decrypted rows, against the rows given: what is deleted next
        is exactly what can be restored.
        """
        used, key = _keys(self.state_dir, key_id)
        body = json.dumps({"tables": [{"table": t.table, "columns": t.columns,
                                       "rows": [[encode_value(v) for v in row] for row in t.rows]}
                                      for t in tables]}, separators=(",", ":"), ensure_ascii=False).encode()
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(key).encrypt(nonce, zlib.compress(body, 6), self._aad(name))
        header = json.dumps({"key_id": used}).encode()
        path = self.dir / f"{name}.seg"
        write_private_atomic(path, _MAGIC + len(header).to_bytes(4, "big") + header + nonce + sealed)
        digest = self.rows_digest(used, tables)
        back = self.read_segment(name)
        if self.rows_digest(used, back) != digest:  # pragma: no cover - a disk returning other bytes
            raise ArchiveError(f"archive {self.id} segment {name} did not read back as written; nothing was deleted")
        return {"segment": name, "key_id": used, "digest": digest,
                "rows": {t.table: len(t.rows) for t in tables}}

    def rows_digest(self, key_id: str, tables: Iterable[TableRows]) -> str:
        """A keyed digest of the rows (under the archive key: the manifest cannot be probed)."""
        _, key = _keys(self.state_dir, key_id)
        mac = hmac.new(key, b"digest", hashlib.sha256)
        for t in tables:
            mac.update(canonical([[t.table, t.columns], *(list(r) for r in t.rows)]))
        return mac.hexdigest()

    def write_manifest(self, meta: dict[str, Any], segments: list[dict[str, Any]]) -> dict[str, Any]:
        totals: dict[str, int] = {}
        for seg in segments:
            for table, count in seg["rows"].items():
                totals[table] = totals.get(table, 0) + int(count)
        manifest = {**meta, "id": self.id, "segments": segments, "rows": totals,
                    "total_rows": sum(totals.values())}
        write_private_atomic(self.dir / "manifest.json",
                             json.dumps(manifest, indent=2, sort_keys=True, default=str).encode())
        return manifest

    # -- reading -----------------------------------------------------------------------------

    def exists(self) -> bool:
        return self.dir.is_dir()

    def manifest(self) -> dict[str, Any]:
        path = self.dir / "manifest.json"
        if not path.is_file():
            if self.dir.is_dir():
                raise ArchiveError(f"archive {self.id} has no manifest: its run has not finished "
                                   "('govkit runs' lists it; resume it first)")
            raise UsageError(f"no archive {self.id} (see 'govkit archive list')")
        try:
            data: dict[str, Any] = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ArchiveError(f"{path}: unreadable manifest ({type(exc).__name__})") from None
        return data

    def read_segment(self, name: str) -> list[TableRows]:
        path = self.dir / f"{name}.seg"
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ArchiveError(f"archive {self.id}: segment {name} is missing ({type(exc).__name__})") from None
        if not raw.startswith(_MAGIC) or len(raw) < len(_MAGIC) + 4:
            raise ArchiveError(f"archive {self.id}: segment {name} is not a govkit archive segment")
        size = int.from_bytes(raw[len(_MAGIC):len(_MAGIC) + 4], "big")
        start = len(_MAGIC) + 4
        try:
            header = json.loads(raw[start:start + size])
            _, key = _keys(self.state_dir, str(header["key_id"]))
            nonce = raw[start + size:start + size + 12]
            body = zlib.decompress(AESGCM(key).decrypt(nonce, raw[start + size + 12:], self._aad(name)))
        except InvalidTag:
            raise ArchiveError(f"archive {self.id}: segment {name} fails its authentication "
                               "(changed on disk, or another workspace's key)") from None
        except (ValueError, KeyError, zlib.error) as exc:
            raise ArchiveError(f"archive {self.id}: segment {name} is damaged ({type(exc).__name__})") from None
        return [TableRows(t["table"], list(t["columns"]), [tuple(decode_value(v) for v in row) for row in t["rows"]])
                for t in json.loads(body)["tables"]]

    def verify(self) -> list[str]:
        """Problems found reading every segment back against the manifest (empty: sound)."""
        problems = []
        manifest = self.manifest()
        for seg in manifest.get("segments", []):
            try:
                tables = self.read_segment(seg["segment"])
            except ArchiveError as exc:
                problems.append(str(exc))
                continue
            if self.rows_digest(seg["key_id"], tables) != seg["digest"]:
                problems.append(f"segment {seg['segment']}: rows differ from the manifest's digest")
        return problems

    def _aad(self, name: str) -> bytes:
        return f"govkit-archive/{self.id}/{name}".encode()


def list_archives(state_dir: Path) -> list[dict[str, Any]]:
    """Every archive of the workspace, newest first: its manifest, or ``status: unfinished``."""
    folder = state_dir / ARCHIVES_DIR
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.iterdir(), reverse=True):
        if not path.is_dir() or not _ID.match(path.name):
            continue
        archive = Archive(state_dir, path.name)
        try:
            manifest = archive.manifest()
            manifest.setdefault("status", "complete")
        except GovkitError:
            manifest = {"id": path.name, "status": "unfinished",
                        "segments": [{"segment": p.stem} for p in sorted(path.glob("*.seg"))]}
        out.append(manifest)
    return out


def segment_name(number: int, table: str) -> str:
    """A stable segment name for unit ``number`` of ``table`` (file-system safe)."""
    safe = re.sub(r"[^0-9A-Za-z_.-]", "_", table)[:60]
    return f"{number:06d}-{safe}"


def remove_segment(archive: Archive, name: str) -> None:
    path = archive.dir / f"{name}.seg"
    if path.exists():
        os.unlink(path)
