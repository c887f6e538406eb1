"""Every bad input is one line on stderr and exit code 2, never an internal error (issue #16).

A corpus of bad inputs, one case per kind: settings in govkit.toml, dates, numbers, URLs,
paths, files of each format the commands read (CSV, JSON, JSON Lines, xlsx, Parquet, text,
logs, gzip), policy YAML, DSR packages, and damaged state in ``.govkit/``. Each must exit
with 2 and say, in exactly one line starting ``govkit: error:``, what is wrong and where
(the file, and its line for a settings file; the option; the path). A folder scan does not
stop for a bad file: the file is skipped with a reason.

A few cases also run as real processes under a memory and CPU limit, to show that bad input
fails fast and bounded, and that no traceback reaches the user there either.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import resource
import secrets
import sqlite3
import subprocess
import sys
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from govkit.cli import main

PASSPHRASE = "correct horse battery"
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8  # a binary file's head


def _config(folder: Path, old: str, new: str) -> None:
    path = folder / "govkit.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _line_of(folder: Path, needle: str) -> int:
    lines = (folder / "govkit.toml").read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if needle in line)


def _sealed(plain: bytes) -> bytes:
    """An encrypted DSR package around ``plain`` (what 'dsr export --encrypt' writes)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from govkit.actions.dsr.export import MAGIC, _key

    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    return MAGIC + salt + nonce + AESGCM(_key(PASSPHRASE, salt)).encrypt(nonce, plain, MAGIC)


