"""Workspace key material: a versioned keyset, purpose-bound subkeys, and a CI override.

Why it is shaped this way:

* **A keyset, not a key.** ``.govkit/keys/keyset.json`` holds every key version the workspace
  has had. Rotation adds a new *primary* and keeps the old ones as *retired*, because audit
  records signed (and, later, data encrypted) under an old key must stay verifiable.
* **Purpose-bound subkeys.** Nothing ever uses the master material directly:
  :meth:`Keyset.derive` runs HKDF-SHA256 with the purpose in ``info`` ("audit-log",
  "pseudonymize", "encrypt", ...), so a key leaked or misused for one purpose says nothing
  about the others, and the same master can safely serve all of them.
* **Key ids are fingerprints.** An id is derived from the material (HKDF with its own
  ``info``), so the same 32 bytes have the same id whether they come from the keyset file or
  from ``GOVKIT_KEY`` in CI, and a record names its key without revealing it.
* **CI override.** ``GOVKIT_KEY`` (base64 or hex of 32 bytes) or ``GOVKIT_KEY_FILE`` (a file
  holding that) replace the keyset, so a pipeline can take the key from its secret store.
* **Fail early, fail loudly, never echo.** A key file other users can read, an empty or
  garbled ``GOVKIT_KEY``, a corrupt keyset: each is a one-line :class:`KeyMaterialError`
  (exit 2) raised when the keyset is loaded, i.e. before a command writes anything. No
  message, ``repr`` or log line ever contains key material.

POSIX permissions are enforced where they exist (not on Windows, whose ACLs differ).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import re
import secrets
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from govkit.errors import KeyMaterialError

KEYS_DIR = "keys"
KEYSET_FILE = "keyset.json"
ENV_KEY = "GOVKIT_KEY"
ENV_KEY_FILE = "GOVKIT_KEY_FILE"

KEY_BYTES = 32
KEYSET_FORMAT = 1
Status = Literal["primary", "retired"]

_PURPOSE = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
_HEX_KEY = re.compile(r"^[0-9a-fA-F]{64}$")
_POSIX = os.name == "posix"


@dataclass(frozen=True, slots=True)
class KeyVersion:
    """One key version. ``material`` is excluded from ``repr`` so it cannot leak into logs."""

    id: str
    created_at: str
    material: bytes = field(repr=False)
    status: Status

    def public(self) -> dict[str, str]:
        """What may be shown: id, creation time, status; never the material."""
        return {"id": self.id, "created_at": self.created_at, "status": self.status}


@dataclass(frozen=True, slots=True)
class Keyset:
    """The key versions in effect, and where they came from (for messages, not secrets)."""

    versions: tuple[KeyVersion, ...]
    source: str
    overridden: bool = False

    @property
    def primary(self) -> KeyVersion:
        return next(v for v in self.versions if v.status == "primary")

    def get(self, key_id: str) -> KeyVersion:
        for version in self.versions:
            if version.id == key_id:
                return version
        raise KeyMaterialError(f"key {key_id} is not in {self.source}")

    def has(self, key_id: str) -> bool:
        return any(v.id == key_id for v in self.versions)

    def derive(self, purpose: str, key_id: str | None = None, *, length: int = KEY_BYTES) -> tuple[str, bytes]:
        """A subkey for ``purpose`` from key ``key_id`` (default: the primary).

        Returns ``(key_id, subkey)`` so the caller can record which key version it used and
        derive the same subkey again (from a retired version, after rotation) to verify.
        """
        if not _PURPOSE.match(purpose):
            raise ValueError(f"key purpose must be lower-case words joined by '-', got {purpose!r}")
        version = self.primary if key_id is None else self.get(key_id)
        return version.id, _hkdf(version.material, b"govkit/v1/purpose/" + purpose.encode("ascii"), length)


# -- public API ------------------------------------------------------------------------------


def keys_dir(state_dir: Path) -> Path:
    return state_dir / KEYS_DIR


def keyset_path(state_dir: Path) -> Path:
    return keys_dir(state_dir) / KEYSET_FILE


def keyset_exists(state_dir: Path) -> bool:
    return keyset_path(state_dir).exists()


def env_override() -> str | None:
    """Which environment variable overrides the keyset (``GOVKIT_KEY``/``GOVKIT_KEY_FILE``), if any."""
    given = [name for name in (ENV_KEY, ENV_KEY_FILE) if name in os.environ]
    if len(given) > 1:
        raise KeyMaterialError(f"both {ENV_KEY} and {ENV_KEY_FILE} are set; set only one of them")
    return given[0] if given else None


def load_keyset(state_dir: Path) -> Keyset:
    """The keyset in effect: from ``GOVKIT_KEY``/``GOVKIT_KEY_FILE`` if set, else the workspace's.

    Raises :class:`KeyMaterialError` when there is no key, or it is unreadable, malformed or
    readable by other users, so callers learn of it before they change anything.
    """
    override = env_override()
    if override == ENV_KEY:
        material = parse_key(os.environ[ENV_KEY], ENV_KEY)
        return _single(material, ENV_KEY)
    if override == ENV_KEY_FILE:
        raw = os.environ[ENV_KEY_FILE]
        if not raw.strip():
            raise KeyMaterialError(f"{ENV_KEY_FILE} is set but empty; set it to the path of a key file")
        path = Path(raw).expanduser()
        text = _read_private(path, f"{ENV_KEY_FILE} {path}")
        return _single(parse_key(text, f"key file {path}"), f"{ENV_KEY_FILE} {path}")
    path = keyset_path(state_dir)
    if not path.exists():
        raise KeyMaterialError(
            f"no keys in {keys_dir(state_dir)}; run 'govkit keys init' (or set {ENV_KEY} or {ENV_KEY_FILE})"
        )
    return _parse_keyset(_read_private(path, f"keyset {path}"), path)


def init_keys(state_dir: Path) -> Keyset:
    """Create the workspace keyset with one primary key; refuse if one exists.

    Overwriting a keyset would make every record signed so far unverifiable, so the way to
    a new key is :func:`rotate_keys`, never a second ``init``.
    """
    with _keys_lock(state_dir):
        path = keyset_path(state_dir)
        if path.exists():
            raise KeyMaterialError(f"{path} already exists; use 'govkit keys rotate' for a new key")
        keyset = Keyset((_new_version("primary"),), f"keyset {path}")
        _write_keyset(path, keyset)
        return keyset


def rotate_keys(state_dir: Path) -> Keyset:
    """Add a new primary key; the previous ones stay, retired, to verify and decrypt old data.

    Refused while ``GOVKIT_KEY``/``GOVKIT_KEY_FILE`` is set: the override, not the file, is the
    key in effect then, and rotating a file nobody uses would only mislead.
    """
    require_no_override("rotate")
    with _keys_lock(state_dir):
        path = keyset_path(state_dir)
        if not path.exists():
            raise KeyMaterialError(f"no keys in {keys_dir(state_dir)}; run 'govkit keys init' first")
        current = _parse_keyset(_read_private(path, f"keyset {path}"), path)
        retired = tuple(
            KeyVersion(v.id, v.created_at, v.material, "retired") for v in current.versions
        )
        keyset = Keyset((*retired, _new_version("primary")), current.source)
        _write_keyset(path, keyset)
        return keyset


def require_no_override(doing: str) -> None:
    """Refuse to ``doing`` the workspace keyset while an environment variable overrides it."""
    override = env_override()
    if override is not None:
        raise KeyMaterialError(
            f"{override} is set and overrides the workspace keyset; {doing} that key in your secret "
            f"store, or unset {override} to {doing} the keyset"
        )


def derive(state_dir: Path, purpose: str, key_id: str | None = None) -> tuple[str, bytes]:
    """Shorthand for ``load_keyset(state_dir).derive(purpose, key_id)``."""
    return load_keyset(state_dir).derive(purpose, key_id)


def parse_key(text: str, where: str) -> bytes:
    """32 key bytes from base64 (standard or URL-safe, padded or not) or hex text.

    The message on failure says what was expected and never quotes the value.
    """
    value = text.strip()
    if not value:
        raise KeyMaterialError(f"{where} is empty; expected {KEY_BYTES} random bytes as base64 or hex")
    if _HEX_KEY.match(value):
        return bytes.fromhex(value)
    decoded: bytes | None = None
    for alphabet in (b"+/", b"-_"):
        try:
            decoded = base64.b64decode(value + "=" * (-len(value) % 4), altchars=alphabet, validate=True)
            break
        except (binascii.Error, ValueError):
            continue
    if decoded is None or len(decoded) != KEY_BYTES:
        raise KeyMaterialError(
            f"{where} does not hold a key: expected {KEY_BYTES} bytes as base64 (44 characters) "
            f"or hex (64 characters); generate one with: python -c \"import secrets, base64; "
            f"print(base64.b64encode(secrets.token_bytes(32)).decode())\""
        )
    return decoded


def key_id_of(material: bytes) -> str:
    """A stable, non-secret fingerprint of ``material`` (HKDF with its own ``info``)."""
    return "k" + _hkdf(material, b"govkit/v1/key-id", 8).hex()


# -- internals -------------------------------------------------------------------------------


def _hkdf(material: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(material)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _new_version(status: Status) -> KeyVersion:
    material = secrets.token_bytes(KEY_BYTES)
    return KeyVersion(key_id_of(material), _now(), material, status)


def _single(material: bytes, source: str) -> Keyset:
    version = KeyVersion(key_id_of(material), "", material, "primary")
    return Keyset((version,), source, overridden=True)


def _read_private(path: Path, what: str) -> str:
    """Read a secret file, refusing it if group or others may read or write it.

    The mode is taken from the open descriptor (``fstat``), so the file checked is the file
    read. Like OpenSSH, only group/other bits count: 0600 and 0400 pass, 0640 and 0644 fail.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise KeyMaterialError(f"{what}: no such file") from None
    except OSError as exc:
        raise KeyMaterialError(f"{what}: cannot open it ({exc.strerror})") from None
    try:
        handle = os.fdopen(fd, "rb")
    except OSError as exc:  # a folder where the file should be
        os.close(fd)
        raise KeyMaterialError(f"{what}: cannot read it ({exc.strerror})") from None
    with handle:
        if _POSIX:
            mode = os.fstat(handle.fileno()).st_mode & 0o777
            if mode & 0o077:
                raise KeyMaterialError(
                    f"{what} has mode {mode:04o}, so other users can read it; "
                    f"set it to owner-only with: chmod 600 {path}"
                )
        try:
            return handle.read().decode("utf-8")
        except UnicodeDecodeError:
            raise KeyMaterialError(f"{what}: not text; expected base64 or hex key text") from None
        except OSError as exc:
            raise KeyMaterialError(f"{what}: cannot read it ({exc.strerror})") from None


