"""DatabaseSource on real databases: reflection, sampling, streaming, redaction, errors.

Chinook (a fictional music shop) on SQLite for the ordinary cases; a small hand-made SQLite
file for the awkward ones (BLOBs, a 10 MB text cell, invalid UTF-8).
"""

from __future__ import annotations

import os
import socket
import sqlite3
import string
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
import sqlalchemy as sa
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import URL, make_url

from govkit.detect.columns import MAX_VALUE_CHARS
from govkit.detect.engine import DetectionEngine
from govkit.errors import SourceError, UsageError
from govkit.model.findings import ScanReport
from govkit.scan import ScanOptions, scan
from govkit.sources.database import DatabaseSource, TableInfo, has_password, redact
from tests import chinook

CHINOOK_TABLES = {
    "Album", "Artist", "Customer", "Employee", "Genre", "Invoice", "InvoiceLine", "MediaType",
    "Playlist", "PlaylistTrack", "Track",
}


@pytest.fixture(scope="module")
def chinook_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A read-only Chinook copy shared by the module (tests that change data make their own)."""
    return chinook.sqlite_copy(tmp_path_factory.mktemp("chinook"))


@pytest.fixture
def source(chinook_db: Path) -> Iterator[DatabaseSource]:
    with DatabaseSource(f"sqlite:///{chinook_db}") as src:
        yield src


def _tables(src: DatabaseSource) -> dict[str, TableInfo]:
    return {t.qualified: t for t in src.tables()}


def _statements(src: DatabaseSource) -> list[str]:
    """Every SQL statement the source's engine sends from now on (a real event hook)."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    sa.event.listen(src.engine, "before_cursor_execute", record)
    return seen


# -- reflection -------------------------------------------------------------------------------


def test_reflects_chinook(source: DatabaseSource) -> None:
    tables = _tables(source)
    assert set(tables) == CHINOOK_TABLES
    assert {t.kind for t in tables.values()} == {"table"}
    assert source.dialect == "sqlite"

    customer = tables["Customer"]
    assert customer.primary_key == ["CustomerId"]
    columns = {c.name: c for c in customer.columns}
    assert columns["CustomerId"].primary_key
    assert columns["CustomerId"].kind == "integer"
    assert columns["Email"].kind == "text"
    assert not columns["Email"].primary_key
    assert not columns["Email"].nullable
    assert customer.row_estimate == 59

    line = tables["InvoiceLine"]
    references = {fk.referred_table: (fk.columns, fk.referred_columns) for fk in line.foreign_keys}
    assert references == {"Invoice": (["InvoiceId"], ["InvoiceId"]), "Track": (["TrackId"], ["TrackId"])}
    assert sorted(line.indexes) == [["InvoiceId"], ["TrackId"]]

    assert tables["PlaylistTrack"].primary_key == ["PlaylistId", "TrackId"]


@pytest.mark.parametrize(
    ("include", "exclude", "expected"),
    [
        (["Play*"], [], {"Playlist", "PlaylistTrack"}),
        (["*"], ["*Track", "Invoice*"], CHINOOK_TABLES - {"Track", "PlaylistTrack", "Invoice", "InvoiceLine"}),
        (["customer", "EMPLOYEE"], [], {"Customer", "Employee"}),
        (["Customer"], ["customer"], set()),
    ],
)
def test_include_exclude_globs(chinook_db: Path, include: list[str], exclude: list[str], expected: set[str]) -> None:
    with DatabaseSource(f"sqlite:///{chinook_db}", include=include, exclude=exclude) as src:
        assert {t.qualified for t in src.tables()} == expected


# -- sampling and streaming ----------------------------------------------------------------------


def test_sample_is_reproducible_from_the_seed(source: DatabaseSource) -> None:
    track = _tables(source)["Track"]
    first = source.sample(track, 100, seed=1)
    again = source.sample(track, 100, seed=1)
    other = source.sample(track, 100, seed=2)
    assert first.method == "random rowid ranges"
    assert len(first.rows) == 100
    assert first.rows == again.rows
    assert set(first.rows) != set(other.rows)
    assert first.columns == [c.name for c in track.columns]
    # A sample is spread over the table, not its first 100 rows.
    ids = [row[0] for row in first.rows]
    assert max(ids) > 200
    assert len(set(ids)) == 100


