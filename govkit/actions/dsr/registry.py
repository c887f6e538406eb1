"""The DSR registry: requests, their deadlines and every step taken, in ``.govkit/dsr.db``.

Why a database of its own (not the inventory): the inventory is rebuilt by scans and is
about data, the registry is about people's requests and must outlive any rescan. Its own
SQLAlchemy metadata keeps it out of the inventory's migrations.

The subject's identifiers are personal data, so they are stored encrypted (AES-GCM under the
workspace subkey for purpose ``dsr``, the request id as associated data so a ciphertext
cannot be moved to another request). Everything else in a request (type, regime, dates,
timeline) names no one and is stored in clear.

The registry cites audit records (timeline events carry ``audit_seq``), so it keeps an
**audit anchor**, the newest audit record it saw (``dsr_meta``, key ``audit_anchor``: seq
and hash only), for ``govkit log verify`` to check the log against
(:mod:`govkit.audit.anchors`).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from govkit import statedb
from govkit.audit import anchors
from govkit.errors import KeyMaterialError, UsageError
from govkit.keys import load_keyset
from govkit.policy.loader import Policy

RequestType = Literal["access", "erasure", "portability", "rectification"]
REQUEST_TYPES: tuple[str, ...] = ("access", "erasure", "portability", "rectification")
REGIMES: tuple[str, ...] = ("gdpr", "ccpa", "pipl")
KEY_PURPOSE = "dsr"
DB_FILE = "dsr.db"

#: Statutory defaults used when the active policy names no deadline for the regime.
DEFAULT_DEADLINES = {"gdpr": "1 month", "ccpa": "45 days", "pipl": "15 working days"}

#: How much further the deadline may be extended in total, with notice to the subject:
#: GDPR art. 12(3) "two further months" for complex or numerous requests; CCPA 1798.130(a)(2)(A)
#: "an additional 45 days" once. PIPL (art. 50) has no extension: a request is answered in
#: time or refused with reasons, so ``None``.
MAX_EXTENSIONS: dict[str, str | None] = {"gdpr": "2 months", "ccpa": "45 days", "pipl": None}
#: Where each regime allows the extension; quoted in errors and on the timeline.
EXTENSION_CITES = {"gdpr": "GDPR art. 12(3)", "ccpa": "CCPA 1798.130(a)(2)(A)", "pipl": "PIPL art. 50"}

#: Status of a request: ``open`` (being answered), ``done`` (answered), ``unverified`` (an
#: erasure or rectification ran but did not verify), ``refused`` (manifestly unfounded or
#: excessive, GDPR art. 12(5); or a legal hold), ``cancelled`` (withdrawn by the subject).
STATUSES: tuple[str, ...] = ("open", "done", "unverified", "refused", "cancelled")
#: Statuses that end a request: no deadline runs any more.
CLOSED: tuple[str, ...] = ("done", "refused", "cancelled")

_metadata = sa.MetaData()
_requests = sa.Table(
    "dsr_request", _metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("regime", sa.String(16), nullable=False),
    sa.Column("received", sa.Date, nullable=False),
    sa.Column("due", sa.Date, nullable=False),
    sa.Column("deadline", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("key_id", sa.String(64), nullable=False),
    sa.Column("subject", sa.LargeBinary, nullable=False),
    sa.Column("subject_keys", sa.String(200), nullable=False),
)
_events = sa.Table(
    "dsr_event", _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.String(32), sa.ForeignKey("dsr_request.id"), nullable=False, index=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("step", sa.String(32), nullable=False),
    sa.Column("detail", sa.JSON, nullable=False),
    sa.Column("audit_seq", sa.Integer, nullable=True),
)
# -- audit anchor (govkit.audit.anchors): key "audit_anchor" -> {"seq", "hash"}, no personal data --
_meta = sa.Table(
    "dsr_meta", _metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(256), nullable=False),
)


@dataclass(slots=True)
class Event:
    """One step of a request's timeline; ``detail`` holds counts and paths, never identifiers."""

    at: datetime
    step: str
    detail: dict[str, Any]
    audit_seq: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(timespec="seconds"), "step": self.step, "detail": self.detail,
                "audit_seq": self.audit_seq}


