"""Finding Java and pyspark, choosing the master, starting the session: one-line errors.

The master comes from the usual places, first found wins: ``--master``, the
``SPARK_MASTER`` environment variable, the configuration spark-submit (or a notebook such
as Databricks) already gave the running session, else ``local[2]``. Three things can be
missing, and each is a one-line error (exit 2) before Spark prints a Java stack:

* pyspark (``pip install 'govkit[spark]'``);
* Java (Spark 4 needs 17 or newer; ``JAVA_HOME`` or ``java`` on the PATH);
* the master itself: a ``spark://`` or ``k8s://`` master is first reached with a plain
  TCP connection bounded by ``[limits] connect_timeout``, because Spark's own client
  retries an unreachable standalone master for a minute before it gives up.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from govkit import limits
from govkit.errors import UsageError

DEFAULT_MASTER = "local[2]"
#: Spark 4 runs on Java 17 and 21.
MIN_JAVA = 17
INSTALL_HINT = "pip install 'govkit[spark]'"


def require_pyspark() -> Any:
    """The pyspark module, or a one-line error saying how to install it."""
    try:
        import pyspark
    except ImportError:
        raise UsageError(f"--engine spark needs pyspark, which is not installed: {INSTALL_HINT}") from None
    return pyspark


def java_binary() -> str | None:
    """``$JAVA_HOME/bin/java`` when JAVA_HOME is set, else ``java`` on the PATH."""
    home = os.environ.get("JAVA_HOME")
    if home:
        candidate = Path(home) / "bin" / "java"
        return str(candidate) if candidate.is_file() else None
    return shutil.which("java")


def java_version(binary: str) -> int | None:
    """The major version ``java -version`` reports (8 for 1.8), or None if it cannot say."""
    try:
        done = subprocess.run([binary, "-version"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r'version "(\d+)(?:\.(\d+))?', done.stderr + done.stdout)
    if not found:
        return None
    major = int(found.group(1))
    return int(found.group(2) or 0) if major == 1 else major


def require_java() -> None:
    """A one-line error when there is no Java, or one older than Spark needs."""
    binary = java_binary()
    if binary is None:
        where = f"JAVA_HOME={os.environ['JAVA_HOME']} has no bin/java" if os.environ.get("JAVA_HOME") else \
            "no java on the PATH and JAVA_HOME is not set"
        raise UsageError(f"--engine spark needs Java {MIN_JAVA} or newer: {where}")
    version = java_version(binary)
    if version is None:
        raise UsageError(f"--engine spark needs Java {MIN_JAVA} or newer: {binary} -version did not run")
    if version < MIN_JAVA:
        raise UsageError(f"--engine spark needs Java {MIN_JAVA} or newer: {binary} is Java {version}")


def _submitted() -> bool:
    """Whether this process runs under spark-submit or inside a running Spark driver."""
    if os.environ.get("PYSPARK_GATEWAY_PORT") or os.environ.get("DATABRICKS_RUNTIME_VERSION"):
        return True
    try:
        from pyspark import SparkContext
    except ImportError:
        return False
    return SparkContext._active_spark_context is not None


def resolve_master(given: str | None) -> str | None:
    """The master to ask for; None: leave it to spark-submit's (or the notebook's) configuration."""
    if given:
        return given
    if os.environ.get("SPARK_MASTER"):
        return os.environ["SPARK_MASTER"]
    if _submitted():
        return None
    return DEFAULT_MASTER


def _endpoints(master: str) -> list[tuple[str, int]]:
    """The host:port pairs a master URL names (standalone HA lists several), if any."""
    if master.startswith("spark://"):
        hosts = master[len("spark://"):].split(",")
        out = []
        for item in hosts:
            host, _, port = item.partition(":")
            out.append((host, int(port) if port.isdigit() else 7077))
        return out
    if master.startswith("k8s://"):
        api = master[len("k8s://"):]
        parts = urlsplit(api if "://" in api else "https://" + api)
        if parts.hostname:
            return [(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))]
    return []


def check_master(master: str, timeout: float | None = None) -> None:
    """Reach every endpoint of ``master`` within ``timeout`` seconds, or a one-line error."""
    if not (master == "yarn" or master.startswith(("local", "spark://", "k8s://"))):
        raise UsageError(f"--master {master}: not a Spark master URL (local[N], spark://HOST:PORT, "
                         "k8s://HOST:PORT or yarn)")
    try:
        endpoints = _endpoints(master)
    except ValueError:
        raise UsageError(f"--master {master}: not a valid master URL") from None
    wait = limits.active().connect_timeout if timeout is None else timeout
    failures = []
    for host, port in endpoints:
        try:
            with socket.create_connection((host, port), timeout=wait or None):
                return
        except OSError as exc:
            reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or type(exc).__name__)
            failures.append(f"{host}:{port} ({reason})")
    if failures:
        raise UsageError(f"Spark master {master} is unreachable: {', '.join(failures)} "
                         f"(waited up to {wait:g}s each; [limits] connect_timeout)")


def spark_error(exc: BaseException, secrets: tuple[str, ...] = ()) -> str:
    """One line for a Spark failure: the Java exception's own message when there is one
    (py4j's first line only says which call failed), with ``secrets`` masked, at most 300
    characters. Spark's messages name paths, tables and columns, not cell values."""
    java = getattr(exc, "java_exception", None)
    text = ""
    if java is not None:
        try:
            text = str(java.toString())
        except Exception:  # the JVM is gone: fall back to the Python side's message
            text = ""
    lines = (text or str(exc)).strip().splitlines() or [type(exc).__name__]
    line = lines[0]
    for secret in secrets:
        if secret:
            line = line.replace(secret, "***")
    return line[:300]


def spark_session(master: str | None = None, app_name: str = "govkit", *,
                  startup_timeout: float | None = None, jars: str | None = None) -> Any:
    """The active session if there is one (spark-submit, a notebook, a test), else a new one.

    A new session gets the master from :func:`resolve_master`, this interpreter as the
    executors' Python in local mode (so they import the same govkit), UTC as the SQL time
    zone (timestamps reach Python as they are stored), and no web UI. A cluster master
    must take the application within ``startup_timeout`` seconds (default: three times
    ``[limits] connect_timeout``, at least 30). ``jars`` (comma-separated paths, as
    spark-submit's ``--jars``) go on the driver's and executors' classpath: JDBC drivers.
    """
    if startup_timeout is None:
        startup_timeout = max(30.0, 3 * limits.active().connect_timeout)
    require_pyspark()
    from pyspark.sql import SparkSession

    paths = [j.strip() for j in (jars or "").split(",") if j.strip()]
    for path in paths:
        if "://" not in path and not Path(path).is_file():
            raise UsageError(f"--jars {path}: no such file")
    active = SparkSession.getActiveSession()
    if active is not None and (master is None or master == active.sparkContext.master):
        # A jar added to a running session reaches the executors but not the class loader the
        # driver loads JDBC drivers with: the jars must be there from the start.
        started = set(filter(None, active.sparkContext.getConf().get("spark.jars", "").split(",")))
        missing = [p for p in paths if p not in started and f"file:{p}" not in started
                   and f"file://{p}" not in started]
        if missing:
            raise UsageError(f"--jars {','.join(missing)}: a Spark session is already running in this process "
                             "without it; give the jars when the session starts (spark-submit --jars, spark.jars)")
        return active
    chosen = resolve_master(master)
    if chosen is not None:
        check_master(chosen)
    if not os.environ.get("PYSPARK_GATEWAY_PORT"):
        require_java()  # the driver JVM starts here: say so before it prints a stack
    if active is not None:  # Spark would hand back the running session, on its own master
        raise UsageError(f"a Spark session on {active.sparkContext.master} is already running in this process; "
                         f"it cannot also use --master {chosen}")
    if chosen is None or chosen.startswith("local"):
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(app_name)
    if chosen is not None:
        builder = builder.master(chosen)
    builder = (builder.config("spark.sql.session.timeZone", "UTC")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.execution.arrow.pyspark.enabled", "false"))
    if paths:
        builder = builder.config("spark.jars", ",".join(paths))
    where = chosen or "the configured master"
    bound = None if chosen is None or chosen.startswith("local") else startup_timeout
    session = _start(builder, where, bound)
    session.sparkContext.setLogLevel("ERROR")
    return session


def _start(builder: Any, where: str, bound: float | None) -> Any:
    """``builder.getOrCreate()``, waiting at most ``bound`` seconds (None: as long as it takes).

    A master that accepts TCP connections but does not take the application (a proxy, a
    wrong port, a cluster without free workers) would keep Spark's client retrying for a
    minute or more; past ``bound`` this gives up with one line instead. The stuck start is
    left to a daemon thread: the command is about to exit.
    """
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["session"] = builder.getOrCreate()
        except BaseException as exc:
            outcome["error"] = exc

    if bound is None:
        run()
    else:
        thread = threading.Thread(target=run, name="govkit-spark-start", daemon=True)
        thread.start()
        thread.join(bound)
        if thread.is_alive():
            raise UsageError(f"Spark master {where} did not take the application within {bound:g}s "
                             "(is it a Spark master, with workers free?)")
    error = outcome.get("error")
    if error is not None:  # the JVM's message is a stack: keep its first line
        raise UsageError(f"Spark could not start on {where}: {spark_error(error)}") from None
    return outcome["session"]
