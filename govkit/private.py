"""Owner-only files and folders: for what govkit writes that holds personal data or keys.

Everything in ``.govkit/`` (inventory, DSR registry, audit log, keys, runs, certificates,
reports) and the clear DSR access package are readable by their owner only: files 0600,
folders 0700, from the first byte (created with that mode, not chmod-ed afterwards), and an
existing file or folder made by an older version is tightened when govkit next writes it.
What the user asks govkit to produce elsewhere (``anonymize --to``, ``--output``) is the
user's file and keeps the usual mode.

On Windows the modes mean little; the calls are harmless there. A chmod that fails (a
folder owned by someone else) is left alone: it is hardening, not a condition to stop on.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(folder: Path) -> Path:
    """Create ``folder`` (and missing parents) 0700, or tighten it to 0700; returns it."""
    # Path.mkdir(parents=True) gives the parents it creates the default mode: one at a time.
    missing = [folder, *(p for p in folder.parents if not p.exists())][::-1]
    for path in (p for p in missing if not p.exists()):
        path.mkdir(mode=DIR_MODE, exist_ok=True)
        with contextlib.suppress(OSError):
            os.chmod(path, DIR_MODE)
    with contextlib.suppress(OSError):
        os.chmod(folder, DIR_MODE)
    return folder


def private_file(path: Path) -> Path:
    """Make sure ``path`` exists and is 0600 (created so, never readable by others in between)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    with contextlib.suppress(OSError):
        os.chmod(path, FILE_MODE)
    return path


def write_private(path: Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` (replacing it), 0600 from the first byte."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with contextlib.suppress(OSError, AttributeError):
        os.fchmod(fd, FILE_MODE)  # an existing file keeps its mode through O_CREAT
    with os.fdopen(fd, "wb") as handle:
        handle.write(raw)


def write_private_atomic(path: Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all: a fresh 0600 temporary file beside it,
    fsynced, renamed over it, and the folder fsynced so the rename is durable. The one writer
    for state a crash must never leave half-written (keys, anchors, run files, certificates)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(OSError):
            os.chmod(temp, FILE_MODE)  # whatever the umask did
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def tighten(folder: Path) -> None:
    """Make ``folder`` and everything below it owner-only (after an extraction, say)."""
    private_dir(folder)
    for path in folder.rglob("*"):
        if path.is_symlink():
            continue
        with contextlib.suppress(OSError):
            os.chmod(path, DIR_MODE if path.is_dir() else FILE_MODE)