def test_small_table_is_read_whole(source: DatabaseSource) -> None:
    genre = _tables(source)["Genre"]
    sample = source.sample(genre, 100, seed=1)
    assert sample.method == "all rows"
    assert len(sample.rows) == 25
    assert sorted(r[0] for r in sample.rows) == list(range(1, 26))


def test_sample_of_a_mid_sized_table_is_thinned_reproducibly(source: DatabaseSource) -> None:
    customer = _tables(source)["Customer"]  # 59 rows: read whole, then cut to the sample size
    a = source.sample(customer, 30, seed=3)
    b = source.sample(customer, 30, seed=3)
    assert a.method == "all rows"
    assert len(a.rows) == 30
    assert a.rows == b.rows


def test_stream_yields_every_row_in_batches(source: DatabaseSource, chinook_db: Path) -> None:
    track = _tables(source)["Track"]
    batches = list(source.stream(track, batch_size=1000))
    assert [len(b) for b in batches] == [1000, 1000, 1000, 503]
    ids = [row[0] for batch in batches for row in batch]
    with sqlite3.connect(chinook_db) as conn:
        expected = [r[0] for r in conn.execute("SELECT TrackId FROM Track")]
    assert sorted(ids) == sorted(expected)
    assert len(set(ids)) == len(ids)


# -- URL redaction -----------------------------------------------------------------------------

_PRINTABLE = st.text(alphabet=st.sampled_from(string.printable), min_size=1, max_size=40)


@settings(max_examples=200, deadline=None)
@given(password=_PRINTABLE)
def test_redact_never_shows_the_password(password: str) -> None:
    url = URL.create("postgresql+psycopg", username="app", password=password, host="db.example.internal",
                     port=5432, database="shop")
    text = url.render_as_string(hide_password=False)
    assert make_url(text).password == password
    encoded = text.split("app:", 1)[1].rsplit("@db.example.internal", 1)[0]
    baseline = redact(url.set(password="x"))
    forms = {password, encoded, quote(password, safe=""), quote_plus(password)}
    assume(not any(form in baseline for form in forms))
    for redacted in (redact(text), redact(url)):
        for form in forms:
            assert form not in redacted
        assert make_url(redacted).host == "db.example.internal"
        assert make_url(redacted).username == "app"


