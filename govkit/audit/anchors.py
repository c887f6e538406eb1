"""Anchors: the state that cites audit records keeps the last audit record it saw.

An **anchor** is ``(seq, hash)`` of an audit record: its sequence number and the SHA-256 of
its stored line (:meth:`Record.digest`, what the next record's ``prev`` holds). A store that
depends on the audit log (the DSR registry cites records in its timeline, the inventory was
written by audited scans, a change run's journal names its audit records) keeps the newest
anchor it has seen. ``govkit log verify`` then fails when the log is missing, ends before an
anchor (records were removed, or the log was rolled back to an older copy), or holds another
record at an anchor's seq (the log was replaced). An anchor holds two numbers and never any
personal data, parameter or count.

Holders, all under the state folder ``.govkit/`` (the labels :func:`collect` gives them):

``anchors/<holder>.json``
    Written by :func:`record_anchor` (or :func:`remember`). The audit log itself keeps one,
    ``anchors/audit.json``, moved on every append: outside ``audit/``, so deleting the log,
    its head or the whole ``audit/`` folder leaves it behind.
``dsr.db``
    Table ``dsr_meta``, key ``audit_anchor`` (value: ``{"seq": int, "hash": str}``), moved
    whenever the registry is written during an audited action or a timeline event is
    stamped with an ``audit_seq``. A registry without that row (written before anchors
    existed) is checked by its timeline instead: its highest ``audit_seq``, seq only. Once
    the row exists it is the registry's word (after a ``log restart`` the timeline still
    cites records of the previous log, which must not count against the new one).
``inventory.db``
    Table ``meta``, key ``audit_anchor``, same value; moved when an audited scan finishes
    (and when labels change).
``runs/<run>/anchor.json``
    One per change run, written by the change engine.

**The file contract** (``anchors/*.json`` and ``runs/*/anchor.json``): one JSON object
``{"seq": <int >= 1>, "hash": "<64 lowercase hex>"}``, nothing else, written atomically
(:func:`write_anchor_file` does: temporary file, ``fsync``, rename; mode 0600). An anchor
may lag behind the log (it is a lower bound, and a stale anchor is still true); it must
never name a record that has not been appended yet, so write it *after* the append returns.
An unreadable anchor file is reported as a note by ``verify``, never silently skipped.

**Starting a new log.** Once a log is damaged, the evidence must stay visible: an append
refuses while any anchor is ahead of the log (:meth:`AuditLog.append`). After investigating,
move the old ``log.jsonl`` and ``head.json`` aside and run ``govkit log restart``
(:meth:`AuditLog.restart`): the new log's first record, ``log.restart``, lists every anchor
it supersedes (holder, seq, hash), signed and attributed, and ``verify`` accepts exactly
those as belonging to the previous log.

**What anchors cannot do.** They are a second and third copy of the log's end, kept where a
careless or hurried deletion does not reach. Someone who can write ``.govkit/`` and knows of
them can delete or edit them too (or the databases that hold them), and someone with the key
can forge a whole new log. Only a copy of the head kept outside the workspace (a CI artifact,
a ticket) defends against that.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from govkit.audit.record import Record, parse_head

logger = logging.getLogger(__name__)

ANCHORS_DIR = "anchors"
RUNS_DIR = "runs"
RUN_ANCHOR_FILE = "anchor.json"
#: The ``key`` of the anchor row in a database holder's key/value table.
ANCHOR_KEY = "audit_anchor"
#: The audit log's own anchor, ``anchors/audit.json``.
AUDIT_HOLDER = "audit"
DSR_HOLDER = "dsr.db"
INVENTORY_HOLDER = "inventory.db"

_HOLDER = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
#: Database holders: file in the state folder, key/value table holding ``ANCHOR_KEY``.
_DATABASES = ((DSR_HOLDER, "dsr_meta"), (INVENTORY_HOLDER, "meta"))
_DB_TIMEOUT_S = 2.0

__all__ = [
    "ANCHOR_KEY", "Anchor", "Collected", "anchor_when_recorded", "collect", "current_head", "decode", "encode",
    "read_all", "record_anchor", "remember", "write_anchor_file",
]


@dataclass(frozen=True, slots=True)
class Anchor:
    """One holder's anchor. ``hash`` is ``None`` for a bare citation (a seq a store names,
    e.g. the DSR timeline's highest ``audit_seq``), whose record's hash was never kept."""

    holder: str  # where it is kept, relative to the state folder: "dsr.db", "runs/r1/anchor.json"
    seq: int
    hash: str | None

    @property
    def verb(self) -> str:
        return "saw" if self.hash is not None else "cites"

    def key(self) -> tuple[str, int, str | None]:
        return self.holder, self.seq, self.hash

    def to_dict(self) -> dict[str, Any]:
        return {"holder": self.holder, "seq": self.seq, "hash": self.hash}


@dataclass(slots=True)
class Collected:
    """Every anchor found, and the holders that exist but could not be read (as notes)."""

    anchors: list[Anchor] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


# -- the value ---------------------------------------------------------------------------------


def encode(seq: int, digest: str) -> str:
    """The stored form of an anchor: ``{"hash":"…","seq":N}`` (for files and database rows)."""
    _check(seq, digest)
    return json.dumps({"hash": digest, "seq": seq}, sort_keys=True, separators=(",", ":"))


def decode(text: str | bytes) -> tuple[int, str]:
    """``(seq, hash)`` from the stored form; ``ValueError`` says what is wrong."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValueError("not valid JSON") from None
    if not isinstance(data, dict) or set(data) != {"seq", "hash"}:
        raise ValueError('expected {"seq": int, "hash": str}')
    seq, digest = data["seq"], data["hash"]
    _check(seq, digest)
    return seq, digest