@dataclass(slots=True)
class Request:
    """A data subject request. ``subject`` is decrypted only when asked for (see :meth:`Registry.get`)."""

    id: str
    type: str
    regime: str
    received: date
    due: date
    deadline: str
    status: str
    created_at: datetime
    subject_keys: list[str]
    subject: dict[str, str] | None = None
    events: list[Event] = field(default_factory=list)

    def overdue(self, today: date | None = None) -> bool:
        return self.status not in CLOSED and (today or date.today()) > self.due

    def days_overdue(self, today: date | None = None) -> int:
        """Days past the due date (0 when not overdue)."""
        return ((today or date.today()) - self.due).days if self.overdue(today) else 0

    def to_dict(self, *, reveal: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id, "type": self.type, "regime": self.regime, "received": self.received.isoformat(),
            "due": self.due.isoformat(), "deadline": self.deadline, "status": self.status,
            "overdue": self.overdue(), "subject_keys": self.subject_keys,
            "events": [e.to_dict() for e in self.events],
        }
        if reveal and self.subject is not None:
            data["subject"] = self.subject
        return data


def parse_subject(text: str) -> dict[str, str]:
    """``email=a@b.c,phone=+55 12 3923-5555`` -> dict; keys lower-case, values trimmed.

    Commas inside values are not supported; identifiers (e-mail, phone, ids) have none.
    """
    subject: dict[str, str] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        key, eq, value = part.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not eq or not key or not value:
            raise UsageError("--subject expects KEY=VALUE pairs separated by commas, e.g. email=a@example.com")
        if not key.replace("_", "").isalnum():
            raise UsageError(f"subject key {key!r} must be letters, digits and underscores")
        subject[key] = value
    if not subject:
        raise UsageError("--subject needs at least one identifier, e.g. email=a@example.com")
    return subject


def due_date(policy: Policy | None, regime: str, received: date) -> tuple[date, str]:
    """The response deadline for ``regime`` from the policy's ``dsr.deadlines`` (statutory default otherwise)."""
    from govkit.policy.periods import Period

    period = policy.doc.dsr.deadlines.get(regime) if policy is not None else None
    if period is None:
        period = Period.parse(DEFAULT_DEADLINES[regime])
    return period.after(received), str(period)