def _parse_keyset(text: str, path: Path) -> Keyset:
    def bad(reason: str) -> KeyMaterialError:
        return KeyMaterialError(f"{path} is not a valid govkit keyset ({reason}); restore it from your backup")

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise bad(f"not JSON at line {exc.lineno}") from None
    if not isinstance(data, dict) or data.get("format") != KEYSET_FORMAT or not isinstance(data.get("keys"), list):
        raise bad(f"expected an object with format {KEYSET_FORMAT} and a list of keys")
    versions: list[KeyVersion] = []
    for number, entry in enumerate(data["keys"], 1):
        versions.append(_parse_version(entry, number, bad))
    primaries = sum(v.status == "primary" for v in versions)
    if primaries != 1:
        raise bad(f"{primaries} primary keys; there must be exactly one")
    if len({v.id for v in versions}) != len(versions):
        raise bad("two keys share an id")
    return Keyset(tuple(versions), f"keyset {path}")


def _parse_version(entry: Any, number: int, bad: Callable[[str], KeyMaterialError]) -> KeyVersion:
    if not isinstance(entry, dict):
        raise bad(f"key #{number} is not an object")
    fields = {name: entry.get(name) for name in ("id", "created_at", "material", "status")}
    if not all(isinstance(value, str) for value in fields.values()):
        raise bad(f"key #{number} needs string fields id, created_at, material and status")
    key_id, created, material_text, status = (str(value) for value in fields.values())
    if status not in ("primary", "retired"):
        raise bad(f"key #{number} has status {status!r}; expected primary or retired")
    try:
        material = base64.b64decode(material_text, validate=True)
    except (binascii.Error, ValueError):
        material = b""
    if len(material) != KEY_BYTES:
        raise bad(f"key #{number} ({key_id}) does not hold {KEY_BYTES} base64 bytes")
    if key_id_of(material) != key_id:
        raise bad(f"key #{number} ({key_id}) does not match its material")
    return KeyVersion(key_id, created, material, "primary" if status == "primary" else "retired")


def _write_keyset(path: Path, keyset: Keyset) -> None:
    """Write atomically (temp file, fsync, rename), owner-only from the first byte."""
    document = {
        "format": KEYSET_FORMAT,
        "note": "govkit workspace keys. Secret: keep out of version control; back up securely.",
        "keys": [
            {**v.public(), "material": base64.b64encode(v.material).decode("ascii")} for v in keyset.versions
        ],
    }
    from govkit.private import write_private_atomic

    write_private_atomic(path, json.dumps(document, indent=2) + "\n")


def _ensure_private_dir(folder: Path) -> None:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if _POSIX:
        os.chmod(folder, 0o700)


@contextlib.contextmanager
def _keys_lock(state_dir: Path) -> Iterator[None]:
    folder = keys_dir(state_dir)
    _ensure_private_dir(folder)
    with exclusive_lock(folder / ".lock"):
        yield


@contextlib.contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``path`` (created 0600) for the ``with`` block.

    ``flock`` on POSIX, ``msvcrt.locking`` on Windows; the lock ends with the process, so a
    crashed holder never leaves it stuck.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if sys.platform == "win32":
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (a no-op where directories cannot be opened)."""
    if not _POSIX:
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