def test_redact_without_password_is_unchanged() -> None:
    assert redact("postgresql://app@db/shop") == "postgresql://app@db/shop"
    assert redact("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"


@pytest.mark.parametrize("name", [
    "password", "passwd", "pwd", "PASSWORD", "sslpassword", "sslkey", "ssl_key", "sslpassphrase", "token",
    "access_token", "secret", "client_secret", "api_key", "apiKey", "private_key", "credentials",
])
def test_redact_masks_secret_query_arguments(name: str) -> None:
    for url in (f"postgresql+psycopg://app@db/shop?sslmode=require&{name}=Zz9secretValue",
                f"mysql+pymysql://root@h:3306/shop?charset=utf8mb4&{name}=Zz9secretValue",
                f"postgresql://app:pw@db/shop?{name}=Zz9secretValue&{name}=other2"):
        shown = redact(url)
        assert "Zz9secretValue" not in shown, shown
        assert "other2" not in shown, shown
        assert f"{name}=***" in shown
        assert has_password(url)
    assert redact(f"postgresql://app@db/shop?sslmode=require&{name}=Zz9secretValue") == (
        f"postgresql://app@db/shop?{name}=***&sslmode=require" if name.lower() < "sslmode"
        else f"postgresql://app@db/shop?sslmode=require&{name}=***")


@pytest.mark.parametrize("url", [
    "postgresql+psycopg://app@db:5432/shop?sslmode=require&application_name=govkit&connect_timeout=5",
    "mysql+pymysql://root@127.0.0.1:3306/shop?charset=utf8mb4&auth_plugin=mysql_native_password",
    "postgresql://app:pw@db/shop?require_auth=scram-sha-256&keepalives=1&sslcert=%2Fetc%2Fc.pem",
    "postgresql://app@db/shop?options=-c%20search_path%3Dx&target_session_attrs=read-write",
])
def test_a_display_without_secrets_is_what_it_always_was(url: str) -> None:
    """The display is the inventory's key: URLs without a secret must keep theirs."""
    assert redact(url) == make_url(url).render_as_string(hide_password=True)
    assert has_password(url) == (make_url(url).password is not None)


@settings(max_examples=200, deadline=None)
@given(secret=_PRINTABLE)
def test_redact_never_shows_a_query_password(secret: str) -> None:
    url = URL.create("postgresql+psycopg", username="app", host="db.example.internal", database="shop",
                     query={"password": secret, "sslmode": "prefer"})
    text = url.render_as_string(hide_password=False)
    baseline = redact(url.set(query={"password": "x", "sslmode": "prefer"}))
    forms = {secret, quote(secret, safe=""), quote_plus(secret)}
    assume(not any(form in baseline for form in forms))
    for shown in (redact(text), redact(url)):
        assert not any(form in shown for form in forms)
        assert make_url(shown).query["password"] == "***"


def test_scrub_removes_every_secret_of_the_url() -> None:
    source = DatabaseSource("postgresql+psycopg://app:UserPw11@db/shop?password=QueryPw22&sslpassword=Key%20Pw33")
    try:
        message = source.scrub('failed: password=QueryPw22 user=app sslpassword="x y" UserPw11 Key+Pw33 Key%20Pw33'
                               " postgresql://app:UserPw11@db/shop?token=abc")
    finally:
        source.close()
    for secret in ("UserPw11", "QueryPw22", "Key Pw33", "Key+Pw33", "Key%20Pw33", "x y", "abc"):
        assert secret not in message, message
    assert "user=app" in message


def test_scrub_keeps_a_message_readable_when_the_secret_is_short() -> None:
    with DatabaseSource("postgresql+psycopg://app@db/shop?password=a") as source:
        assert source.scrub("connection failed: bad a") == "connection failed: bad ***"


# -- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["not a url", "://", "nosuchdb://host/x", "postgresql+nosuchdriver://u@h/db"])
def test_bad_url_is_a_usage_error(url: str) -> None:
    with pytest.raises(UsageError) as info:
        DatabaseSource(url)
    message = str(info.value)
    assert "Traceback" not in message
    assert "\n" not in message
    assert info.value.__suppress_context__


def test_bad_port_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        DatabaseSource("postgresql://app@db.example.internal:notaport/shop")


def test_missing_sqlite_file_is_a_source_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    with DatabaseSource(f"sqlite:///{missing}") as src, pytest.raises(SourceError) as info:
        src.check()
    assert "no such SQLite file" in str(info.value)
    assert not missing.exists()  # checking must not create an empty database


def _require_server(port: int, name: str) -> None:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError as exc:
        message = f"{name} not reachable for tests: {exc}"
        if os.environ.get("GOVKIT_REQUIRE_SERVERS") == "1":
            pytest.fail(message)
        pytest.skip(message)


@pytest.mark.server
@pytest.mark.parametrize(
    ("url", "port"),
    [
        ("postgresql+psycopg://nosuchuser:s3cr3tPW@127.0.0.1:5432/test", 5432),
        ("mysql+pymysql://nosuchuser:s3cr3tPW@127.0.0.1:3306/test", 3306),
        ("postgresql+psycopg://nosuchuser@127.0.0.1:5432/test?password=s3cr3tPW", 5432),
        ("mysql+pymysql://nosuchuser@127.0.0.1:3306/test?charset=utf8mb4&password=s3cr3tPW", 3306),
        ("mysql+pymysql://nosuchuser@127.0.0.1:3306/test?passwd=s3cr3tPW", 3306),
    ],
    ids=["postgresql", "mariadb", "postgresql-query", "mariadb-query", "mariadb-passwd"],
)
def test_wrong_credentials_hide_the_password(url: str, port: int) -> None:
    _require_server(port, url.split("+")[0])
    with DatabaseSource(url) as src:
        assert "s3cr3tPW" not in src.display
        with pytest.raises(SourceError) as info:
            src.check()
    message = str(info.value)
    assert "nosuchuser" in message  # the server's complaint is about this user
    assert "cannot connect" in message
    assert "s3cr3tPW" not in message
    assert "\n" not in message


# -- awkward data -------------------------------------------------------------------------------


@dataclass
class OddScan:
    path: Path
    report: ScanReport


@pytest.fixture(scope="module")
def odd_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("odd") / "odd.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE docs (id INTEGER PRIMARY KEY, body TEXT, photo BLOB, note TEXT)")
        conn.execute(
            "INSERT INTO docs (body, photo, note) VALUES (?, ?, CAST(x'fffe41' AS TEXT))",
            ("lorem ipsum " * 900_000, b"\x89PNG\r\n" + bytes(range(256)) * 10),
        )
        for i in range(5):
            conn.execute("INSERT INTO docs (body, photo, note) VALUES (?, x'00ff', ?)", (f"short {i}", f"n{i}"))
        conn.execute("CREATE TABLE plain (id INTEGER PRIMARY KEY, label TEXT)")
        conn.executemany("INSERT INTO plain (label) VALUES (?)", [(f"item {i}",) for i in range(10)])
    conn.close()
    return path


