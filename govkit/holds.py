"""Legal holds: data that nothing may delete or change while a litigation, audit or inquiry runs.

A hold is placed on one of two things:

* a **data subject** (``govkit hold add --subject email=ann@example.com``): every row the DSR
  locate machinery finds for those identifiers (:mod:`govkit.actions.dsr.locate`, the same
  search an erasure runs), with the rows that reference them;
* an **asset** (``--asset Invoice [--source shop] [--where "BillingCountry = 'Brazil'"]``): a
  whole table, or the rows of it a policy predicate selects (:mod:`govkit.policy.predicates`,
  one column, one operator, literals: never SQL text, so a hold cannot inject SQL).

Each hold has a reason (required: a hold is a decision someone must be able to explain), an
optional ``until`` date (after it the hold no longer applies), an id (``HOLD-0001``), and
its creation and release times. Holds live in ``.govkit/holds.db`` (0600, in the 0700 state
folder), apart from the DSR register because a hold outlives any request and is read by
retention as well as erasure. The policy file's ``retention.rules[].exceptions[].legal_hold``
stays what it was: a hold written into the policy by its authors; this store is the
operational one that legal staff place and release without editing policy.

**A subject's identifiers are personal data.** They are stored encrypted (AES-GCM under the
workspace subkey for purpose ``holds``, the hold id as associated data), with keyed digests
(HMAC-SHA256 under the same subkey) of their normalised forms so an erasure request can be
matched against them without decrypting anything, and a masked form
(:func:`govkit.detect.evidence.mask`) for ``hold list`` and the audit log. The reason and a
predicate are typed by people, so they are masked like notes (:mod:`govkit.detect.notes`)
before they are stored or audited.

**Consumers** (``retention apply``, erasure) load the active holds with :func:`load_holds`,
call :meth:`HoldSet.resolve` once (subject holds are located), then ask per table for
:meth:`HoldSet.held_clause` (a SQLAlchemy condition with bound parameters, true for held
rows) and :meth:`HoldSet.names`. Nothing unknown is treated as "not held": where a subject
hold could not be located (a source or table locate could not search) or a predicate names a
column the table lacks, the whole table counts as held and :attr:`HoldSet.unresolved` says
why, so a caller can refuse or report itself incomplete.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from govkit import statedb
from govkit.errors import KeyMaterialError, UsageError
from govkit.keys import load_keyset

if TYPE_CHECKING:
    from pathlib import Path

    from govkit.inventory.store import AssetRecord, Inventory
    from govkit.policy.loader import Policy
    from govkit.policy.predicates import Predicate
    from govkit.workspace import Workspace

KEY_PURPOSE = "holds"
DB_FILE = "holds.db"
KINDS = ("subject", "asset")
#: Keys per IN list (as locate and erasure chunk them).
_CHUNK = 500

_metadata = sa.MetaData()
_holds = sa.Table(
    "legal_hold", _metadata,
    sa.Column("n", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(16), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("source", sa.String(300), nullable=True),
    sa.Column("asset", sa.String(300), nullable=True),
    sa.Column("predicate", sa.Text, nullable=True),
    sa.Column("predicate_masked", sa.Text, nullable=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("until", sa.Date, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("released_at", sa.DateTime, nullable=True),
    sa.Column("release_reason", sa.Text, nullable=True),
    sa.Column("key_id", sa.String(64), nullable=True),
    sa.Column("subject", sa.LargeBinary, nullable=True),
    sa.Column("subject_keys", sa.String(200), nullable=True),
    sa.Column("subject_masked", sa.JSON, nullable=True),
    sa.Column("digests", sa.JSON, nullable=True),
)


@dataclass(slots=True)
class LegalHold:
    """One hold as stored; the subject's identifiers appear only masked (``subject_masked``)."""

    id: str
    kind: str
    reason: str
    created_at: datetime
    until: date | None = None
    released_at: datetime | None = None
    release_reason: str | None = None
    source: str | None = None
    asset: str | None = None
    where: str | None = None
    where_masked: str | None = None
    subject_keys: list[str] = field(default_factory=list)
    subject_masked: dict[str, str] = field(default_factory=dict)
    key_id: str | None = None
    digests: list[str] = field(default_factory=list, repr=False)

    def status(self, on: date | None = None) -> str:
        """``active``, ``released`` or ``expired`` (past its ``until`` date on ``on``)."""
        if self.released_at is not None:
            return "released"
        if self.until is not None and (on or date.today()) > self.until:
            return "expired"
        return "active"

    def active(self, on: date | None = None) -> bool:
        return self.status(on) == "active"

    @property
    def predicate(self) -> Predicate | None:
        from govkit.policy.predicates import Predicate

        return Predicate.parse(self.where) if self.where else None

    @property
    def target(self) -> str:
        """What is held, for tables and messages: identifiers masked, a predicate masked."""
        if self.kind == "subject":
            return "subject " + ", ".join(f"{k}={v}" for k, v in sorted(self.subject_masked.items()))
        text = f"asset {self.asset}"
        if self.source:
            text += f" in {self.source}"
        if self.where_masked:
            text += f" where {self.where_masked}"
        return text

    def to_dict(self, on: date | None = None) -> dict[str, Any]:
        """Everything but the encrypted identifiers and the digests; the predicate masked."""
        return {
            "id": self.id, "kind": self.kind, "status": self.status(on), "target": self.target,
            "subject": dict(sorted(self.subject_masked.items())) if self.kind == "subject" else None,
            "source": self.source, "asset": self.asset, "where": self.where_masked,
            "reason": self.reason, "until": self.until.isoformat() if self.until else None,
            "created_at": self.created_at.isoformat(timespec="seconds"),
            "released_at": self.released_at.isoformat(timespec="seconds") if self.released_at else None,
            "release_reason": self.release_reason,
        }


