"""One change run: plan, "begun", journaled units, verify, "finished"; resumable after any crash.

Every action that modifies data (in-place anonymization, DSR erasure and rectification,
retention) runs through :class:`ChangeRun`. The lifecycle:

1. **Plan.** The caller makes its plan with nothing written. :meth:`ChangeRun.begin` stores
   it (sealed) in ``.govkit/runs/RUN-ID/``, refuses if another run on the same target is
   unfinished, and writes the **begun** audit record (with the plan's digest) *before any
   change*.
2. **Units.** Each unit is one database transaction (:meth:`db_unit`) or one atomic file swap
   (:meth:`file_unit`). Inside the unit the engine reads what the unit will change and takes
   its keyed digest (*before*), makes the change, journals an **intent** carrying that
   digest (fsynced), commits, then journals the **commit**.
3. **Verify**, then the caller writes the **finished** audit record (its ``params.run_id``
   names the run) and only then its certificate or report; each step is journaled as a
   phase, and :meth:`finish` closes the run.

**Why a before-digest makes resume exact.** A crash can fall anywhere. If the journal holds
no intent for a unit, its transaction never committed (the intent is written before the
commit), so the unit runs again. If it holds an intent but no commit record, the engine
reads the unit's data again: equal to the *before* digest means the transaction rolled back
(a transaction is all or nothing), so the unit runs again from the same data; different
means it committed before the crash, so it is marked committed and **not applied again**.
No operator is ever applied twice to a value, whatever the dialect or journal mode, and no
table is added to the user's database to know it. (A unit whose change maps every value to
itself reads the same before and after; running it again changes nothing either.)

**What the run folder holds** (0700; files 0600): ``run.json`` (kind, target, status,
parameters: never values), ``journal.jsonl``, ``plan.sealed`` (the plan, AES-GCM under the
run's key: it can name primary keys), ``run.key`` (a random key for the seal and the keyed
digests) and ``anchor.json`` (the newest audit record the run cites, for ``log verify``).
When a run ends, its key and sealed plan are deleted: the journal's digests and sealed keys
become unreadable (crypto-shredding) and ``run.json`` stays as history.

**Liveness.** A working run holds an exclusive ``flock`` on its folder's ``lock`` file; a
run whose status is ``running`` and whose lock is free was interrupted, and is what
``govkit runs`` lists for ``resume`` or ``abandon``.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from govkit.change import failpoints
from govkit.change.journal import Journal, now
from govkit.errors import GovkitError, UsageError
from govkit.private import private_dir, write_private_atomic

RUNS_DIR = "runs"


class RunConflict(UsageError):
    """Another run on the same target is unfinished: resume or abandon it first."""


class RunNotFound(UsageError):
    pass


class UnitConflict(GovkitError):
    """A unit's data changed under the run in a way the journal cannot explain."""


def runs_dir(state_dir: Path) -> Path:
    return private_dir(state_dir / RUNS_DIR)


