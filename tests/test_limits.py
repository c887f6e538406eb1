"""Resource limits (issue #16): hostile input ends as one line, in bounded memory and time.

Checks that once ate gigabytes run as subprocesses under ``RLIMIT_AS`` (2 GB), so a
regression fails here instead of taking the machine down: a 600 KB JSON document nested
120,000 levels deep (``govkit anonymize`` grew past 13 GB), a 300-byte "billion laughs"
policy (``govkit policy validate`` past 6 GB). Database timeouts are checked against a
socket on 127.0.0.1 that accepts connections and never answers.
"""

from __future__ import annotations

import errno
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from govkit import limits
from govkit.errors import ConfigError, SourceError
from govkit.limits import YAML_MAX_ALIASES, YAML_MAX_DEPTH, YAML_MAX_NODES, Limits
from govkit.policy.errors import PolicyError
from govkit.policy.loader import load_policy
from govkit.policy.yamlmarks import load_yaml
from govkit.sources import files as files_module
from govkit.sources.database import DatabaseSource, connect_args
from govkit.sources.files import FileScanOptions, scan_files
from govkit.sources.formats import open_input
from govkit.sources.formats.jsonfile import JsonTooDeep, loads, too_deep
from govkit.workspace import init_workspace, load_workspace

MEMORY_LIMIT = 2 * 1024**3


@pytest.fixture(autouse=True)
def _default_limits() -> Iterator[None]:
    """Every test starts and ends with the default limits (they are process-wide)."""
    limits.configure()
    yield
    limits.configure()


#: ``python -m govkit`` with its address space limited from inside (no ``preexec_fn``: the
#: silent-server fixture runs a thread, and forking a threaded process to run Python is unsafe).
_LIMITED_MAIN = (
    "import resource, runpy, sys; "
    f"resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_LIMIT}, {MEMORY_LIMIT})); "
    "sys.argv[0] = 'govkit'; runpy.run_module('govkit', run_name='__main__', alter_sys=True)"
)


def _govkit(*args: str, cwd: Path, timeout: float = 120) -> tuple[subprocess.CompletedProcess[str], float]:
    """``python -m govkit ARGS`` under a 2 GB address-space limit; the result and its seconds."""
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", _LIMITED_MAIN, *args], cwd=cwd, capture_output=True, text=True,
        timeout=timeout, check=False,
    )
    return result, time.monotonic() - started


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("govkit: error: ")]
    assert len(errors) == 1, result.stderr
    assert "internal error" not in result.stderr
    assert "Traceback" not in result.stderr
    return errors[0]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    folder = tmp_path / "ws"
    init_workspace(folder)
    return folder


# -- JSON nesting ------------------------------------------------------------------------------


DEEP_OBJECTS = '{"a":' * 120_000 + '"x@example.com"' + "}" * 120_000  # 720 KB
DEEP_ARRAYS = "[" * 300_000 + "]" * 300_000


def test_anonymize_refuses_a_deeply_nested_json_document_in_bounded_memory(workspace: Path) -> None:
    (workspace / "deep.json").write_text(DEEP_OBJECTS, encoding="utf-8")
    result, seconds = _govkit("anonymize", "deep.json", "--to", "out.json", "--rule", "a=redact", cwd=workspace)
    assert result.returncode == 2, result.stderr
    line = _one_error_line(result)
    assert "deep.json" in line
    assert "512 levels" in line
    assert "nothing written" in line
    assert not (workspace / "out.json").exists()
    assert seconds < 60


def test_anonymize_refuses_a_deep_json_line_naming_it(workspace: Path) -> None:
    from click.testing import CliRunner

    from govkit.cli import main

    lines = ['{"email": "a@example.com"}'] * 3 + ["[" * 5000 + "]" * 5000]
    (workspace / "deep.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["-w", str(workspace), "anonymize", str(workspace / "deep.jsonl"),
                                       "--to", str(workspace / "out.jsonl"), "--rule", "email=redact"])
    assert result.exit_code == 2, result.output
    assert "deep.jsonl:4: JSON nested deeper than 512 levels" in result.output
    assert not (workspace / "out.jsonl").exists()