# -- identifiers: normalised forms and their keyed digests ------------------------------------------


def _norm_key(key: str) -> str:
    return key.replace("_", "").lower()


def identifier_forms(key: str, value: str) -> set[str]:
    """The normalised spellings of one identifier that count as the same person's: e-mails
    trimmed and lower-cased, phone numbers as E.164 digits (or their bare digits when they
    cannot be parsed without a region), anything else trimmed."""
    import phonenumbers

    from govkit.actions.dsr.locate import normalize_email

    kind = _norm_key(key)
    raw = value.strip()
    if not raw:
        return set()
    if kind == "email":
        return {normalize_email(raw)}
    if kind == "phone":
        digits = re.sub(r"\D", "", raw)
        try:
            number = phonenumbers.parse(raw if raw.startswith("+") else "+" + digits, None)
            e164 = re.sub(r"\D", "", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
        except phonenumbers.NumberParseException:
            e164 = ""
        return {d for d in (digits, e164) if d}
    return {raw}


def _digest(key: bytes, kind: str, form: str) -> str:
    return hmac.new(key, f"{_norm_key(kind)}\0{form}".encode(), hashlib.sha256).hexdigest()


def subject_digests(key: bytes, subject: dict[str, str]) -> set[str]:
    """Keyed digests of every normalised form of every identifier in ``subject``."""
    return {_digest(key, k, form) for k, v in subject.items() for form in identifier_forms(k, v)}


def _masked_subject(subject: dict[str, str]) -> dict[str, str]:
    from govkit.detect.evidence import mask

    entity = {"email": "EMAIL_ADDRESS", "phone": "PHONE_NUMBER"}
    return {k: mask(v, entity.get(_norm_key(k))) for k, v in subject.items()}


# -- the store ---------------------------------------------------------------------------------------


class HoldStore:
    """The holds of one workspace, in ``.govkit/holds.db``. Cheap to create; holds a SQLite engine."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.path, self.engine = statedb.open_store(
            state_dir, DB_FILE, _metadata, "the legal hold store", ("legal_hold",),
            "restore it from a backup: it holds the legal holds in force")

    def close(self) -> None:
        self.engine.dispose()

    def _seal(self, hold_id: str, subject: dict[str, str]) -> tuple[str, bytes, list[str]]:
        key_id, key = load_keyset(self.state_dir).derive(KEY_PURPOSE)
        nonce = secrets.token_bytes(12)
        plain = json.dumps(subject, sort_keys=True).encode("utf-8")
        return key_id, nonce + AESGCM(key).encrypt(nonce, plain, hold_id.encode("ascii")), \
            sorted(subject_digests(key, subject))

    def subject(self, hold_id: str) -> dict[str, str]:
        """The decrypted identifiers of a subject hold, for locating; never print or log them."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(_holds).where(_holds.c.id == hold_id)).mappings().first()
        if row is None or row["subject"] is None:
            raise UsageError(f"no subject hold {hold_id!r}")
        keyset = load_keyset(self.state_dir)
        if not keyset.has(row["key_id"]):
            raise KeyMaterialError(f"hold {hold_id} was encrypted under key {row['key_id']}, which is not in the "
                                   "keyset")
        _, key = keyset.derive(KEY_PURPOSE, row["key_id"])
        blob = row["subject"]
        try:
            plain = AESGCM(key).decrypt(blob[:12], blob[12:], hold_id.encode("ascii"))
        except InvalidTag:
            raise KeyMaterialError(f"hold {hold_id}: the subject cannot be decrypted (wrong key or damaged)") from None
        data = json.loads(plain)
        return {str(k): str(v) for k, v in data.items()}

    def add(self, kind: str, reason: str, *, subject: dict[str, str] | None = None, source: str | None = None,
            asset: str | None = None, where: str | None = None, where_masked: str | None = None,
            until: date | None = None) -> LegalHold:
        """Store a new hold (the caller has checked and masked its input); ids count up."""
        if kind not in KINDS:
            raise ValueError(f"unknown hold kind {kind!r}")
        if (kind == "subject") != (subject is not None):
            raise ValueError("a subject hold needs the subject, an asset hold none")
        load_keyset(self.state_dir)  # a missing key fails before anything is stored
        with self.engine.begin() as conn:
            inserted = conn.execute(_holds.insert().values(
                id=f"pending-{secrets.token_hex(4)}", kind=kind, source=source, asset=asset, predicate=where,
                predicate_masked=where_masked, reason=reason, until=until, created_at=_now(),
            )).inserted_primary_key
            assert inserted is not None
            n = inserted[0]
            hold_id = f"HOLD-{int(n):04d}"
            values: dict[str, Any] = {"id": hold_id}
            if subject is not None:
                key_id, blob, digests = self._seal(hold_id, subject)
                values.update(key_id=key_id, subject=blob, subject_keys=",".join(sorted(subject)),
                              subject_masked=_masked_subject(subject), digests=digests)
            conn.execute(_holds.update().where(_holds.c.n == n).values(**values))
        return self.get(hold_id)

    def get(self, hold_id: str) -> LegalHold:
        wanted = hold_id.strip().upper()
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(_holds).where(_holds.c.id == wanted)).mappings().first()
        if row is None:
            raise UsageError(f"no legal hold {hold_id!r} (see 'govkit hold list --all')")
        return _hold(row)

    def list(self) -> list[LegalHold]:
        """Every hold, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(_holds).order_by(_holds.c.n)).mappings().all()
        return [_hold(r) for r in rows]

    def release(self, hold_id: str, reason: str) -> LegalHold:
        hold = self.get(hold_id)
        if hold.released_at is not None:
            raise UsageError(f"{hold.id} was already released on {hold.released_at:%Y-%m-%d}")
        with self.engine.begin() as conn:
            conn.execute(_holds.update().where(_holds.c.id == hold.id).values(released_at=_now(),
                                                                               release_reason=reason))
        return self.get(hold.id)


def _hold(row: Any) -> LegalHold:
    keys = row["subject_keys"]
    return LegalHold(
        id=row["id"], kind=row["kind"], reason=row["reason"], created_at=row["created_at"], until=row["until"],
        released_at=row["released_at"], release_reason=row["release_reason"], source=row["source"],
        asset=row["asset"], where=row["predicate"], where_masked=row["predicate_masked"],
        subject_keys=keys.split(",") if keys else [], subject_masked=dict(row["subject_masked"] or {}),
        key_id=row["key_id"], digests=list(row["digests"] or []),
    )


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


# -- the library calls behind 'govkit hold' -----------------------------------------------------------


def _free_text(workspace: Workspace, text: str, option: str) -> str:
    """Text typed by people, one line, its personal data masked (it is stored and audited)."""
    from govkit.detect.notes import mask_note

    line = " ".join(text.split())
    if not line:
        raise UsageError(f"{option} must not be empty")
    return mask_note(line, workspace.detection.model, workspace.detection.language).text


def check_asset_hold(workspace: Workspace, asset: str, source: str | None, where: str | None,
                     inventory: Inventory | None = None) -> tuple[Predicate | None, list[str]]:
    """Check an asset hold's target: the source is known, the predicate parses and names a
    column of the table where the inventory knows the table. Returns the predicate and the
    inventory's matching assets (``source: asset``; empty when the inventory does not know it)."""
    from govkit.inventory.store import Inventory as Store
    from govkit.policy.predicates import Predicate, PredicateError
    from govkit.policy.schema import matches_asset, matches_source

    if not asset.strip():
        raise UsageError("--asset must name a table (or file), e.g. --asset Invoice")
    predicate = None
    if where is not None:
        try:
            predicate = Predicate.parse(where)
        except PredicateError as exc:
            raise UsageError(f"--where: {exc}") from None
    own = inventory is None
    inv = inventory or Store(workspace.inventory_path)
    try:
        known = inv.sources()
        if source is not None and source not in workspace.sources and not any(
                source in (s.display, s.name) for s in known):
            names = ", ".join(sorted(workspace.sources)) or "none defined"
            raise UsageError(f"--source {source!r}: no such source in govkit.toml ({names}) or in the inventory")
        matched = [a for a in inv.assets() if matches_source(source, a.source, a.source_name)
                   and matches_asset(asset, a.name)]
    finally:
        if own:
            inv.close()
    if predicate is not None and matched:
        lacking = [a for a in matched if predicate.column.lower() not in {str(f["name"]).lower() for f in a.fields}]
        if len(lacking) == len(matched):
            first = lacking[0]
            columns = ", ".join(str(f["name"]) for f in first.fields[:12])
            raise UsageError(f"--where: {first.name} ({first.source_name or first.source}) has no column "
                             f"{predicate.column!r} (columns: {columns}{', ...' if len(first.fields) > 12 else ''})")
    return predicate, [f"{a.source_name or a.source}: {a.name}" for a in matched]


