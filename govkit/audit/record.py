"""The stored form of audit records and the head, and how both are hashed and signed.

Kept apart from the store (:mod:`govkit.audit.log`) and the checker
(:mod:`govkit.audit.verify`) because both must agree on it byte for byte: one canonical JSON
encoding, one HMAC construction, with a different tag for records and for the head so that
one's signature can never be passed off as the other's.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

KEY_PURPOSE = "audit-log"
GENESIS = "0" * 64
RECORD_FIELDS = ("seq", "time", "actor", "action", "params", "counts", "outcome", "error", "prev", "key_id", "hmac")

# Domain separation: a record's signature can never pass as a head's, or the reverse.
RECORD_TAG = b"govkit-audit-record-v1\n"
HEAD_TAG = b"govkit-audit-head-v1\n"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def canonical(data: Mapping[str, Any]) -> bytes:
    """The one byte form a record is hashed and signed in: sorted keys, no spaces, UTF-8."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(
        "utf-8"
    )


def sign(subkey: bytes, tag: bytes, body: Mapping[str, Any]) -> str:
    """HMAC-SHA256 (hex) of ``tag`` + canonical ``body`` under an "audit-log" subkey."""
    return hmac.new(subkey, tag + canonical(body), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class Record:
    """One audit record as stored. ``digest()`` is what the next record's ``prev`` holds."""

    seq: int
    time: str
    actor: str
    action: str
    params: dict[str, Any]
    counts: dict[str, int | float]
    outcome: str
    error: str | None
    prev: str
    key_id: str
    hmac: str

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in RECORD_FIELDS}

    def body(self) -> dict[str, Any]:
        """The signed part: everything but ``hmac``."""
        data = self.to_dict()
        del data["hmac"]
        return data

    def line(self) -> bytes:
        return canonical(self.to_dict())

    def digest(self) -> str:
        return hashlib.sha256(self.line()).hexdigest()

    @property
    def timestamp(self) -> datetime:
        return parse_time(self.time)

    @classmethod
    def from_line(cls, raw: bytes) -> Record:
        """Parse one stored line; ``ValueError`` says what is wrong with it.

        The line must be exactly the canonical form: re-encoding the same content differently
        (spaces, key order, a duplicated key) is still a change to an append-only file.
        """
        try:
            data = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ValueError("not valid JSON") from None
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        if set(data) != set(RECORD_FIELDS):
            missing = sorted(set(RECORD_FIELDS) - set(data))
            extra = sorted(set(data) - set(RECORD_FIELDS))
            raise ValueError(f"fields differ (missing {missing or 'none'}, unexpected {extra or 'none'})")
        checks = {
            "seq": isinstance(data["seq"], int) and not isinstance(data["seq"], bool) and data["seq"] > 0,
            "time": isinstance(data["time"], str),
            "actor": isinstance(data["actor"], str),
            "action": isinstance(data["action"], str),
            "params": isinstance(data["params"], dict),
            "counts": isinstance(data["counts"], dict),
            "outcome": isinstance(data["outcome"], str),
            "error": data["error"] is None or isinstance(data["error"], str),
            "prev": isinstance(data["prev"], str) and bool(_HEX64.match(data["prev"])),
            "key_id": isinstance(data["key_id"], str),
            "hmac": isinstance(data["hmac"], str),
        }
        wrong = [name for name, ok in checks.items() if not ok]
        if wrong:
            raise ValueError(f"malformed field {wrong[0]}")
        record = cls(**data)
        try:
            record.timestamp  # noqa: B018 - parsing is the check
        except ValueError:
            raise ValueError("malformed field time") from None
        if record.line() != raw:
            raise ValueError("not in canonical form")
        return record


@dataclass(frozen=True, slots=True)
class Head:
    """The chain's end, kept apart from the log so that cutting records off the log shows."""

    seq: int
    hash: str
    key_id: str
    hmac: str

    def body(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash, "key_id": self.key_id}

    def to_dict(self) -> dict[str, Any]:
        return {**self.body(), "hmac": self.hmac}



def parse_head(raw: bytes) -> Head:
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValueError("not valid JSON") from None
    if not isinstance(data, dict) or set(data) != {"seq", "hash", "key_id", "hmac"}:
        raise ValueError("expected seq, hash, key_id and hmac")
    seq, digest, key_id, mac = data["seq"], data["hash"], data["key_id"], data["hmac"]
    if not (isinstance(seq, int) and not isinstance(seq, bool) and seq > 0):
        raise ValueError("malformed seq")
    if not (isinstance(digest, str) and _HEX64.match(digest)):
        raise ValueError("malformed hash")
    if not (isinstance(key_id, str) and isinstance(mac, str)):
        raise ValueError("malformed key_id or hmac")
    return Head(seq, digest, key_id, mac)


def parse_time(text: str) -> datetime:
    return as_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))


def as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
