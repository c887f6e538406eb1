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
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from govkit.change.run import decode_value, encode_value
from govkit.errors import GovkitError, UsageError
from govkit.private import private_dir, write_private_atomic

#: The workspace key purpose archives are sealed under.
KEY_PURPOSE = "archive"
ARCHIVES_DIR = "archives"
_MAGIC = b"GKAR1"
#: Values JSON keeps as they are (no type tag needed to read them back).
_PLAIN = (type(None), bool, int, str, float)
_ID = re.compile(r"^ARCHIVE-[0-9A-Za-z-]+$")


class ArchiveError(GovkitError):
    """An archive that cannot be read back as written (missing, tampered, wrong key)."""

    exit_code = 2


def _encode(value: Any) -> Any:
    """A value as typed JSON; a JSON document (a PostgreSQL ``json`` column) kept whole."""
    if isinstance(value, dict):
        return {"$json": json.dumps(value, sort_keys=True)}
    return encode_value(value)


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and "$json" in value:
        return json.loads(value["$json"])
    return decode_value(value)


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
        self._keys: dict[str | None, tuple[str, bytes]] = {}

    def key(self, key_id: str | None = None) -> tuple[str, bytes]:
        """(key id, subkey) for ``key_id`` (default: the primary), loaded once per archive."""
        if key_id not in self._keys:
            self._keys[key_id] = _keys(self.state_dir, key_id)
            self._keys[self._keys[key_id][0]] = self._keys[key_id]
        return self._keys[key_id]

    # -- writing -----------------------------------------------------------------------------

    def create(self) -> None:
        archives_dir(self.state_dir)
        private_dir(self.dir)

    def write_segment(self, name: str, tables: Sequence[TableRows], *, key_id: str | None = None) -> dict[str, Any]:
        """Seal ``tables`` into segment ``name``, read it back and compare; returns its manifest entry.

        The comparison is of the decrypted bytes with the bytes meant to be written (the rows'
        typed JSON): what is deleted next is exactly what can be restored. The manifest's digest
        is a keyed digest of those bytes, so :meth:`verify` needs no decoding.
        """
        used, key = self.key(key_id)
        body = json.dumps({"tables": [{"table": t.table, "columns": t.columns,
                                       "rows": [[v if type(v) in _PLAIN else _encode(v) for v in row]
                                                for row in t.rows]}
                                      for t in tables]}, separators=(",", ":"), ensure_ascii=False).encode()
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(key).encrypt(nonce, zlib.compress(body, 1), self._aad(name))
        header = json.dumps({"key_id": used}).encode()
        path = self.dir / f"{name}.seg"
        write_private_atomic(path, _MAGIC + len(header).to_bytes(4, "big") + header + nonce + sealed)
        if self._open(name) != body:  # pragma: no cover - a disk returning other bytes
            raise ArchiveError(f"archive {self.id} segment {name} did not read back as written; nothing was deleted")
        return {"segment": name, "key_id": used, "digest": self._digest(key, body),
                "rows": {t.table: len(t.rows) for t in tables}}

    @staticmethod
    def _digest(key: bytes, body: bytes) -> str:
        """A keyed digest of a segment's plain bytes (the manifest cannot be probed without the key)."""
        return hmac.new(key, b"digest\x00" + body, hashlib.sha256).hexdigest()

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

    def _open(self, name: str) -> bytes:
        """A segment's plain bytes, authenticated (AES-GCM with the archive id and name)."""
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
            _, key = self.key(str(header["key_id"]))
            nonce = raw[start + size:start + size + 12]
            return zlib.decompress(AESGCM(key).decrypt(nonce, raw[start + size + 12:], self._aad(name)))
        except InvalidTag:
            raise ArchiveError(f"archive {self.id}: segment {name} fails its authentication "
                               "(changed on disk, or another workspace's key)") from None
        except (ValueError, KeyError, zlib.error) as exc:
            raise ArchiveError(f"archive {self.id}: segment {name} is damaged ({type(exc).__name__})") from None

    def read_segment(self, name: str) -> list[TableRows]:
        """The rows of segment ``name``, with their types back."""
        body = json.loads(self._open(name))
        return [TableRows(t["table"], list(t["columns"]),
                          [tuple(v if type(v) in _PLAIN else _decode(v) for v in row) for row in t["rows"]])
                for t in body["tables"]]

    def verify(self) -> list[str]:
        """Problems found reading every segment back against the manifest (empty: sound)."""
        problems = []
        manifest = self.manifest()
        for seg in manifest.get("segments", []):
            try:
                body = self._open(seg["segment"])
            except ArchiveError as exc:
                problems.append(str(exc))
                continue
            if self._digest(self.key(seg["key_id"])[1], body) != seg["digest"]:
                problems.append(f"segment {seg['segment']}: its rows differ from the manifest's digest")
        return problems

    def authenticate(self, name: str) -> None:
        """Raise :class:`ArchiveError` unless segment ``name`` opens (authenticated, whole)."""
        self._open(name)

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
