"""Checking an audit log: every signature, the chain's order and links, its end against the head,
and the whole log against the anchors the workspace's stores keep (:mod:`govkit.audit.anchors`).

Each damage is reported once, by its cause, as ``"seq N: kind (detail)"``, so that an
auditor reading ``govkit log verify`` learns *what* happened *where*: an edited record
also breaks the link to its successor, but that is the edit, not a second problem. Likewise
an anchor adds a problem only where the log and its head do not already show the damage:
when the log ends before an anchor and no trusted head says so (both were deleted, or rolled
back together), or when an authentic record is not the one an anchor saw (the log was
replaced). Those lines name the holder (``dsr.db``, ``inventory.db``, ``anchors/audit.json``,
``runs/<run>/anchor.json``), so the auditor knows which evidence contradicts the log.
"""

from __future__ import annotations

import hmac
import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from govkit.audit.anchors import Anchor, Collected
from govkit.audit.record import GENESIS, HEAD_TAG, KEY_PURPOSE, RECORD_TAG, Head, Record, parse_head, sign
from govkit.keys import Keyset

_SEQ_IN_TEXT = re.compile(rb'"seq"\s*:\s*(\d{1,18})')


@dataclass(slots=True)
class VerifyResult:
    """The outcome of :meth:`AuditLog.verify`.

    ``problems`` are one line each, ``"seq N: kind (detail)"`` or ``"head: kind (detail)"``,
    kind being one of: edited, deleted, reordered, truncated, bad signature, unknown key,
    duplicated, chain broken, replaced, beyond the head; or, from the anchors,
    ``"audit log is missing but dsr.db cites record 17 (...)"`` and ``"audit log ends at
    record 12 but inventory.db saw record 15 (...)"``. ``notes`` are benign findings (a crash
    between writing a record and its head, anchors of a log replaced by ``log.restart``, an
    anchor that could not be read) that do not make the log untrustworthy. ``anchors`` is how
    many anchors were compared with this log (those a ``log.restart`` superseded are not).
    """

    ok: bool
    records: int
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    head_seq: int | None = None
    head_hash: str | None = None
    anchors: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "records": self.records, "problems": self.problems, "notes": self.notes,
            "head": None if self.head_seq is None else {"seq": self.head_seq, "hash": self.head_hash},
            "anchors": self.anchors,
        }


def missing_log(found: Collected) -> VerifyResult:
    """The verdict when there is no log and no head: a new workspace, unless an anchor says
    records existed (then every one of them was removed)."""
    problems = [f"audit log is missing but {a.holder} {a.verb} record {a.seq} ({_removed(1, a.seq)}: log.jsonl "
                f"and head.json deleted or moved away)" for a in sorted(found.anchors, key=lambda a: (a.seq, a.holder))]
    return VerifyResult(ok=not problems, records=0, problems=problems, notes=list(found.unreadable),
                        anchors=len(found.anchors))


def superseded_by(record: Record) -> set[tuple[str, int, str | None]]:
    """The anchors a ``log.restart`` record (the first of a new log) says belong to the previous log."""
    if record.seq != 1 or record.action != "log.restart":
        return set()
    keys: set[tuple[str, int, str | None]] = set()
    for item in record.params.get("superseded") or []:
        if isinstance(item, dict) and isinstance(item.get("holder"), str) and isinstance(item.get("seq"), int):
            digest = item.get("hash")
            keys.add((item["holder"], item["seq"], digest if isinstance(digest, str) else None))
    return keys


@dataclass(slots=True)
class _Entry:
    """One line. ``claimed`` is the seq written in it; ``seq`` is where it is taken to stand,
    which for a line that is not authentic may differ (see :meth:`Verifier.place`)."""

    line: int
    record: Record | None
    claimed: int | None
    seq: int | None = None
    authentic: bool = False
    invalid: str | None = None  # why the line is not a record at all
    unknown_key: bool = False