def _check(seq: Any, digest: Any) -> None:
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        raise ValueError(f"an anchor's seq must be a positive integer, not {seq!r}")
    if not isinstance(digest, str) or not _HEX64.match(digest):
        raise ValueError("an anchor's hash must be 64 lowercase hex digits (a record's SHA-256)")


# -- writing -----------------------------------------------------------------------------------


def write_anchor_file(path: Path, seq: int, digest: str) -> None:
    """Write ``{"seq", "hash"}`` to ``path`` atomically (0600), e.g. ``runs/<run>/anchor.json``."""
    from govkit.private import write_private_atomic

    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_private_atomic(path, encode(seq, digest) + "\n")


def record_anchor(state_dir: Path, holder: str, seq: int, digest: str) -> None:
    """Keep ``(seq, digest)`` as ``holder``'s anchor, in ``.govkit/anchors/<holder>.json``.

    ``holder`` is a short name (lower-case letters, digits, ``_ . -``). Call it after the
    audit record was appended; a later call replaces the earlier anchor.
    """
    if not isinstance(holder, str) or not _HOLDER.match(holder):
        raise ValueError(f"anchor holder must be a short lower-case name like 'change', got {holder!r}")
    write_anchor_file(Path(state_dir) / ANCHORS_DIR / f"{holder}.json", seq, digest)


def remember(state_dir: Path, holder: str, record: Record) -> None:
    """:func:`record_anchor` for an appended :class:`Record`."""
    record_anchor(state_dir, holder, record.seq, record.digest())


def current_head(state_dir: Path) -> tuple[int, str] | None:
    """``(seq, hash)`` of the audit log's head as stored (not verified), or ``None``.

    For holders that learn only a cited seq: the head at that moment is at or after it,
    and is itself a record the log must keep.
    """
    from govkit.audit.log import AUDIT_DIR, HEAD_FILE

    try:
        head = parse_head((Path(state_dir) / AUDIT_DIR / HEAD_FILE).read_bytes())
    except (OSError, ValueError):
        return None
    return head.seq, head.hash


# -- the audited action in progress --------------------------------------------------------------

Writer = Callable[[int, str], None]


@dataclass(slots=True)
class _Pending:
    state_dir: Path
    writers: dict[str, Writer] = field(default_factory=dict)


_pending: ContextVar[_Pending | None] = ContextVar("govkit_audit_pending_anchors", default=None)


