"""The audit log: append-only, hash-chained, HMAC-signed, with its head kept apart.

Layout in ``.govkit/audit/`` (folder 0700, files 0600):

* ``log.jsonl``: one record per line, in canonical JSON (sorted keys, no spaces, UTF-8):
  ``seq, time, actor, action, params, counts, outcome, error, prev, key_id, hmac``.
  ``prev`` is the SHA-256 of the previous line's bytes (64 zeros for the first record);
  ``hmac`` is HMAC-SHA256 over the record without ``hmac``, under the workspace key's
  "audit-log" subkey, and ``key_id`` says which key version signed it.
* ``head.json``: ``{seq, hash, key_id, hmac}`` of the last record, signed too.

Why each piece:

* The **hash chain** makes deleting, reordering or inserting records visible; the
  **HMAC** makes it impossible to recompute the chain after an edit without the key; the
  **head**, stored apart from the log, catches what the chain alone cannot: records cut off
  the end. ``verify`` names each problem with its ``seq`` and kind (edited, deleted,
  reordered, truncated, bad signature, ...), so an auditor knows where to look.
* Appends take an **exclusive lock** (``flock``) and ``fsync``, so concurrent govkit
  processes cannot interleave or lose records, and a crash loses at most the record in
  flight. The line is written before the head; a crash between the two leaves one signed
  record beyond the head, which the next append adopts and ``verify`` notes, not flags.
* An append first checks that the log's last record is the one the head names. If it is
  not (truncated, edited, head deleted), it **refuses**: appending would hide the damage
  under a fresh, valid head. The fix is a human decision (investigate, then move the
  folder aside to start a new log), not something govkit should do silently.
* Parameters go through :func:`govkit.audit.scrub.scrub` first: what enters an append-only
  log can never be removed.

* **Anchors** (:mod:`govkit.audit.anchors`): every append also moves the log's own anchor,
  ``.govkit/anchors/audit.json`` (seq and hash of the new record), and the stores that cite
  audit records (``dsr.db``, ``inventory.db``, change runs) keep the newest record they saw.
  ``verify`` fails when the log is missing, ends before an anchor, or holds another record
  at an anchor's seq; an append refuses while any anchor is ahead of the log, so the damage
  stays visible until someone deliberately starts a new log with :meth:`AuditLog.restart`.

What it cannot catch: someone who can write ``.govkit/`` may roll back *both* files to an
earlier consistent state (e.g. from a backup) **and** remove or roll back every anchor (the
anchor files and the anchor rows of the databases). Pin the head printed by
``govkit log verify`` somewhere they cannot write (a CI artifact, a ticket) to close that gap.
"""

from __future__ import annotations

import contextlib
import csv
import getpass
import hmac
import io
import logging
import os
import re
import secrets
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from govkit.audit import anchors
from govkit.audit.record import (
    GENESIS,
    HEAD_TAG,
    KEY_PURPOSE,
    RECORD_FIELDS,
    RECORD_TAG,
    Head,
    Record,
    as_utc,
    canonical,
    parse_head,
    sign,
)
from govkit.audit.scrub import scrub
from govkit.audit.verify import Verifier, VerifyResult, missing_log, superseded_by
from govkit.errors import GovkitError, KeyMaterialError
from govkit.keys import (
    Keyset,
    env_override,
    exclusive_lock,
    fsync_dir,
    init_keys,
    keys_dir,
    keyset_exists,
    load_keyset,
)

AUDIT_DIR = "audit"
LOG_FILE = "log.jsonl"
HEAD_FILE = "head.json"
LOCK_FILE = ".lock"
ACTOR_ENV = "GOVKIT_ACTOR"
EXPORT_FORMATS = ("jsonl", "csv")
RESTART_ACTION = "log.restart"

_NAME = re.compile(r"^[a-z][a-z0-9_.:-]{0,99}$")
_ERROR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]{0,99}$")

logger = logging.getLogger(__name__)

__all__ = ["AuditLog", "AuditLogError", "Head", "Record", "VerifyResult", "default_actor"]


class AuditLogError(GovkitError):
    """The audit log cannot be read or appended to as it is (damaged or tampered with)."""


