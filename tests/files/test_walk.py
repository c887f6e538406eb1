"""The walk and the run: what is skipped and why, bad input, bounded memory, incremental, jobs."""

from __future__ import annotations

import gzip
import json
import os
import tracemalloc
from pathlib import Path

import pytest

from govkit.sources import files as files_module
from govkit.sources.files import UNCHANGED
from tests.files.conftest import Scan, entities_of, reasons

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00"


def _log(path: Path, emails: list[str]) -> None:
    path.write_text("".join(f"2024-05-01 10:00:0{i % 10} INFO mail to {e}\n" for i, e in enumerate(emails)))


def test_binary_by_content_and_too_large_are_skipped(tmp_path: Path, scan: Scan) -> None:
    (tmp_path / "image.txt").write_bytes(PNG + bytes(range(256)) * 4)
    (tmp_path / "big.log").write_text("x" * 5000)
    _log(tmp_path / "ok.log", ["ana@example.org", "bo@example.org"])
    result = scan(tmp_path, max_bytes=4096)
    assert reasons(result, "image.txt") == ["binary file"]
    assert reasons(result, "big.log") == ["too large: 5,000 bytes (limit 4,096)"]
    assert [a["name"] for a in result.assets] == ["ok.log"]
    assert all(s.source == result.root for s in result.skipped)


def test_symlink_loop_is_skipped(tmp_path: Path, scan: Scan) -> None:
    (tmp_path / "data").mkdir()
    _log(tmp_path / "data" / "a.log", ["ana@example.org", "bo@example.org"])
    (tmp_path / "data" / "again").symlink_to(tmp_path / "data", target_is_directory=True)
    (tmp_path / "self").symlink_to(tmp_path / "self")
    result = scan(tmp_path)
    assert [a["name"] for a in result.assets] == ["data/a.log"]
    assert reasons(result, "data/again") == ["symlink loop (links back to a folder that contains it)"]
    assert reasons(result, "self") == ["symlink loop"]


def test_unreadable_file_is_reported(tmp_path: Path, scan: Scan, monkeypatch: pytest.MonkeyPatch) -> None:
    _log(tmp_path / "ok.log", ["ana@example.org", "bo@example.org"])
    (tmp_path / "secret.log").write_text("x")
    real_open = files_module.open_input

    def guarded(path: Path):  # type: ignore[no-untyped-def]
        if path.name == "secret.log":
            raise PermissionError(13, "Permission denied")
        return real_open(path)

    monkeypatch.setattr(files_module, "open_input", guarded)
    result = scan(tmp_path)
    assert reasons(result, "secret.log") == ["unreadable: permission denied"]
    assert entities_of(result, "ok.log") == {"EMAIL_ADDRESS"}