def add_hold(
    workspace: Workspace, *, reason: str, subject: dict[str, str] | None = None, asset: str | None = None,
    source: str | None = None, where: str | None = None, until: date | None = None, today: date | None = None,
) -> LegalHold:
    """Place a hold on a subject or on an asset (audited as ``hold.add``, identifiers masked)."""
    from govkit.audit.action import audit_action

    today = today or date.today()
    if (subject is None) == (asset is None):
        raise UsageError("a hold is on a subject (--subject KEY=VALUE) or on an asset (--asset TABLE), one of them")
    if asset is None and (source is not None or where is not None):
        raise UsageError("--source and --where narrow an asset hold; use them with --asset")
    if until is not None and until < today:
        raise UsageError(f"--until {until:%Y-%m-%d} is in the past (today is {today:%Y-%m-%d}): the hold would "
                         "never apply")
    if subject is not None:
        if not subject or not any(identifier_forms(k, v) for k, v in subject.items()):
            raise UsageError("--subject needs at least one identifier, e.g. email=a@example.com")
        kind = "subject"
        predicate, where_masked = None, None
    else:
        assert asset is not None
        kind = "asset"
        predicate, _ = check_asset_hold(workspace, asset, source, where)
        where_masked = _free_text(workspace, str(predicate), "--where") if predicate is not None else None
    reason = _free_text(workspace, reason, "--reason")
    store = HoldStore(workspace.state_dir)
    try:
        params: dict[str, Any] = {"kind": kind, "reason": reason, "until": until.isoformat() if until else None}
        if subject is not None:
            params.update(subject_keys=sorted(subject), subject=_masked_subject(subject))
        else:
            params.update(asset=asset, source=source, where=where_masked)
        with audit_action(workspace.state_dir, "hold.add", params) as entry:
            hold = store.add(kind, reason, subject=subject, source=source, asset=asset,
                             where=str(predicate) if predicate is not None else None, where_masked=where_masked,
                             until=until)
            entry.params["hold_id"] = hold.id
        return hold
    finally:
        store.close()