def test_json_depth_is_settable(workspace: Path) -> None:
    (workspace / "govkit.toml").write_text("[limits]\njson_depth = 20\n", encoding="utf-8")
    assert load_workspace(workspace, search=False).limits.json_depth == 20
    assert limits.active().json_depth == 20
    nested = "[" * 25 + "]" * 25
    assert too_deep(nested)
    with pytest.raises(JsonTooDeep, match="deeper than 20 levels"):
        loads(nested)
    assert loads("[" * 20 + "]" * 20) is not None


def test_too_deep_ignores_brackets_inside_strings() -> None:
    text = '{"a": "' + "[" * 5000 + '\\" {{{"}'
    assert not too_deep(text, 10)
    assert loads(text) == {"a": "[" * 5000 + '" {{{'}
    assert too_deep('{"a": ' + "[" * 11 + "]" * 11 + "}", 10)


# -- scanning a folder: one bad file is one skipped entry ---------------------------------------


def _reasons(result: files_module.FileScanResult) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for skipped in result.skipped:
        out.setdefault(skipped.asset, []).append(skipped.reason)
    return out


def test_scan_skips_deep_json_and_goes_on(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "deep.json").write_text(DEEP_OBJECTS, encoding="utf-8")
    (folder / "arrays.json").write_text(DEEP_ARRAYS, encoding="utf-8")
    (folder / "lines.jsonl").write_text(
        '{"email": "a@example.com"}\n' * 3 + "[" * 5000 + "]" * 5000 + '\n{"email": "b@example.org"}\n',
        encoding="utf-8")
    (folder / "people.csv").write_text("email\nc@example.net\nd@example.com\n", encoding="utf-8")
    started = time.monotonic()
    result = scan_files(folder, FileScanOptions(jobs=1, model=None))
    assert time.monotonic() - started < 30
    reasons = _reasons(result)
    assert any("JSON nested deeper than 512 levels" in r for r in reasons["deep.json"])
    assert any("JSON nested deeper than 512 levels" in r for r in reasons["arrays.json"])
    assert reasons["lines.jsonl"] == ["1 JSON lines nested deeper than 512 levels skipped "
                                      "(limit: json_depth in govkit.toml)"]
    found = {(f.asset, f.field, f.entity_type) for f in result.findings}
    assert ("people.csv", "email", "EMAIL_ADDRESS") in found
    assert ("lines.jsonl", "$.email", "EMAIL_ADDRESS") in found


def test_scan_of_a_deep_json_folder_stays_small(tmp_path: Path) -> None:
    """The whole command, under the 2 GB limit: exit 0, the file listed as skipped."""
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "deep.json").write_text(DEEP_OBJECTS, encoding="utf-8")
    (folder / "a.csv").write_text("email\nc@example.net\n", encoding="utf-8")
    result, seconds = _govkit("scan", str(folder), "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "JSON nested deeper than 512 levels" in result.stdout
    assert seconds < 90


def test_a_sniffer_error_skips_the_file_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "odd.json").write_text("[1]", encoding="utf-8")
    (folder / "a.csv").write_text("email\nc@example.net\n", encoding="utf-8")

    def choke(path: Path) -> object:
        if path.name == "odd.json":
            raise RecursionError("maximum recursion depth exceeded")
        return open_input(path)

    monkeypatch.setattr(files_module, "open_input", choke)
    result = scan_files(folder, FileScanOptions(jobs=1, model=None))
    assert _reasons(result)["odd.json"] == ["could not be read (RecursionError)"]
    assert "a.csv" in {a["name"] for a in result.assets}


