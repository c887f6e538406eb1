"""``anonymize --query``: one SELECT only (issue #11), run read-only, audited with literals masked.

The parser is tested case by case and by property; the read-only transaction is tested with
the parser bypassed, on SQLite here and on the local PostgreSQL and MariaDB (marker
``server``), on tables of their own (``govkit_ro_*``) in the ``test`` databases.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from govkit.actions.anonymize import readonly
from govkit.actions.anonymize.export import stream_query
from govkit.actions.anonymize.readonly import check_read_only, mask_query, read_only, scrub_error
from govkit.actions.anonymize.run import AnonymizeRequest, anonymize
from govkit.cli import main
from govkit.errors import GovkitError, SourceError, UsageError
from govkit.sources.database import DatabaseSource
from tests import chinook
from tests.conftest import _server

DIALECTS = [None, "sqlite", "postgresql", "mysql", "mariadb"]

ACCEPTED = [
    "SELECT 1",
    "select * from orders",
    "SELECT 1;",
    "SELECT 1 ;  -- done\n",
    "SELECT ';DROP' FROM t",
    "SELECT 'it''s; DROP TABLE t' FROM t",
    "SELECT 1 /* ; DROP TABLE t */",
    "SELECT 1 -- ; DROP TABLE t",
    "SELECT \"weird;name\" FROM t",
    "(SELECT 1)",
    "((select a from t)) union all (select b from u)",
    "-- a leading comment\n/* and another */ SELECT 1",
    "WITH x AS (SELECT 1 AS a) SELECT a FROM x",
    "with recursive r(n) as (select 1 union all select n + 1 from r where n < 5) select * from r",
    "WITH a AS MATERIALIZED (SELECT 1), b AS NOT MATERIALIZED (VALUES (1)) SELECT * FROM a, b",
    "WITH a AS (WITH b AS (SELECT 1) SELECT * FROM b) (SELECT * FROM a)",
    "SELECT TRUNCATE(price, 2), REPLACE(name, 'a', 'b') FROM t",
    "SELECT t.update, t.delete FROM t",
    "SELECT substring(name FROM 1 FOR 3) FROM t",
    "SELECT * FROM t WHERE note LIKE '%INTO%' AND x = 'FOR UPDATE'",
]

REFUSED = [
    ("DROP TABLE orders", "not DROP"),
    ("drop table orders", "not DROP"),
    ("DELETE FROM orders", "not DELETE"),
    ("  update orders set a = 1", "not UPDATE"),
    ("INSERT INTO orders VALUES (1)", "not INSERT"),
    ("TRUNCATE orders", "not TRUNCATE"),
    ("PRAGMA query_only = OFF", "not PRAGMA"),
    ("COPY (SELECT 1) TO '/tmp/x'", "not COPY"),
    ("EXPLAIN ANALYZE DELETE FROM t", "not EXPLAIN"),
    ("frobnicate", "not something else"),
    ("'just a string'", "must start with SELECT or WITH"),
    ("select 1; drop table x", "more than one statement"),
    ("SELECT 1; SELECT 2", "more than one statement"),
    ("SELECT 1 /* */ ; DROP TABLE t", "more than one statement"),
    ("SELECT 1 -- comment\n; DROP TABLE t", "more than one statement"),
    ("SELECT 'a'';'; DROP TABLE t", "more than one statement"),
    ("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", "WITH name AS (DELETE"),
    ("WITH d AS (UPDATE t SET a = 1 RETURNING *) SELECT * FROM d", "WITH name AS (UPDATE"),
    ("WITH x AS (SELECT 1) DELETE FROM t", "after its WITH clause must be a SELECT, not DELETE"),
    ("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", "not INSERT"),
    ("WITH x AS SELECT 1", "cannot read its WITH clause"),
    ("select * into newt from t", "INTO"),
    ("SELECT * INTO TEMP newt FROM t", "INTO"),
    ("SELECT 1INTO newt", "INTO"),
    ("SELECT * FROM t INTO OUTFILE '/tmp/x'", "INTO"),
    ("SELECT * FROM t FOR UPDATE", "locking clause"),
    ("SELECT * FROM t FOR NO KEY UPDATE", "locking clause"),
    ("select * from t for share", "locking clause"),
    ("SELECT * FROM t LOCK IN SHARE MODE", "locking clause"),
    ("SELECT * FROM t WHERE a IN (DELETE FROM u RETURNING a)", "names DELETE outside a string"),
    ("SELECT (1", "parentheses"),
    ("SELECT 1)", "parentheses"),
    ("SELECT 'unterminated", "unterminated string"),
    ("SELECT 1 /* unterminated", "unterminated comment"),
    ('SELECT "unterminated', "unterminated"),
    ("", "empty"),
    (" ; ; -- nothing\n", "empty"),
]

#: (query, dialect, accepted): where the dialects read the text differently.
BY_DIALECT = [
    ("SELECT $$;DROP TABLE t$$", "postgresql", True),
    ("SELECT $tag$ it's $$; $tag$", "postgresql", True),
    ("SELECT $$;DROP TABLE t$$", "mysql", False),
    ("SELECT $$;DROP TABLE t$$", None, False),
    ("SELECT E'\\';DROP TABLE t;--'", "postgresql", True),
    ("SELECT 'a\\'; DROP TABLE t; -- '", "postgresql", False),
    # MariaDB reads \' as a quote unless NO_BACKSLASH_ESCAPES: refused both ways
    ("SELECT 'a\\'; DROP TABLE t; -- '", "mysql", False),
    ("SELECT 'a\\' INTO OUTFILE '/tmp/x' -- '", "mariadb", False),
    ("SELECT 1 # ; DROP TABLE t", "mysql", True),
    ("SELECT 1 # ; DROP TABLE t", "postgresql", False),
    ("SELECT 1 --1; DROP TABLE t", "mysql", False),  # '--' without a space is no comment there
    ("SELECT 1 /*! ; DROP TABLE t */", "mysql", False),
    ("/*!50000 DROP TABLE t */ SELECT 1", "mariadb", False),
    ("SELECT 1 /*! ; DROP TABLE t */", "postgresql", True),
    ("SELECT 1 /*! ; DROP TABLE t */", "sqlite", True),
    ("SELECT `a;b` FROM t", "mysql", True),
    ("SELECT `a;b` FROM t", "sqlite", True),
    ("SELECT `a;b` FROM t", "postgresql", False),
    ("SELECT [a;b] FROM t", "sqlite", True),
    ("SELECT [a;b] FROM t", "postgresql", False),
    ("SELECT 1 /* /* */ ; DROP TABLE t; -- */", "postgresql", True),  # nested comment
    ("SELECT 1 /* /* */ ; DROP TABLE t; -- */", "mysql", False),
    ("SELECT 1 /* /* */ ; DROP TABLE t; -- */", None, False),
]


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("query", ACCEPTED)
def test_accepted(query: str, dialect: str | None) -> None:
    check_read_only(query, dialect)


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(("query", "why"), REFUSED)
def test_refused(query: str, why: str, dialect: str | None) -> None:
    with pytest.raises(UsageError) as refused:
        check_read_only(query, dialect)
    message = str(refused.value)
    assert why in message
    assert "\n" not in message
    assert refused.value.exit_code == 2
    for literal in ("/tmp/x", "just a string", "orders", "newt", "unterminated"):
        assert literal not in message or literal in why


@pytest.mark.parametrize(("query", "dialect", "accepted"), BY_DIALECT)
def test_dialects_read_differently(query: str, dialect: str | None, accepted: bool) -> None:
    if accepted:
        check_read_only(query, dialect)
    else:
        with pytest.raises(UsageError):
            check_read_only(query, dialect)


def test_masking_keeps_keywords_and_names_and_hides_literals() -> None:
    query = ("SELECT \"Email\", name, 'ann@example.com' AS s, 42 FROM t /* Ann's note */\n"
             "WHERE x = E'a\\'b' AND y = $$secret$$ AND z > 1.5e3 -- Bob\n  LIMIT 10")
    assert mask_query(query, "postgresql") == (
        "SELECT \"Email\", name, '***' AS s, ? FROM t WHERE x = E'***' AND y = '***' AND z > ? LIMIT ?")
    # MariaDB reads "..." as a string; an unknown dialect masks what any dialect calls a literal
    assert mask_query("SELECT \"Ann\", `Email` FROM t", "mariadb") == "SELECT '***', `Email` FROM t"
    assert mask_query("SELECT \"Ann\", 'x' FROM t", None) == "SELECT '***', '***' FROM t"
    assert mask_query("SELECT 'unterminated secret", "sqlite") == "SELECT '***'"
    assert len(mask_query("SELECT " + ", ".join(["a"] * 2000))) < readonly.MAX_MASKED + 10


def test_driver_errors_do_not_quote_literals() -> None:
    mariadb = ("You have an error in your SQL syntax; check the manual that corresponds to your MariaDB "
               "server version for the right syntax to use near ''ann@example.com' FROM t' at line 1")
    scrubbed = scrub_error(mariadb, "SELECT a = 'x' 'ann@example.com' FROM t", "mariadb")
    assert "ann@example.com" not in scrubbed
    assert scrubbed.endswith("near ''***' FROM t' at line 1")
    postgres = 'invalid input syntax for type integer: "ann@example.com"'
    assert scrub_error(postgres, "SELECT * FROM t WHERE id = 'ann@example.com'", "postgresql") == (
        'invalid input syntax for type integer: "***"')
    assert scrub_error('relation "t" does not exist', "SELECT * FROM t WHERE a = 'x'", None) == (
        'relation "t" does not exist')


# -- properties ---------------------------------------------------------------------------

TEMPLATES = [
    "SELECT {} FROM t",
    "select a from t where b = {} and c = 1",
    "WITH x AS (SELECT {} AS c) SELECT c FROM x -- end",
    "(SELECT {});",
]


def _literal(content: str) -> str:
    """A string literal every dialect delimits the same way (quotes doubled, backslashes too)."""
    return "'" + content.replace("\\", "\\\\").replace("'", "''") + "'"


@settings(max_examples=300, deadline=None)
@given(content=st.text(), template=st.sampled_from(TEMPLATES), dialect=st.sampled_from(DIALECTS))
def test_any_string_literal_is_accepted_and_masked(content: str, template: str, dialect: str | None) -> None:
    query = template.format(_literal(content))
    check_read_only(query, dialect)
    masked, empty = mask_query(query, dialect), mask_query(template.format("''"), dialect)
    assert masked == empty  # nothing of the content shows
    if content.strip() and content not in empty:
        assert content not in masked


@settings(max_examples=200, deadline=None)
@given(content=st.text().filter(lambda c: "$q$" not in c), comment=st.text().filter(lambda c: "*/" not in c
                                                                                      and "/*" not in c))
def test_dollar_quotes_and_comments_hide_their_content(content: str, comment: str) -> None:
    query = f"SELECT $q${content}$q$ /* {comment} */ FROM t"
    check_read_only(query, "postgresql")
    assert mask_query(query, "postgresql") == "SELECT '***' FROM t"


@settings(max_examples=500, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("SELECTWITHDROPINTO ;'\"`$[]()-#/*\\\nxe1.,")), max_size=40),
       dialect=st.sampled_from(DIALECTS))
def test_any_text_is_refused_in_one_line_or_accepted(text: str, dialect: str | None) -> None:
    message = ""
    try:
        check_read_only(text, dialect)
    except UsageError as refused:
        message = str(refused)
    assert "\n" not in message
    mask_query(text, dialect)
    scrub_error("near '" + text + "' at line 1", text, dialect)


# -- SQLite: the parser, the read-only connection, the CLI and the audit record -------------

@pytest.fixture
def shop(tmp_path: Path) -> Path:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, email TEXT, note TEXT)")
        db.executemany("INSERT INTO orders (email, note) VALUES (?, ?)",
                       [("ann@example.com", "at :noon"), ("bob@example.com", "50% off")])
    db.close()
    return path


def _orders(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute("SELECT count(*) FROM orders").fetchone()[0])
    finally:
        db.close()


def test_cli_refuses_drop_and_the_table_stays(shop: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(main, ["anonymize", f"sqlite:///{shop}", "--query", "DROP TABLE orders",
                                       "--to", str(out), "--rule", "email=mask"])
    assert result.exit_code == 2, result.output
    assert "not DROP" in result.output
    assert len([line for line in result.output.splitlines() if line.strip()]) == 1
    assert _orders(shop) == 2
    assert not out.exists()
    result = CliRunner().invoke(main, ["anonymize", f"sqlite:///{shop}", "--query", "select 1; drop table orders",
                                       "--to", str(out), "--rule", "email=mask"])
    assert result.exit_code == 2
    assert _orders(shop) == 2


@pytest.mark.parametrize("write", [
    "DELETE FROM orders",
    "DROP TABLE orders",
    "UPDATE orders SET email = 'x'",
    "INSERT INTO orders (email) VALUES ('x') RETURNING id",
])
def test_sqlite_connection_is_read_only_even_without_the_parser(
        shop: Path, write: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readonly, "check_read_only", lambda query, dialect=None: None)
    with DatabaseSource(f"sqlite:///{shop}") as source:
        with pytest.raises(SourceError, match=r"readonly|read-only"):
            stream_query(source, write)
        # the pooled connection is writable again afterwards, for whoever uses it next
        with source.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO orders (email) VALUES ('carol@example.com')"))
    assert _orders(shop) == 3


def test_query_with_colons_and_percents_runs(shop: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = anonymize(AnonymizeRequest(f"sqlite:///{shop}", to=str(out), rules=["email=mask"],
                                        query="SELECT email, note FROM orders WHERE note LIKE '%:noon' "
                                              "OR note LIKE '50%'"))
    assert result.rows == 2
    assert "ann@example.com" not in out.read_text(encoding="utf-8")


def test_query_errors_are_one_line_without_literals(shop: Path) -> None:
    with DatabaseSource(f"sqlite:///{shop}") as source, pytest.raises(SourceError) as failed:
        stream_query(source, "SELECT * FROM no_such_table WHERE email = 'ann@example.com'")
    assert "\n" not in str(failed.value)
    assert "ann@example.com" not in str(failed.value)
    assert "no_such_table" in str(failed.value)


def test_the_audit_record_shows_the_query_masked(shop: Path, tmp_path: Path, workspace_dir: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOVKIT_KEY", raising=False)
    runner = CliRunner()
    query = "SELECT id, email FROM orders WHERE email <> 'ann@example.com' AND id > 0 -- Ann"
    result = runner.invoke(main, ["anonymize", f"sqlite:///{shop}", "--query", query,
                                  "--to", str(tmp_path / "out.csv"), "--rule", "email=mask"])
    assert result.exit_code == 0, result.output
    refused = runner.invoke(main, ["anonymize", f"sqlite:///{shop}", "--query",
                                   "DELETE FROM orders WHERE email = 'bob@example.com'",
                                   "--to", str(tmp_path / "no.csv"), "--rule", "email=mask"])
    assert refused.exit_code == 2
    assert _orders(shop) == 2
    log = runner.invoke(main, ["log", "show", "--format", "json"])
    assert log.exit_code == 0, log.output
    assert "@example.com" not in log.output
    assert "Ann" not in log.output
    records = [r for r in _records(log.output) if r.get("action") == "anonymize"]
    queries = [r["params"]["query"] for r in records]
    assert queries == ["SELECT id, email FROM orders WHERE email <> '***' AND id > ?",
                       "DELETE FROM orders WHERE email = '***'"]
    assert [r["outcome"] for r in records] == ["ok", "failed"]


def _records(output: str) -> list[dict[str, object]]:
    data = json.loads(output)
    if isinstance(data, dict):
        data = data.get("records", data.get("entries", []))
    return list(data)


# -- PostgreSQL and MariaDB: the read-only transaction refuses writes -------------------------

def _admin_engine(url: str) -> sa.Engine:
    return sa.create_engine(url, pool_pre_ping=True)


def _make_table(url: str, name: str) -> str:
    engine = _admin_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, email VARCHAR(100))"))
            conn.execute(sa.text(f"INSERT INTO {name} VALUES (1, 'ann@example.com'), (2, 'bob@example.com')"))
    finally:
        engine.dispose()
    return url


def _drop_tables(url: str, *names: str) -> None:
    engine = _admin_engine(url)
    try:
        with engine.begin() as conn:
            for name in names:
                conn.execute(sa.text(f"DROP TABLE IF EXISTS {name}"))
    finally:
        engine.dispose()


def _count(url: str, name: str) -> int:
    engine = _admin_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(f"SELECT count(*) FROM {name}")).scalar_one())
    finally:
        engine.dispose()


@pytest.fixture(params=["postgresql", "mariadb"])
def server(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """(URL, table): a table of two rows on the server, dropped afterwards."""
    name = f"govkit_ro_{uuid.uuid4().hex[:10]}"
    url = chinook.PG_ADMIN_URL if request.param == "postgresql" else chinook.MYSQL_ADMIN_URL
    label = "PostgreSQL" if request.param == "postgresql" else "MariaDB/MySQL"
    _server(label, lambda: _make_table(url, name))
    try:
        yield url, name
    finally:
        _drop_tables(url, name, name + "_copy")


@pytest.mark.server
@pytest.mark.parametrize("write", [
    "DELETE FROM {t}",
    "UPDATE {t} SET email = 'x'",
    "INSERT INTO {t} VALUES (3, 'x')",
])
def test_server_transaction_is_read_only_even_without_the_parser(
        server: tuple[str, str], write: str, monkeypatch: pytest.MonkeyPatch) -> None:
    url, table = server
    monkeypatch.setattr(readonly, "check_read_only", lambda query, dialect=None: None)
    with DatabaseSource(url) as source:
        with pytest.raises(SourceError, match=r"read-only|READ ONLY") as failed:
            stream_query(source, write.format(t=table))
        assert "\n" not in str(failed.value)
    assert _count(url, table) == 2


@pytest.mark.server
@pytest.mark.parametrize("server", ["postgresql"], indirect=True)  # MariaDB's does not stop DDL: the parser does
def test_postgres_read_only_refuses_ddl_and_data_modifying_ctes(server: tuple[str, str]) -> None:
    url, table = server
    with DatabaseSource(url) as source:
        for write in (f"DROP TABLE {table}", f"WITH d AS (DELETE FROM {table} RETURNING *) SELECT * FROM d",
                      f"SELECT * INTO {table}_copy FROM {table}", f"SELECT 1; DROP TABLE {table}"):
            with read_only(source.engine) as conn, pytest.raises(sa.exc.DBAPIError, match="read-only"):
                conn.execute(sa.text(write))
    assert _count(url, table) == 2


@pytest.mark.server
def test_server_ddl_is_refused_by_the_parser(server: tuple[str, str]) -> None:
    url, table = server
    writes = [f"DROP TABLE {table}", f"SELECT * FROM {table} INTO OUTFILE '/tmp/{table}'",
              f"CREATE TABLE {table}_copy AS SELECT * FROM {table}"]
    if not url.startswith("postgresql"):
        writes.append(f"/*!50000 DROP TABLE {table} */ SELECT 1")  # MariaDB runs what such a comment says
    with DatabaseSource(url) as source:
        for write in writes:
            with pytest.raises(UsageError):
                stream_query(source, write)
    assert _count(url, table) == 2


@pytest.mark.server
def test_server_query_export_runs_read_only(server: tuple[str, str], tmp_path: Path) -> None:
    url, table = server
    out = tmp_path / "out.csv"
    result = anonymize(AnonymizeRequest(url, to=str(out), rules=["email=mask"],
                                        query=f"SELECT id, email FROM {table} WHERE email LIKE '%@example.com' "
                                              f"AND email <> 'at :noon' ORDER BY id;"))
    assert result.rows == 2
    assert "ann@example.com" not in out.read_text(encoding="utf-8")
    errors = []
    with DatabaseSource(url) as source:
        for bad in (f"SELECT * FROM {table} WHERE email = = 'ann@example.com'",
                    f"SELECT * FROM {table} WHERE id = 'ann@example.com'",
                    f"SELECT * FROM {table} WHERE email = 'ann@example.com' ORDER BY nope"):
            try:
                stream_query(source, bad)[1]()
            except GovkitError as failed:
                errors.append(str(failed))
    assert len(errors) >= 2
    assert not [e for e in errors if "ann@example.com" in e or "\n" in e]
    # the pooled connection is an ordinary one again afterwards
    with DatabaseSource(url) as source, source.engine.begin() as conn:
        conn.execute(sa.text(f"INSERT INTO {table} VALUES (3, 'carol@example.com')"))
    assert _count(url, table) == 3