def list_holds(workspace: Workspace, *, include_all: bool = False, on: date | None = None) -> list[LegalHold]:
    """The holds in force on ``on`` (today), or every hold with ``include_all``."""
    if not (workspace.state_dir / DB_FILE).exists():
        return []
    store = HoldStore(workspace.state_dir)
    try:
        holds = store.list()
    finally:
        store.close()
    return holds if include_all else [h for h in holds if h.active(on)]


def release_hold(workspace: Workspace, hold_id: str, *, reason: str) -> LegalHold:
    """Release a hold (audited as ``hold.release``); it stays listed with ``--all``."""
    from govkit.audit.action import audit_action

    if not (workspace.state_dir / DB_FILE).exists():
        raise UsageError(f"no legal hold {hold_id!r}: no hold was ever placed in this workspace")
    reason = _free_text(workspace, reason, "--reason")
    store = HoldStore(workspace.state_dir)
    try:
        hold = store.get(hold_id)
        if hold.released_at is not None:
            raise UsageError(f"{hold.id} was already released on {hold.released_at:%Y-%m-%d}")
        params = {"hold_id": hold.id, "kind": hold.kind, "target": hold.target, "reason": reason}
        with audit_action(workspace.state_dir, "hold.release", params):
            return store.release(hold.id, reason)
    finally:
        store.close()