@pytest.fixture(scope="module")
def odd_scan(engine: DetectionEngine, odd_db: Path) -> OddScan:
    return OddScan(odd_db, scan(None, [f"sqlite:///{odd_db}"]))


def test_blob_columns_are_not_read(odd_db: Path) -> None:
    with DatabaseSource(f"sqlite:///{odd_db}") as src:
        docs = _tables(src)["docs"]
        assert {c.name: c.kind for c in docs.columns}["photo"] == "binary"
        statements = _statements(src)
        sample = src.sample(docs, 100, seed=1)
        streamed = list(src.stream(docs))
    assert sample.columns == ["id", "body", "note"]
    assert all(len(row) == 3 for row in sample.rows)
    assert all(len(row) == 3 for batch in streamed for row in batch)
    reads = [s for s in statements if "docs" in s]
    assert reads
    assert not [s for s in reads if "photo" in s]


def test_blob_column_is_reported_as_skipped(odd_scan: OddScan) -> None:
    skipped = [s for s in odd_scan.report.skipped if s.field == "photo"]
    assert len(skipped) == 1
    assert skipped[0].asset == "docs"
    assert "binary" in skipped[0].reason
    assert not [f for f in odd_scan.report.findings if f.field == "photo"]


def test_huge_text_cell_is_cut_in_the_database(odd_db: Path) -> None:
    with DatabaseSource(f"sqlite:///{odd_db}") as src:
        docs = _tables(src)["docs"]
        statements = _statements(src)
        sample = src.sample(docs, 100, seed=1)
    body = sample.columns.index("body")
    lengths = sorted(len(row[body]) for row in sample.rows)
    assert lengths[-1] == MAX_VALUE_CHARS
    assert lengths[0] < 10
    assert any("substr" in s.lower() and "body" in s for s in statements)


def test_invalid_utf8_is_read_with_replacement(odd_db: Path) -> None:
    with DatabaseSource(f"sqlite:///{odd_db}") as src:
        docs = _tables(src)["docs"]
        sample = src.sample(docs, 100, seed=1)
    note = sample.columns.index("note")
    values = {row[note] for row in sample.rows}
    assert "\ufffd\ufffdA" in values


def test_awkward_table_still_scans(odd_scan: OddScan) -> None:
    report = odd_scan.report
    assert report.stats.assets == 2
    assert report.stats.fields == 3 + 2  # docs without its BLOB, plus plain
    assert [(s.asset, s.field) for s in report.skipped] == [("docs", "photo")]
    assert not [f for f in report.findings if f.field in ("body", "note", "label")]


# -- a table dropped mid-scan ---------------------------------------------------------------------


def test_table_dropped_mid_scan_is_skipped_and_the_rest_is_scanned(engine: DetectionEngine, tmp_path: Path) -> None:
    db = chinook.sqlite_copy(tmp_path)
    order: list[str] = []
    dropped: list[str] = []

    def progress(event: str, detail: Any) -> None:
        if event != "table":
            return
        order.append(detail)
        if detail == "Customer":  # drop the table that comes next
            with sqlite3.connect(db) as conn:
                conn.execute("DROP TABLE Employee")
            conn.close()
            dropped.append("Employee")

    report = scan(None, [f"sqlite:///{db}"], ScanOptions(include=["Customer", "Employee", "Genre"]),
                  progress=progress)
    assert order == ["Customer", "Employee", "Genre"]
    assert dropped == ["Employee"]
    skipped = [s for s in report.skipped if s.asset == "Employee"]
    assert len(skipped) == 1
    assert "\n" not in skipped[0].reason
    assert "Employee" in skipped[0].reason
    assert report.stats.assets == 2
    assert {f.asset for f in report.findings} == {"Customer"}
    assert ("Customer", "Email", "EMAIL_ADDRESS") in {(f.asset, f.field, f.entity_type) for f in report.findings}