def anchor_when_recorded(state_dir: Path, holder: str, write: Writer) -> bool:
    """Have ``write(seq, hash)`` called with the audit record of the action in progress.

    For stores written *during* an audited action (inside :func:`audit_action`), whose own
    record is appended only when the action ends. Returns ``False`` (and does nothing) when
    no audited action of the workspace at ``state_dir`` is in progress in this context. The
    last registration per ``holder`` wins; a writer that fails is logged, never raised: the
    action and its record are done by then.
    """
    pending = _pending.get()
    if pending is None or pending.state_dir != _resolved(state_dir):
        return False
    pending.writers[holder] = write
    return True


@contextlib.contextmanager
def collecting(state_dir: Path) -> Iterator[_Pending]:
    """Used by :func:`audit_action`: gather writers for the record the block will produce."""
    token = _pending.set(_Pending(_resolved(state_dir)))
    try:
        pending = _pending.get()
        assert pending is not None
        yield pending
    finally:
        _pending.reset(token)


def run_writers(pending: _Pending, record: Record) -> None:
    digest = record.digest()
    for holder, write in pending.writers.items():
        try:
            write(record.seq, digest)
        except Exception as exc:  # the record is written; a stale anchor is only weaker
            logger.warning("could not move %s's audit anchor to seq %d (%s: %s)", holder, record.seq,
                           type(exc).__name__, exc)


def _resolved(path: Path) -> Path:
    try:
        return Path(path).resolve()
    except OSError:
        return Path(os.path.abspath(path))


# -- reading -----------------------------------------------------------------------------------


def collect(state_dir: Path) -> Collected:
    """Every anchor of the workspace: ``anchors/*.json``, ``dsr.db``, ``inventory.db``, ``runs/*/anchor.json``."""
    state_dir = Path(state_dir)
    found = Collected()
    for path in _files(state_dir / ANCHORS_DIR, "*.json"):
        _read_file(state_dir, path, found)
    for name, table in _DATABASES:
        _read_database(state_dir / name, name, table, found)
    for path in _files(state_dir / RUNS_DIR, f"*/{RUN_ANCHOR_FILE}"):
        _read_file(state_dir, path, found)
    return found


def read_all(state_dir: Path) -> list[Anchor]:
    """The anchors :func:`collect` finds (unreadable holders left out)."""
    return collect(state_dir).anchors


def _files(folder: Path, pattern: str) -> list[Path]:
    try:
        return sorted(p for p in folder.glob(pattern) if not p.name.startswith("."))
    except OSError:
        return []


def _read_file(state_dir: Path, path: Path, found: Collected) -> None:
    label = path.relative_to(state_dir).as_posix()
    try:
        seq, digest = decode(path.read_bytes())
    except FileNotFoundError:
        return
    except (OSError, ValueError) as exc:
        found.unreadable.append(f"{label}: not a valid anchor ({exc}); it was not checked")
        return
    found.anchors.append(Anchor(label, seq, digest))


def _read_database(path: Path, label: str, table: str, found: Collected) -> None:
    if not path.is_file():
        return
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=_DB_TIMEOUT_S)
    except sqlite3.Error as exc:
        found.unreadable.append(f"{label}: cannot be opened ({exc}); its anchor was not checked")
        return
    try:
        anchor = _query(conn, f"SELECT value FROM {table} WHERE key = ?", (ANCHOR_KEY,))  # table: a fixed name above
        if anchor is not None:
            try:
                seq, digest = decode(str(anchor))
            except ValueError as exc:
                found.unreadable.append(f"{label}: its audit anchor is not valid ({exc}); it was not checked")
            else:
                found.anchors.append(Anchor(label, seq, digest))
        if label == DSR_HOLDER and anchor is None:  # a registry from before anchors: its citations
            cited = _query(conn, "SELECT MAX(audit_seq) FROM dsr_event", ())
            if isinstance(cited, int) and cited > 0:
                found.anchors.append(Anchor(label, cited, None))
    except sqlite3.Error as exc:
        found.unreadable.append(f"{label}: cannot be read ({exc}); its anchor was not checked")
    finally:
        conn.close()


def _query(conn: sqlite3.Connection, sql: str, args: tuple[Any, ...]) -> Any:
    """The first column of the first row, or ``None`` (also when the table does not exist yet)."""
    try:
        row = conn.execute(sql, args).fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return None
        raise
    return row[0] if row else None