# -- what the holds mean for one table: for retention and erasure -------------------------------------


@dataclass(slots=True)
class _Located:
    """The rows of one table that a subject hold covers (keys in memory, never shown)."""

    hold: str
    source: str
    source_name: str | None
    asset: str
    key_columns: list[str]
    keys: list[tuple[Any, ...]]


@dataclass(slots=True)
class _Gap:
    """Where a subject hold could not be located: a table, or a whole source (``asset`` None)."""

    hold: str
    source: str
    source_name: str | None
    asset: str | None


def _same_source(source: str, source_name: str | None, other: str, other_name: str | None) -> bool:
    return source == other or (source_name is not None and source_name == other_name)


def _column(table: sa.TableClause, name: str) -> sa.ColumnElement[Any] | None:
    """``table``'s column ``name``, compared case-insensitively (databases differ)."""
    if name in table.c:
        return table.c[name]
    return next((c for c in table.c if c.name.lower() == name.lower()), None)


class HoldSet:
    """The holds active on one date, and what they hold table by table.

    Subject holds know their rows only after :meth:`resolve`; asset holds need nothing.
    """

    def __init__(self, workspace: Workspace, holds: Sequence[LegalHold], on: date) -> None:
        self.workspace = workspace
        self.holds = list(holds)
        self.on = on
        self._resolved = not any(h.kind == "subject" for h in self.holds)
        self._located: list[_Located] = []
        self._gaps: list[_Gap] = []
        self._unresolved: list[str] = []

    def __len__(self) -> int:
        return len(self.holds)

    def __bool__(self) -> bool:
        return bool(self.holds)

    @property
    def unresolved(self) -> list[str]:
        """One line per thing a hold could not be resolved to rows (no identifiers in them);
        the tables concerned count as wholly held."""
        return list(self._unresolved)

    def _note(self, line: str) -> None:
        if line not in self._unresolved:
            self._unresolved.append(line)

    def subject_holds(self) -> list[LegalHold]:
        return [h for h in self.holds if h.kind == "subject"]

    def asset_holds(self, source: str, source_name: str | None, asset_name: str) -> list[LegalHold]:
        """The asset holds on ``asset_name`` of that source (a hold without a source: any source)."""
        from govkit.policy.schema import matches_asset, matches_source

        return [h for h in self.holds if h.kind == "asset" and h.asset is not None
                and matches_source(h.source, source, source_name) and matches_asset(h.asset, asset_name)]

    def matching_subject(self, subject: dict[str, str]) -> list[LegalHold]:
        """The subject holds sharing an identifier with ``subject`` (by keyed digest: a hold on
        ``email=Ann@Example.com`` matches a request for ``email=ann@example.com``)."""
        found: list[LegalHold] = []
        if not subject:
            return found
        keyset = None
        by_key: dict[str, set[str]] = {}
        for hold in self.subject_holds():
            if hold.key_id is None:
                continue
            if hold.key_id not in by_key:
                keyset = keyset or load_keyset(self.workspace.state_dir)
                if not keyset.has(hold.key_id):
                    self._note(f"{hold.id}: its digests were made under key {hold.key_id}, which is not in the "
                               "keyset; it cannot be matched by identifier")
                    by_key[hold.key_id] = set()
                    continue
                _, key = keyset.derive(KEY_PURPOSE, hold.key_id)
                by_key[hold.key_id] = subject_digests(key, subject)
            if by_key[hold.key_id] & set(hold.digests):
                found.append(hold)
        return found

    def resolve(self, policy: Policy, inventory: Inventory) -> None:
        """Locate every subject hold's rows (the DSR locate machinery, once per hold). What a
        search could not reach is kept in :attr:`unresolved`, never read as "not held"."""
        from govkit.actions.dsr.locate import locate

        self._located.clear()
        self._gaps.clear()
        holds = self.subject_holds()
        if holds:
            store = HoldStore(self.workspace.state_dir)
            try:
                for hold in holds:
                    report = locate(self.workspace, store.subject(hold.id), policy=policy, inventory=inventory)
                    for hit in report.data():
                        self._located.append(_Located(hold.id, hit.source, hit.source_name, hit.asset,
                                                      list(hit.key_columns), list(hit.keys)))
                    for gap in report.not_searched:
                        self._gaps.append(_Gap(hold.id, gap.source, gap.source_name, gap.asset))
                        self._note(f"{hold.id}: {gap.label} could not be searched for the held subject "
                                   f"({gap.reason}); counted as held")
            finally:
                store.close()
        self._check_predicates(inventory)
        self._resolved = True

    def _check_predicates(self, inventory: Inventory) -> None:
        """Asset holds whose predicate names a column a held table lacks: noted now, so that
        :attr:`unresolved` is complete after :meth:`resolve` (such a table counts as wholly held)."""
        from govkit.policy.schema import matches_asset, matches_source

        assets = inventory.assets()
        for hold in self.holds:
            predicate = hold.predicate if hold.kind == "asset" else None
            if predicate is None or hold.asset is None:
                continue
            for asset in assets:
                if not (matches_source(hold.source, asset.source, asset.source_name)
                        and matches_asset(hold.asset, asset.name)) or asset.kind == "file":
                    continue
                if predicate.column.lower() not in {str(f["name"]).lower() for f in asset.fields}:
                    self._note(f"{hold.id}: {asset.name} has no column {predicate.column!r}; the whole table "
                               "counts as held")

    def _require_resolved(self) -> None:
        if not self._resolved:
            raise RuntimeError("HoldSet.resolve(policy, inventory) must run before subject holds are asked about")

    def _gaps_for(self, source: str, source_name: str | None, asset_name: str) -> list[_Gap]:
        return [g for g in self._gaps if _same_source(g.source, g.source_name, source, source_name)
                and (g.asset is None or g.asset.lower() == asset_name.lower())]

    def _located_in(self, source: str, source_name: str | None, asset_name: str) -> list[_Located]:
        return [loc for loc in self._located if _same_source(loc.source, loc.source_name, source, source_name)
                and loc.asset.lower() == asset_name.lower() and loc.keys]

    def held_keys(self, source: str, source_name: str | None, asset_name: str) -> dict[str, set[tuple[Any, ...]]]:
        """Per subject hold, the keys of the rows of this table it holds (after :meth:`resolve`)."""
        self._require_resolved()
        found: dict[str, set[tuple[Any, ...]]] = {}
        for loc in self._located_in(source, source_name, asset_name):
            found.setdefault(loc.hold, set()).update(tuple(k) for k in loc.keys)
        return found

    def names(self, source: str, source_name: str | None, asset_name: str) -> list[str]:
        """The ids of the holds that apply to rows of this table (for plans and reports)."""
        self._require_resolved()
        ids = [h.id for h in self.asset_holds(source, source_name, asset_name)]
        ids += [loc.hold for loc in self._located_in(source, source_name, asset_name)]
        ids += [g.hold for g in self._gaps_for(source, source_name, asset_name)]
        return sorted(set(ids))

    def held_clause(self, source: str, source_name: str | None, asset: AssetRecord,
                    table: sa.TableClause) -> sa.ColumnElement[bool] | None:
        """A condition true for the held rows of ``table`` (bound parameters only), None when
        nothing there is held. ``sa.true()`` means the whole table: a hold on the whole
        asset, a predicate on a column the table lacks, or a subject hold locate could not
        search there (see :attr:`unresolved`). Select what may change with ``sa.not_(...)``."""
        self._require_resolved()
        clauses: list[sa.ColumnElement[bool]] = []
        for hold in self.asset_holds(source, source_name, asset.name):
            predicate = hold.predicate
            if predicate is None:
                return sa.true()
            column = _column(table, predicate.column)
            if column is None:
                self._note(f"{hold.id}: {asset.name} has no column {predicate.column!r}; the whole table counts as "
                           "held")
                return sa.true()
            clauses.append(predicate.sql(column))
        if self._gaps_for(source, source_name, asset.name):
            return sa.true()
        for loc in self._located_in(source, source_name, asset.name):
            columns = [_column(table, c) for c in loc.key_columns]
            if any(c is None for c in columns):
                self._note(f"{loc.hold}: the held rows of {asset.name} are known by "
                           f"{', '.join(loc.key_columns)}, which this query lacks; the whole table counts as held")
                return sa.true()
            cols = [c for c in columns if c is not None]
            for start in range(0, len(loc.keys), _CHUNK):
                chunk = loc.keys[start:start + _CHUNK]
                if len(cols) == 1:
                    clauses.append(cols[0].in_([k[0] for k in chunk]))
                else:
                    clauses.append(sa.tuple_(*cols).in_([tuple(k) for k in chunk]))
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else sa.or_(*clauses)


def load_holds(workspace: Workspace, *, on: date | None = None) -> HoldSet:
    """The holds active on ``on`` (default today): not released, not past their ``until`` date."""
    on = on or date.today()
    return HoldSet(workspace, list_holds(workspace, on=on), on)