def _deny_under(monkeypatch: pytest.MonkeyPatch, locked: Path) -> None:
    """What the kernel does to a non-root user for a folder with mode 000: listing it, or
    reaching anything inside it, fails with EACCES (tests run as root, who is never denied)."""
    real_scandir, real_stat = os.scandir, os.stat

    def denied(path: object) -> bool:
        text = os.fspath(path) if isinstance(path, str | os.PathLike) else ""
        return text == str(locked) or text.startswith(str(locked) + os.sep)

    def scandir(path: object = ".") -> object:
        if denied(path):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_scandir(path)  # type: ignore[call-overload]

    def stat(path: object, *args: object, **kwargs: object) -> os.stat_result:
        if denied(path) and os.fspath(path) != str(locked):  # type: ignore[call-overload]
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_stat(path, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(os, "stat", stat)


def test_an_unreadable_subfolder_is_one_skipped_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "data"
    (folder / "locked").mkdir(parents=True)
    (folder / "locked" / "secret.csv").write_text("email\na@example.com\n", encoding="utf-8")
    (folder / "open").mkdir()
    (folder / "open" / "a.csv").write_text("email\nc@example.net\n", encoding="utf-8")
    _deny_under(monkeypatch, (folder / "locked").resolve())
    result = scan_files(folder, FileScanOptions(jobs=1, model=None))
    assert _reasons(result) == {"locked": ["unreadable: permission denied"]}
    assert [a["name"] for a in result.assets] == ["open/a.csv"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a folder of mode 000")
def test_an_unreadable_subfolder_for_real(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    (folder / "locked").mkdir(parents=True)
    (folder / "a.csv").write_text("email\nc@example.net\n", encoding="utf-8")
    (folder / "locked").chmod(0)
    try:
        result = scan_files(folder, FileScanOptions(jobs=1, model=None))
    finally:
        (folder / "locked").chmod(0o755)
    assert _reasons(result) == {"locked": ["unreadable: permission denied"]}


def test_workers_get_the_parent_limits() -> None:
    files_module._init_worker(None, Limits(json_depth=33))
    assert limits.active().json_depth == 33


# -- policy YAML -------------------------------------------------------------------------------


def _laughs(levels: int = 9, width: int = 9) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels + 1):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * width)}]")
    return "version: 1\n" + "\n".join(lines) + "\n"