class Verifier:
    """One verification pass over the log's lines and its head, with the keys in effect."""

    def __init__(self, lines: list[bytes], head_raw: bytes | None, keyset: Keyset, *, terminated: bool = True,
                 anchors: Collected | None = None) -> None:
        self.lines = lines
        self.anchors = anchors or Collected()
        self.terminated = terminated
        self.head_raw = head_raw
        self.keyset = keyset
        self.subkeys: dict[str, bytes] = {}
        self.problems: list[tuple[float, int, str]] = []
        self.notes: list[str] = list(self.anchors.unreadable)
        self.checked = 0  # anchors compared with this log (superseded ones not counted)

    def problem(self, seq: int | None, text: str) -> None:
        order = float("inf") if seq is None else float(seq)
        self.problems.append((order, len(self.problems), text))

    def subkey(self, key_id: str) -> bytes | None:
        if key_id not in self.subkeys:
            if not self.keyset.has(key_id):
                return None
            self.subkeys[key_id] = self.keyset.derive(KEY_PURPOSE, key_id)[1]
        return self.subkeys[key_id]

    def run(self) -> VerifyResult:
        entries = [self.read(number, raw) for number, raw in enumerate(self.lines, 1)]
        if entries and not self.terminated:
            last = entries[-1]
            last.record, last.authentic = None, False
            last.invalid = "it has no line end (a write cut short, or an edit)"
        head, head_trusted = self.read_head()
        self.place(entries, head)
        by_seq: dict[int, list[_Entry]] = {}
        for entry in entries:
            if entry.seq is not None:
                by_seq.setdefault(entry.seq, []).append(entry)
        self.report_unreadable(entries)
        self.classify_bad_signatures(entries, by_seq, head)
        self.check_order(entries, by_seq)
        self.check_links(by_seq)
        self.check_end(by_seq, head if head_trusted else None)
        self.check_anchors(by_seq, head if head_trusted else None)
        self.problems.sort()
        return VerifyResult(
            ok=not self.problems, records=len(self.lines), problems=[text for _, _, text in self.problems],
            notes=self.notes, head_seq=head.seq if head else None, head_hash=head.hash if head else None,
            anchors=self.checked,
        )

    def read(self, number: int, raw: bytes) -> _Entry:
        try:
            record = Record.from_line(raw)
        except ValueError as exc:
            match = _SEQ_IN_TEXT.search(raw)
            return _Entry(number, None, int(match.group(1)) if match else None, invalid=str(exc))
        subkey = self.subkey(record.key_id)
        if subkey is None:
            return _Entry(number, record, record.seq, unknown_key=True)
        authentic = hmac.compare_digest(record.hmac, sign(subkey, RECORD_TAG, record.body()))
        return _Entry(number, record, record.seq, authentic=authentic)

    def place(self, entries: list[_Entry], head: Head | None) -> None:
        """Decide where each line stands in the chain.

        An authentic record stands at its own seq. A line that is not authentic may have had
        its seq changed too, so its claim is believed only if it fits between the authentic
        records around it (in file order); otherwise it takes the free slot right after the
        authentic record before it. So an edit that renumbers seq 3 to 10**18 is reported as
        "seq 3: edited", not as a gap of 10**18 deleted records.
        """
        previous = [0] * len(entries)
        following: list[int | None] = [None] * len(entries)
        last_seen = 0
        for index, entry in enumerate(entries):
            previous[index] = last_seen
            if entry.authentic and entry.claimed is not None:
                last_seen = entry.claimed
        next_seen: int | None = None
        for index in range(len(entries) - 1, -1, -1):
            following[index] = next_seen
            if entries[index].authentic:
                next_seen = entries[index].claimed
        claims = {e.claimed for e in entries if e.authentic}
        for index, entry in enumerate(entries):
            if entry.authentic:
                entry.seq = entry.claimed
                continue
            lower = previous[index]
            upper = following[index]
            if upper is None:
                upper = max(lower, head.seq if head else 0) + 1
            if entry.claimed is not None and lower < entry.claimed < upper:
                entry.seq = entry.claimed
            elif lower + 1 < upper and lower + 1 not in claims:
                entry.seq = lower + 1
            elif entry.claimed is not None and entry.claimed <= len(entries) + (head.seq if head else 0) + 1:
                entry.seq = entry.claimed
            if entry.seq is not None:
                claims.add(entry.seq)

    def report_unreadable(self, entries: list[_Entry]) -> None:
        for entry in entries:
            if entry.invalid is None and not entry.unknown_key:
                continue
            where = f"seq {entry.seq}" if entry.seq is not None else f"line {entry.line}"
            if entry.invalid is not None:
                detail = f"line {entry.line} is not a valid record: {entry.invalid}"
                self.problem(entry.seq or 0, f"{where}: edited ({detail}{_claims(entry)})")
            elif entry.record is not None:
                self.problem(entry.seq or 0, f"{where}: unknown key (signed with key {entry.record.key_id}, "
                                             f"which {self.keyset.source} does not hold)")

    def read_head(self) -> tuple[Head | None, bool]:
        if self.head_raw is None:
            self.problem(None, "head: deleted (head.json is missing, so a cut-off end of the log cannot be ruled out)")
            return None, False
        try:
            head = parse_head(self.head_raw)
        except ValueError as exc:
            self.problem(None, f"head: edited (head.json is not a valid head: {exc})")
            return None, False
        subkey = self.subkey(head.key_id)
        if subkey is None:
            self.problem(None, f"head: unknown key (signed with key {head.key_id}, which {self.keyset.source} "
                               f"does not hold)")
            return head, False
        if not hmac.compare_digest(head.hmac, sign(subkey, HEAD_TAG, head.body())):
            self.problem(None, "head: bad signature (head.json was changed after it was signed)")
            return head, False
        return head, True

    def classify_bad_signatures(self, entries: list[_Entry], by_seq: dict[int, list[_Entry]],
                                head: Head | None) -> None:
        """A record whose signature fails was either edited in place (its successor, or the
        head, still points at the original: the chain is broken there) or forged (the chain
        was recomputed around it, which takes no key, but the signature would)."""
        for entry in entries:
            record = entry.record
            if record is None or entry.authentic or entry.unknown_key:
                continue
            seq = entry.seq
            where = f"seq {seq}" if seq is not None else f"line {entry.line}"
            digest = record.digest()
            successors = [e.record for e in by_seq.get(seq + 1, []) if e.record is not None] if seq else []
            if successors:
                chained = any(s.prev == digest for s in successors)
            else:
                chained = head is not None and head.seq == seq and head.hash == digest
            if chained:
                self.problem(seq or 0, f"{where}: bad signature (the hash chain was recomputed around it without "
                                       f"the key: forged{_claims(entry)})")
            else:
                self.problem(seq or 0, f"{where}: edited (its content differs from what was signed{_claims(entry)})")

    def check_order(self, entries: list[_Entry], by_seq: dict[int, list[_Entry]]) -> None:
        for seq, group in by_seq.items():
            if len(group) > 1:
                lines = ", ".join(str(e.line) for e in group)
                self.problem(seq, f"seq {seq}: duplicated (lines {lines})")
        seen: set[int] = set()
        highest = 0
        for entry in entries:
            if entry.seq is None or entry.seq in seen:
                continue
            seen.add(entry.seq)
            if entry.seq < highest:
                self.problem(entry.seq, f"seq {entry.seq}: reordered (found after seq {highest}, line {entry.line})")
            highest = max(highest, entry.seq)
        # Gaps between the seqs present, computed from the sorted seqs rather than by
        # enumerating 1..max: an edited seq of 10**18 must not make verify run forever.
        present = [0, *sorted(seen)]
        for before, after in itertools.pairwise(present):
            if after > before + 1:
                where = f"seq {before}" if before else "the start"
                self.problem(before + 1, f"{_span(before + 1, after - 1)}: deleted (missing between {where} and "
                                         f"seq {after})")

    def check_links(self, by_seq: dict[int, list[_Entry]]) -> None:
        """Between authentic neighbours the chain must hold; it can only fail where records
        signed with the same key were spliced in from elsewhere (another log, an old copy)."""
        for seq, group in by_seq.items():
            record = _sole_authentic(group)
            if record is None:
                continue
            if seq == 1:
                if record.prev != GENESIS:
                    self.problem(seq, "seq 1: chain broken (it does not start a chain)")
                continue
            before = _sole_authentic(by_seq.get(seq - 1, []))
            if before is not None and record.prev != before.digest():
                self.problem(seq, f"seq {seq}: chain broken (its prev is not the hash of seq {seq - 1})")

    def check_end(self, by_seq: dict[int, list[_Entry]], head: Head | None) -> None:
        """Compare the chain's end with a trusted head: fewer records means a cut-off tail."""
        if head is None:
            return
        last = max(by_seq, default=0)
        at_head = _sole_authentic(by_seq.get(head.seq, []))
        if head.seq > last:
            self.problem(last + 1, f"{_span(last + 1, head.seq)}: truncated (the log ends at "
                                   f"{f'seq {last}' if last else 'nothing'}, its head says seq {head.seq})")
        if at_head is not None and at_head.digest() != head.hash:
            self.problem(head.seq, f"seq {head.seq}: replaced (it is not the record the head names)")
        if last <= head.seq:
            return
        beyond = _sole_authentic(by_seq.get(head.seq + 1, []))
        adopted = last == head.seq + 1 and beyond is not None and beyond.prev == head.hash
        if adopted:
            self.notes.append(f"seq {last}: written but the head not yet moved (an interrupted append; the next "
                              f"append completes it)")
        else:
            self.problem(head.seq + 1, f"{_span(head.seq + 1, last)}: beyond the head (the head names seq "
                                       f"{head.seq}; records were added without moving it)")

    def check_anchors(self, by_seq: dict[int, list[_Entry]], head: Head | None) -> None:
        """Compare the log with what the workspace's stores saw of it.

        An anchor beyond both the log's last record and a trusted head means records were
        removed and the head went with them (deleted, or the pair rolled back to an older
        copy): the chain and the head cannot show that, only the anchor can. An authentic
        record that is not the one an anchor saw means the log was replaced (with the key).
        Anchors a ``log.restart`` record superseded belong to the previous log: noted.
        """
        if not self.anchors.anchors:
            return
        first = _sole_authentic(by_seq.get(1, []))
        superseded = superseded_by(first) if first is not None else set()
        last = max(by_seq, default=0)
        end = max(last, head.seq if head else 0)
        for anchor in sorted(self.anchors.anchors, key=lambda a: (a.seq, a.holder)):
            if anchor.key() in superseded:
                self.notes.append(f"{anchor.holder} {anchor.verb} record {anchor.seq} of the previous log "
                                  f"(superseded by log.restart, seq 1)")
                continue
            self.checked += 1
            if anchor.seq > end:
                self.problem(end + 1, _behind(anchor, last))
                continue
            record = _sole_authentic(by_seq.get(anchor.seq, []))
            if record is not None and anchor.hash is not None and record.digest() != anchor.hash:
                self.problem(anchor.seq, f"seq {anchor.seq}: replaced ({anchor.holder} saw another record "
                                         f"{anchor.seq}, sha256 {anchor.hash[:16]}, the log has "
                                         f"{record.digest()[:16]}: the log was rewritten or swapped for "
                                         f"another copy)")


def _behind(anchor: Anchor, last: int) -> str:
    if last == 0:
        return (f"audit log has no records but {anchor.holder} {anchor.verb} record {anchor.seq} "
                f"({_removed(1, anchor.seq)})")
    return (f"audit log ends at record {last} but {anchor.holder} {anchor.verb} record {anchor.seq} "
            f"({_removed(last + 1, anchor.seq)}, or the log and its head were rolled back to an older copy)")


def _removed(first: int, last: int) -> str:
    return f"record {first} was removed" if first == last else f"records {first}-{last} were removed"


def _claims(entry: _Entry) -> str:
    """Say so when a line claims another seq than where it stands."""
    if entry.claimed is not None and entry.claimed != entry.seq:
        return f"; it claims seq {entry.claimed}"
    return ""


def _sole_authentic(group: list[_Entry]) -> Record | None:
    """The record of a seq that occurs once and is authentic, else ``None`` (reported elsewhere)."""
    if len(group) == 1 and group[0].authentic:
        return group[0].record
    return None


def _span(first: int, last: int) -> str:
    return f"seq {first}" if first == last else f"seq {first}-{last}"
