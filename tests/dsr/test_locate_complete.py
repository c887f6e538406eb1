"""Locate searches every source it knows of, says what it could not search, and finds the
subject's identifiers in the spellings files and databases hold them in (issue #11)."""

from __future__ import annotations

import gzip
import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st

from govkit.actions.dsr import locate, new_request
from govkit.actions.dsr.erase import ErasurePlan, TableStep, verification
from govkit.actions.dsr.files import LineMatcher
from govkit.actions.dsr.locate import (
    LocateReport,
    SourceUnavailable,
    TableHit,
    open_url,
    scrub_reason,
    source_config,
)
from govkit.actions.dsr.rewrite import FileJob, replace_spans, spans
from govkit.cli import main
from govkit.scan import ScanOptions, scan
from govkit.workspace import Workspace, load_workspace
from tests import chinook
from tests.dsr.conftest import SUBJECT

PG_URL = chinook.PG_ADMIN_URL
MYSQL_URL = chinook.MYSQL_ADMIN_URL


def _workspace(folder: Path, sources: str = "") -> Workspace:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "govkit.toml").write_text('[detection]\nmodel = "none"\nsample_size = 200\n' + sources, encoding="utf-8")
    return load_workspace(folder, search=False)


def _add_sources(workspace: Workspace, sources: str) -> Workspace:
    with (workspace.root / "govkit.toml").open("a", encoding="utf-8") as out:
        out.write(sources)
    return load_workspace(workspace.root, search=False)


def _dsr(workspace: Workspace, *args: str) -> Result:
    return CliRunner().invoke(main, ["--workspace", str(workspace.root), "dsr", *args])


def _request(workspace: Workspace, email: str = SUBJECT) -> str:
    return new_request(workspace, "access", {"email": email}).id