def _plain(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return "b:" + bytes(value).hex()
    if isinstance(value, datetime) and value.tzinfo is not None:  # the session's time zone must not matter
        return "dt:" + value.astimezone(UTC).isoformat()
    return repr(value)


def encode_value(value: Any) -> Any:
    """A key value as JSON that :func:`decode_value` turns back into the same Python type, so a
    resumed run binds exactly what the first attempt read (a ``uuid``, ``bytes`` or ``datetime``
    key stringified would compare as text, or not at all)."""
    if value is None or isinstance(value, bool | int | str | float):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$b": bytes(value).hex()}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    if isinstance(value, time):
        return {"$t": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    if isinstance(value, UUID):
        return {"$uuid": str(value)}
    if isinstance(value, list | tuple):
        return [encode_value(v) for v in value]
    raise UsageError(f"a key of type {type(value).__name__} cannot be journaled; use --to for a copy instead")


def decode_value(value: Any) -> Any:
    if isinstance(value, list):
        return [decode_value(v) for v in value]
    if not isinstance(value, dict):
        return value
    (tag, text), = value.items()
    decoders: dict[str, Callable[[str], Any]] = {
        "$b": bytes.fromhex, "$dt": datetime.fromisoformat, "$d": date.fromisoformat,
        "$t": time.fromisoformat, "$dec": Decimal, "$uuid": UUID}
    return decoders[tag](text)


def canonical(rows: Iterable[Sequence[Any]]) -> bytes:
    """Rows as canonical bytes for a digest (the driver's own types, rendered stably; tuples and
    lists alike are JSON arrays, so rows as read and rows as written compare)."""
    return json.dumps(rows if isinstance(rows, list) else list(rows), default=_plain, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


@dataclass(slots=True)
class RunInfo:
    """A run as ``govkit runs`` lists it."""

    id: str
    kind: str
    target: str
    status: str          # running | interrupted | finished | failed | abandoned
    started_at: str
    ended_at: str | None
    units: int
    params: dict[str, Any]
    #: the sources (display URLs or paths) the run may change
    sources: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


class ChangeRun:
    """A run in ``.govkit/runs/ID``; see the module docstring. Use :meth:`begin` or :meth:`open`."""

    def __init__(self, state_dir: Path, run_id: str) -> None:
        self.state_dir = state_dir
        self.id = run_id
        self.dir = runs_dir(state_dir) / run_id
        if not (self.dir / "run.json").exists():
            raise RunNotFound(f"no run {run_id} in {self.dir.parent}")
        self.meta: dict[str, Any] = _read_meta(self.dir / "run.json")
        self.journal = Journal(self.dir / "journal.jsonl")
        self._lock_fd: int | None = None
        #: opened by :meth:`open` (a resume or an abandon), not made by :meth:`begin`
        self.resumed = False
        key_path = self.dir / "run.key"
        self._key = bytes.fromhex(key_path.read_text().strip()) if key_path.exists() else None

    # -- lifecycle --------------------------------------------------------------------------

    @classmethod
    def begin(cls, state_dir: Path, kind: str, target: str, params: dict[str, Any], plan: Any, *,
              files: Iterable[Path] = (), sources: Iterable[str] = ()) -> ChangeRun:
        """Store the plan, refuse a conflicting unfinished run, write "begun" (audit + journal).

        ``sources``: what the run may change (display URLs, file source paths): a run on any of
        them must not start while this one is unfinished. ``files``: the files the run may
        rewrite, so that resume and abandon find its temporary files even when a crash came
        before the journal named them.

        Order, for crashes inside ``begin`` itself: ``run.json`` (the run is listed from then
        on, so it can be resumed or abandoned) comes first, then the key and the sealed plan;
        the run's lock is taken before the global lock is let go (no other process can take
        the run for an interrupted one); the "begun" record comes last, and a resume writes it
        if a crash came first.
        """
        from govkit.audit.log import AuditLog

        folder = runs_dir(state_dir)
        AuditLog(state_dir).preflight()  # a broken log stops the run before anything changes
        sources = sorted(set(sources))
        with _locked(folder / ".lock"):
            ensure_free(state_dir, target, sources)
            run_id = "RUN-" + now().replace(":", "").replace("-", "")[:15] + "-" + secrets.token_hex(3)
            path = folder / run_id
            path.mkdir(mode=0o700)
            key = secrets.token_bytes(32)
            body = json.dumps(plan, sort_keys=True, default=str).encode()
            digest = hmac.new(key, body, hashlib.sha256).hexdigest()  # keyed: the log cannot be probed
            meta = {"id": run_id, "kind": kind, "target": target, "status": "running", "started_at": now(),
                    "ended_at": None, "params": params, "plan_digest": digest, "sources": sources,
                    "files": [str(p) for p in files], "key_id": primary_key_id(state_dir)}
            write_private_atomic(path / "run.json", json.dumps(meta, indent=2, default=str).encode())
            write_private_atomic(path / "run.key", key.hex().encode())
            write_private_atomic(path / "plan.sealed", _seal(key, plan).encode())
            run = cls(state_dir, run_id)
            run.acquire()
        try:
            run.write_begun()
            failpoints.reach("run.begun")
        except BaseException:
            run.release()  # the run stays listed (interrupted): resume writes the record late
            raise
        return run

    def write_begun(self, *, late: bool = False) -> None:
        """The "begun" audit record and journal entry (``late``: written by a resume, because a
        crash inside ``begin`` came before it; still before any unit)."""
        from govkit.audit.log import AuditLog

        params = {"run_id": self.id, "target": self.target, "plan_digest": self.meta["plan_digest"],
                  **self.params}
        if late:
            params["late"] = True
        record = AuditLog(self.state_dir).append(f"{self.kind}.begun", params=params, outcome="begun")
        self.remember_audit(record)
        self.journal.append({"t": "begun", "plan_digest": self.meta["plan_digest"], "audit_seq": record.seq})

    @classmethod
    def open(cls, state_dir: Path, run_id: str, *, need_key: bool = True) -> ChangeRun:
        """An existing unfinished run, locked for this process (for resume, or abandon: which
        does not ``need_key``). Its state is read again once the lock is held."""
        run = cls(state_dir, run_id)
        if not run.acquire(wait=False):
            raise RunConflict(f"run {run_id} is being worked on by another govkit process")
        fresh = cls(state_dir, run_id)  # as it is now that no one else can change it
        run.meta, run.journal, run._key = fresh.meta, fresh.journal, fresh._key
        run.resumed = True
        if run.meta["status"] != "running":
            run.release()
            raise UsageError(f"run {run_id} is {run.meta['status']}: there is nothing to resume or abandon")
        if need_key and run._key is None:
            run.release()
            raise GovkitError(f"run {run_id} lost its key ({run.dir / 'run.key'}); it cannot be resumed, "
                              f"only abandoned ('govkit runs abandon {run_id} --reason ...')")
        return run

    def acquire(self, *, wait: bool = True) -> bool:
        fd = os.open(self.dir / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return False
        self._lock_fd = fd
        return True

    def release(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> ChangeRun:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    @property
    def kind(self) -> str:
        return str(self.meta["kind"])

    @property
    def target(self) -> str:
        return str(self.meta["target"])

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.meta.get("params") or {})

    def plan(self) -> Any:
        """The plan as :meth:`begin` stored it."""
        if self._key is None:
            raise GovkitError(f"run {self.id} has ended; its plan was deleted with its key")
        return _unseal(self._key, (self.dir / "plan.sealed").read_text())

    def finish(self, status: str = "finished") -> None:
        """Close the run (``finished``, ``failed``, ``abandoned``) and shred its key and plan."""
        self.journal.append({"t": "end", "status": status})
        self.meta.update(status=status, ended_at=now())
        write_private_atomic(self.dir / "run.json", json.dumps(self.meta, indent=2, default=str).encode())
        for name in ("plan.sealed", "run.key"):
            with contextlib.suppress(FileNotFoundError):
                (self.dir / name).unlink()
        self._key = None
        self.release()

    def remember_audit(self, record: Any) -> None:
        """Keep the newest audit record the run cites (``anchor.json``): ``log verify`` checks it."""
        if record is None:
            return
        from govkit.audit.anchors import write_anchor_file

        write_anchor_file(self.dir / "anchor.json", record.seq, record.digest())

    def audited(self, action: str, params: dict[str, Any], counts: dict[str, int | float] | None = None,
                outcome: str = "ok") -> Any:
        """Write the run's "finished" audit record once (a resume after a crash that followed the
        append finds it in the log instead of writing a second one); journaled as ``audited``."""
        from govkit.audit.log import AuditLog

        done = self.phase_data("audited")
        log = AuditLog(self.state_dir)
        if done is not None:
            return next((r for r in log.records() if r.seq == done.get("seq")), None)
        record = None
        if self.resumed:  # only a resumed run can have written it before a crash
            record = next((r for r in reversed(log.records()) if r.action == action
                           and r.params.get("run_id") == self.id and r.params.get("finished") is True), None)
        if record is None:
            record = log.append(action, params={"run_id": self.id, "finished": True, **params},
                                counts=dict(counts or {}), outcome=outcome)
        self.remember_audit(record)
        self.phase("audited", {"seq": record.seq})
        failpoints.reach("run.audited")
        return record

    @contextlib.contextmanager
    def failures_audited(self, action: str) -> Iterator[None]:
        """An exception inside leaves a "failed" (or "interrupted") audit record naming the run,
        which stays unfinished: ``govkit runs resume`` completes it."""
        from govkit.audit.log import AuditLog

        try:
            yield
        except BaseException as exc:
            outcome = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            with contextlib.suppress(Exception):
                self.remember_audit(AuditLog(self.state_dir).append(
                    action, params={"run_id": self.id, "target": self.target, "resumable": True},
                    outcome=outcome, error=type(exc).__name__))
            raise

    # -- digests and seals ----------------------------------------------------------------------

    def digest(self, data: bytes) -> str:
        assert self._key is not None
        return hmac.new(self._key, data, hashlib.sha256).hexdigest()[:32]

    def rows_digest(self, rows: Iterable[Sequence[Any]]) -> str:
        return self.digest(canonical(rows))

    def file_digest(self, path: Path) -> str:
        assert self._key is not None
        mac = hmac.new(self._key, digestmod=hashlib.sha256)
        try:
            with path.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    mac.update(chunk)
        except FileNotFoundError:
            return "absent"
        return mac.hexdigest()[:32]

    def seal(self, value: Any) -> str:
        assert self._key is not None
        return _seal(self._key, value)

    def unseal(self, text: str) -> Any:
        assert self._key is not None
        return _unseal(self._key, text)

    def fingerprint(self, value: Any) -> int:
        """A stable keyed 64-bit digest of one value (verification samples that survive a resume)."""
        assert self._key is not None
        raw = hashlib.blake2b(str(value).encode("utf-8", "surrogatepass"), key=self._key, digest_size=8).digest()
        return int.from_bytes(raw, "big")

    # -- phases ---------------------------------------------------------------------------------

    def phase(self, name: str, data: dict[str, Any] | None = None) -> None:
        self.journal.append({"t": "phase", "name": name, "data": data or {}})

    def phase_data(self, name: str) -> dict[str, Any] | None:
        return self.journal.phases.get(name)

    # -- units ----------------------------------------------------------------------------------

    def db_unit(
        self, connect: Callable[[], Any], key: str, read: Callable[[Any], Iterable[Sequence[Any]]],
        change: Callable[[Any], dict[str, Any]], *, sealed: dict[str, Any] | None = None,
        after: Callable[[Any], Iterable[Sequence[Any]]] | None = None,
    ) -> dict[str, Any]:
        """Run one database unit exactly once; returns its data (counts, from the journal on resume).

        ``connect()`` gives a SQLAlchemy connection; in one transaction the engine calls
        ``read(conn)`` (the rows the unit will change, in a stable order), ``change(conn)``
        (the writes; returns counts), takes the digest of the rows as the change left them
        (``after(conn)``, or ``read(conn)`` again), journals the intent, and commits.
        ``sealed`` is stored encrypted with the intent (keys a resume needs); ``change`` may
        also return it under ``"_sealed"`` when the keys are only known once the rows are read.

        On resume, the unit's rows are read again: equal to the *before* digest, the
        transaction rolled back and the unit runs again; equal to the *after* digest, it had
        committed and is not applied again; equal to neither, something else changed those
        rows meanwhile and :class:`UnitConflict` stops the resume rather than guess.
        """
        state = self.journal.unit(key)
        if state.status == "committed":
            return self._public(state.data)
        with connect() as conn:
            transaction = conn.begin()
            try:
                before = self.rows_digest(read(conn))
                if state.status == "intended" and before != state.before:
                    transaction.rollback()
                    if before != state.data.get("_after", before):
                        raise UnitConflict(
                            f"the rows of unit {key} of run {self.id} changed since the run was interrupted "
                            "(another writer?): it cannot tell whether the unit was applied, so it stops "
                            f"here; check the data, then 'govkit runs abandon {self.id}'")
                    # The transaction had committed before the crash: never apply it again.
                    self.journal.append({"t": "commit", "unit": key, "recovered": True})
                    return self._public(self.journal.unit(key).data)
                data = change(conn)
                sealed = data.pop("_sealed", sealed)
                data["_after"] = self.rows_digest((after or read)(conn))
                failpoints.reach("unit.applied")
                record: dict[str, Any] = {"t": "intent", "unit": key, "before": before, "data": data}
                if sealed is not None:
                    record["sealed"] = self.seal(sealed)
                self.journal.append(record)
                failpoints.reach("unit.intended")
                transaction.commit()
            except BaseException:
                if transaction.is_active:
                    transaction.rollback()
                raise
            failpoints.reach("unit.committed")
        self.journal.append({"t": "commit", "unit": key}, sync=False)
        failpoints.reach("unit.journaled")
        return self._public(data)

    @staticmethod
    def _public(data: dict[str, Any]) -> dict[str, Any]:
        """A unit's data without the engine's own entries (``_after``)."""
        return {k: v for k, v in data.items() if not k.startswith("_")}

    def temp_path(self, path: Path) -> Path:
        """The one temporary name this run uses beside ``path`` (found again by resume and abandon)."""
        path = path.resolve()
        return path.with_name(f".{path.name}.{self.id}.govkit-tmp")

    def file_unit(self, key: str, path: Path, write: Callable[[int], dict[str, Any]]) -> dict[str, Any]:
        """Rewrite ``path`` once, atomically: ``write(fd)`` fills a 0600 temporary file beside it (and
        fsyncs and closes ``fd``), returning counts (``records`` = 0: nothing to change); then the
        temporary file replaces the original with one ``rename``.

        The temporary file is what tells a resume which side of the swap a crash fell on: the
        intent is journaled once it is complete, and only the rename removes it. So an intent
        whose temporary file still exists was not swapped in (it is discarded and the file
        rewritten as it is now); an intent whose temporary file is gone was. (A digest of the
        file could not tell: a log appended to after the crash matches neither side.)
        """
        path = path.resolve()  # a symlink is not replaced by a copy: the file it points to is rewritten
        state = self.journal.unit(key)
        temp = self.temp_path(path)
        if state.status == "committed":
            temp.unlink(missing_ok=True)
            return state.data
        if state.status == "intended" and not temp.exists():
            self.journal.append({"t": "commit", "unit": key, "recovered": True})
            return self.journal.unit(key).data
        temp.unlink(missing_ok=True)
        identity = _identity(path)
        before = self.file_digest(path)
        intended = False
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            data = write(fd)  # the writer owns fd: it fsyncs and closes it
            if not data.get("records"):
                temp.unlink(missing_ok=True)
                self.journal.append({"t": "commit", "unit": key, "data": data})
                return data
            failpoints.reach("unit.applied")
            if _identity(path) != identity:
                raise UnitConflict(f"{path.name} changed while it was being rewritten (lines appended?); it was "
                                   f"not replaced: resume the run to rewrite it as it is now")
            _fsync_dir(path.parent)  # the temporary file's name is durable before the intent names it
            self.journal.append({"t": "intent", "unit": key, "before": before, "data": data})
            intended = True
            failpoints.reach("unit.intended")
            os.chmod(temp, os.stat(path).st_mode & 0o777)  # the new version keeps the original's mode
            os.replace(temp, path)
            _fsync_dir(path.parent)
        except BaseException:
            if not intended:
                temp.unlink(missing_ok=True)
            else:  # once intended, the temporary file is what tells resume "not swapped": keep it private
                with contextlib.suppress(OSError):
                    os.chmod(temp, 0o600)
            raise
        failpoints.reach("unit.committed")
        self.journal.append({"t": "commit", "unit": key})
        failpoints.reach("unit.journaled")
        return data

    def removal_unit(self, key: str, path: Path, keep: Callable[[], dict[str, Any]] | None = None) -> dict[str, Any]:
        """Remove ``path`` once; ``keep()`` first copies it somewhere (an archive) and returns counts.

        Whether the file still exists tells a resume which side of the unlink a crash fell on:
        an intent whose file is gone was applied; one whose file is still there (unchanged,
        by its digest) is done again, ``keep()`` included (it must be idempotent: an archive
        segment is rewritten under the same name). A file changed since the intent stops the
        resume with :class:`UnitConflict`: what was archived is no longer what would be removed.
        """
        path = path.resolve()
        state = self.journal.unit(key)
        if state.status == "committed":
            return self._public(state.data)
        if state.status == "intended" and not path.exists():
            self.journal.append({"t": "commit", "unit": key, "recovered": True})
            return self._public(self.journal.unit(key).data)
        before = self.file_digest(path)
        if state.status == "intended" and before != state.before:
            raise UnitConflict(f"{path.name} changed since run {self.id} was interrupted: it was archived as it "
                               f"was then; check it, then 'govkit runs abandon {self.id}'")
        data = keep() if keep is not None else {}
        data = {**data, "files": 1}
        failpoints.reach("unit.applied")
        self.journal.append({"t": "intent", "unit": key, "before": before, "data": data})
        failpoints.reach("unit.intended")
        path.unlink()
        _fsync_dir(path.parent)
        failpoints.reach("unit.committed")
        self.journal.append({"t": "commit", "unit": key})
        failpoints.reach("unit.journaled")
        return self._public(data)

    def sealed_of(self, key: str) -> Any:
        """The sealed data of a unit's intent (as given to :meth:`db_unit`), or ``None``."""
        sealed = self.journal.unit(key).sealed
        return None if sealed is None else self.unseal(sealed)

    def cleanup(self, paths: Iterable[Path] = ()) -> list[Path]:
        """Remove this run's temporary files beside ``paths``; returns those removed."""
        removed = []
        for path in paths:
            temp = self.temp_path(path)
            if temp.exists():
                temp.unlink()
                removed.append(temp)
        return removed


_META_KEYS = ("id", "kind", "target", "status", "started_at")


def _read_meta(path: Path) -> dict[str, Any]:
    """A run's ``run.json``, checked: an object with the keys govkit needs, else one error naming it."""
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: cannot be read as a run file ({type(exc).__name__})") from None
    if not isinstance(meta, dict) or any(not isinstance(meta.get(k), str) for k in _META_KEYS):
        raise UsageError(f"{path}: is not a run file (it needs {', '.join(_META_KEYS)}); move the folder "
                          "aside if it is not govkit's")
    return meta


def primary_key_id(state_dir: Path) -> str | None:
    """The id (not the key) of the workspace's primary key, or ``None`` without a keyset: keyed
    operators derive from it, so a resume after a rotation would pseudonymize the rest of the
    run differently."""
    from govkit.keys import env_override, keyset_exists, load_keyset

    if env_override() is None and not keyset_exists(state_dir):
        return None
    try:
        return load_keyset(state_dir).primary.id
    except Exception:
        return None


def _identity(path: Path) -> tuple[int, int, int, int] | None:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _seal(key: bytes, value: Any) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = secrets.token_bytes(12)
    body = AESGCM(key).encrypt(nonce, json.dumps(value, default=str).encode("utf-8"), b"govkit-run")
    return "gk-run1:" + base64.b64encode(nonce + body).decode("ascii")


def _unseal(key: bytes, text: str) -> Any:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    raw = base64.b64decode(text.split(":", 1)[1])
    return json.loads(AESGCM(key).decrypt(raw[:12], raw[12:], b"govkit-run"))


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _alive(folder: Path) -> bool:
    """Whether a process holds the run's lock (it is working now)."""
    try:
        fd = os.open(folder / "lock", os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def list_runs(state_dir: Path) -> list[RunInfo]:
    """Every run of the workspace, oldest first; ``interrupted`` = unfinished and nobody working on it."""
    folder = state_dir / RUNS_DIR
    if not folder.is_dir():
        return []
    found: list[RunInfo] = []
    for path in sorted(folder.iterdir()):
        meta_path = path / "run.json"
        if not meta_path.is_file():
            continue
        try:
            meta = _read_meta(meta_path)
        except GovkitError:  # listed, not hidden: a damaged run folder is something to look at
            found.append(RunInfo(path.name, "?", "?", "damaged", "", None, 0,
                                 {"problem": f"{meta_path} is not a run file govkit can read"}))
            continue
        status = meta.get("status", "running")
        if status == "running" and not _alive(path):
            status = "interrupted"
        units = len(Journal(path / "journal.jsonl").committed())
        found.append(RunInfo(meta["id"], meta["kind"], meta["target"], status, meta["started_at"],
                             meta.get("ended_at"), units, dict(meta.get("params") or {}),
                             list(meta.get("sources") or [])))
    return sorted(found, key=lambda r: (r.started_at, r.id))


def ensure_free(state_dir: Path, target: str, sources: Iterable[str] = ()) -> None:
    """Refuse (:class:`RunConflict`, exit 2) while a run on ``target``, or one that may change any
    of ``sources``, is unfinished: whatever its kind (an erasure must not delete rows inside a
    unit an interrupted in-place run has yet to redo). Called before planning too: the plan
    over a half-done run's data would describe a half-changed state."""
    wanted = set(sources)
    for info in list_runs(state_dir):
        if info.status not in ("running", "interrupted"):
            continue
        shared = sorted(wanted & set(info.sources))
        if info.target == target or shared:
            what = target if info.target == target else ", ".join(shared)
            raise RunConflict(
                f"run {info.id} ({info.kind}) on {what} is unfinished ({info.status}); "
                f"resume it with 'govkit runs resume {info.id}' or abandon it with "
                f"'govkit runs abandon {info.id}' first")


def unfinished(state_dir: Path) -> list[RunInfo]:
    return [r for r in list_runs(state_dir) if r.status in ("running", "interrupted")]
