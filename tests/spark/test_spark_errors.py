"""What can be missing for ``--engine spark`` is one line and exit 2 (issue 18), in bounded time;
and nothing of Spark is loaded unless it is asked for."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from govkit.cli import main
from govkit.engines.spark import session


def _one_line_error(result: object) -> str:
    stderr = result.stderr  # type: ignore[attr-defined]
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("govkit: error: ")
    return str(lines[0])


@pytest.fixture
def parquet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SPARK_MASTER", raising=False)
    path = tmp_path / "people.parquet"
    pq.write_table(pa.table({"email": ["ann@example.com"]}), path)
    return path


def test_missing_pyspark_says_how_to_install_it(parquet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)  # import pyspark -> ImportError
    result = CliRunner().invoke(main, ["scan", "--engine", "spark", str(parquet)])
    assert result.exit_code == 2
    assert "pip install 'govkit[spark]'" in _one_line_error(result)
    result = CliRunner().invoke(main, ["anonymize", "--engine", "spark", str(parquet), "--to", "out",
                                       "--rule", "email=mask"])
    assert result.exit_code == 2
    assert "needs pyspark" in _one_line_error(result)


def test_missing_java_is_one_line(parquet: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-jdk"))
    result = CliRunner().invoke(main, ["scan", "--engine", "spark", "--master", "local[1]", str(parquet)])
    assert result.exit_code == 2
    assert _one_line_error(result) == (f"govkit: error: --engine spark needs Java 17 or newer: "
                                       f"JAVA_HOME={tmp_path / 'no-jdk'} has no bin/java")


def test_an_old_java_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    java = tmp_path / "jdk8" / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text('#!/bin/sh\necho \'openjdk version "1.8.0_392"\' >&2\n', encoding="utf-8")
    java.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jdk8"))
    with pytest.raises(Exception, match=r"needs Java 17 or newer: .*java is Java 8$"):
        session.require_java()


def test_an_unreachable_master_is_one_line_in_bounded_time(parquet: Path) -> None:
    clock = time.perf_counter()
    result = CliRunner().invoke(main, ["scan", "--engine", "spark", "--master", "spark://127.0.0.1:9", str(parquet)])
    assert result.exit_code == 2
    assert "Spark master spark://127.0.0.1:9 is unreachable: 127.0.0.1:9" in _one_line_error(result)
    assert time.perf_counter() - clock < 30


def test_a_master_that_does_not_answer_waits_the_connect_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    waited: list[float | None] = []

    def silent(address: tuple[str, int], timeout: float | None = None) -> None:
        waited.append(timeout)
        raise TimeoutError("timed out")

    monkeypatch.setattr(session.socket, "create_connection", silent)
    with pytest.raises(Exception, match=r"spark://head:7077 is unreachable: head:7077 \(timed out\) "
                                        r"\(waited up to 1.5s each"):
        session.check_master("spark://head:7077", timeout=1.5)
    assert waited == [1.5]


_SILENT_MASTER = """
import socket, sys, threading, time
server = socket.socket(); server.bind(("127.0.0.1", 0)); server.listen(8)
held = []
threading.Thread(target=lambda: [held.append(server.accept()) for _ in iter(int, 1)], daemon=True).start()
from govkit.engines.spark.session import spark_session
clock = time.perf_counter()
try:
    spark_session(f"spark://127.0.0.1:{server.getsockname()[1]}", startup_timeout=4)
except Exception as exc:
    print(type(exc).__name__, round(time.perf_counter() - clock), exc, sep="|")
"""


@pytest.mark.slow  # starts a JVM
def test_a_master_that_accepts_but_never_answers_gives_up_in_bounded_time() -> None:
    done = subprocess.run([sys.executable, "-c", _SILENT_MASTER], capture_output=True, text=True, timeout=120,
                          check=False)
    kind, seconds, message = done.stdout.strip().splitlines()[-1].split("|")
    assert kind == "UsageError"
    assert int(seconds) <= 6
    assert message.endswith("did not take the application within 4s (is it a Spark master, with workers free?)")


def test_master_urls_are_checked_and_resolved(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(Exception, match="not a Spark master URL"):
        session.check_master("http://example.com")
    monkeypatch.delenv("SPARK_MASTER", raising=False)
    monkeypatch.delenv("PYSPARK_GATEWAY_PORT", raising=False)
    monkeypatch.delenv("DATABRICKS_RUNTIME_VERSION", raising=False)
    assert session.resolve_master("local[4]") == "local[4]"
    monkeypatch.setenv("SPARK_MASTER", "spark://head:7077")
    assert session.resolve_master(None) == "spark://head:7077"
    monkeypatch.delenv("SPARK_MASTER")
    monkeypatch.setenv("PYSPARK_GATEWAY_PORT", "40000")  # under spark-submit: its configuration decides
    assert session.resolve_master(None) is None


def test_master_without_the_spark_engine_is_a_usage_error(parquet: Path) -> None:
    result = CliRunner().invoke(main, ["scan", str(parquet), "--master", "local[2]"])
    assert result.exit_code == 2
    assert _one_line_error(result) == "govkit: error: --master goes with --engine spark"


def test_jars_are_checked_before_spark_starts(parquet: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["scan", str(parquet), "--jars", str(tmp_path / "x.jar")])
    assert result.exit_code == 2
    assert _one_line_error(result) == "govkit: error: --jars goes with --engine spark"
    missing = tmp_path / "postgresql.jar"
    result = CliRunner().invoke(main, ["scan", "--engine", "spark", "--jars", str(missing), str(parquet)])
    assert result.exit_code == 2
    assert _one_line_error(result) == f"govkit: error: --jars {missing}: no such file"


def test_a_jar_the_running_session_lacks_is_one_line(spark: object, parquet: Path, tmp_path: Path) -> None:
    """A driver jar cannot be added to a running session (its class loader is fixed): say so."""
    jar = tmp_path / "extra-driver.jar"
    jar.write_bytes(b"PK\x05\x06" + b"\0" * 18)  # an empty zip
    result = CliRunner().invoke(main, ["scan", "--engine", "spark", "--jars", str(jar), str(parquet)])
    assert result.exit_code == 2
    assert _one_line_error(result) == (f"govkit: error: --jars {jar}: a Spark session is already running in this "
                                       "process without it; give the jars when the session starts (spark-submit "
                                       "--jars, spark.jars)")


def test_help_and_local_commands_never_import_pyspark() -> None:
    code = (
        "import sys\nfrom click.testing import CliRunner\nfrom govkit.cli import main\n"
        "for args in (['--help'], ['scan', '--help'], ['anonymize', '--help']):\n"
        "    assert CliRunner().invoke(main, args).exit_code == 0\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pyspark', 'py4j')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout.strip() == "[]"