def _tar_gz(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def _foreign_sqlite(path: Path) -> None:
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE users (id INTEGER, email TEXT)")
    conn.close()


def _shop_db(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT)")
        conn.execute("INSERT INTO people VALUES (1, 'ann@example.com')")
    conn.close()


@dataclass
class Case:
    """``args`` run in a fresh workspace after ``setup``; the error must name ``named``."""

    args: list[str]
    named: str | Callable[[Path], str]
    setup: Callable[[Path], object] = lambda folder: None
    env: dict[str, str] = field(default_factory=dict)

    def expected(self, folder: Path) -> str:
        return self.named(folder) if callable(self.named) else self.named


def _write(name: str, data: bytes | str) -> Callable[[Path], object]:
    def setup(folder: Path) -> None:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            path.write_text(data, encoding="utf-8")
        else:
            path.write_bytes(data)

    return setup


def _head_loop(folder: Path) -> None:
    audit = folder / ".govkit" / "audit"
    audit.mkdir(parents=True, exist_ok=True)
    os.symlink("head.json", audit / "head.json")


CASES: dict[str, Case] = {
    # -- govkit.toml: every number checked for type and range, with file:line -------------------
    "toml sample_size float": Case(
        ["inventory"], lambda f: f"govkit.toml:{_line_of(f, 'sample_size = 1e30')}: [detection].sample_size",
        lambda f: _config(f, "sample_size = 1000", "sample_size = 1e30")),
    "toml sample_size too big": Case(
        ["inventory"], lambda f: f"govkit.toml:{_line_of(f, 'sample_size = 9')}: [detection].sample_size",
        lambda f: _config(f, "sample_size = 1000", "sample_size = 9223372036854775807")),
    "toml min_confidence infinite": Case(
        ["inventory"], lambda f: f"govkit.toml:{_line_of(f, '1e400')}: [detection].min_confidence",
        lambda f: _config(f, "min_confidence = 0.5", "min_confidence = 1e400")),
    "toml min_confidence above 1": Case(
        ["inventory"], lambda f: f"govkit.toml:{_line_of(f, 'min_confidence = 2')}: [detection].min_confidence",
        lambda f: _config(f, "min_confidence = 0.5", "min_confidence = 2")),
    "toml ner_sample negative": Case(
        ["inventory"], lambda f: f"govkit.toml:{_line_of(f, 'ner_sample = -1')}: [detection].ner_sample",
        lambda f: _config(f, "ner_sample = 200", "ner_sample = -1")),
    "toml unknown table": Case(
        ["inventory"], lambda f: f'govkit.toml:{_line_of(f, "[detection2]")}: unknown table [detection2]; '
                                 f'did you mean "detection"?',
        lambda f: _config(f, "[detection]", "[detection2]\nx = 1\n\n[detection]")),
    "toml unknown key": Case(
        ["inventory"], lambda f: f'govkit.toml:{_line_of(f, "sampel_size")}: unknown key [detection].sampel_size; '
                                 f'did you mean "sample_size"?',
        lambda f: _config(f, "sample_size = 1000", "sampel_size = 1000")),
    "toml unknown source key": Case(
        ["inventory"], lambda f: f'govkit.toml:{_line_of(f, "exclud =")}: unknown key sources.shop.exclud; '
                                 f'did you mean "exclude"?',
        _write("govkit.toml", '[sources.shop]\nurl = "sqlite:///shop.db"\nexclud = ["tmp_*"]\n')),
    "toml syntax error": Case(["inventory"], "govkit.toml:2:", _write("govkit.toml", "[detection]\n[[x\n")),
    "toml not utf-8": Case(["inventory"], "govkit.toml:2: not UTF-8",
                           _write("govkit.toml", b"[detection]\nlanguage = '\xff\xfe'\n")),
    # -- dates ----------------------------------------------------------------------------------
    "date received at the end of time": Case(
        ["dsr", "new", "--type", "access", "--subject", "email=a@example.com", "--received", "9999-12-31"],
        "--received 9999-12-31"),
    "date received in the future": Case(
        ["dsr", "new", "--type", "access", "--subject", "email=a@example.com", "--received", "2999-01-01"],
        "--received 2999-01-01 is in the future"),
    # -- numbers and URLs -----------------------------------------------------------------------
    "url port out of range": Case(["scan", "postgresql://app@127.0.0.1:99999/shop"], "port 99999"),
    "url unparseable, password masked": Case(["scan", "postgresql://app:hunter2@127.0.0.1:port/shop"],
                                              "postgresql://***@127.0.0.1:port/shop"),
    "url unknown scheme as target": Case(
        ["anonymize", "sqlite:///shop.db", "--to", "nosuchdb://app:hunter2@host/x", "--rule", "email=redact"],
        "--to nosuchdb://app:***@host/x: unknown database type", lambda f: _shop_db(f / "shop.db")),
    # -- paths ----------------------------------------------------------------------------------
    "output under a file": Case(["inventory", "--output", "people.csv/out.txt"], "--output people.csv/out.txt",
                                _write("people.csv", "email\n")),
    "state folder is a file": Case(["inventory"], ".govkit is not a folder",
                                   lambda f: (os.rename(f / ".govkit", f / "old-state"),
                                              (f / ".govkit").write_text("x"))),
    "unknown --source": Case(["inventory", "--source", "nosuch"], "--source nosuch"),
    # -- files of each format -------------------------------------------------------------------
    "csv binary": Case(["anonymize", "data.csv", "--to", "out.csv", "--rule", "*=redact"], "data.csv: binary",
                       _write("data.csv", ELF)),
    "csv ragged row": Case(["anonymize", "data.csv", "--to", "out.csv", "--rule", "*=redact"],
                           "data.csv: row 2 after the header has 3 cells",
                           _write("data.csv", "name,email\nAnn,ann@example.com\nBob,bob@example.com,extra\n")),
    "json not json": Case(["risk", "data.json", "--quasi-identifiers", "a"], "data.json:1: not a JSON object",
                          _write("data.json", '{"a": [1,\n  2]}\n')),
    "jsonl not utf-8": Case(["risk", "data.jsonl", "--quasi-identifiers", "a"], "data.jsonl:2: not UTF-8",
                            _write("data.jsonl", b'{"a": 1}\n{"a": "\xff"}\n')),
    "jsonl not objects": Case(["deanonymize", "data.jsonl", "--to", "out.jsonl"], "data.jsonl:1: not a JSON object",
                              _write("data.jsonl", "[1, 2]\n")),
    "parquet garbage": Case(["risk", "data.parquet", "--quasi-identifiers", "a"],
                            "data.parquet: not a readable Parquet file",
                            _write("data.parquet", b"PAR1 not really PAR1")),
    "parquet empty": Case(["anonymize", "data.parquet", "--to", "out.csv", "--rule", "*=redact"],
                          "data.parquet: not a readable Parquet file", _write("data.parquet", b"")),
    "xlsx as a source to anonymize": Case(["anonymize", "data.xlsx", "--to", "out.csv", "--rule", "*=redact"],
                                          "data.xlsx: cannot tell the format", _write("data.xlsx", b"PK\x03\x04")),
    "txt binary": Case(["anonymize", "notes.txt", "--to", "out.txt"], "notes.txt: binary content",
                       _write("notes.txt", ELF)),
    "log binary": Case(["anonymize", "app.log", "--to", "out.log", "--dry-run"], "app.log: binary content",
                       _write("app.log", ELF)),
    "gz to anonymize": Case(["anonymize", "data.csv.gz", "--to", "out.csv", "--rule", "*=redact"],
                            "data.csv.gz: cannot tell the format",
                            _write("data.csv.gz", gzip.compress(b"email\na@example.com\n"))),
    # -- policy YAML ----------------------------------------------------------------------------
    "policy yaml syntax": Case(["policy", "validate"], "policies/shop.yaml:3",
                               _write("policies/shop.yaml", "retention:\n  rules: [1,\n")),
    "policy yaml not utf-8": Case(["policy", "validate", "shop.yaml"], "shop.yaml",
                                  _write("shop.yaml", b"retention: \xff\xfe\n")),
    "template syntax": Case(["report", "audit", "--output", "audit.html"], "templates/audit.html.j2:2",
                            _write("templates/audit.html.j2", "<h1>audit</h1>\n{% if %}\n")),
    # -- DSR packages ---------------------------------------------------------------------------
    "dsr package truncated": Case(["dsr", "decrypt", "pkg.govkit-dsr", "--to", "out", "--passphrase-env", "PP"],
                                  "pkg.govkit-dsr: the package is cut short",
                                  lambda f: (f / "pkg.govkit-dsr").write_bytes(_sealed(b"x")[:30]),
                                  {"PP": PASSPHRASE}),
    "dsr package garbled": Case(["dsr", "decrypt", "pkg.govkit-dsr", "--to", "out", "--passphrase-env", "PP"],
                                "pkg.govkit-dsr: wrong passphrase, or the package is damaged",
                                lambda f: (f / "pkg.govkit-dsr").write_bytes(_sealed(b"x" * 100)[:-1] + b"!"),
                                {"PP": PASSPHRASE}),
    "dsr package not a tar": Case(["dsr", "decrypt", "pkg.govkit-dsr", "--to", "out", "--passphrase-env", "PP"],
                                  "pkg.govkit-dsr: decrypted, but its contents are not a govkit DSR package",
                                  lambda f: (f / "pkg.govkit-dsr").write_bytes(_sealed(b"plain text")),
                                  {"PP": PASSPHRASE}),
    "dsr package escaping its folder": Case(
        ["dsr", "decrypt", "pkg.govkit-dsr", "--to", "out", "--passphrase-env", "PP"], "pkg.govkit-dsr",
        lambda f: (f / "pkg.govkit-dsr").write_bytes(_sealed(_tar_gz({"../evil.txt": b"x"}))), {"PP": PASSPHRASE}),
    "dsr package without manifest": Case(
        ["dsr", "decrypt", "pkg.govkit-dsr", "--to", "out", "--passphrase-env", "PP"],
        "pkg.govkit-dsr: the package has no manifest.json",
        lambda f: (f / "pkg.govkit-dsr").write_bytes(_sealed(_tar_gz({"data.json": b"{}"}))), {"PP": PASSPHRASE}),
    # -- damaged state in .govkit/ --------------------------------------------------------------
    "inventory.db not a database": Case(["inventory"], ".govkit/inventory.db: the govkit inventory is damaged",
                                        _write(".govkit/inventory.db", b"not a database, just text " * 100)),
    "inventory.db of another program": Case(["inventory"], ".govkit/inventory.db: not the govkit inventory",
                                            lambda f: _foreign_sqlite(f / ".govkit" / "inventory.db")),
    "dsr.db not a database": Case(["dsr", "list"], ".govkit/dsr.db: the DSR register is damaged",
                                  _write(".govkit/dsr.db", b"not a database, just text " * 100)),
    "dsr.db of another program": Case(["dsr", "list"], ".govkit/dsr.db: not the DSR register",
                                      lambda f: _foreign_sqlite(f / ".govkit" / "dsr.db")),
    "audit head symlink loop": Case(["log", "verify"], ".govkit/audit/head.json", _head_loop),
    "keys rotate without keys": Case(["keys", "rotate"], "no keys to rotate"),
}


def _invoke(args: list[str], env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, args, env=env)


def _assert_one_line_error(result: Result, named: str) -> None:
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert "internal error" not in output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("govkit: error: "), lines[0]
    assert named in lines[0]
    assert result.exit_code == 2, (result.exit_code, lines[0])


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_input_is_one_line_and_exit_2(workspace_dir: Path, case: Case) -> None:
    case.setup(workspace_dir)
    result = _invoke(case.args, case.env)
    _assert_one_line_error(result, case.expected(workspace_dir))


CLICK_CHECKED = {
    "sample 1e30": ["scan", "x.csv", "--sample", str(10**30)],
    "max-file-mb nan": ["scan", "x.csv", "--max-file-mb", "nan"],
    "max-file-mb inf": ["scan", "x.csv", "--max-file-mb", "inf"],
    "max-suppression nan": ["anonymize", "x.csv", "--to", "o.csv", "--max-suppression", "nan"],
    "date format": ["dsr", "new", "--type", "access", "--subject", "email=a@example.com", "--received", "31/12/2024"],
}


@pytest.mark.parametrize("args", CLICK_CHECKED.values(), ids=CLICK_CHECKED.keys())
def test_values_click_checks_exit_2_naming_the_option(workspace_dir: Path, args: list[str]) -> None:
    """Values click itself checks (ranges, formats; nan and inf too) exit 2 with click's usage
    message, which names the option."""
    result = _invoke(args)
    assert result.exit_code == 2
    assert "Traceback" not in result.stdout + result.stderr
    assert f"Invalid value for '{args[-2]}'" in result.stderr


def test_log_since_before_the_year_one_means_every_record(workspace_dir: Path) -> None:
    result = _invoke(["log", "show", "--since", "999999d"])
    assert result.exit_code == 0, result.stderr


def test_a_latin1_csv_is_anonymized_as_scan_reads_it(workspace_dir: Path) -> None:
    """A CSV that is not UTF-8 is decoded the way 'govkit scan' decodes it (Windows-1252 here)."""
    (workspace_dir / "people.csv").write_bytes("name,email\nJürgen Müller,jm@example.com\n".encode("cp1252"))
    result = _invoke(["anonymize", "people.csv", "--to", "out.csv", "--rule", "email=redact", "--no-verify"])
    assert result.exit_code == 0, result.stderr
    assert (workspace_dir / "out.csv").read_text(encoding="utf-8").splitlines()[1].startswith("Jürgen Müller,")


def test_a_bad_file_in_a_scanned_folder_is_skipped_with_a_reason(workspace_dir: Path) -> None:
    """A folder scan goes on past files it cannot read; each is listed with why."""
    _config(workspace_dir, 'model = "', 'model = "none" # "')
    folder = workspace_dir / "exports"
    folder.mkdir()
    (folder / "good.csv.gz").write_bytes(gzip.compress(b"email\nann@example.com\nbob@example.org\n"))
    (folder / "cut.csv.gz").write_bytes(gzip.compress(b"email\n" + b"ann@example.com\n" * 2000)[:80])
    (folder / "program.csv").write_bytes(ELF)
    (folder / "sheet.xlsx").write_bytes(b"PK\x03\x04 not a workbook")
    (folder / "table.parquet").write_bytes(b"PAR1 not a table PAR1")
    (folder / "broken.jsonl").write_bytes(b'{"email": "ann@example.com"}\n{"email": \n')
    (folder / "empty.json").write_bytes(b"")
    result = _invoke(["scan", "exports", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    report = json.loads(result.stdout)
    reasons = {s["asset"]: s["reason"] for s in report["skipped"]}
    assert reasons["cut.csv.gz"].startswith("truncated gzip")
    assert reasons["program.csv"] == "binary file"
    assert set(reasons) >= {"sheet.xlsx", "table.parquet", "broken.jsonl"}
    assert all(reasons.values())
    assert "good.csv.gz" not in reasons  # a valid gzipped CSV is read (it once failed to seek)
    assert ("good.csv.gz", "EMAIL_ADDRESS") in {(f["asset"], f["entity_type"]) for f in report["findings"]}


# -- real processes, bounded ---------------------------------------------------------------------

_MEMORY = 2 * 1024**3
_CPU_SECONDS = 60


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (_MEMORY, _MEMORY))
    resource.setrlimit(resource.RLIMIT_CPU, (_CPU_SECONDS, _CPU_SECONDS))


SUBPROCESS_CASES = ["toml min_confidence infinite", "toml unknown table", "date received at the end of time",
                    "dsr package truncated", "csv binary", "inventory.db not a database", "audit head symlink loop"]


@pytest.mark.skipif(sys.platform != "linux", reason="resource limits as set here are Linux's")
@pytest.mark.parametrize("name", SUBPROCESS_CASES)
def test_bad_input_in_a_real_process_under_limits(workspace_dir: Path, name: str) -> None:
    case = CASES[name]
    case.setup(workspace_dir)
    env = {**os.environ, **case.env}
    result = subprocess.run(
        [sys.executable, "-m", "govkit", *case.args], cwd=workspace_dir, env=env, capture_output=True, text=True,
        timeout=120, check=False, preexec_fn=_limits,
    )
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines == [lines[0]], result.stderr
    assert lines[0].startswith("govkit: error: ")
    assert case.expected(workspace_dir) in lines[0]
    assert result.returncode == 2


@pytest.mark.parametrize("args", [
    ["nosuch"], ["--badopt"], ["scan", "--jobs", "0"], ["scan", "--jobs", "100000"], ["dsr", "erase"],
    ["init", "--force", "--source", "oops"], ["anonymize", "x.csv", "--format", "xml"],
])
def test_click_usage_errors_are_one_line_too(args: list[str], tmp_path: Path) -> None:
    """A bad option value, a missing argument, an unknown command: one line, exit 2, as all bad input."""
    from click.testing import CliRunner

    from govkit.cli import main

    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("govkit: error: ")
    assert "--help')" in lines[0]