class AuditLog:
    """The audit log of the workspace whose state folder is ``state_dir`` (``.govkit/``)."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = Path(state_dir)
        self.folder = self.state_dir / AUDIT_DIR
        self.path = self.folder / LOG_FILE
        self.head_path = self.folder / HEAD_FILE

    # -- writing ---------------------------------------------------------------------------

    def append(
        self,
        action: str,
        *,
        params: Mapping[str, Any],
        counts: Mapping[str, int | float] | None = None,
        outcome: str = "ok",
        error: str | None = None,
        actor: str | None = None,
    ) -> Record:
        """Append one record (scrubbed params), signed with the primary key, and move the head.

        ``error`` is an exception's class name, never its message (messages may quote data).
        Raises :class:`AuditLogError` if the log's end does not match its head, and
        :class:`~govkit.errors.KeyMaterialError` if there is no usable key; in both cases
        nothing is written.
        """
        _check_name("action", action)
        _check_name("outcome", outcome)
        if error is not None:
            _check_name("error", error, lower=False)
        clean_params = scrub(params)
        clean_counts = _counts(counts or {})
        who = actor if actor is not None else default_actor()
        with self._locked():
            keyset = self._keyset(create=True)
            last = self._check_tail(keyset)
            self._check_anchors(last)
            return self._write_record(keyset, last, {
                "actor": who, "action": action, "params": clean_params, "counts": clean_counts,
                "outcome": outcome, "error": error,
            })

    def restart(self, *, actor: str | None = None) -> Record:
        """Start a new log after the old one was moved aside: record 1 is ``log.restart``.

        Its parameters list every anchor the workspace holds (holder, seq, hash): they
        belong to the previous log, and ``verify`` accepts exactly those. Refuses while
        ``log.jsonl`` or ``head.json`` exists: the old log is evidence, so moving it aside
        (and keeping it) is a deliberate human step, not something govkit does.
        """
        who = actor if actor is not None else default_actor()
        with self._locked():
            if self._has_history():
                raise AuditLogError(
                    f"{self.folder} still holds a log; a new one is started only after the old one was "
                    f"moved aside: move {LOG_FILE} and {HEAD_FILE} out of {self.folder} (keep them: they "
                    f"are the evidence), then run 'govkit log restart' again"
                )
            keyset = self._keyset(create=True)
            held = anchors.collect(self.state_dir).anchors
            return self._write_record(keyset, None, {
                "actor": who, "action": RESTART_ACTION,
                "params": scrub({"superseded": [a.to_dict() for a in held]}),
                "counts": {"anchors": len(held)}, "outcome": "ok", "error": None,
            })

    def _write_record(self, keyset: Keyset, last: Record | None, fields: dict[str, Any]) -> Record:
        """Sign and write the record after ``last``, then the head, then the log's own anchor (lock held)."""
        key_id, subkey = keyset.derive(KEY_PURPOSE)
        body: dict[str, Any] = {
            "seq": last.seq + 1 if last else 1,
            "time": _now(),
            **fields,
            "prev": last.digest() if last else GENESIS,
            "key_id": key_id,
        }
        record = Record(**body, hmac=sign(subkey, RECORD_TAG, body))
        self._write_line(record.line() + b"\n")
        head_body: dict[str, Any] = {"seq": record.seq, "hash": record.digest(), "key_id": key_id}
        self._write_head(Head(**head_body, hmac=sign(subkey, HEAD_TAG, head_body)))
        try:
            anchors.remember(self.state_dir, anchors.AUDIT_HOLDER, record)
        except OSError as exc:  # the record and head are written: do not report the append as failed
            logger.warning("could not move the audit log's anchor to seq %d (%s)", record.seq, exc)
        return record

    def preflight(self) -> None:
        """Check, without writing a record, that an append would succeed: keys usable, log intact at its end.

        Called before a command does its work, so that a missing or garbled key, or a damaged
        log, stops it before it changes anything. May create the workspace keyset, exactly as
        the first append would.
        """
        with self._locked():
            self._check_anchors(self._check_tail(self._keyset(create=True)))

    # -- reading ---------------------------------------------------------------------------

    def records(self, since: datetime | None = None) -> list[Record]:
        """The records in file order (at or after ``since``; naive datetimes are UTC).

        Reading does not verify; :meth:`verify` does. An unreadable line raises
        :class:`AuditLogError` naming it rather than being skipped silently.
        """
        threshold = as_utc(since) if since is not None else None
        found: list[Record] = []
        for number, raw in enumerate(self._lines(), 1):
            try:
                record = Record.from_line(raw)
            except ValueError as exc:
                raise AuditLogError(
                    f"{self.path} line {number} is not a valid audit record ({exc}); run 'govkit log verify'"
                ) from None
            if threshold is None or record.timestamp >= threshold:
                found.append(record)
        return found

    def export(self, fmt: str, since: datetime | None = None) -> str:
        """The records as ``jsonl`` (the stored lines, byte for byte) or ``csv`` (for spreadsheets)."""
        if fmt not in EXPORT_FORMATS:
            raise ValueError(f"export format must be one of {', '.join(EXPORT_FORMATS)}, not {fmt!r}")
        records = self.records(since)
        if fmt == "jsonl":
            return "".join(r.line().decode("utf-8") + "\n" for r in records)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(RECORD_FIELDS)
        for record in records:
            row = record.to_dict()
            row["params"] = canonical(row["params"]).decode("utf-8")
            row["counts"] = canonical(row["counts"]).decode("utf-8")
            writer.writerow([_csv_cell(row[name]) for name in RECORD_FIELDS])
        return buffer.getvalue()

    def head(self) -> Head | None:
        """The stored head, unverified (``None`` if there is none)."""
        try:
            return parse_head(self.head_path.read_bytes())
        except FileNotFoundError:
            return None
        except ValueError as exc:
            raise AuditLogError(f"{self.head_path} is not a valid head ({exc}); run 'govkit log verify'") from None

    # -- verifying -------------------------------------------------------------------------

    def verify(self) -> VerifyResult:
        """Check every record's signature, the chain's order and links, its end against the head,
        and the log against every anchor the workspace holds (:mod:`govkit.audit.anchors`)."""
        lines = self._lines()
        head_raw = _read_or_none(self.head_path)
        found = anchors.collect(self.state_dir)
        if not lines and head_raw is None:
            return missing_log(found)
        return Verifier(lines, head_raw, self._keyset(create=False), terminated=self._terminated(),
                        anchors=found).run()

    # -- internals -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        with exclusive_lock(self.folder / LOCK_FILE):
            yield

    def _has_history(self) -> bool:
        return self.head_path.exists() or (self.path.exists() and self.path.stat().st_size > 0)

    def _keyset(self, *, create: bool) -> Keyset:
        """The keys in effect. A fresh workspace gets a keyset on its first append, so that
        audit logging needs no setup step; a workspace whose log has records never does,
        because a new key could not verify them (the keyset was lost: restore it)."""
        if env_override() is not None or keyset_exists(self.state_dir):
            return load_keyset(self.state_dir)
        if self._has_history():
            raise KeyMaterialError(
                f"the audit log in {self.folder} has records but there are no keys in "
                f"{keys_dir(self.state_dir)}; restore the keyset from your backup (or set GOVKIT_KEY)"
            )
        if not create:
            return load_keyset(self.state_dir)  # raises the "no keys" error
        try:
            return init_keys(self.state_dir)
        except KeyMaterialError:
            if keyset_exists(self.state_dir):  # created meanwhile by 'govkit keys init'
                return load_keyset(self.state_dir)
            raise

    def _check_tail(self, keyset: Keyset) -> Record | None:
        """The log's last record, provided it is authentic and the head names it (or the
        record just before it, after an interrupted append). Otherwise refuse to go on."""
        raw = self._last_line()
        head_raw = _read_or_none(self.head_path)
        if raw is None and head_raw is None:
            return None
        if raw is None:
            self._refuse("the log is empty or missing but its head exists")
        if not self._terminated():
            self._refuse("its last line has no line end (a write cut short, or an edit)")
        try:
            last = Record.from_line(raw)
        except ValueError as exc:
            self._refuse(f"its last line is not a valid record ({exc})")
        _require_key(keyset, last.key_id, f"the audit log's last record (seq {last.seq})")
        if not hmac.compare_digest(last.hmac, sign(keyset.derive(KEY_PURPOSE, last.key_id)[1], RECORD_TAG,
                                                     last.body())):
            self._refuse(f"its last record (seq {last.seq}) has a bad signature")
        if head_raw is None:
            self._refuse("its head file is missing")
        try:
            head = parse_head(head_raw)
        except ValueError as exc:
            self._refuse(f"its head file is not valid ({exc})")
        _require_key(keyset, head.key_id, "the audit log's head")
        if not hmac.compare_digest(head.hmac, sign(keyset.derive(KEY_PURPOSE, head.key_id)[1], HEAD_TAG,
                                                     head.body())):
            self._refuse("its head has a bad signature")
        if head.seq == last.seq and head.hash == last.digest():
            return last
        if last.seq == head.seq + 1 and last.prev == head.hash:
            return last  # a crash came between writing this record and its head; adopt it
        self._refuse(f"the log ends at seq {last.seq} but its head names seq {head.seq}")

    def _refuse(self, reason: str) -> NoReturn:
        raise AuditLogError(
            f"audit log {self.path}: {reason}, so govkit will not add to it. Run 'govkit log "
            f"verify' and, after investigating, move {LOG_FILE} and {HEAD_FILE} out of {self.folder} "
            f"(keep them) and run 'govkit log restart' to start a new log"
        )

    def _check_anchors(self, last: Record | None) -> None:
        """Refuse while an anchor is ahead of the log's end (records were removed, or the log
        was rolled back): appending would bury the evidence under new records. Cheap: only
        the end is compared; ``verify`` compares every anchor with its record."""
        end = last.seq if last else 0
        superseded = self._superseded()
        for anchor in anchors.collect(self.state_dir).anchors:
            if anchor.key() in superseded:
                continue
            if anchor.seq > end:
                where = f"ends at seq {end}" if end else "is missing"
                self._refuse(f"the log {where} but {anchor.holder} {anchor.verb} record {anchor.seq}")
            if last is not None and anchor.seq == end and anchor.hash not in (None, last.digest()):
                self._refuse(f"its last record (seq {end}) is not the one {anchor.holder} saw")

    def _superseded(self) -> set[tuple[str, int, str | None]]:
        """The anchors a ``log.restart`` record at the start of the log took over (unverified:
        ``verify`` checks its signature)."""
        try:
            with self.path.open("rb") as handle:
                first = handle.readline().rstrip(b"\n")
        except FileNotFoundError:
            return set()
        try:
            record = Record.from_line(first)
        except ValueError:
            return set()
        return superseded_by(record)

    def _lines(self) -> list[bytes]:
        """Every line, without line ends (an unterminated last line included; see :meth:`_terminated`)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        if not data:
            return []
        lines = data.split(b"\n")
        if lines[-1] == b"":
            lines.pop()
        return lines

    def _terminated(self) -> bool:
        """Whether the log ends with a line end, as every append leaves it.

        A last line without one was cut short or edited; appending after it would glue the
        new record onto it, so this counts as damage even when the line itself still parses.
        """
        try:
            with self.path.open("rb") as handle:
                if handle.seek(0, os.SEEK_END) == 0:
                    return True
                handle.seek(-1, os.SEEK_END)
                return handle.read(1) == b"\n"
        except FileNotFoundError:
            return True

    def _last_line(self) -> bytes | None:
        """The last line, read from the end so that appends stay cheap on a long log."""
        try:
            handle = self.path.open("rb")
        except FileNotFoundError:
            return None
        with handle:
            end = handle.seek(0, os.SEEK_END)
            if end == 0:
                return None
            position = end
            tail = b""
            while position > 0:
                step = min(8192, position)
                position -= step
                handle.seek(position)
                tail = handle.read(step) + tail
                body = tail[:-1] if tail.endswith(b"\n") else tail
                cut = body.rfind(b"\n")
                if cut >= 0:
                    return body[cut + 1:]
            return tail[:-1] if tail.endswith(b"\n") else tail

    def _write_line(self, line: bytes) -> None:
        created = not self.path.exists()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            view = memoryview(line)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            fsync_dir(self.folder)

    def _write_head(self, head: Head) -> None:
        temp = self.folder / f".{HEAD_FILE}.{secrets.token_hex(4)}.tmp"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(canonical(head.to_dict()) + b"\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self.head_path)
        except BaseException:
            with contextlib.suppress(OSError):
                temp.unlink()
            raise
        fsync_dir(self.folder)


# -- helpers -----------------------------------------------------------------------------------


def default_actor() -> str:
    """Who is acting: ``GOVKIT_ACTOR`` (set it in CI, e.g. to the pipeline's user), else the OS user."""
    configured = os.environ.get(ACTOR_ENV, "").strip()
    if configured:
        return configured[:200]
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers (no passwd entry, no LOGNAME)
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"


def _require_key(keyset: Keyset, key_id: str, what: str) -> None:
    if not keyset.has(key_id):
        raise KeyMaterialError(f"{what} is signed with key {key_id}, which {keyset.source} does not hold")


def _read_or_none(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _check_name(what: str, value: str, *, lower: bool = True) -> None:
    pattern = _NAME if lower else _ERROR_NAME
    if not isinstance(value, str) or not pattern.match(value):
        raise ValueError(f"audit {what} must be a short identifier like 'scan' or 'keys.rotate', got {value!r}")


def _counts(counts: Mapping[str, int | float]) -> dict[str, int | float]:
    clean: dict[str, int | float] = {}
    for name, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"audit count {name!r} must be a number, got {type(value).__name__}")
        if isinstance(value, float) and not (value == value and abs(value) != float("inf")):
            raise ValueError(f"audit count {name!r} must be finite")
        clean[str(name)] = value
    return clean


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _csv_cell(value: Any) -> Any:
    """Neutralise cells a spreadsheet would run as a formula (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value