@pytest.fixture
def url_scanned(tmp_path: Path, chinook_sqlite: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """The issue's steps: a workspace with no sources in govkit.toml, a SQLite file scanned by URL."""
    workspace = _workspace(tmp_path / "ws")
    shutil.copy(chinook_sqlite, workspace.root / "shop.sqlite")
    monkeypatch.chdir(workspace.root)
    scan(workspace, ["sqlite:///shop.sqlite"])
    return workspace


# -- which sources ---------------------------------------------------------------------------------


def test_a_source_scanned_by_url_is_searched(url_scanned: Workspace) -> None:
    request_id = _request(url_scanned)
    result = _dsr(url_scanned, "locate", request_id, "-f", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["complete"] is True
    assert data["not_searched"] == []
    assert data["rows"] == 46
    customer = next(t for t in data["tables"] if t["asset"] == "Customer")
    assert customer["source"] == "sqlite:///shop.sqlite"
    assert customer["source_name"] is None
    assert SUBJECT not in result.output
    # Downstream reopens it without a name: the connectable URL, and a SourceConfig.
    hit = next(h for h in locate(url_scanned, {"email": SUBJECT}).hits if h.asset == "Customer")
    url = open_url(url_scanned, hit.source)
    assert url == f"sqlite:///{(url_scanned.root / 'shop.sqlite').resolve()}"
    config = hit.config(url_scanned)
    assert config.kind == "database"
    assert config.resolved_url() == url
    with sa.create_engine(url).connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM Customer")).scalar() == 59


def test_a_url_source_later_named_is_searched_once_under_its_name(url_scanned: Workspace) -> None:
    workspace = _add_sources(url_scanned, '\n[sources.shop]\nurl = "sqlite:///shop.sqlite"\n')
    report = locate(workspace, {"email": SUBJECT})
    assert report.complete, report.to_dict()
    assert [(h.asset, h.source_name) for h in report.data()] == [
        ("Customer", "shop"), ("Invoice", "shop"), ("InvoiceLine", "shop")]
    assert report.searched == ["shop"]


def test_a_configured_source_never_scanned_makes_locate_incomplete(url_scanned: Workspace) -> None:
    workspace = _add_sources(url_scanned, '\n[sources.crm]\nurl = "sqlite:///crm.db"\n')
    request_id = _request(workspace, "nobody@example.com")
    result = _dsr(workspace, "locate", request_id)
    assert result.exit_code == 1, result.output
    assert "not searched: crm: not scanned yet" in result.output
    assert "incomplete" in result.output
    assert "No data found" in result.output
    assert "where it could be searched" in result.output
    data = json.loads(_dsr(workspace, "locate", request_id, "-f", "json").output)
    assert data["complete"] is False
    assert data["not_searched"] == [{"kind": "source", "source": f"sqlite:///{workspace.root / 'crm.db'}",
                                     "source_name": "crm", "asset": None,
                                     "reason": "not scanned yet: run 'govkit scan crm'"}]
    assert not (workspace.root / "crm.db").exists()  # never created by an attempt to open it


def test_an_unreachable_source_is_named_with_its_reason(tmp_path: Path, chinook_sqlite: Path) -> None:
    workspace = _workspace(tmp_path / "ws", f'[sources.db]\nurl = "sqlite:///{chinook_sqlite}"\n')
    scan(workspace)
    # The source moves to a server that does not answer (same name: its inventory map follows).
    (workspace.root / "govkit.toml").write_text(
        '[detection]\nmodel = "none"\n\n[sources.db]\nurl = "postgresql+psycopg://someone@127.0.0.1:1/x"\n',
        encoding="utf-8")
    workspace = load_workspace(workspace.root, search=False)
    report = locate(workspace, {"email": SUBJECT})
    assert not report.complete
    assert report.hits == []
    [gap] = report.not_searched
    assert (gap.kind, gap.source_name, gap.asset) == ("source", "db", None)
    assert "cannot connect" in gap.reason
    assert "\n" not in gap.reason
    result = _dsr(workspace, "locate", _request(workspace))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "internal error" not in result.output
    assert "not searched: db: cannot connect" in result.output


def test_a_url_source_whose_file_is_gone(url_scanned: Workspace) -> None:
    (url_scanned.root / "shop.sqlite").unlink()
    report = locate(url_scanned, {"email": SUBJECT})
    assert [(g.kind, g.source, g.reason) for g in report.not_searched] == [
        ("source", "sqlite:///shop.sqlite", "scanned by URL or path: no such SQLite file")]
    assert not (url_scanned.root / "shop.sqlite").exists()


def test_open_url_needs_the_password_from_the_workspace(tmp_path: Path) -> None:
    bare = _workspace(tmp_path / "a")
    with pytest.raises(SourceUnavailable, match="password, which govkit does not keep"):
        open_url(bare, "postgresql+psycopg://app:***@db.internal/shop")
    assert open_url(bare, "postgresql+psycopg://app@db.internal/shop") == "postgresql+psycopg://app@db.internal/shop"
    named = _workspace(tmp_path / "b", '[sources.shop]\nurl = "postgresql+psycopg://app:s3cret@db.internal/shop"\n')
    assert open_url(named, "postgresql+psycopg://app:***@db.internal/shop") == (
        "postgresql+psycopg://app:s3cret@db.internal/shop")
    assert source_config(named, "whatever", "shop") is named.sources["shop"]
    folder = source_config(bare, str(tmp_path / "logs"))
    assert folder.kind == "files"
    assert folder.path == str(tmp_path / "logs")


# -- tables that cannot be searched ---------------------------------------------------------------


def _two_tables(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        for name in ("people_a", "people_b"):
            conn.execute(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, email VARCHAR(120), city VARCHAR(40))")
            conn.executemany(f"INSERT INTO {name} (email, city) VALUES (?, ?)",
                             [(f"user{i}@example.org", "Lyon") for i in range(50)] + [(SUBJECT, "Nice")])
    return f"sqlite:///{path}"


def test_a_table_whose_query_fails_is_listed_and_the_others_are_searched(tmp_path: Path) -> None:
    workspace = _workspace(tmp_path / "ws", f'[sources.db]\nurl = "{_two_tables(tmp_path / "p.db")}"\n')
    scan(workspace)
    with sqlite3.connect(tmp_path / "p.db") as conn:  # changed since the scan
        conn.execute("ALTER TABLE people_a RENAME COLUMN email TO mail")
    report = locate(workspace, {"email": SUBJECT})
    assert [(h.asset, h.rows) for h in report.data()] == [("people_b", 1)]
    [gap] = report.not_searched
    assert (gap.kind, gap.source_name, gap.asset) == ("table", "db", "people_a")
    assert gap.reason.startswith("searching email failed: OperationalError")
    assert SUBJECT not in json.dumps(report.to_dict())
    result = _dsr(workspace, "locate", _request(workspace))
    assert result.exit_code == 1
    assert "not searched: db: people_a: searching email failed" in result.output


def test_reasons_never_hold_the_subject_or_quoted_values() -> None:
    class Boom(Exception):
        pass

    exc = Boom(f"Duplicate entry 'x' for key; invalid input syntax for type uuid: \"{SUBJECT}\"; saw {SUBJECT.upper()}"
               "\n[SQL: SELECT ...]")
    reason = scrub_reason(exc, None, [SUBJECT])
    assert reason == "Boom: Duplicate entry '...' for key; invalid input syntax for type uuid: '...'; saw ***"


def test_case_spellings_of_an_email_in_a_database(tmp_path: Path) -> None:
    """An index seek finds one spelling; the other spellings are still found (small table)."""
    path = tmp_path / "c.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, email VARCHAR(120))")
        conn.execute("CREATE INDEX ix_people_email ON people (email)")
        conn.executemany("INSERT INTO people (email) VALUES (?)",
                         [(SUBJECT,), (SUBJECT.upper(),), ("  LuisG@Embraer.com.br ",), ("joluisg@embraer.com.br",)]
                         + [(f"user{i}@example.org",) for i in range(50)])
    workspace = _workspace(tmp_path / "ws", f'[sources.db]\nurl = "sqlite:///{path}"\n')
    scan(workspace)
    for spelled in (SUBJECT, SUBJECT.upper(), "LuisG@Embraer.COM.br"):
        [hit] = locate(workspace, {"email": spelled}).data()
        assert (hit.asset, hit.rows) == ("people", 3), spelled


# -- files ---------------------------------------------------------------------------------------------


def test_files_that_cannot_be_read_are_listed(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "app.log").write_text(f"2024-01-05 login user={SUBJECT}\n2024-01-05 login user=bob@example.org\n",
                                  encoding="utf-8")
    with gzip.open(logs / "old.log.gz", "wt", encoding="utf-8") as out:
        out.writelines(f"2024-01-0{i} login user=user{i}@example.org\n" for i in range(1, 9))
    (logs / "gone.log").write_text("2024-01-05 login user=carol@example.org\n", encoding="utf-8")
    workspace = _workspace(tmp_path / "ws", f'[sources.logs]\npath = "{logs}"\n')
    scan(workspace)
    (logs / "gone.log").unlink()
    (logs / "old.log.gz").write_bytes(gzip.compress(b"2024-01-05 x\n" * 500)[:60])  # damaged since the scan
    report = locate(workspace, {"email": SUBJECT})
    assert [(h.asset, h.keys) for h in report.data()] == [("app.log", [(1,)])]
    gaps = {g.asset: (g.kind, g.reason) for g in report.not_searched}
    assert gaps["gone.log"] == ("file", "no longer present")
    assert gaps["old.log.gz"][0] == "file"
    assert not report.complete


# -- verification and certificate ------------------------------------------------------------------


def _plan() -> ErasurePlan:
    return ErasurePlan([TableStep("sqlite:///a.db", "db", "people", "delete", 1, "default")], [])


def test_verification_is_incomplete_when_the_relocate_could_not_look_everywhere() -> None:
    after = LocateReport(["email"])
    assert verification(_plan(), after)["status"] == "passed"
    assert verification(_plan(), after)["passed"] is True
    after.not_searched_add("table", "sqlite:///a.db", "db", "orders", "searching email failed: OperationalError")
    result = verification(_plan(), after)
    assert (result["status"], result["passed"]) == ("incomplete", False)
    assert result["not_checked"] == [{"kind": "table", "source": "sqlite:///a.db", "source_name": "db",
                                      "asset": "orders", "reason": "searching email failed: OperationalError"}]
    after.hits.append(TableHit("sqlite:///a.db", "db", "people", "subject", 1))
    assert verification(_plan(), after)["status"] == "failed"


def test_the_certificate_shows_the_status_and_what_was_not_checked(tmp_path: Path) -> None:
    from govkit.report.templates import environment

    after = LocateReport(["email"])
    after.not_searched_add("source", "postgresql://app:***@db/crm", "crm", None, "cannot connect: refused")
    data = {"request_id": "DSR-1", "issued_at": "now", "govkit_version": "0", "steps": [], "committed": [],
            "files_changed": [], "manual": [], "verification": verification(_plan(), after),
            "audit_log": {"seq": 1, "action": "dsr.erase"}}
    html = environment(tmp_path).get_template("dsr_certificate.html.j2").render(c=data)
    assert "incomplete" in html
    assert "Not checked" in html
    assert "crm" in html
    assert "cannot connect: refused" in html
    assert "(the whole source)" in html
    assert "Passed:" not in html


# -- spellings -------------------------------------------------------------------------------------

ADDRESS = "ann@example.com"
FOUND = [
    ("user=ann@example.com action=login", "ann@example.com"),
    ("to='ann@example.com'", "ann@example.com"),
    ('{"email": "ann@example.com"}', "ann@example.com"),
    ("From: Ann <ann@example.com>", "ann@example.com"),
    ("GET /unsubscribe?email=ann%40example.com&x=1", "ann%40example.com"),
    ("GET /u?e=%22ann%40example.com%22", "ann%40example.com"),
    ("ANN@EXAMPLE.COM", "ANN@EXAMPLE.COM"),
    ("Ann@Example.Com.", "Ann@Example.Com"),
    ("<a href='mailto:ann@example.com'>", "ann@example.com"),
    ("contact: ann&#64;example.com", "ann&#64;example.com"),
    ("ann@example.com", "ann@example.com"),
]
NOT_FOUND = ["joann@example.com", "jo.ann@example.com", "jo-ann@example.com", "jo+ann@example.com",
             "o'ann@example.com", "ann@example.com.au", "ann@example.company", "x%2Bann%40example.com",
             "ann@sub.example.com", "ann@example-com.org"]


@pytest.mark.parametrize(("line", "spelled"), FOUND)
def test_email_spellings_are_found_and_replaced(line: str, spelled: str) -> None:
    matcher = LineMatcher({"email": ADDRESS})
    assert matcher(line)
    assert [line[a:b] for a, b, _ in spans(line, matcher)] == [spelled]
    assert [line[a:b] for a, b, _ in matcher.spans(line)] == [spelled]
    replaced = replace_spans(line, matcher, FileJob(Path("x.log"), "anonymize"))
    assert spelled not in replaced
    assert "[REDACTED]" in replaced
    assert not matcher(replaced)


@pytest.mark.parametrize("line", NOT_FOUND)
def test_other_addresses_are_not_the_subject(line: str) -> None:
    matcher = LineMatcher({"email": ADDRESS})
    assert not matcher(line)
    assert spans(line, matcher) == []


PHONE = "+55 (12) 3923-5555"
PHONES = [
    ("call +55 (12) 3923-5555 now", "+55 (12) 3923-5555"),
    ("tel:+551239235555", "+551239235555"),
    ("phone=+55-12-3923-5555;", "+55-12-3923-5555"),
    ("(12) 3923-5555", "(12) 3923-5555"),
    ("2024-01-05 12 3923-5555 42", "12 3923-5555"),
    ("dial 0055 12 3923 5555", "0055 12 3923 5555"),
    ("+55.12.3923.5555", "+55.12.3923.5555"),
    ("phone=%2B55%2012%203923-5555&x", "%2B55%2012%203923-5555"),
]


@pytest.mark.parametrize(("line", "spelled"), PHONES)
def test_phone_forms_are_found_and_replaced(line: str, spelled: str) -> None:
    matcher = LineMatcher({"phone": PHONE})
    assert matcher(line)
    assert [line[a:b] for a, b, _ in spans(line, matcher)] == [spelled]
    replaced = replace_spans(line, matcher, FileJob(Path("x.log"), "anonymize"))
    assert not matcher(replaced)


@pytest.mark.parametrize("line", ["+1 123 923 5555", "91239235555", "order 123923555", "+44 12 3923 5555"])
def test_other_numbers_are_not_the_subject_phone(line: str) -> None:
    assert not LineMatcher({"phone": PHONE})(line)


DELIMITERS = " \t,;:<>()[]{}\"'=/|!?&#`~^*$%\\"


@settings(max_examples=300, deadline=None)
@given(
    head=st.sampled_from(["", "user=", "mailto:", "From: ", "email=", "x "]),
    before=st.text(alphabet=DELIMITERS, max_size=4),
    after=st.text(alphabet=DELIMITERS, max_size=4),
    upper=st.lists(st.booleans(), min_size=len(ADDRESS), max_size=len(ADDRESS)),
)
def test_an_email_among_any_delimiters_is_found(head: str, before: str, after: str, upper: list[bool]) -> None:
    spelled = "".join(c.upper() if u else c for c, u in zip(ADDRESS, upper, strict=True))
    line = f"{head}{before}{spelled}{after} end"
    matcher = LineMatcher({"email": ADDRESS})
    assert matcher(line)
    assert [line[a:b] for a, b, _ in spans(line, matcher)] == [spelled]
    assert ADDRESS not in replace_spans(line, matcher, FileJob(Path("x.log"), "anonymize")).lower()


# -- servers -----------------------------------------------------------------------------------------


def _server(url: str) -> sa.Engine:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # no server here
        import os

        if os.environ.get("GOVKIT_REQUIRE_SERVERS") == "1":
            pytest.fail(f"{url.split('@')[-1]} not reachable: {type(exc).__name__}")
        pytest.skip(f"{url.split('@')[-1]} not reachable: {type(exc).__name__}")
    return engine


@pytest.fixture
def mariadb() -> Iterator[sa.Engine]:
    engine = _server(MYSQL_URL)
    drop = "DROP TABLE IF EXISTS govkit_lc_tick, govkit_lc_plain"
    with engine.begin() as conn:
        conn.execute(sa.text(drop))
    yield engine
    with engine.begin() as conn:
        conn.execute(sa.text(drop))
    engine.dispose()


@pytest.fixture
def postgres() -> Iterator[sa.Engine]:
    engine = _server(PG_URL)
    drop = "DROP TABLE IF EXISTS govkit_lc_a, govkit_lc_b"
    with engine.begin() as conn:
        conn.execute(sa.text(drop))
    yield engine
    with engine.begin() as conn:
        conn.execute(sa.text(drop))
    engine.dispose()


@pytest.mark.server
def test_mariadb_column_named_with_a_backquote(tmp_path: Path, mariadb: sa.Engine) -> None:
    with mariadb.begin() as conn:
        conn.execute(sa.text("CREATE TABLE govkit_lc_tick (id INT PRIMARY KEY, `na``me` VARCHAR(50), "
                             "email VARCHAR(120))"))
        conn.execute(sa.text("CREATE TABLE govkit_lc_plain (id INT PRIMARY KEY, email VARCHAR(120))"))
        for table in ("govkit_lc_tick", "govkit_lc_plain"):
            columns = "(id, email)" if table == "govkit_lc_plain" else "(id, `na``me`, email)"
            values = [(i, f"user{i}@example.org") for i in range(1, 30)] + [(30, SUBJECT.upper())]
            for i, email in values:
                params = {"id": i, "email": email, "n": "x"}
                row = "(:id, :email)" if table == "govkit_lc_plain" else "(:id, :n, :email)"
                conn.execute(sa.text(f"INSERT INTO {table} {columns} VALUES {row}"), params)
    workspace = _workspace(tmp_path / "ws", f'[sources.maria]\nurl = "{MYSQL_URL}"\ninclude = ["govkit_lc_*"]\n')
    scan(workspace)
    report = locate(workspace, {"email": SUBJECT})
    assert ("govkit_lc_plain", 1) in [(h.asset, h.rows) for h in report.data()]
    searched = {h.asset for h in report.data()}
    not_checked = {g.asset for g in report.not_searched}
    assert "govkit_lc_tick" in searched | not_checked  # searched, or named as not checked
    if "govkit_lc_tick" in not_checked:
        assert not report.complete
        assert all(SUBJECT.lower() not in g.reason.lower() for g in report.not_searched)


@pytest.mark.server
def test_postgres_a_failing_table_does_not_stop_the_next(tmp_path: Path, postgres: sa.Engine) -> None:
    """PostgreSQL refuses every statement of a failed transaction: each table must start clean."""
    with postgres.begin() as conn:
        for table in ("govkit_lc_a", "govkit_lc_b"):
            conn.execute(sa.text(f"CREATE TABLE {table} (id INT PRIMARY KEY, email VARCHAR(120))"))
            conn.execute(sa.text(f"INSERT INTO {table} VALUES (1, 'user1@example.org'), (2, :e)"), {"e": SUBJECT})
    workspace = _workspace(tmp_path / "ws", f'[sources.pg]\nurl = "{PG_URL}"\ninclude = ["govkit_lc_*"]\n')
    scan(workspace)
    with postgres.begin() as conn:
        conn.execute(sa.text("ALTER TABLE govkit_lc_a RENAME COLUMN email TO mail"))
    report = locate(workspace, {"email": SUBJECT})
    assert [(h.asset.rpartition(".")[2], h.rows) for h in report.data()] == [("govkit_lc_b", 1)]
    assert [(g.kind, g.asset.rpartition(".")[2] if g.asset else None) for g in report.not_searched] == [
        ("table", "govkit_lc_a")]


@pytest.mark.server
def test_a_server_scanned_by_url_with_a_password_is_named_not_searched(
    tmp_path: Path, postgres: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with postgres.begin() as conn:
        conn.execute(sa.text("CREATE TABLE govkit_lc_a (id INT PRIMARY KEY, email VARCHAR(120))"))
        conn.execute(sa.text("INSERT INTO govkit_lc_a VALUES (1, 'user1@example.org'), (2, :e)"), {"e": SUBJECT})
    with_password = PG_URL.replace("://postgres@", "://postgres:not-kept@")
    workspace = _workspace(tmp_path / "ws")
    scan(workspace, [with_password], ScanOptions(include=["govkit_lc_*"]))
    report = locate(workspace, {"email": SUBJECT})
    [gap] = report.not_searched
    assert gap.kind == "source"
    assert gap.source_name is None
    assert "***" in gap.source
    assert "password, which govkit does not keep" in gap.reason
    assert "not-kept" not in gap.reason
    # Named in govkit.toml (password from the environment), it is searched.
    monkeypatch.setenv("GOVKIT_LC_PW", "not-kept")
    named = _add_sources(workspace, f'\n[sources.pg]\nurl = "{PG_URL.replace("://postgres@", "://postgres:${GOVKIT_LC_PW}@")}"\n')
    report = locate(named, {"email": SUBJECT})
    assert report.complete, report.to_dict()
    assert [(h.source_name, h.rows) for h in report.data()] == [("pg", 1)]