def test_billion_laughs_policy_fails_fast_in_bounded_memory(tmp_path: Path) -> None:
    (tmp_path / "laughs.yaml").write_text(_laughs(), encoding="utf-8")
    result, seconds = _govkit("policy", "validate", "laughs.yaml", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    line = _one_error_line(result)
    assert f"more than {YAML_MAX_NODES:,} values" in line
    assert "at laughs.yaml:" in line
    assert seconds < 60


def test_yaml_alias_expansion_points_at_the_anchor() -> None:
    with pytest.raises(PolicyError, match=r"expanding the anchor at p\.yaml:6:5$") as caught:
        load_yaml(_laughs(), "p.yaml")
    assert "\n" not in str(caught.value)


def test_yaml_merge_keys_do_not_multiply() -> None:
    """``<<: [*b, *b, ...]`` ten times over: merged keys are deduplicated, nothing grows."""
    lines = ["b0: &b0 {k: 1}"]
    for level in range(1, 12):
        lines.append(f"b{level}: &b{level} {{<<: [{', '.join([f'*b{level - 1}'] * 10)}]}}")
    data = load_yaml("\n".join(lines) + "\ntop: *b11\n", "m.yaml")
    assert data["top"] == {"k": 1}


def test_too_many_aliases() -> None:
    text = "a: &a 1\nb: [" + ", ".join(["*a"] * (YAML_MAX_ALIASES + 1)) + "]\n"
    with pytest.raises(PolicyError, match=f"more than {YAML_MAX_ALIASES:,} YAML aliases .* at t.yaml:2:"):
        load_yaml(text, "t.yaml")
    assert load_yaml("a: &a 1\nb: [" + ", ".join(["*a"] * 10) + "]\n", "t.yaml")["b"] == [1] * 10


@pytest.mark.parametrize("opener", ["[", "{a: "])
def test_deep_yaml(opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    text = "version: 1\nx: " + opener * 5000 + "1" + closer * 5000 + "\n"
    with pytest.raises(PolicyError, match=f"nested deeper than {YAML_MAX_DEPTH} levels .* at d.yaml:2:"):
        load_yaml(text, "d.yaml")


def test_policy_file_size_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("version: 1\n" + "# padding\n" * 120_000, encoding="utf-8")
    with pytest.raises(PolicyError, match=r"policy file too large: over 1,048,576 bytes .* at .*big\.yaml:1:1"):
        load_policy([big])


# -- govkit.toml -------------------------------------------------------------------------------


def test_toml_nesting_and_size(workspace: Path) -> None:
    config = workspace / "govkit.toml"
    config.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_workspace(workspace, search=False)
    config.write_text("# padding\n" * 120_000, encoding="utf-8")
    with pytest.raises(ConfigError, match="larger than 1,048,576 bytes"):
        load_workspace(workspace, search=False)


def test_limits_table(workspace: Path) -> None:
    config = workspace / "govkit.toml"
    config.write_text("[limits]\nconnect_timeout = 2\nstatement_timeout = 0.5\n", encoding="utf-8")
    loaded = load_workspace(workspace, search=False).limits
    assert (loaded.connect_timeout, loaded.statement_timeout, loaded.json_depth) == (2.0, 0.5, 512)
    assert limits.active() == loaded
    for body, message in [
        ("conect_timeout = 2", r'govkit.toml:2: unknown key \[limits\].conect_timeout; did you mean "connect_timeout"'),
        ('connect_timeout = "2s"', r"govkit.toml:2: \[limits\].connect_timeout must be a number of seconds"),
        ("json_depth = 2.5", r"\[limits\].json_depth must be an integer"),
        ("connect_timeout = -1", r"\[limits\].connect_timeout must be between 0 and 3600, got -1"),
        ("json_depth = 3", r"\[limits\].json_depth must be between 16 and"),
    ]:
        config.write_text(f"[limits]\n{body}\n", encoding="utf-8")
        with pytest.raises(ConfigError, match=message):
            load_workspace(workspace, search=False)
    config.write_text("", encoding="utf-8")
    assert load_workspace(workspace, search=False).limits == Limits()


# -- database timeouts -------------------------------------------------------------------------


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A TCP port on 127.0.0.1 that accepts connections and never says a word."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(timeout=5)
    for conn in held:
        conn.close()
    server.close()


def _fails_within(url: str, seconds: float) -> str:
    started = time.monotonic()
    with pytest.raises(SourceError) as caught, DatabaseSource(url) as source:
        source.check()
    assert time.monotonic() - started < seconds
    message = str(caught.value)
    assert "\n" not in message
    assert "sekrit" not in message
    return message


@pytest.mark.parametrize("scheme", ["postgresql+psycopg", "mysql+pymysql"])
def test_connect_timeout_from_the_limits(silent_port: int, scheme: str) -> None:
    limits.configure(connect_timeout=2)
    message = _fails_within(f"{scheme}://app:sekrit@127.0.0.1:{silent_port}/shop", 8)
    assert "cannot connect" in message
    assert "limit: connect_timeout = 2 s" in message


@pytest.mark.parametrize("query", ["connect_timeout=2", "connect_timeout=1&read_timeout=1"])
def test_connect_timeout_in_the_url_wins(silent_port: int, query: str) -> None:
    scheme = "postgresql+psycopg" if query == "connect_timeout=2" else "mysql+pymysql"
    message = _fails_within(f"{scheme}://app:sekrit@127.0.0.1:{silent_port}/shop?{query}", 8)
    assert "in the URL" in message


def test_scan_command_gives_up_on_a_silent_server(silent_port: int, workspace: Path) -> None:
    (workspace / "govkit.toml").write_text("[limits]\nconnect_timeout = 2\n", encoding="utf-8")
    result, seconds = _govkit("scan", f"mysql+pymysql://app@127.0.0.1:{silent_port}/shop", cwd=workspace)
    assert result.returncode == 3, result.stderr
    assert "cannot connect" in _one_error_line(result)
    assert seconds < 30


def test_driver_arguments() -> None:
    from sqlalchemy.engine import make_url

    active = Limits(connect_timeout=1.5, statement_timeout=30)
    assert connect_args(make_url("postgresql+psycopg://u@h/db"), active) == {
        "connect_timeout": 2, "options": "-c statement_timeout=30000"}
    assert connect_args(make_url("postgresql://u@h/db?options=-csearch_path%3Dx"), active) == {"connect_timeout": 2}
    assert connect_args(make_url("mysql+pymysql://u@h/db?read_timeout=9"), active) == {
        "connect_timeout": 1.5, "write_timeout": 1.5}
    assert connect_args(make_url("sqlite:///x.db"), active) == {"timeout": 1.5}
    assert connect_args(make_url("sqlite:///x.db"), Limits(connect_timeout=0)) == {}
    assert connect_args(make_url("postgresql+psycopg://u@h/db"), Limits(0, 0)) == {}


def test_pymysql_reads_wait_up_to_the_statement_timeout() -> None:
    from govkit.sources.database import _pymysql_statement_timeout

    class Conn:
        _read_timeout: float | None = 10.0
        _write_timeout: float | None = 10.0

    conn = Conn()
    _pymysql_statement_timeout(300)(conn, None)
    assert (conn._read_timeout, conn._write_timeout) == (300, 300)
    _pymysql_statement_timeout(0)(conn, None)
    assert conn._read_timeout is None


def test_sqlite_lock_wait_is_the_connect_timeout(tmp_path: Path) -> None:
    path = tmp_path / "shop.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (email TEXT)")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        limits.configure(connect_timeout=1)
        started = time.monotonic()
        with pytest.raises(SourceError) as caught, DatabaseSource(f"sqlite:///{path}") as source:
            source.tables()  # reading the schema needs a shared lock
        assert 0.9 < time.monotonic() - started < 8
        message = str(caught.value)
        assert "database is locked" in message
        assert "connect_timeout = 1 s" in message
    finally:
        holder.rollback()
        holder.close()


def _server_url(admin_url: str) -> str:
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(admin_url, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:
        if os.environ.get("GOVKIT_REQUIRE_SERVERS") == "1":
            pytest.fail(f"{admin_url} not reachable: {type(exc).__name__}")
        pytest.skip(f"{admin_url} not reachable: {type(exc).__name__}")
    return admin_url


@pytest.mark.server
@pytest.mark.parametrize("which", ["postgresql", "mysql"])
def test_statement_timeout_on_a_real_server(which: str) -> None:
    import sqlalchemy as sa

    from tests import chinook

    url = _server_url(chinook.PG_ADMIN_URL if which == "postgresql" else chinook.MYSQL_ADMIN_URL)
    limits.configure(statement_timeout=1)
    sleep = "SELECT pg_sleep(3)" if which == "postgresql" else "SELECT SLEEP(3)"
    with DatabaseSource(url) as source:
        source.check()
        started = time.monotonic()
        with pytest.raises(sa.exc.OperationalError) as caught, source.engine.connect() as conn:
            conn.execute(sa.text(sleep)).all()
        assert time.monotonic() - started < 2.9
        message = str(source.error(caught.value, "cannot read t"))
    assert "limit: statement_timeout = 1 s" in message


def test_values_before_the_deep_part_are_scanned(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    emails = ", ".join(f'"user{i}@example.com"' for i in range(20))
    (folder / "mixed.json").write_text('{"email": [' + emails + '], "deep": ' + DEEP_ARRAYS + "}", encoding="utf-8")
    result = scan_files(folder, FileScanOptions(jobs=1, model=None))
    assert ("mixed.json", "$.email[*]", "EMAIL_ADDRESS") in {(f.asset, f.field, f.entity_type) for f in result.findings}
    assert any("partial results kept" in r for r in _reasons(result)["mixed.json"])