class Registry:
    """The requests of one workspace. Cheap to create; holds a SQLite engine."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.path, self.engine = statedb.open_store(
            state_dir, DB_FILE, _metadata, "the DSR register", ("dsr_request",),
            "restore it from a backup: it holds the data subject requests and their timelines")

    def close(self) -> None:
        self.engine.dispose()

    # -- encryption ------------------------------------------------------------------------

    def _seal(self, request_id: str, subject: dict[str, str]) -> tuple[str, bytes]:
        key_id, key = load_keyset(self.state_dir).derive(KEY_PURPOSE)
        nonce = secrets.token_bytes(12)
        plain = json.dumps(subject, sort_keys=True).encode("utf-8")
        return key_id, nonce + AESGCM(key).encrypt(nonce, plain, request_id.encode("ascii"))

    def _open(self, request_id: str, key_id: str, blob: bytes) -> dict[str, str]:
        keyset = load_keyset(self.state_dir)
        if not keyset.has(key_id):
            raise KeyMaterialError(f"request {request_id} was encrypted under key {key_id}, which is not in the keyset")
        _, key = keyset.derive(KEY_PURPOSE, key_id)
        try:
            plain = AESGCM(key).decrypt(blob[:12], blob[12:], request_id.encode("ascii"))
        except InvalidTag:
            raise KeyMaterialError(
                f"request {request_id}: the subject cannot be decrypted (wrong key or damaged)"
            ) from None
        data = json.loads(plain)
        assert isinstance(data, dict)
        return {str(k): str(v) for k, v in data.items()}

    # -- requests --------------------------------------------------------------------------

    def create(
        self, type_: str, subject: dict[str, str], *, regime: str = "gdpr", received: date | None = None,
        policy: Policy | None = None,
    ) -> Request:
        if type_ not in REQUEST_TYPES:
            raise UsageError(f"unknown request type {type_!r} (one of {', '.join(REQUEST_TYPES)})")
        if regime not in REGIMES:
            raise UsageError(f"unknown regime {regime!r} (one of {', '.join(REGIMES)})")
        received = received or date.today()
        if received > date.today():
            raise UsageError(f"the received date {received:%Y-%m-%d} is in the future "
                             f"(today is {date.today():%Y-%m-%d})")
        due, deadline = due_date(policy, regime, received)
        now = _now()
        request_id = f"DSR-{now:%Y%m%d}-{secrets.token_hex(3).upper()}"
        key_id, blob = self._seal(request_id, subject)
        with self.engine.begin() as conn:
            conn.execute(_requests.insert().values(
                id=request_id, type=type_, regime=regime, received=received, due=due, deadline=deadline,
                status="open", created_at=now, key_id=key_id, subject=blob, subject_keys=",".join(sorted(subject)),
            ))
        self.add_event(request_id, "registered", {"type": type_, "regime": regime, "due": due.isoformat()})
        return self.get(request_id)

    def get(self, request_id: str, *, reveal: bool = False) -> Request:
        """The request with its timeline; the subject's identifiers only if ``reveal``."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(_requests).where(_requests.c.id == request_id)).mappings().first()
            if row is None:
                raise UsageError(f"no DSR request {request_id!r} (see 'govkit dsr list')")
            events = conn.execute(
                sa.select(_events).where(_events.c.request_id == request_id).order_by(_events.c.id)
            ).mappings().all()
        request = _request(row)
        request.events = [Event(e["at"], e["step"], dict(e["detail"]), e["audit_seq"]) for e in events]
        if reveal:
            request.subject = self._open(request_id, row["key_id"], row["subject"])
        return request

    def subject(self, request_id: str) -> dict[str, str]:
        """The decrypted identifiers, for locating; callers must not print or log them."""
        subject = self.get(request_id, reveal=True).subject
        assert subject is not None
        return subject

    def list(self) -> list[Request]:
        """Open requests first, overdue before the rest, then by due date."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(_requests)).mappings().all()
        requests = [_request(r) for r in rows]
        requests.sort(key=lambda r: (r.status in CLOSED, not r.overdue(), r.due, r.id))
        return requests

    def add_event(self, request_id: str, step: str, detail: dict[str, Any], audit_seq: int | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(_events.insert().values(request_id=request_id, at=_now(), step=step, detail=detail,
                                                 audit_seq=audit_seq))
        self._follow_audit(audit_seq)

    # -- audit anchor: the newest audit record this registry saw (govkit.audit.anchors) ----------

    def _follow_audit(self, audit_seq: int | None = None) -> None:
        """Keep the anchor up with the audit log: the record of the audited action in progress
        once it is written, or (for an event stamped after its action) the head, which is at
        or after the cited record."""
        anchors.anchor_when_recorded(self.state_dir, anchors.DSR_HOLDER, self.write_anchor)
        if audit_seq is not None:
            head = anchors.current_head(self.state_dir)
            if head is not None and head[0] >= audit_seq:
                self.write_anchor(*head)

    def write_anchor(self, seq: int, digest: str) -> None:
        """Store ``(seq, digest)`` as the registry's audit anchor (the newest write wins)."""
        value = anchors.encode(seq, digest)
        statement = sqlite_insert(_meta).values(key=anchors.ANCHOR_KEY, value=value)
        with self.engine.begin() as conn:
            conn.execute(statement.on_conflict_do_update(index_elements=[_meta.c.key], set_={"value": value}))

    # -- end of audit anchor --------------------------------------------------------------------

    def update_subject(self, request_id: str, subject: dict[str, str]) -> None:
        """Replace the request's identifiers (rectification), sealed again under the current key."""
        self.get(request_id)
        key_id, blob = self._seal(request_id, subject)
        with self.engine.begin() as conn:
            conn.execute(_requests.update().where(_requests.c.id == request_id).values(
                key_id=key_id, subject=blob, subject_keys=",".join(sorted(subject))))
        self._follow_audit()

    def set_status(self, request_id: str, status: str) -> None:
        if status not in STATUSES:
            raise ValueError(f"unknown request status {status!r}")
        with self.engine.begin() as conn:
            conn.execute(_requests.update().where(_requests.c.id == request_id).values(status=status))
        self._follow_audit()

    def set_due(self, request_id: str, due: date) -> None:
        """Move the due date (an extension); the timeline event says by how much and why."""
        with self.engine.begin() as conn:
            conn.execute(_requests.update().where(_requests.c.id == request_id).values(due=due))
        self._follow_audit()


def _request(row: Any) -> Request:
    keys = row["subject_keys"]
    return Request(row["id"], row["type"], row["regime"], row["received"], row["due"], row["deadline"],
                   row["status"], row["created_at"], keys.split(",") if keys else [])


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)