def test_truncated_gzip_keeps_partial_results(tmp_path: Path, scan: Scan) -> None:
    body = "\n".join(json.dumps({"email": f"user{i}@example.org"}) for i in range(3000)).encode()
    packed = gzip.compress(body)
    (tmp_path / "events.jsonl.gz").write_bytes(packed[: len(packed) // 2])
    result = scan(tmp_path)
    assert "truncated gzip: partial results kept" in reasons(result, "events.jsonl.gz")
    assert entities_of(result, "events.jsonl.gz", "$.email") == {"EMAIL_ADDRESS"}
    rows = result.assets[0]["row_estimate"]
    assert 0 < rows < 3000


def test_invalid_utf8_is_counted(tmp_path: Path, scan: Scan) -> None:
    text = "".join(f"第{i}行 客户邮箱 ana{i}@example.org\n" for i in range(50)).encode()
    (tmp_path / "mixed.log").write_bytes(text + b"bad \xff\xfe bytes\n")
    result = scan(tmp_path)
    assert entities_of(result, "mixed.log") == {"EMAIL_ADDRESS"}
    assert any("invalid byte sequences" in r for r in reasons(result, "mixed.log"))


@pytest.mark.slow
def test_50mb_single_line_file_in_bounded_memory(tmp_path: Path, scan: Scan) -> None:
    path = tmp_path / "one_line.txt"
    words = "lorem ipsum dolor sit amet order 12 shipped "
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("contact: anna.schmidt@example.org ")
        for _ in range(50 * 1024 * 1024 // len(words)):
            handle.write(words)
        handle.write("end\n")
    assert path.stat().st_size > 50 * 1024 * 1024
    tracemalloc.start()
    try:
        result = scan(tmp_path, max_bytes=200 * 1024 * 1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 200 * 1024 * 1024, f"peak {peak / 1e6:.0f} MB"
    assert entities_of(result, "one_line.txt") == {"EMAIL_ADDRESS"}
    assert result.assets[0]["row_estimate"] == 1


def test_govkitignore_and_globs(tmp_path: Path, scan: Scan) -> None:
    for name in ["keep.log", "drop.tmp", "logs/a.log", "logs/archive/old.log", "exports/c.csv", "exports/skip.log"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        _log(tmp_path / name, ["ana@example.org", "bo@example.org"])
    (tmp_path / ".govkitignore").write_text("*.tmp\narchive/\n")
    (tmp_path / "exports" / ".govkitignore").write_text("*.log\n")
    result = scan(tmp_path)
    assert [a["name"] for a in result.assets] == ["exports/c.csv", "keep.log", "logs/a.log"]
    assert result.ignored == 2
    narrowed = scan(tmp_path, include=["*.log"], exclude=["logs/"])
    assert [a["name"] for a in narrowed.assets] == ["keep.log"]


def test_incremental_fingerprints(tmp_path: Path, scan: Scan) -> None:
    _log(tmp_path / "a.log", ["ana@example.org", "bo@example.org"])
    _log(tmp_path / "b.log", ["cy@example.org", "di@example.org"])
    first = scan(tmp_path)
    assert set(first.fingerprints) == {"a.log", "b.log"}
    assert len(first.fingerprints["a.log"]["sha256"]) == 64
    second = scan(tmp_path, previous=first.fingerprints)
    assert reasons(second, "a.log") == [UNCHANGED]
    assert reasons(second, "b.log") == [UNCHANGED]
    assert not second.findings
    assert second.fingerprints == first.fingerprints
    # touched but identical: the hash decides; changed content: rescanned
    os.utime(tmp_path / "a.log", ns=(1, 1))
    _log(tmp_path / "b.log", ["cy@example.org", "ed@example.org"])
    third = scan(tmp_path, previous=first.fingerprints)
    assert reasons(third, "a.log") == [UNCHANGED]
    assert third.fingerprints["a.log"]["mtime_ns"] == 1
    assert [a["name"] for a in third.assets] == ["b.log"]
    forced = scan(tmp_path, previous=third.fingerprints, force=True)
    assert [a["name"] for a in forced.assets] == ["a.log", "b.log"]


def test_single_file_root(tmp_path: Path, scan: Scan) -> None:
    _log(tmp_path / "a.log", ["ana@example.org", "bo@example.org"])
    _log(tmp_path / "b.log", ["cy@example.org", "di@example.org"])
    result = scan(tmp_path / "a.log")
    assert result.root == str(tmp_path.resolve())
    assert [a["name"] for a in result.assets] == ["a.log"]


@pytest.mark.slow
def test_two_jobs_give_the_same_findings_as_one(tmp_path: Path, scan: Scan, people: list[dict[str, str]]) -> None:
    for index in range(4):
        lines = ["姓名,手机号"] + [f"{p['name']},{p['mobile']}" for p in people]
        (tmp_path / f"crm{index}.csv").write_text("\n".join(lines), encoding="utf-8")
        _log(tmp_path / f"app{index}.log", [p["email"] for p in people])
    one = scan(tmp_path, jobs=1)
    two = scan(tmp_path, jobs=2)
    assert [f.to_dict() for f in one.findings] == [f.to_dict() for f in two.findings]
    assert one.assets == two.assets
    assert [v["detail"] for v in one.verdicts] == [v["detail"] for v in two.verdicts]
    assert len(one.findings) >= 8
