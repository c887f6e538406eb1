"""The audit log: appending, reading, verifying, and each kind of tampering ``verify`` must name."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import secrets
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from govkit.audit import AuditLog, AuditLogError
from govkit.audit.record import GENESIS, HEAD_TAG, RECORD_TAG, canonical, sign
from govkit.errors import KeyMaterialError
from govkit.keys import key_id_of, keyset_path, load_keyset, rotate_keys
from tests.audit.conftest import Tamper


def _only(problems: list[str]) -> str:
    assert len(problems) == 1, problems
    return problems[0]


# -- append and read -----------------------------------------------------------------------------


def test_append_then_read_back(state_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVKIT_ACTOR", "ci-bot")
    log = AuditLog(state_dir)
    first = log.append("scan", params={"source": "shop"}, counts={"assets": 3, "fields": 40})
    second = log.append("evaluate", params={"policy": "gdpr"}, outcome="violations")

    assert [r.to_dict() for r in log.records()] == [first.to_dict(), second.to_dict()]
    assert (first.seq, first.prev, first.actor, first.outcome, first.error) == (1, GENESIS, "ci-bot", "ok", None)
    assert first.counts == {"assets": 3, "fields": 40}
    assert (second.seq, second.prev, second.counts) == (2, first.digest(), {})
    assert first.key_id == load_keyset(state_dir).primary.id
    assert first.timestamp.tzinfo is not None
    assert abs(first.timestamp - datetime.now(UTC)) < timedelta(minutes=1)


def test_each_line_is_the_canonical_record(filled_log: AuditLog, tamper: Tamper) -> None:
    lines = tamper.lines()
    assert len(lines) == 5
    for line, record in zip(lines, filled_log.records(), strict=True):
        assert line.encode("utf-8") == canonical(record.to_dict())
        assert set(json.loads(line)) == {"seq", "time", "actor", "action", "params", "counts", "outcome", "error",
                                         "prev", "key_id", "hmac"}


def test_head_names_the_last_record(filled_log: AuditLog) -> None:
    head = filled_log.head()
    last = filled_log.records()[-1]
    assert head is not None
    assert (head.seq, head.hash) == (5, last.digest())
    assert head.hash == hashlib.sha256(canonical(last.to_dict())).hexdigest()


def test_records_since(state_dir: Path) -> None:
    log = AuditLog(state_dir)
    for n in range(3):
        log.append("scan", params={"n": n})
    records = log.records()
    assert [r.seq for r in log.records(since=records[1].timestamp)] == [2, 3]
    naive_utc = records[1].timestamp.replace(tzinfo=None)  # naive means UTC
    assert [r.seq for r in log.records(since=naive_utc)] == [2, 3]
    assert log.records(since=datetime.now(UTC) + timedelta(days=1)) == []


def test_files_are_owner_only(filled_log: AuditLog) -> None:
    assert stat.S_IMODE(filled_log.folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(filled_log.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(filled_log.head_path.stat().st_mode) == 0o600


def test_first_append_creates_the_keyset(state_dir: Path) -> None:
    assert not keyset_path(state_dir).exists()
    AuditLog(state_dir).append("scan", params={})
    assert keyset_path(state_dir).exists()


def test_key_material_never_reaches_the_log(filled_log: AuditLog, state_dir: Path) -> None:
    keyset = load_keyset(state_dir)
    _, subkey = keyset.derive("audit-log")
    stored = filled_log.path.read_bytes() + filled_log.head_path.read_bytes()
    for secret in (keyset.primary.material, subkey):
        for form in (base64.b64encode(secret), secret.hex().encode(), base64.urlsafe_b64encode(secret)):
            assert form not in stored


def test_append_validates_its_arguments(state_dir: Path) -> None:
    log = AuditLog(state_dir)
    with pytest.raises(ValueError, match="action"):
        log.append("Scan the shop", params={})
    with pytest.raises(TypeError, match="rows"):
        log.append("scan", params={}, counts={"rows": True})
    with pytest.raises(ValueError, match="finite"):
        log.append("scan", params={}, counts={"ratio": float("nan")})
    assert not log.path.exists()


def test_long_records_do_not_confuse_the_tail_reader(state_dir: Path) -> None:
    """The last line is read backwards in 8 KiB chunks; a 20 KB record spans several."""
    log = AuditLog(state_dir)
    log.append("scan", params={"tables": ["t" * 50] * 400})
    log.append("scan", params={"tables": ["u" * 50] * 400})
    log.append("scan", params={})
    assert log.verify().ok
    assert [r.seq for r in log.records()] == [1, 2, 3]


def test_records_names_an_unreadable_line(tamper: Tamper, filled_log: AuditLog) -> None:
    lines = tamper.lines()
    lines[1] = "not json"
    tamper.write_lines(lines)
    with pytest.raises(AuditLogError, match="line 2"):
        filled_log.records()


# -- verify: intact ------------------------------------------------------------------------------


def test_verify_intact_log(filled_log: AuditLog) -> None:
    result = filled_log.verify()
    assert result.ok, result.problems
    assert (result.records, result.problems, result.notes) == (5, [], [])
    assert (result.head_seq, result.head_hash) == (5, filled_log.records()[-1].digest())


def test_verify_empty_workspace_needs_no_keys(state_dir: Path) -> None:
    result = AuditLog(state_dir).verify()
    assert (result.ok, result.records) == (True, 0)
    assert not keyset_path(state_dir).exists()


# -- verify: tampering, one test per kind -----------------------------------------------------------


def test_edited_record(filled_log: AuditLog, tamper: Tamper) -> None:
    tamper.edit(3, lambda r: r["counts"].update(rows=31))  # type: ignore[attr-defined]
    problem = _only(filled_log.verify().problems)
    assert problem.startswith("seq 3: edited")


def test_deleted_middle_record(filled_log: AuditLog, tamper: Tamper) -> None:
    lines = tamper.lines()
    del lines[2]
    tamper.write_lines(lines)
    result = filled_log.verify()
    assert not result.ok
    assert _only(result.problems).startswith("seq 3: deleted")


def test_several_deleted_records_are_one_problem(filled_log: AuditLog, tamper: Tamper) -> None:
    lines = tamper.lines()
    del lines[1:3]
    tamper.write_lines(lines)
    assert _only(filled_log.verify().problems).startswith("seq 2-3: deleted")


def test_deleted_first_record(filled_log: AuditLog, tamper: Tamper) -> None:
    tamper.write_lines(tamper.lines()[1:])
    assert _only(filled_log.verify().problems).startswith("seq 1: deleted")


def test_swapped_records(filled_log: AuditLog, tamper: Tamper) -> None:
    lines = tamper.lines()
    lines[2], lines[3] = lines[3], lines[2]
    tamper.write_lines(lines)
    problem = _only(filled_log.verify().problems)
    assert problem.startswith("seq 3: reordered")
    assert "after seq 4" in problem


def test_truncated_tail(filled_log: AuditLog, tamper: Tamper) -> None:
    tamper.write_lines(tamper.lines()[:-1])  # head.json untouched
    problem = _only(filled_log.verify().problems)
    assert problem.startswith("seq 5: truncated")
    assert "ends at seq 4" in problem


def test_truncated_to_nothing(filled_log: AuditLog, tamper: Tamper) -> None:
    tamper.log_path.unlink()
    assert _only(filled_log.verify().problems).startswith("seq 1-5: truncated")


def test_forged_record_with_recomputed_chain(filled_log: AuditLog, tamper: Tamper) -> None:
    """Edit seq 3 and recompute every later ``prev`` and the head's hash: the chain holds,
    but without the key no signature can be recomputed."""
    tamper.edit(3, lambda r: r["counts"].update(rows=0))  # type: ignore[attr-defined]
    for seq in (4, 5):
        relinked = hashlib.sha256(tamper.lines()[seq - 2].encode()).hexdigest()
        tamper.edit(seq, lambda r, h=relinked: r.update(prev=h))  # type: ignore[misc]
    head = tamper.head()
    head["hash"] = hashlib.sha256(tamper.lines()[-1].encode()).hexdigest()
    tamper.write_head(head)

    problems = filled_log.verify().problems
    assert [p.split(" (")[0] for p in problems] == [
        "seq 3: bad signature", "seq 4: bad signature", "seq 5: bad signature", "head: bad signature",
    ]
    assert "forged" in problems[0]


def test_forged_record_appended_with_a_guessed_key(filled_log: AuditLog, tamper: Tamper) -> None:
    guess = secrets.token_bytes(32)
    last = tamper.lines()[-1]
    body = dict(json.loads(last), seq=6, prev=hashlib.sha256(last.encode()).hexdigest(), action="erase")
    del body["hmac"]
    forged = canonical({**body, "hmac": sign(guess, RECORD_TAG, body)}).decode()
    tamper.write_lines([*tamper.lines(), forged])
    head_body = {"seq": 6, "hash": hashlib.sha256(forged.encode()).hexdigest(), "key_id": body["key_id"]}
    tamper.write_head({**head_body, "hmac": sign(guess, HEAD_TAG, head_body)})

    problems = filled_log.verify().problems
    assert [p.split(" (")[0] for p in problems] == ["seq 6: bad signature", "head: bad signature"]


def test_head_file_tampered(filled_log: AuditLog, tamper: Tamper) -> None:
    """Moving the head back to hide records 4-5 needs a new signature."""
    head = tamper.head()
    head["seq"] = 3
    head["hash"] = hashlib.sha256(tamper.lines()[2].encode()).hexdigest()
    tamper.write_head(head)
    assert _only(filled_log.verify().problems).startswith("head: bad signature")


def test_head_file_deleted(filled_log: AuditLog, tamper: Tamper) -> None:
    tamper.head_path.unlink()
    assert _only(filled_log.verify().problems).startswith("head: deleted")


def test_head_file_garbled(filled_log: AuditLog, tamper: Tamper) -> None:
    tamper.head_path.write_text("{", encoding="utf-8")
    assert _only(filled_log.verify().problems).startswith("head: edited")


def test_duplicated_record(filled_log: AuditLog, tamper: Tamper) -> None:
    lines = tamper.lines()
    tamper.write_lines([*lines[:2], lines[1], *lines[2:]])
    assert _only(filled_log.verify().problems).startswith("seq 2: duplicated")


def test_reformatted_line_counts_as_edited(filled_log: AuditLog, tamper: Tamper) -> None:
    lines = tamper.lines()
    lines[1] = json.dumps(json.loads(lines[1]), indent=1).replace("\n", " ")
    tamper.write_lines(lines)
    problem = _only(filled_log.verify().problems)
    assert problem.startswith("seq 2: edited")
    assert "canonical" in problem


def test_garbage_line(filled_log: AuditLog, tamper: Tamper) -> None:
    lines = tamper.lines()
    lines[2] = "garbage"
    tamper.write_lines(lines)
    problem = _only(filled_log.verify().problems)
    assert problem == "seq 3: edited (line 3 is not a valid record: not valid JSON)"


def test_missing_final_line_end(filled_log: AuditLog, tamper: Tamper) -> None:
    """Harmless-looking, but the next append would glue its record onto the last line."""
    tamper.log_path.write_bytes(tamper.log_path.read_bytes()[:-1])
    problem = _only(filled_log.verify().problems)
    assert problem.startswith("seq 5: edited")
    assert "no line end" in problem
    with pytest.raises(AuditLogError, match="no line end"):
        filled_log.append("scan", params={})


def test_renumbered_record_is_reported_where_it_stands(filled_log: AuditLog, tamper: Tamper) -> None:
    """The seq of a record that fails its signature is not believed: no phantom gap of 10**17."""
    tamper.edit(3, lambda r: r.update(seq=10**17))
    problem = _only(filled_log.verify().problems)
    assert problem.startswith("seq 3: edited")
    assert problem.endswith("it claims seq 100000000000000000)")


def test_edited_last_record(filled_log: AuditLog, tamper: Tamper) -> None:
    tamper.edit(5, lambda r: r.update(outcome="failed"))
    assert _only(filled_log.verify().problems).startswith("seq 5: edited")


def test_records_from_another_log_with_the_same_key(state_dir: Path, tmp_path: Path) -> None:
    """Splicing in a genuine record from another log signed with the same key breaks the chain."""
    log = AuditLog(state_dir)
    for n in range(3):
        log.append("scan", params={"n": n})
    other_state = tmp_path / "other"
    other_state.mkdir()
    (other_state / "keys").mkdir(mode=0o700)
    os.link(keyset_path(state_dir), keyset_path(other_state))
    other = AuditLog(other_state)
    for n in range(3):
        other.append("erase", params={"n": n})
    lines = log.path.read_text().splitlines()
    lines[1] = other.path.read_text().splitlines()[1]
    log.path.write_text("".join(line + "\n" for line in lines))
    problems = log.verify().problems
    assert [p.split(" (")[0] for p in problems] == ["seq 2: chain broken", "seq 3: chain broken"]


# -- append refuses to paper over damage ----------------------------------------------------------


def test_append_refuses_after_truncation(filled_log: AuditLog, tamper: Tamper) -> None:
    tamper.write_lines(tamper.lines()[:-1])
    before = tamper.log_path.read_bytes(), tamper.head_path.read_bytes()
    with pytest.raises(AuditLogError, match="ends at seq 4 but its head names seq 5"):
        filled_log.append("scan", params={})
    assert (tamper.log_path.read_bytes(), tamper.head_path.read_bytes()) == before
    assert filled_log.verify().problems[0].startswith("seq 5: truncated")


@pytest.mark.parametrize("damage", ["head deleted", "last edited", "log deleted"])
def test_append_refuses_on_a_damaged_end(filled_log: AuditLog, tamper: Tamper, damage: str) -> None:
    if damage == "head deleted":
        tamper.head_path.unlink()
    elif damage == "last edited":
        tamper.edit(5, lambda r: r.update(outcome="failed"))
    else:
        tamper.log_path.unlink()
    with pytest.raises(AuditLogError, match="govkit will not add to it"):
        filled_log.append("scan", params={})


def test_interrupted_append_is_noted_and_adopted(state_dir: Path) -> None:
    """A crash between writing a record and moving the head leaves one signed record beyond
    the head: not tampering. verify notes it; the next append completes it."""
    log = AuditLog(state_dir)
    log.append("scan", params={})
    stale_head = log.head_path.read_bytes()
    log.append("scan", params={})
    log.head_path.write_bytes(stale_head)  # as if the crash came before the head was replaced

    result = log.verify()
    assert result.ok, result.problems
    assert len(result.notes) == 1
    assert result.notes[0].startswith("seq 2: written but the head not yet moved")

    log.append("scan", params={})
    result = log.verify()
    assert (result.ok, result.notes, result.head_seq) == (True, [], 3)


# -- keys: rotation, override, missing keys --------------------------------------------------------


def test_records_signed_with_a_retired_key_still_verify(state_dir: Path) -> None:
    log = AuditLog(state_dir)
    log.append("scan", params={})
    log.append("scan", params={})
    old = load_keyset(state_dir).primary.id
    new = rotate_keys(state_dir).primary.id
    log.append("keys.rotate", params={"primary": new})
    log.append("scan", params={})

    assert [r.key_id for r in log.records()] == [old, old, new, new]
    result = log.verify()
    assert result.ok, result.problems
    head = log.head()
    assert head is not None
    assert head.key_id == new


def test_govkit_key_signs_without_a_keyset(state_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    material = secrets.token_bytes(32)
    monkeypatch.setenv("GOVKIT_KEY", base64.b64encode(material).decode())
    log = AuditLog(state_dir)
    record = log.append("scan", params={})
    assert record.key_id == key_id_of(material)
    assert not keyset_path(state_dir).exists()
    assert log.verify().ok

    monkeypatch.setenv("GOVKIT_KEY", secrets.token_bytes(32).hex())  # another key: cannot vouch for it
    problems = log.verify().problems
    assert [p.split(" (")[0] for p in problems] == ["seq 1: unknown key", "head: unknown key"]
    with pytest.raises(KeyMaterialError, match=f"signed with key {record.key_id}"):
        log.append("scan", params={})


def test_garbled_key_fails_before_anything_is_written(state_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    garbled = "c2VjcmV0LWJ1dC10b28tc2hvcnQ="
    monkeypatch.setenv("GOVKIT_KEY", garbled)
    log = AuditLog(state_dir)
    with pytest.raises(KeyMaterialError) as caught:
        log.append("scan", params={})
    assert "GOVKIT_KEY" in str(caught.value)
    assert garbled not in str(caught.value)
    assert not log.path.exists()
    assert not keyset_path(state_dir).exists()


def test_lost_keyset_is_not_silently_replaced(filled_log: AuditLog, state_dir: Path) -> None:
    keyset_path(state_dir).unlink()
    with pytest.raises(KeyMaterialError, match="restore the keyset"):
        filled_log.append("scan", params={})
    with pytest.raises(KeyMaterialError, match="restore the keyset"):
        filled_log.verify()
    assert not keyset_path(state_dir).exists()


# -- export ----------------------------------------------------------------------------------------


def test_export_jsonl_is_the_stored_log(filled_log: AuditLog) -> None:
    assert filled_log.export("jsonl") == filled_log.path.read_text(encoding="utf-8")


def test_export_csv(state_dir: Path) -> None:
    log = AuditLog(state_dir)
    log.append("scan", params={"source": "shop"}, counts={"rows": 7}, actor="=HYPERLINK(\"x\")")
    log.append("anonymize", params={}, outcome="failed", error="SourceError")
    rows = list(csv.DictReader(io.StringIO(log.export("csv"))))
    assert [r["seq"] for r in rows] == ["1", "2"]
    assert json.loads(rows[0]["params"]) == {"source": "shop"}
    assert json.loads(rows[0]["counts"]) == {"rows": 7}
    assert rows[0]["actor"] == "'=HYPERLINK(\"x\")"  # not run as a formula by a spreadsheet
    assert (rows[1]["outcome"], rows[1]["error"], rows[0]["error"]) == ("failed", "SourceError", "")


def test_export_rejects_unknown_format(filled_log: AuditLog) -> None:
    with pytest.raises(ValueError, match="jsonl, csv"):
        filled_log.export("xml")


# -- property: any change to the log's bytes is detected ---------------------------------------------


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes, bytes]:
    """A six-record log built once; each example restores it and damages a copy."""
    state = tmp_path_factory.mktemp("pristine") / ".govkit"
    log = AuditLog(state)
    for n in range(6):
        log.append("scan", params={"n": n, "source": "shop"}, counts={"rows": n})
    return state, log.path.read_bytes(), log.head_path.read_bytes()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_byte_change_is_detected(pristine: tuple[Path, bytes, bytes], data: st.DataObject) -> None:
    state, original, head = pristine
    position = data.draw(st.integers(0, len(original) - 1), label="position")
    operation = data.draw(st.sampled_from(["replace", "insert", "delete"]), label="operation")
    byte = data.draw(st.binary(min_size=1, max_size=1), label="byte")
    if operation == "replace":
        assume(original[position:position + 1] != byte)
        damaged = original[:position] + byte + original[position + 1:]
    elif operation == "insert":
        damaged = original[:position] + byte + original[position:]
    else:
        damaged = original[:position] + original[position + 1:]
    log = AuditLog(state)
    log.path.write_bytes(damaged)
    log.head_path.write_bytes(head)
    result = log.verify()
    assert not result.ok
    assert result.problems


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(range(6)), keep=st.integers(0, 6))
def test_any_reordering_or_cut_is_detected(pristine: tuple[Path, bytes, bytes], order: list[int], keep: int) -> None:
    state, original, head = pristine
    lines = original.splitlines(keepends=True)
    damaged = b"".join(lines[i] for i in order[:keep])
    assume(damaged != original)
    log = AuditLog(state)
    log.path.write_bytes(damaged)
    log.head_path.write_bytes(head)
    assert not log.verify().ok
